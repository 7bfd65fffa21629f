"""The demo hotline's IVR (domain.md "Demo telephony"), key by key, as a caller hears it."""

from __future__ import annotations

import json
from decimal import Decimal

from aqualine.telephony.ivr.actions import Digit, Hangup, Queue, TimerFired, Transfer
from aqualine.telephony.ivr.default_flow import AGENT_QUEUE, DEFAULT_FLOW, default_flow
from aqualine.telephony.ivr.fakes import FakeAccount, MemoryIvrPorts
from aqualine.telephony.ivr.flow import load_flow_json, validate_flow
from aqualine.telephony.ivr.interpreter import Status
from aqualine.telephony.ivr.tests.driver import NATIONAL_DAY, NIGHT, Call

MAIN_MENU = "业务咨询请按4"
NIGHT_MENU = "紧急情况转值班电话请按0"
NIGHT_MESSAGE = "现在是非工作时间"
INVALID = "您的输入有误，请重新选择。"
NO_KEY = "对不起，没有收到您的按键。"
EAST_OUTAGE = "东城片区因管道抢修停水，预计今天18:00恢复供水。"
WEST_OUTAGE = "西城片区明天09:00至17:00计划停水：管网改造。"

ZHANG = FakeAccount(
    "100234",
    phones=("13800138000", "057188886666"),
    area="east",
    arrears=Decimal("45.60"),
    arrears_months=2,
)
LI = FakeAccount("200567", phones=("13900001234",), area="west")
NO_PHONE = FakeAccount("300001", area="west")


def ports(outages: dict[str, list[str]] | None = None) -> MemoryIvrPorts:
    return MemoryIvrPorts([ZHANG, LI, NO_PHONE], outages if outages is not None else {})


def at_main_menu(call: Call) -> None:
    heard = call.listen()
    assert any(MAIN_MENU in h for h in heard), heard


# --- the flow itself ----------------------------------------------------------------------------


def test_the_demo_flow_validates_without_errors_or_warnings() -> None:
    assert validate_flow(DEFAULT_FLOW) == []


def test_the_demo_flow_survives_a_round_trip_through_json() -> None:
    flow = load_flow_json(json.dumps(DEFAULT_FLOW, ensure_ascii=False))
    assert list(flow.nodes) == list(default_flow().nodes)
    assert flow.data == DEFAULT_FLOW


def test_its_fixed_texts_are_listed_for_rendering_ahead_of_calls() -> None:
    texts = default_flow().static_tts_texts()
    assert any(MAIN_MENU in t for t in texts)
    assert not any("{" in t for t in texts)  # templated texts are rendered per call


# --- answer: welcome, outage announcement, menu --------------------------------------------------


def test_a_caller_hears_the_welcome_then_the_main_menu() -> None:
    call = Call(ports())
    heard = call.listen()
    assert heard[0] == "<file welcome>"
    assert MAIN_MENU in heard[1]
    assert call.timer is not None and call.timer.seconds == 5


def test_an_outage_in_the_callers_area_is_announced_before_the_menu() -> None:
    call = Call(ports({"east": [EAST_OUTAGE], "west": [WEST_OUTAGE]}), caller="13800138000")
    heard = call.listen()
    assert heard[:3] == ["<file welcome>", "停水通知：", EAST_OUTAGE]
    assert MAIN_MENU in heard[3]
    assert not any(WEST_OUTAGE in h for h in heard)
    assert call.ivr.variables["outage_announced"] == "1"
    assert call.ivr.path_text == "停水播报>主菜单"


def test_no_announcement_when_the_callers_area_has_no_outage() -> None:
    call = Call(ports({"west": [WEST_OUTAGE]}), caller="13800138000")
    heard = call.listen()
    assert heard[0] == "<file welcome>"
    assert MAIN_MENU in heard[1]
    assert call.ivr.path_text == "主菜单"


def test_no_announcement_when_the_number_belongs_to_no_account() -> None:
    call = Call(ports({"east": [EAST_OUTAGE]}), caller="13700000000")
    heard = call.listen()
    assert not any(EAST_OUTAGE in h for h in heard)
    assert MAIN_MENU in heard[1]


# --- key 1: outage notices -----------------------------------------------------------------------


