"""The demo IVR of 96000 (domain.md, "Demo telephony") with real peers on loopback.

A caller (the Python test UA + an RTP peer) dials the hotline from the demo trunk and keys
RFC 4733 digits; what each key does is checked four ways: by the IVR path in the call record,
by the port calls the in-memory IVR ports recorded, by the files the switch wrote, and by what
the caller heard -- the prompt the switch rendered must be found, sample for sample through
G.711, in the caller's received audio (:func:`heard_prompt`), which another prompt, a tone or
silence do not pass.

The IVR's clock is frozen (``CallCentre.ivr_clock``) at a working hour, or at night for the
night message and the on-duty transfer, so that the tests do not depend on when they run.
"""

from __future__ import annotations

import asyncio
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from aqualine.telephony.ivr.default_flow import DEFAULT_FLOW
from aqualine.telephony.ivr.fakes import FakeAccount, MemoryIvrPorts
from aqualine.telephony.ivr.schema import Prompt
from aqualine.telephony.ivr.templates import render as render_template
from aqualine.telephony.media.wav import load_audio
from aqualine.telephony.testing.audio import frame_levels, frames_with_tone, rms_dbfs
from aqualine.telephony.testing.wait import run, wait_until
from aqualine.telephony.tests.hotline_peers import (
    CALLER_TONE,
    DAY,
    NIGHT,
    Caller,
    agent_phone,
    heard_prompt,
    hotline,
    needs_pjsua2,
    render,
    sign_on,
)
from aqualine.telephony.tests.test_outbound_legs import PHONE_TONE, event

pytestmark = pytest.mark.sip

ACCOUNT_PHONE = "13800138000"
STRANGER = "13912345678"
ACCOUNT = FakeAccount(
    "1234567",
    phones=(ACCOUNT_PHONE,),
    area="幸福路",
    arrears=Decimal("123.45"),
    arrears_months=2,
)
OUTAGE = "幸福路片区三月十日九点至十七点停水。"
OTHER_OUTAGE = "滨江片区管道抢修，今晚二十点前恢复供水。"
HEARD = 0.6  # heard_prompt: the prompt itself scores ~0.95, other speech ~0.1


def _node(node_id: str) -> dict[str, Any]:
    return next(n for n in DEFAULT_FLOW["nodes"] if n["id"] == node_id)


def _tts(node_id: str, param: str = "prompt") -> str:
    return str(_node(node_id)["params"][param]["tts"])


def _ports() -> MemoryIvrPorts:
    return MemoryIvrPorts([ACCOUNT], {"幸福路": [OUTAGE], "滨江": [OTHER_OUTAGE]})


async def speech(caller: Caller, timeout: float = 15.0) -> None:
    """Wait until the caller hears a prompt start: 0.3 s of sound (every 0.1 s above
    -40 dBFS) among what arrives from now on."""
    caller.peer.clear()

    def speaking() -> bool:
        audio = caller.peer.received_audio()
        return audio.size >= 2400 and bool((frame_levels(audio[-2400:]) > -40).all())

    assert await wait_until(speaking, timeout, interval=0.05), "no prompt was played"


async def heard_for(caller: Caller, seconds: float) -> Any:
    """What the caller hears in the next ``seconds`` (from now)."""
    caller.peer.clear()
    await asyncio.sleep(seconds)
    return caller.peer.received_audio()


