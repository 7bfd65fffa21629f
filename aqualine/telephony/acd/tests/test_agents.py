"""Agents: login conflicts, sign on / sign off, not ready, supervisors, history, counters."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from aqualine.telephony.acd import (
    SIGNED_OFF,
    AcdError,
    AgentState,
    OfferFailure,
    Refusal,
)
from aqualine.telephony.acd.tests.support import SUPERVISOR, T0, at, desk, hotline, offers
from aqualine.telephony.api.events import AgentStateChanged, event_from_dict

S = AgentState


def test_it_refuses_an_extension_another_agent_holds() -> None:
    d = desk()
    d.acd.login("1001", "8001", now=d.later(1))
    with pytest.raises(AcdError) as refused:
        d.acd.login("1002", "8001", now=d.later(1))
    assert refused.value.code == Refusal.EXTENSION_IN_USE
    assert "1001" in refused.value.message
    assert d.state("1002") is S.LOGGED_OUT
    assert d.acd.agent("1001", now=d.now).extension == "8001"  # type: ignore[union-attr]


def test_it_refuses_a_second_extension_for_a_logged_in_agent() -> None:
    d = desk()
    d.acd.login("1001", "8001", now=d.later(1))
    for extension in ("8002", "8001"):
        with pytest.raises(AcdError) as refused:
            d.acd.login("1001", extension, now=d.later(1))
        assert refused.value.code == Refusal.AGENT_LOGGED_IN
        assert "8001" in refused.value.message
    d.acd.login("1002", "8002", now=d.later(1))  # 8002 was not taken by the refused login


def test_logout_frees_the_extension_for_another_agent() -> None:
    d = desk()
    d.signed_on("1001")
    d.acd.logout("1001", now=d.later(1))
    d.acd.login("1002", "8001", now=d.later(1))
    assert d.acd.agent("1002", now=d.now).extension == "8001"  # type: ignore[union-attr]
    assert d.acd.agent("1001", now=d.now).extension == ""  # type: ignore[union-attr]
    with pytest.raises(AcdError) as refused:
        d.acd.login("1001", "8001", now=d.later(1))
    assert refused.value.code == Refusal.EXTENSION_IN_USE
    d.acd.login("1001", "8003", now=d.later(1))


def test_a_supervisor_frees_an_extension_left_logged_in() -> None:
    d = desk()
    d.acd.login("1002", "8002", now=d.later(1))
    outcome = d.acd.force_logout("1002", by=SUPERVISOR, now=d.later(1))
    assert outcome.changes[0].by == SUPERVISOR
    d.acd.login("1003", "8002", now=d.later(1))


def test_login_needs_an_extension() -> None:
    d = desk()
    with pytest.raises(AcdError) as refused:
        d.acd.login("1001", "", now=d.later(1))
    assert refused.value.code == Refusal.NO_EXTENSION


def test_login_alone_takes_no_calls_until_the_agent_signs_on() -> None:
    d = desk(hotline(("1001",)))
    d.acd.login("1001", "8001", now=d.later(1))
    assert (d.state("1001"), d.reason("1001")) == (S.NOT_READY, SIGNED_OFF)
    assert offers(d.join("call-1")) == []
    assert offers(d.acd.sign_on("1001", now=d.later(5))) == [("call-1", "1001")]


def test_signed_off_agents_stay_logged_in_and_get_no_calls() -> None:
    d = desk(hotline(("1001",)))
    d.signed_on("1001")
    d.acd.sign_off("1001", now=d.later(1))
    assert (d.state("1001"), d.reason("1001")) == (S.NOT_READY, SIGNED_OFF)
    assert d.acd.agent("1001", now=d.now).extension == "8001"  # type: ignore[union-attr]
    assert offers(d.join("call-1")) == []
    # 离席 with a reason replaces 下号 and the other way round; neither takes calls
    d.acd.set_not_ready("1001", "开会", now=d.later(1))
    assert d.reason("1001") == "开会"
    assert offers(d.acd.tick(d.later(100))) == []
    assert offers(d.acd.set_ready("1001", now=d.later(1))) == [("call-1", "1001")]


def test_a_busy_agent_gets_no_calls_and_ready_brings_them_back() -> None:
    d = desk(hotline(("1001", "1002")))
    d.signed_on("1001", "1002")
    d.acd.set_not_ready("1001", "休息", now=d.later(1))
    assert offers(d.join("call-1")) == [("call-1", "1002")]
    assert offers(d.join("call-2")) == []
    assert offers(d.acd.set_ready("1001", now=d.later(10))) == [("call-2", "1001")]


def test_every_change_is_recorded_with_the_duration_of_the_old_state() -> None:
    d = desk(hotline(("1001",)))
    changes = []
    changes += d.acd.login("1001", "8001", now=at(10)).changes
    changes += d.acd.sign_on("1001", now=at(25)).changes
    changes += d.acd.set_not_ready("1001", "就餐", now=at(100)).changes
    changes += d.acd.set_not_ready("1001", "如厕", now=at(130)).changes
    changes += d.acd.set_ready("1001", now=at(200)).changes
    changes += d.acd.logout("1001", now=at(260)).changes
    assert [
        (c.old_state, c.new_state, c.old_reason, c.reason, c.transition, c.at, c.duration)
        for c in changes
    ] == [
        (S.LOGGED_OUT, S.NOT_READY, "", SIGNED_OFF, "login", at(10), 0.0),
        (S.NOT_READY, S.IDLE, SIGNED_OFF, "", "sign_on", at(25), 15.0),
        (S.IDLE, S.NOT_READY, "", "就餐", "not_ready", at(100), 75.0),
        (S.NOT_READY, S.NOT_READY, "就餐", "如厕", "not_ready", at(130), 30.0),
        (S.NOT_READY, S.IDLE, "如厕", "", "ready", at(200), 70.0),
        (S.IDLE, S.LOGGED_OUT, "", "", "logout", at(260), 60.0),
    ]
    assert {(c.agent_id, c.extension) for c in changes} == {("1001", "8001")}


def test_each_change_is_published_as_an_agent_event_with_the_same_data() -> None:
    d = desk(hotline(("1001",)))
    d.acd.login("1001", "8001", now=at(10))
    outcome = d.acd.sign_on("1001", now=at(12))
    [change] = outcome.changes
    [event] = [e for e in outcome.events if isinstance(e, AgentStateChanged)]
    assert event == change.to_event()
    assert event.at == at(12).isoformat()
    assert (event.old_state, event.new_state, event.duration) == ("not_ready", "idle", 2.0)
    assert event_from_dict(event.to_dict()) == event


def test_the_call_is_on_the_records_of_the_call_states() -> None:
    d = desk(hotline(("1001",)), wrap_up_seconds=30)
    d.signed_on("1001")
    joined = d.join("call-7")
    answered = d.acd.offer_answered("call-7", now=d.later(4))
    ended = d.acd.call_ended("call-7", now=d.later(50))
    wrapped = d.acd.tick(d.later(30))
    changes = [*joined.changes, *answered.changes, *ended.changes, *wrapped.changes]
    assert [(c.transition, c.call_id, c.queue, c.duration) for c in changes] == [
        ("offer", "call-7", "hotline", 1.0),
        ("answer", "call-7", "hotline", 4.0),
        ("call_end", "call-7", "hotline", 50.0),
        ("wrap_up_timeout", "call-7", "hotline", 30.0),
    ]
    assert d.acd.agent("1001", now=d.now).call_id == ""  # type: ignore[union-attr]


def test_supervisor_forces_sign_off_and_ready() -> None:
    d = desk(hotline(("1001", "1002")))
    d.signed_on("1002")
    outcome = d.acd.force_sign_off("1002", by=SUPERVISOR, now=d.later(1))
    assert [(c.transition, c.by, c.reason) for c in outcome.changes] == [
        ("force_sign_off", SUPERVISOR, SIGNED_OFF)
    ]
    assert offers(d.join("call-1")) == []
    outcome = d.acd.force_ready("1002", by=SUPERVISOR, now=d.later(1))
    assert offers(outcome) == [("call-1", "1002")]
    with pytest.raises(AcdError):
        d.acd.force_sign_off("1002", by=SUPERVISOR, now=d.later(1))  # it rings
    assert d.state("1002") is S.RINGING


def test_today_counters_count_answered_missed_and_talk_time() -> None:
    d = desk(hotline(("1001",)), wrap_up_seconds=0)
    d.signed_on("1001")
    d.join("a")
    d.acd.offer_answered("a", now=d.later(3))
    d.acd.call_ended("a", now=d.later(120))
    d.join("b")
    d.acd.offer_failed("b", OfferFailure.DECLINED, now=d.later(2))
    d.acd.set_ready("1001", now=d.later(2))  # takes b again
    d.acd.offer_answered("b", now=d.later(1))
    d.acd.call_ended("b", now=d.later(45.5))
    counters = d.acd.agent("1001", now=d.now).counters  # type: ignore[union-attr]
    assert (counters.answered, counters.missed, counters.talk_seconds) == (2, 1, 165.5)
    assert counters.day == T0.date()


def test_counters_start_again_on_a_new_local_day() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    d = desk(hotline(("1001",)), timezone=shanghai, wrap_up_seconds=0)
    d.signed_on("1001")  # 17:00 in Shanghai
    d.join("a")
    d.acd.offer_answered("a", now=d.later(1))
    d.acd.call_ended("a", now=d.later(60))
    evening = d.acd.agent("1001", now=T0 + timedelta(hours=6, minutes=59))
    assert evening is not None and evening.counters.answered == 1
    next_day = T0 + timedelta(hours=7, minutes=1)  # past midnight in Shanghai
    view = d.acd.agent("1001", now=next_day)
    assert view is not None and view.counters.answered == 0
    assert view.counters.day == next_day.astimezone(shanghai).date()
    d.seconds = (next_day - T0).total_seconds()
    d.join("b")
    d.acd.offer_answered("b", now=d.later(1))
    view = d.acd.agent("1001", now=d.now)
    assert view is not None and view.counters.answered == 1


def test_the_supervisor_view_shows_state_and_time_in_it() -> None:
    d = desk(hotline(("1001", "1002")))
    d.signed_on("1001", "1002")
    d.acd.set_not_ready("1002", "接待客户", now=d.later(10))
    views = {v.agent_id: v for v in d.acd.agents(now=d.later(35))}
    assert (views["1002"].state, views["1002"].reason, views["1002"].seconds_in_state) == (
        S.NOT_READY,
        "接待客户",
        35.0,
    )
    assert views["1001"].state is S.IDLE and views["1001"].seconds_in_state == 46.0
    assert views["1001"].queues == ("hotline",)
