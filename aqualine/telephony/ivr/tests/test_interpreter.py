"""The interpreter's mechanics on small flows: tokens, keys, timers, digit entry, hand-offs."""

from __future__ import annotations

from typing import Any

import pytest

from aqualine.telephony.ivr.actions import (
    CancelTimer,
    CreateRepairOrder,
    Digit,
    Hangup,
    HungUp,
    Play,
    PlayDone,
    PortResult,
    Queue,
    RecordingDone,
    StartRecording,
    StartTimer,
    StopPlayback,
    TimerFired,
    Transfer,
)
from aqualine.telephony.ivr.flow import load_flow
from aqualine.telephony.ivr.interpreter import CallInfo, Interpreter, Status
from aqualine.telephony.ivr.tests.driver import WORKING_HOURS, Call


def tts(text: str) -> dict[str, str]:
    return {"tts": text}


def flow_of(*nodes: dict[str, Any], **top: Any) -> Any:
    data: dict[str, Any] = {"version": 1, "start": nodes[0]["id"], "nodes": list(nodes)}
    data.update(top)
    return load_flow(data)


HANGUP = {"id": "bye", "type": "hangup", "params": {"cause": "done"}}
AGENT = {"id": "agent", "type": "queue", "params": {"queue": "hotline"}}


def collect(**params: Any) -> Any:
    node = {
        "id": "ask",
        "type": "collect",
        "params": {"var": "code", "prompt": tts("请输入"), "max_digits": 6, **params},
        "edges": {"done": "say", "exhausted": "bye"},
    }
    say = {
        "id": "say",
        "type": "play",
        "params": {"prompt": tts("您输入的是{code}")},
        "edges": {"next": "bye"},
    }
    return flow_of(node, say, HANGUP)


def menu_flow(**params: Any) -> Any:
    return flow_of(
        {
            "id": "welcome",
            "type": "play",
            "params": {"prompt": tts("您好"), "barge_in": True},
            "edges": {"next": "menu"},
        },
        {
            "id": "menu",
            "type": "menu",
            "params": {"prompt": tts("菜单"), **params},
            "edges": {"1": "agent", "exhausted": "bye"},
        },
        AGENT,
        HANGUP,
    )


# --- tokens, barge-in, timers ---------------------------------------------------------------------


def test_a_key_stops_an_interruptible_prompt_and_a_late_play_done_is_ignored() -> None:
    ivr = Interpreter(menu_flow(), call=CallInfo("1", "96000"), clock=lambda: WORKING_HOURS)
    [welcome] = ivr.start()
    assert isinstance(welcome, Play) and welcome.barge_in
    [menu] = ivr.feed(PlayDone(welcome.token))
    assert isinstance(menu, Play)
    assert ivr.feed(Digit("1")) == [StopPlayback(menu.token), Queue("hotline")]
    assert ivr.feed(PlayDone(menu.token, interrupted=True)) == []
    assert ivr.status is Status.HANDED_OFF


def test_a_timer_that_fires_after_a_key_is_ignored() -> None:
    ivr = Interpreter(menu_flow(), call=CallInfo("1", "96000"), clock=lambda: WORKING_HOURS)
    [welcome] = ivr.start()
    assert isinstance(welcome, Play)
    [menu] = ivr.feed(PlayDone(welcome.token))
    assert isinstance(menu, Play)
    [timer] = ivr.feed(PlayDone(menu.token))
    assert isinstance(timer, StartTimer) and timer.seconds == 5
    actions = ivr.feed(Digit("7"))  # wrong key: the menu again
    assert actions[0] == CancelTimer(timer.token)
    assert ivr.feed(TimerFired(timer.token)) == []


def test_the_late_end_of_an_interrupted_prompt_does_not_end_the_next_one() -> None:
    ivr = Interpreter(menu_flow(), call=CallInfo("1", "96000"), clock=lambda: WORKING_HOURS)
    [welcome] = ivr.start()
    assert isinstance(welcome, Play)
    [menu] = ivr.feed(PlayDone(welcome.token))
    assert isinstance(menu, Play)
    stop, replay = ivr.feed(Digit("7"))  # a wrong key during the menu: the menu again
    assert stop == StopPlayback(menu.token)
    assert isinstance(replay, Play) and replay.token != menu.token
    assert ivr.feed(PlayDone(menu.token, interrupted=True)) == []  # no timer yet
    [timer] = ivr.feed(PlayDone(replay.token))
    assert isinstance(timer, StartTimer)