# --- 1: outage notices ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "expected_text", "expected_calls", "path"),
    [
        (
            ACCOUNT_PHONE,
            OUTAGE,
            ["outage_text_for_caller", "outage_text_for_caller"],
            "停水播报>主菜单>停水信息>主菜单",
        ),
        (
            STRANGER,
            OUTAGE + OTHER_OUTAGE,
            ["outage_text_for_caller", "outage_text_for_caller", "outage_text_for_area"],
            "主菜单>停水信息>主菜单",
        ),
    ],
    ids=["caller-of-an-account", "unknown-caller"],
)
def test_key_1_reads_the_outages_of_the_callers_area_or_all_then_the_menu_again(
    tmp_path: Path, number: str, expected_text: str, expected_calls: list[str], path: str
) -> None:
    ports = _ports()

    async def scenario() -> None:
        async with hotline(tmp_path, ports=ports) as running, Caller(running, number) as caller:
            await caller.dial()
            await caller.reach("main_menu")
            if number == ACCOUNT_PHONE:  # the caller's area's outage is announced on answer
                welcome = caller.peer.received_audio()
                assert heard_prompt(welcome, render(running, Prompt(tts=OUTAGE))) > HEARD
            await speech(caller)  # the menu
            await caller.press("1")
            caller.peer.clear()
            await caller.reach("main_menu", 2)  # the notices were read, back in the menu
            notices = caller.peer.received_audio()
            spoken = render(running, Prompt(tts="当前停水信息："), Prompt(tts=expected_text))
            assert heard_prompt(notices, spoken, seconds=3.0) > HEARD
            # the other area's notice: heard by a caller of no account, not by one of 幸福路
            intro = Prompt(tts="当前停水信息：")
            both = render(running, intro, Prompt(tts=OUTAGE + OTHER_OUTAGE))
            other = both[len(render(running, intro, Prompt(tts=OUTAGE))) :]
            score = heard_prompt(notices, other, seconds=2.0)
            assert score > HEARD if number == STRANGER else score < 0.3, score
            menu = render(running, Prompt(tts=_tts("main_menu")))
            assert heard_prompt(notices, menu, skip=4.0) < 0.3  # ("报修请按3...": not heard)
            await caller.hang_up()
            record = await caller.record()
            assert record.outcome == "ivr_only" and record.queue == "" and record.agent_id == ""
            assert record.ivr_path == path

    run(scenario(), timeout=60)
    assert ports.calls == expected_calls


# --- 2: the balance, with and without the caller check ----------------------------------------


def _balance_text() -> str:
    variables = {"account_number": "1234567", "arrears": "123.45", "arrears_months": "2"}
    return render_template(_tts("balance", "arrears_prompt"), variables)


@pytest.mark.parametrize(
    ("number", "suffixes", "told", "expected_calls"),
    [
        (ACCOUNT_PHONE, [], True, ["account_check", "account_balance"]),
        (
            STRANGER,
            ["8000"],
            True,
            ["account_check", "account_phone_suffix_matches", "account_balance"],
        ),
        (
            STRANGER,
            ["1111", "2222", "3333"],
            False,
            ["account_check"] + ["account_phone_suffix_matches"] * 3,
        ),
    ],
    ids=["caller-is-an-account-phone", "last-4-digits-pass", "last-4-digits-fail"],
)
def test_key_2_reads_the_balance_only_to_a_phone_of_the_account(
    tmp_path: Path, number: str, suffixes: list[str], told: bool, expected_calls: list[str]
) -> None:
    ports = _ports()
    ports.outages.clear()  # no announcement: the port calls below are the balance's only

    async def scenario() -> None:
        async with hotline(tmp_path, ports=ports) as running, Caller(running, number) as caller:
            await caller.dial()
            await caller.reach("main_menu")
            await speech(caller)
            await caller.press("2")
            await speech(caller)  # "please key your account number and #"
            entries = ["1234567#", *suffixes]  # the 4th digit of a suffix ends its entry
            for index, digits in enumerate(entries):
                if index:
                    await speech(caller)  # "... the last 4 digits of the registered phone"
                caller.peer.clear()  # the answer may start before the last key is sent
                await caller.press(digits)
            await caller.reach("main_menu", 2)
            answer = caller.peer.received_audio()
            balance = render(running, Prompt(tts=_balance_text()))
            if told:
                assert heard_prompt(answer, balance, seconds=2.0) > HEARD
            else:
                assert heard_prompt(answer, balance, seconds=2.0) < 0.3
                refusal = render(
                    running,
                    Prompt(tts=_tts("balance", "verify_failed_prompt")),
                    Prompt(tts=_tts("balance", "failed_prompt")),
                )
                assert heard_prompt(answer, refusal) > HEARD
            await caller.hang_up()
            record = await caller.record()
            assert record.ivr_path == "主菜单>水费查询>主菜单"
            assert record.outcome == "ivr_only"

    run(scenario(), timeout=60)
    assert ports.calls == ["outage_text_for_caller", *expected_calls]


# --- 3: a repair message becomes a work order, then an agent takes the call -----------------------


