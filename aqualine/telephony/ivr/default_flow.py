"""The demo hotline's IVR (domain.md, "Demo telephony"), as flow data.

On answer: the welcome prompt; the outages of the caller's area when there are any; then, in
working hours (every day 08:00-20:00, Asia/Shanghai, except the holidays below), the main menu:

| key | branch |
|---|---|
| 1 | 停水信息 — the outage notices (the caller's area's, or all), then back to the menu |
| 2 | 水费查询 — account number + #, caller check, arrears read, then back to the menu |
| 3 | 报修 — a message of up to 60 s after a beep → a work order → the agent queue |
| 4 | 业务咨询 — short information → the agent queue |
| 0 | 人工服务 — the agent queue ``hotline`` |
| * | repeat the menu |

5 s to press a key, 3 replays after a wrong key or silence, then the agent queue. Outside
working hours: a night message and a night menu with keys 1-3, and 0 for the on-duty number
(the ``on_duty_number`` variable: the switch passes the system parameter; the default here is
extension 8004); silence ends the call politely. The holidays are demo data: administrators
keep the calendar.

The texts are Mandarin for espeak-ng (the ``cmn-latn-pinyin`` voice, media/prompts.py).
"""

from __future__ import annotations

import copy
from typing import Any, Final

from aqualine.telephony.ivr.flow import Flow, load_flow

AGENT_QUEUE: Final = "hotline"
DAY_HOURS: Final = ["08:00-20:00"]


def _tts(text: str) -> dict[str, str]:
    return {"tts": text}


_HOLIDAYS: Final = {
    "2026-01-01": "元旦",
    "2026-02-16": "春节",
    "2026-02-17": "春节",
    "2026-02-18": "春节",
    "2026-02-19": "春节",
    "2026-04-05": "清明节",
    "2026-05-01": "劳动节",
    "2026-05-02": "劳动节",
    "2026-10-01": "国庆节",
    "2026-10-02": "国庆节",
    "2026-10-03": "国庆节",
    "2027-01-01": "元旦",
    "2027-02-05": "春节",
    "2027-02-06": "春节",
    "2027-02-07": "春节",
    "2027-02-08": "春节",
    "2027-05-01": "劳动节",
    "2027-05-02": "劳动节",
    "2027-10-01": "国庆节",
    "2027-10-02": "国庆节",
    "2027-10-03": "国庆节",
}

_MENU_KEYS: Final = {"1": "outage_notices", "2": "balance", "3": "repair"}
_INVALID: Final = _tts("您的输入有误，请重新选择。")
_NO_KEY: Final = _tts("对不起，没有收到您的按键。")