def test_keys_are_ignored_while_a_prompt_that_cannot_be_interrupted_plays() -> None:
    flow = flow_of(
        {
            "id": "notice",
            "type": "play",
            "params": {"prompt": tts("请听")},
            "edges": {"next": "bye"},
        },
        HANGUP,
    )
    ivr = Interpreter(flow, call=CallInfo("1", "96000"))
    [play] = ivr.start()
    assert isinstance(play, Play) and not play.barge_in
    assert ivr.feed(Digit("1")) == []
    assert ivr.feed(PlayDone(play.token)) == [Hangup("done")]
    assert ivr.status is Status.ENDED and ivr.result == Hangup("done")


def test_unknown_key_events_are_ignored() -> None:
    call = Call(flow=menu_flow())
    call.listen()
    assert call.feed(Digit("A")) == [] and call.feed(Digit("12")) == []


def test_a_key_pressed_during_the_welcome_chooses_in_the_menu_at_once() -> None:
    call = Call(flow=menu_flow())
    call.press("1")
    assert call.heard == ["您好"]  # the menu prompt was never played
    assert call.actions[-1] == Queue("hotline")


# --- menus ----------------------------------------------------------------------------------------


def test_retries_0_gives_up_on_the_first_failure() -> None:
    call = Call(flow=menu_flow(retries=0))
    call.listen()
    call.wait_out()
    assert call.actions[-1] == Hangup("done")


def test_the_repeat_key_can_be_switched_off() -> None:
    call = Call(flow=menu_flow(repeat_key="", retries=0, invalid_prompt=tts("错误")))
    call.listen()
    call.press("*")
    assert call.actions[-1] == Hangup("done")


# --- digit entry ----------------------------------------------------------------------------------


def test_digits_end_with_the_terminator() -> None:
    call = Call(flow=collect())
    call.listen()
    call.press("123#")
    assert call.listen() == ["您输入的是123"]
    assert call.ivr.variables["code"] == "123"


def test_digits_end_by_themselves_at_max_digits() -> None:
    call = Call(flow=collect(max_digits=4, terminator=""))
    call.listen()
    call.press("9876")
    assert call.listen() == ["您输入的是9876"]


def test_a_timeout_after_enough_digits_accepts_them() -> None:
    call = Call(flow=collect(min_digits=3))
    call.listen()
    call.press("4321")
    assert call.timer is not None and call.timer.seconds == 5  # waiting for the next key
    call.wait_out()
    assert call.listen() == ["您输入的是4321"]


def test_too_few_digits_then_silence_use_up_the_retries() -> None:
    call = Call(
        flow=collect(
            min_digits=4,
            retries=1,
            invalid_prompt=tts("位数不对"),
            timeout_prompt=tts("没有输入"),
        )
    )
    call.listen()
    call.press("12#")
    assert call.listen() == ["位数不对", "请输入"]
    call.wait_out()
    assert call.listen() == []
    assert call.actions[-1] == Hangup("done")
    assert "code" not in call.ivr.variables


def test_a_star_in_digit_entry_is_a_wrong_entry() -> None:
    call = Call(flow=collect(retries=0))
    call.listen()
    call.press("12*")
    assert call.actions[-1] == Hangup("done")


def test_digits_typed_during_the_prompt_count() -> None:
    call = Call(flow=collect())
    call.press("55#")  # while "请输入" plays
    assert call.listen() == ["请输入", "您输入的是55"]


# --- branch, set, transfer, hang-ups --------------------------------------------------------------


def branch_flow(value: str) -> Any:
    return flow_of(
        {
            "id": "set",
            "type": "set",
            "params": {"values": {"vip": value, "who": "{caller}"}},
            "edges": {"next": "route"},
        },
        {
            "id": "route",
            "type": "branch",
            "params": {"var": "vip"},
            "edges": {"yes": "agent", "default": "bye"},
        },
        AGENT,
        HANGUP,
    )


@pytest.mark.parametrize(("value", "last"), [("yes", Queue("hotline")), ("no", Hangup("done"))])
def test_a_branch_follows_the_value_or_the_default(value: str, last: object) -> None:
    call = Call(flow=branch_flow(value), caller="13800138000")
    assert call.actions[-1] == last
    assert call.ivr.variables["who"] == "13800138000"