@needs_pjsua2
def test_key_3_records_a_repair_message_creates_the_order_and_offers_an_agent(
    tmp_path: Path,
) -> None:
    ports = _ports()
    ports.outages.clear()
    ports.order_prefix = "B"  # a short order number: it is read back digit by digit

    async def scenario() -> None:
        async with (
            hotline(tmp_path, ports=ports) as running,
            agent_phone(running, tmp_path, "8001") as phone,
            Caller(running, ACCOUNT_PHONE) as caller,
        ):
            sign_on(running, "1001", "8001")
            await caller.dial()
            await speech(caller)  # the welcome: keys may be pressed ahead of the menu
            await caller.press("3")

            def beeped() -> bool:  # the beep: 1000 Hz after the repair prompt
                audio = caller.peer.received_audio()[-3200:]
                return audio.size == 3200 and frames_with_tone(audio, 1000.0) > 0.5

            caller.peer.clear()
            assert await wait_until(beeped, 20, interval=0.05), "no beep before the message"
            await asyncio.sleep(0.5)  # the beep ends, the recording starts
            await caller.peer.play_tone(CALLER_TONE, 3.0)  # the message
            await caller.press("#")
            assert await wait_until(lambda: bool(ports.orders), 10), "no work order"
            number, order = ports.orders[0]
            # the order number is read back, then the call goes to the queue and the agent
            caller.peer.clear()
            await phone.wait_for(event("incoming", call=0), timeout=30)
            done = render(
                running,
                Prompt(
                    tts=render_template(_tts("repair", "done_prompt"), {"order_number": number})
                ),
            )
            assert heard_prompt(caller.peer.received_audio(), done, seconds=2.0) > HEARD
            await phone.wait_for(event("media", call=0), timeout=15)
            caller.peer.clear()
            assert await caller.peer.wait_for_audio_packets(50, timeout=10)
            assert frames_with_tone(caller.peer.received_audio()[-4000:], PHONE_TONE) > 0.6
            await caller.hang_up()
            record = await caller.record()

            assert order.source == "ivr"
            assert order.caller == ACCOUNT_PHONE and order.call_id == record.call_id
            assert order.ivr_path == "主菜单>报修"
            message = Path(order.recording_path)
            assert message.is_file() and message.is_relative_to(tmp_path / "recordings")
            assert 2.5 <= order.recording_seconds <= 5.0, order.recording_seconds
            audio = load_audio(message, 8000)
            assert frames_with_tone(audio, CALLER_TONE) > 0.6, "the message holds the caller"
            assert await wait_until(
                lambda: any(
                    r.kind == "message" and r.complete for r in running.records.recordings.values()
                )
            )
            saved = [r for r in running.records.recordings.values() if r.kind == "message"]
            assert len(saved) == 1 and message.name in saved[0].path
            assert saved[0].call_id == record.call_id

            assert record.ivr_path == "主菜单>报修>人工服务"
            assert record.outcome == "answered" and record.agent_id == "1001"
            assert record.queue == "hotline"

    run(scenario(), timeout=90)
    assert ports.calls == ["outage_text_for_caller", "create_repair_order"]


# --- 4: short information, then the queue -----------------------------------------------------


def test_key_4_plays_the_information_then_queues_the_caller(tmp_path: Path) -> None:
    ports = _ports()
    ports.outages.clear()

    async def scenario() -> None:
        async with hotline(tmp_path, ports=ports) as running, Caller(running, STRANGER) as caller:
            centre = running.switch.centre
            assert centre is not None
            await caller.dial()
            await caller.reach("main_menu")
            await speech(caller)
            await caller.press("4")
            await caller.reach("info")
            info = await heard_for(caller, 2.5)
            assert heard_prompt(info, render(running, Prompt(tts=_tts("info")))) > HEARD
            assert centre.queues()[0]["callers"] == []
            await caller.reach("agent_queue", timeout=30)  # the information is not cut short
            assert await wait_until(lambda: len(centre.queues()[0]["callers"]) == 1)
            music = await heard_for(caller, 1.0)
            assert rms_dbfs(music) > -45, "music on hold"
            await caller.hang_up()
            record = await caller.record()
            assert record.ivr_path == "主菜单>业务咨询>人工服务"
            assert record.outcome == "abandoned" and record.queue == "hotline"

    run(scenario(), timeout=60)
    assert ports.calls == ["outage_text_for_caller"]


# --- *: repeat the menu ---------------------------------------------------------------------------