DEFAULT_FLOW: Final[dict[str, Any]] = {
    "version": 1,
    "name": "水务热线语音导航（演示）",
    "description": "96000 demo: outage notices, billing, repair, information, agent",
    "start": "welcome",
    "variables": {"mode": "day", "on_duty_number": "8004"},
    "calendars": {
        "hotline": {
            "timezone": "Asia/Shanghai",
            "weekly": {day: DAY_HOURS for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
            "holidays": _HOLIDAYS,
            "overrides": {},
        }
    },
    "nodes": [
        {
            "id": "welcome",
            "type": "play",
            "params": {"prompt": {"file": "welcome"}, "barge_in": True},
            "edges": {"next": "outage_announcement"},
        },
        {
            "id": "outage_announcement",
            "type": "outage_announcement",
            "label": "停水播报",
            "params": {"intro": _tts("停水通知：")},
            "edges": {"next": "hours"},
        },
        {
            "id": "hours",
            "type": "time_condition",
            "params": {"calendar": "hotline"},
            "edges": {"open": "day", "closed": "night", "holiday": "night"},
        },
        {
            "id": "day",
            "type": "set",
            "params": {"values": {"mode": "day"}},
            "edges": {"next": "main_menu"},
        },
        {
            "id": "night",
            "type": "set",
            "params": {"values": {"mode": "night"}},
            "edges": {"next": "night_message"},
        },
        {
            "id": "night_message",
            "type": "play",
            "label": "夜间服务",
            "params": {
                "prompt": _tts("现在是非工作时间，人工服务时间为每天早上八点至晚上八点。"),
                "barge_in": True,
            },
            "edges": {"next": "night_menu"},
        },
        {
            "id": "main_menu",
            "type": "menu",
            "label": "主菜单",
            "params": {
                "prompt": _tts(
                    "停水信息查询请按1，水费查询请按2，报修请按3，业务咨询请按4，"
                    "人工服务请按0，重听请按星号键。"
                ),
                "timeout": 5,
                "retries": 3,
                "invalid_prompt": _INVALID,
                "timeout_prompt": _NO_KEY,
                "repeat_key": "*",
            },
            "edges": {**_MENU_KEYS, "4": "info", "0": "agent", "exhausted": "agent"},
        },
        {
            "id": "night_menu",
            "type": "menu",
            "label": "夜间菜单",
            "params": {
                "prompt": _tts(
                    "停水信息查询请按1，水费查询请按2，报修请按3，紧急情况转值班电话请按0，"
                    "重听请按星号键。"
                ),
                "timeout": 5,
                "retries": 3,
                "invalid_prompt": _INVALID,
                "timeout_prompt": _NO_KEY,
                "repeat_key": "*",
            },
            "edges": {**_MENU_KEYS, "0": "on_duty_intro", "exhausted": "goodbye"},
        },
        {
            "id": "outage_notices",
            "type": "outage_notices",
            "label": "停水信息",
            "params": {
                "intro": _tts("当前停水信息："),
                "none_prompt": _tts("目前没有停水信息。"),
                "error_prompt": _tts("停水信息暂时无法查询，请稍后再试。"),
            },
            "edges": {"next": "back_to_menu"},
        },
        {
            "id": "back_to_menu",
            "type": "branch",
            "params": {"var": "mode"},
            "edges": {"night": "night_menu", "default": "main_menu"},
        },
        {
            "id": "balance",
            "type": "balance",
            "label": "水费查询",
            "params": {
                "prompt": _tts("请输入您的用户号，以井号键结束。"),
                "not_found_prompt": _tts("未查询到该用户号，请重新输入。"),
                "timeout_prompt": _tts("没有收到您的输入。"),
                "verify_prompt": _tts("为保护您的信息，请输入该户登记电话号码的后四位。"),
                "verify_failed_prompt": _tts("号码验证未通过。"),
                "no_phone_prompt": _tts("该户未登记电话号码，无法自助查询。"),
                "arrears_prompt": _tts(
                    "用户号{account_number:digits}，目前欠费{arrears:money}，共{arrears_months}期。"
                ),
                "clear_prompt": _tts("用户号{account_number:digits}，目前没有欠费。"),
                "failed_prompt": _tts("查询未成功，您可以稍后再试或转人工服务。"),
                "attempts": 3,
                "phone_attempts": 3,
            },
            "edges": {"done": "back_to_menu", "failed": "back_to_menu"},
        },
        {
            "id": "repair",
            "type": "repair",
            "label": "报修",
            "params": {
                "prompt": _tts("请在提示音后说明报修地点和情况，最长六十秒，说完请按井号键。"),
                "max_seconds": 60,
                "too_short_prompt": _tts("没有听到您的留言。"),
                "done_prompt": _tts(
                    "您的报修已受理，工单号{order_number:digits}，我们会尽快安排处理。"
                ),
                "failed_prompt": _tts("对不起，报修留言未能保存。"),
            },
            "edges": {"next": "after_repair", "failed": "after_repair"},
        },
        {
            "id": "after_repair",
            "type": "branch",
            "params": {"var": "mode"},
            "edges": {"night": "night_menu", "default": "agent"},
        },
        {
            "id": "info",
            "type": "play",
            "label": "业务咨询",
            "params": {
                "prompt": _tts(
                    "营业厅办公时间为周一至周五上午九点至下午五点。"
                    "水费可通过微信、支付宝或营业厅缴纳。"
                ),
                "barge_in": True,
            },
            "edges": {"next": "agent"},
        },
        {
            "id": "agent",
            "type": "play",
            "params": {"prompt": _tts("正在为您转接人工服务，请稍候。")},
            "edges": {"next": "agent_queue"},
        },
        {
            "id": "agent_queue",
            "type": "queue",
            "label": "人工服务",
            "params": {"queue": AGENT_QUEUE},
            "edges": {"failed": "agent_unavailable"},
        },
        {
            "id": "agent_unavailable",
            "type": "play",
            "params": {"prompt": _tts("对不起，人工服务暂时无法接通，请稍后再拨。")},
            "edges": {"next": "goodbye"},
        },
        {
            "id": "on_duty_intro",
            "type": "play",
            "params": {"prompt": _tts("正在为您转接值班电话，请稍候。")},
            "edges": {"next": "on_duty"},
        },
        {
            "id": "on_duty",
            "type": "transfer",
            "label": "值班电话",
            "params": {"number": "{on_duty_number}"},
            "edges": {"failed": "on_duty_unavailable"},
        },
        {
            "id": "on_duty_unavailable",
            "type": "play",
            "params": {"prompt": _tts("对不起，值班电话暂时无法接通，请稍后再拨。")},
            "edges": {"next": "goodbye"},
        },
        {
            "id": "goodbye",
            "type": "play",
            "params": {"prompt": _tts("感谢您的来电，再见。")},
            "edges": {"next": "end"},
        },
        {"id": "end", "type": "hangup", "params": {"cause": "ivr goodbye"}},
    ],
}


def default_flow_data() -> dict[str, Any]:
    """A fresh copy of the demo flow's data (to seed the database, or to edit)."""
    return copy.deepcopy(DEFAULT_FLOW)


def default_flow() -> Flow:
    return load_flow(default_flow_data())