def test_key_1_reads_the_outages_of_the_callers_area_then_the_menu_again() -> None:
    call = Call(ports({"west": [WEST_OUTAGE]}), caller="13900001234")
    assert WEST_OUTAGE in call.listen()  # announced on answer
    call.press("1")
    heard = call.listen()
    assert heard[:2] == ["当前停水信息：", WEST_OUTAGE]
    assert MAIN_MENU in heard[2]
    assert call.ivr.path_text == "停水播报>主菜单>停水信息>主菜单"


def test_key_1_reads_only_the_callers_area_when_the_number_belongs_to_an_account() -> None:
    call = Call(ports({"east": [EAST_OUTAGE], "west": [WEST_OUTAGE]}), caller="057188886666")
    call.listen()
    call.press("1")
    heard = call.listen()
    assert heard[1] == EAST_OUTAGE
    assert not any(WEST_OUTAGE in h for h in heard)


def test_key_1_reads_every_notice_to_an_unknown_number() -> None:
    call = Call(ports({"east": [EAST_OUTAGE], "west": [WEST_OUTAGE]}), caller="13700000000")
    call.listen()
    call.press("1")
    heard = call.listen()
    assert heard[1] == EAST_OUTAGE + WEST_OUTAGE
    assert call.ports.calls[-1] == "outage_text_for_area"


def test_key_1_says_so_when_there_are_no_outages() -> None:
    call = Call(ports({"west": [WEST_OUTAGE]}), caller="13800138000")
    call.listen()
    call.press("1")
    heard = call.listen()
    assert heard[0] == "目前没有停水信息。"
    assert MAIN_MENU in heard[1]


def test_key_1_apologises_when_the_notices_cannot_be_read() -> None:
    outage_ports = ports({"east": [EAST_OUTAGE]})
    call = Call(outage_ports, caller="13700000000")
    call.listen()
    outage_ports.fail.add("outage_text_for_caller")
    call.press("1")
    heard = call.listen()
    assert heard[0] == "停水信息暂时无法查询，请稍后再试。"
    assert MAIN_MENU in heard[1]


# --- key 2: balance with the caller check ---------------------------------------------------------


def test_key_2_reads_the_arrears_when_the_caller_is_a_phone_of_the_account() -> None:
    call = Call(ports(), caller="13800138000")
    at_main_menu(call)
    call.press("2")
    assert call.listen() == ["请输入您的用户号，以井号键结束。"]
    call.press("100234#")
    heard = call.listen()
    assert heard[0] == "用户号一 零 零 二 三 四，目前欠费45元6角，共2期。"
    assert MAIN_MENU in heard[1]
    assert "account_phone_suffix_matches" not in call.ports.calls
    assert call.ivr.variables["account_verified_by"] == "caller_number"
    assert call.ivr.path_text == "主菜单>水费查询>主菜单"


def test_key_2_says_no_arrears_for_an_account_that_owes_nothing() -> None:
    call = Call(ports(), caller="13900001234")
    at_main_menu(call)
    call.press("2")
    call.listen()
    call.press("200567#")
    assert call.listen()[0] == "用户号二 零 零 五 六 七，目前没有欠费。"


def test_key_2_from_another_number_asks_for_the_last_4_digits_of_the_registered_phone() -> None:
    call = Call(ports(), caller="13700000000")
    at_main_menu(call)
    call.press("2")
    call.listen()
    call.press("100234#")
    assert call.listen() == ["为保护您的信息，请输入该户登记电话号码的后四位。"]
    assert "account_balance" not in call.ports.calls
    call.press("6666")  # the landline's last digits; four digits end the entry
    heard = call.listen()
    assert heard[0].startswith("用户号一 零 零 二 三 四，目前欠费45元6角")
    assert call.ivr.variables["account_verified_by"] == "phone_suffix"


def test_key_2_lets_a_caller_correct_wrong_phone_digits() -> None:
    call = Call(ports(), caller="13700000000")
    at_main_menu(call)
    call.press("2")
    call.listen()
    call.press("100234#")
    call.listen()
    call.press("1111")
    assert call.listen() == [
        "号码验证未通过。",
        "为保护您的信息，请输入该户登记电话号码的后四位。",
    ]
    call.press("8000")
    assert "目前欠费" in call.listen()[0]