def transfer_flow(number: str, with_failed_edge: bool = True) -> Any:
    edges = {"failed": "sorry"} if with_failed_edge else {}
    return flow_of(
        {
            "id": "duty",
            "type": "transfer",
            "label": "值班",
            "params": {"number": number},
            "edges": edges,
        },
        {
            "id": "sorry",
            "type": "play",
            "params": {"prompt": tts("无法接通：{handoff_error}")},
            "edges": {"next": "bye"},
        },
        HANGUP,
    )


def test_a_failed_transfer_takes_the_failed_edge() -> None:
    call = Call(flow=transfer_flow("13900139000"))
    assert call.actions == [Transfer("13900139000")]
    assert call.ivr.status is Status.HANDED_OFF
    call.handoff_failed("486 Busy Here")
    assert call.listen() == ["无法接通：486 Busy Here"]
    assert call.ivr.status is Status.ENDED


def test_a_failed_transfer_without_a_failed_edge_hangs_up() -> None:
    call = Call(flow=transfer_flow("13900139000", with_failed_edge=False))
    call.handoff_failed("no answer")
    assert call.actions[-1] == Hangup("transfer failed: no answer")


def test_a_transfer_to_something_that_is_not_a_number_fails_without_dialling() -> None:
    call = Call(flow=transfer_flow("{nobody}"))
    assert call.actions_of(Transfer) == []
    assert call.listen() == ["无法接通：not a number: ''"]


def test_a_hang_up_while_handed_off_keeps_the_hand_off_as_the_result() -> None:
    call = Call(flow=transfer_flow("8004"))
    call.hang_up()
    assert call.ivr.status is Status.ENDED and call.ivr.result == Transfer("8004")


def test_nothing_happens_after_the_end() -> None:
    call = Call(flow=branch_flow("no"))
    assert call.ivr.status is Status.ENDED
    assert call.feed(HungUp()) == [] and call.feed(Digit("1")) == []


def test_a_long_chain_without_waiting_is_cut_by_the_step_guard() -> None:
    chain = [
        {
            "id": f"s{i}",
            "type": "set",
            "params": {"values": {"n": str(i)}},
            "edges": {"next": f"s{i + 1}"},
        }
        for i in range(10)
    ]
    chain.append({"id": "s10", "type": "hangup"})
    ivr = Interpreter(flow_of(*chain), call=CallInfo("1", "96000"), max_steps=5)
    assert ivr.start() == [Hangup("ivr loop")]
    assert ivr.variables["n"] == "4"  # s0-s4 ran, s5 was not entered


def test_the_interpreter_must_be_started_once() -> None:
    ivr = Interpreter(branch_flow("no"), call=CallInfo("1", "96000"))
    with pytest.raises(RuntimeError):
        ivr.feed(Digit("1"))
    ivr.start()
    with pytest.raises(RuntimeError):
        ivr.start()


def test_an_order_being_created_when_the_caller_hangs_up_is_still_numbered() -> None:
    flow = flow_of(
        {
            "id": "repair",
            "type": "repair",
            "label": "报修",
            "params": {"prompt": tts("请留言"), "done_prompt": tts("工单号{order_number}")},
            "edges": {"next": "bye"},
        },
        HANGUP,
    )
    ivr = Interpreter(flow, call=CallInfo("13800138000", "96000", "c9"))
    [play] = ivr.start()
    assert isinstance(play, Play)
    [record] = ivr.feed(PlayDone(play.token))
    assert isinstance(record, StartRecording)
    [request] = ivr.feed(RecordingDone(record.token, "/rec/a.wav", 8.0, "max"))
    assert isinstance(request, CreateRepairOrder)
    assert request.order.recording_path == "/rec/a.wav" and request.order.ivr_path == "报修"
    assert ivr.feed(HungUp()) == []
    assert ivr.status is Status.RUNNING  # waiting for the order's number
    assert ivr.feed(PortResult(request.token, "GD202611260007")) == []  # nobody to tell
    assert ivr.variables["order_number"] == "GD202611260007"
    assert ivr.status is Status.ENDED and ivr.end_cause == "caller hung up"