def test_star_repeats_the_menu_and_is_not_a_wrong_key(tmp_path: Path) -> None:
    ports = _ports()
    ports.outages.clear()

    async def scenario() -> None:
        async with hotline(tmp_path, ports=ports) as running, Caller(running, STRANGER) as caller:
            menu = render(running, Prompt(tts=_tts("main_menu")))
            invalid = render(running, Prompt(tts=_tts("main_menu", "invalid_prompt")))
            await caller.dial()
            await caller.reach("main_menu")
            # 4 repeats: more than the 3 retries that wrong keys or silence get
            for _ in range(4):
                await speech(caller)
                await asyncio.sleep(0.2)  # the menu is cut short well before 0.5 s of it
                caller.peer.clear()
                await caller.press("*")
                await asyncio.sleep(2.5)
                again = caller.peer.received_audio()
                assert heard_prompt(again, menu, skip=0.5) > HEARD, "the menu again"
                assert heard_prompt(again, invalid) < 0.3
            assert "agent" not in caller.trace() and caller.trace().count("main_menu") == 1
            caller.peer.clear()
            await caller.press("9")  # a wrong key, for contrast: "您的输入有误" first
            await asyncio.sleep(2.5)
            assert heard_prompt(caller.peer.received_audio(), invalid) > HEARD
            await caller.hang_up()
            record = await caller.record()
            assert record.ivr_path == "主菜单" and record.outcome == "ivr_only"

    run(scenario(), timeout=90)
    assert ports.calls == ["outage_text_for_caller"]


# --- night: the night message, keys 1-3, and 0 to the on-duty number -----------------------------


@needs_pjsua2
def test_at_night_the_night_message_plays_key_1_works_and_0_rings_the_on_duty_phone(
    tmp_path: Path,
) -> None:
    ports = MemoryIvrPorts([ACCOUNT], {"幸福路": [OUTAGE]})

    async def scenario() -> None:
        async with (
            hotline(tmp_path, ports=ports, at=NIGHT, on_duty_number="8002") as running,
            agent_phone(running, tmp_path, "8002") as duty_phone,
            Caller(running, STRANGER) as caller,
        ):
            await caller.dial()
            await caller.reach("night_message")
            message = render(running, Prompt(tts=_tts("night_message")))
            await asyncio.sleep(2.0)
            assert heard_prompt(caller.peer.received_audio(), message) > HEARD
            assert "main_menu" not in caller.trace()
            # keys 1-3 are still offered: 1 (pressed during the message: it cuts it short)
            await caller.press("1")
            assert await wait_until(lambda: "outage_text_for_area" in ports.calls, 10)
            caller.peer.clear()
            await caller.reach("outage_notices")
            await asyncio.sleep(2.0)
            notices = render(running, Prompt(tts="当前停水信息："), Prompt(tts=OUTAGE))
            assert heard_prompt(caller.peer.received_audio(), notices) > HEARD
            await caller.press("0")  # ... and 0, the on-duty phone (cutting the notices short)
            await duty_phone.wait_for(event("incoming", call=0), timeout=20)
            await duty_phone.wait_for(event("media", call=0), timeout=15)
            caller.peer.play_tone(CALLER_TONE, 1.0, loop=True)
            caller.peer.clear()
            assert await caller.peer.wait_for_audio_packets(75, timeout=10)
            heard = caller.peer.received_audio()[-6000:]
            assert frames_with_tone(heard, PHONE_TONE) > 0.6, "the caller talks to the duty phone"
            await caller.hang_up()
            await duty_phone.wait_for(event("disconnected", call=0), timeout=15)
            record = await caller.record()
            assert record.ivr_path == "夜间服务>夜间菜单>停水信息>夜间菜单>值班电话"
            assert record.extra.get("transferred_to") == "8002"
            assert record.agent_extension == "8002" and record.agent_id == ""
            assert record.outcome == "answered" and record.queue == ""
            assert running.bus.of_type("queue.caller_joined") == []

    run(scenario(), timeout=90)
    assert ports.calls == [
        "outage_text_for_caller",
        "outage_text_for_caller",
        "outage_text_for_area",
    ]


def test_the_same_call_by_day_gets_the_main_menu_and_no_night_message(tmp_path: Path) -> None:
    ports = _ports()
    ports.outages.clear()

    async def scenario() -> None:
        async with hotline(tmp_path, ports=ports, at=DAY) as running, Caller(running) as caller:
            await caller.dial()
            await caller.reach("main_menu")
            assert "night_message" not in caller.trace()
            heard = await heard_for(caller, 2.0)
            assert heard_prompt(heard, render(running, Prompt(tts=_tts("main_menu")))) > HEARD
            await caller.hang_up()
            assert (await caller.record()).ivr_path == "主菜单"

    run(scenario(), timeout=60)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