def test_key_2_refuses_the_balance_after_3_wrong_phone_digits() -> None:
    call = Call(ports(), caller="13700000000")
    at_main_menu(call)
    call.press("2")
    call.listen()
    call.press("100234#")
    call.listen()
    for wrong in ("1111", "2222"):
        call.press(wrong)
        assert call.listen()[0] == "号码验证未通过。"
    call.press("3333")
    heard = call.listen()
    assert heard[:2] == ["号码验证未通过。", "查询未成功，您可以稍后再试或转人工服务。"]
    assert MAIN_MENU in heard[2]
    assert "account_balance" not in call.ports.calls
    assert call.ports.calls.count("account_phone_suffix_matches") == 3
    assert not any("欠费" in h and "用户号" in h for h in call.heard)


def test_key_2_gives_up_after_3_unknown_account_numbers() -> None:
    call = Call(ports(), caller="13800138000")
    at_main_menu(call)
    call.press("2")
    call.listen()
    call.press("999999#")
    assert call.listen()[0] == "未查询到该用户号，请重新输入。"
    call.press("999998#")
    call.listen()
    call.press("999997#")
    heard = call.listen()
    assert heard[0] == "查询未成功，您可以稍后再试或转人工服务。"
    assert MAIN_MENU in heard[1]
    assert call.ports.calls.count("account_check") == 3


def test_key_2_cannot_check_an_account_without_a_registered_phone() -> None:
    call = Call(ports(), caller="13700000000")
    at_main_menu(call)
    call.press("2")
    call.listen()
    call.press("300001#")
    assert call.listen()[0] == "该户未登记电话号码，无法自助查询。"
    assert "account_balance" not in call.ports.calls


# --- key 3: repair message → work order → queue ---------------------------------------------------


def test_key_3_records_a_message_creates_an_order_from_the_ivr_and_queues_the_call() -> None:
    call = Call(ports(), caller="13800138000")
    at_main_menu(call)
    call.press("3")
    assert call.listen() == [
        "请在提示音后说明报修地点和情况，最长六十秒，说完请按井号键。",
        "<tone 1000 Hz>",
    ]
    assert call.recording is not None and call.recording.max_seconds == 60
    call.press("#")
    assert call.stopped_recordings == [call.recording.token]
    call.recorded("/var/aqualine/recordings/ivr-c-test.wav", 12.5)
    [(number, order)] = call.ports.orders
    assert order.source == "ivr"
    assert order.recording_path == "/var/aqualine/recordings/ivr-c-test.wav"
    assert order.recording_seconds == 12.5
    assert order.caller == "13800138000"
    assert order.call_id == "c-test"
    assert order.ivr_path == "主菜单>报修"
    heard = call.listen()
    assert (
        heard[0]
        == "您的报修已受理，工单号G D 二 零 二 六 一 一 二 六 零 零 零 一，我们会尽快安排处理。"
    )
    assert heard[1] == "正在为您转接人工服务，请稍候。"
    assert call.actions[-1] == Queue(AGENT_QUEUE)
    assert call.ivr.status is Status.HANDED_OFF
    assert call.ivr.variables["order_number"] == number
    assert call.ivr.path_text == "主菜单>报修>人工服务"


def test_key_3_asks_again_after_a_message_too_short_to_be_one() -> None:
    call = Call(ports())
    at_main_menu(call)
    call.press("3")
    call.listen()
    call.recorded("/rec/short.wav", 0.4)
    assert call.listen()[0] == "没有听到您的留言。"
    call.recorded("/rec/long.wav", 20.0, reason="max")
    assert [o.recording_path for _, o in call.ports.orders] == ["/rec/long.wav"]


def test_key_3_keeps_the_message_of_a_caller_who_hangs_up_while_recording() -> None:
    call = Call(ports())
    at_main_menu(call)
    call.press("3")
    call.listen()
    recording = call.recording
    assert recording is not None
    call.hang_up()
    assert call.stopped_recordings == [recording.token]
    call.recorded("/rec/hung-up.wav", 30.0, reason="hangup")
    assert len(call.ports.orders) == 1
    assert call.ivr.status is Status.ENDED
    assert call.ivr.end_cause == "caller hung up"
    assert call.playing is None and not call.actions_of(Queue)


def test_key_3_without_an_order_system_still_reaches_an_agent() -> None:
    repair_ports = ports()
    repair_ports.fail.add("create_repair_order")
    call = Call(repair_ports)
    at_main_menu(call)
    call.press("3")
    call.listen()
    call.recorded("/rec/msg.wav", 10.0)
    assert call.listen()[:2] == ["对不起，报修留言未能保存。", "正在为您转接人工服务，请稍候。"]
    assert call.actions[-1] == Queue(AGENT_QUEUE)


# --- keys 4, 0, *, wrong keys and silence --------------------------------------------------------


def test_key_4_gives_short_information_then_queues() -> None:
    call = Call(ports())
    at_main_menu(call)
    call.press("4")
    heard = call.listen()
    assert heard[0].startswith("营业厅办公时间")
    assert call.actions[-1] == Queue(AGENT_QUEUE)
    assert call.ivr.path_text == "主菜单>业务咨询>人工服务"


def test_key_0_queues_for_an_agent() -> None:
    call = Call(ports())
    at_main_menu(call)
    call.press("0")
    assert call.listen() == ["正在为您转接人工服务，请稍候。"]
    assert call.actions[-1] == Queue(AGENT_QUEUE)
    assert call.ivr.path_text == "主菜单>人工服务"


def test_a_key_during_the_menu_prompt_interrupts_it() -> None:
    call = Call(ports())
    call.listen()
    call.press("*")  # a new menu prompt is playing
    assert call.playing is not None
    call.press("0")
    assert call.playing is not None
    assert call.heard[-1] == "正在为您转接人工服务，请稍候。"
    assert call.actions_of(Queue) == []  # the queue comes after the prompt
    call.listen()
    assert call.actions[-1] == Queue(AGENT_QUEUE)


def test_star_repeats_the_menu_without_counting_as_a_failure() -> None:
    call = Call(ports())
    at_main_menu(call)
    for _ in range(6):
        call.press("*")
        assert MAIN_MENU in call.listen()[0]
    assert call.count(INVALID) == 0
    for _ in range(3):  # all 3 replays for wrong keys are still there
        call.press("9")
        assert call.listen()[0] == INVALID
    assert call.actions_of(Queue) == []
    call.press("0")
    call.listen()
    assert call.actions[-1] == Queue(AGENT_QUEUE)


def test_wrong_keys_replay_the_menu_3_times_then_queue() -> None:
    call = Call(ports())
    at_main_menu(call)
    for _ in range(3):
        call.press("9")
        heard = call.listen()
        assert heard[0] == INVALID
        assert MAIN_MENU in heard[1]
    assert call.count(MAIN_MENU) == 4
    assert call.actions_of(Queue) == []
    call.press("9")
    assert call.listen() == ["正在为您转接人工服务，请稍候。"]
    assert call.actions[-1] == Queue(AGENT_QUEUE)


def test_silence_replays_the_menu_3_times_then_queues() -> None:
    call = Call(ports())
    at_main_menu(call)
    for _ in range(3):
        call.wait_out()
        heard = call.listen()
        assert heard[0] == NO_KEY
        assert MAIN_MENU in heard[1]
    assert call.actions_of(Queue) == []
    call.wait_out()
    call.listen()
    assert call.actions[-1] == Queue(AGENT_QUEUE)
    assert call.count(MAIN_MENU) == 4


def test_wrong_keys_and_silence_count_together() -> None:
    call = Call(ports())
    at_main_menu(call)
    call.press("7")
    call.listen()
    call.wait_out()
    call.listen()
    call.press("#")
    call.listen()
    call.wait_out()
    call.listen()
    assert call.actions[-1] == Queue(AGENT_QUEUE)


def test_the_failures_count_again_on_each_visit_to_the_menu() -> None:
    call = Call(ports())
    at_main_menu(call)
    call.press("9")
    call.listen()
    call.press("9")
    call.listen()
    call.press("1")  # notices, then the menu again
    call.listen()
    for _ in range(3):
        call.press("9")
        call.listen()
    assert call.actions_of(Queue) == []


def test_the_agent_queue_failing_ends_the_call_politely() -> None:
    call = Call(ports())
    at_main_menu(call)
    call.press("0")
    call.listen()
    call.handoff_failed("no such queue")
    assert call.listen() == ["对不起，人工服务暂时无法接通，请稍后再拨。", "感谢您的来电，再见。"]
    assert call.actions[-1] == Hangup("ivr goodbye")
    assert call.ivr.status is Status.ENDED


# --- night and holidays --------------------------------------------------------------------------


def test_at_night_the_caller_hears_the_night_message_and_key_0_calls_the_on_duty_number() -> None:
    call = Call(ports(), at=NIGHT, variables={"on_duty_number": "13900139000"})
    heard = call.listen()
    assert NIGHT_MESSAGE in heard[1]
    assert NIGHT_MENU in heard[2]
    assert not any(MAIN_MENU in h for h in heard)
    call.press("0")
    assert call.listen() == ["正在为您转接值班电话，请稍候。"]
    assert call.actions[-1] == Transfer("13900139000")
    assert call.actions_of(Queue) == []
    assert call.ivr.path_text == "夜间服务>夜间菜单>值班电话"


def test_the_on_duty_number_defaults_to_the_flows_variable() -> None:
    call = Call(ports(), at=NIGHT)
    call.listen()
    call.press("0")
    call.listen()
    assert call.actions[-1] == Transfer("8004")


def test_at_night_keys_1_to_3_still_work_and_lead_back_to_the_night_menu() -> None:
    call = Call(ports({"east": [EAST_OUTAGE]}), at=NIGHT, caller="13700000000")
    call.listen()
    call.press("1")
    heard = call.listen()
    assert heard[1] == EAST_OUTAGE
    assert NIGHT_MENU in heard[2]
    call.press("3")
    call.listen()
    call.recorded("/rec/night.wav", 15.0)
    heard = call.listen()
    assert heard[0].startswith("您的报修已受理")
    assert NIGHT_MENU in heard[1]  # no agents at night: back to the night menu
    assert len(call.ports.orders) == 1
    assert call.actions_of(Queue) == []


def test_at_night_key_4_is_not_offered() -> None:
    call = Call(ports(), at=NIGHT)
    call.listen()
    call.press("4")
    assert call.listen()[0].startswith(INVALID)


def test_silence_at_night_ends_the_call_instead_of_queueing() -> None:
    call = Call(ports(), at=NIGHT)
    call.listen()
    for _ in range(4):
        call.wait_out()
        call.listen()
    assert call.actions[-1] == Hangup("ivr goodbye")
    assert call.actions_of(Queue) == [] and call.actions_of(Transfer) == []


def test_a_holiday_in_working_hours_is_night_service() -> None:
    call = Call(ports(), at=NATIONAL_DAY)
    heard = call.listen()
    assert NIGHT_MESSAGE in heard[1]
    assert call.ivr.variables["time_state"] == "holiday"
    call.press("0")
    call.listen()
    assert isinstance(call.actions[-1], Transfer)


def test_the_day_after_the_holidays_is_a_working_day_again() -> None:
    call = Call(ports(), at=NATIONAL_DAY.replace(day=8))
    assert MAIN_MENU in call.listen()[1]


# --- hanging up, the path log --------------------------------------------------------------------


def test_a_caller_who_hangs_up_in_the_menu_ends_the_ivr() -> None:
    call = Call(ports())
    at_main_menu(call)
    call.hang_up()
    assert call.ivr.status is Status.ENDED
    assert call.ivr.result is None
    assert call.feed(Digit("0")) == []
    assert call.feed(TimerFired(call.timer.token if call.timer else 0)) == []


def test_the_path_log_names_each_labelled_step_once_per_visit() -> None:
    call = Call(ports({"east": [EAST_OUTAGE]}), caller="13800138000")
    call.listen()
    call.press("*")
    call.listen()
    call.press("1")
    call.listen()
    call.press("2")
    call.listen()
    call.press("100234#")
    call.listen()
    call.press("3")
    call.listen()
    call.recorded("/rec/x.wav", 9.0)
    call.listen()
    assert call.ivr.path_text == ("停水播报>主菜单>停水信息>主菜单>水费查询>主菜单>报修>人工服务")
    assert [step.node for step in call.ivr.path][:2] == ["outage_announcement", "main_menu"]
    assert call.ivr.trace[:4] == ["welcome", "outage_announcement", "hours", "day"]
    # the order knows the account keyed in earlier in the call
    assert call.ports.orders[0][1].account_number == "100234"
