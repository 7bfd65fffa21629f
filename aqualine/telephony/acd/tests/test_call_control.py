"""Call control: transfers to an agent and the agents' own (click-to-dial) calls."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from aqualine.telephony.acd import (
    MISSED,
    SIGNED_OFF,
    UNREACHABLE,
    AcdError,
    AgentState,
    AgentView,
    OfferFailure,
    Outcome,
    QueueConfig,
    Refusal,
)
from aqualine.telephony.acd.tests.support import AGENTS, Desk, at, desk, hotline, offers
from aqualine.telephony.api.events import AgentStateChanged, event_from_dict

S = AgentState


def view(d: Desk, agent_id: str) -> AgentView:
    result = d.acd.agent(agent_id, now=d.now)
    assert result is not None
    return result


def rows(outcome: Outcome) -> list[tuple[str, str, AgentState, AgentState, str, str]]:
    """(agent, transition, old state, new state, call, queue) of each recorded change."""
    return [
        (c.agent_id, c.transition, c.old_state, c.new_state, c.call_id, c.queue)
        for c in outcome.changes
    ]


def talking(d: Desk, agent_id: str, call_id: str, queue: str = "hotline") -> None:
    """The signed-on `agent_id`, the only idle member of `queue`, answers a new caller."""
    assert offers(d.join(call_id, queue)) == [(call_id, agent_id)]
    d.acd.offer_answered(call_id, now=d.later(1))


def transfer_desk(**config: object) -> Desk:
    """1001 talks call x (hotline); 1002 and 1003, members of billing only, are idle."""
    d = desk(hotline(("1001",)), QueueConfig("billing", ("1002", "1003")), **config)
    d.signed_on("1001", "1002", "1003")
    talking(d, "1001", "x")
    return d


def refused(code: str, request: Callable[..., Outcome], *args: object, now: datetime) -> AcdError:
    """The AcdError that `request(*args, now=now)` raises; it must have `code`."""
    with pytest.raises(AcdError) as raised:
        request(*args, now=now)
    assert raised.value.code == code, raised.value.message
    return raised.value


# --- transfer to an agent ----------------------------------------------------------------------


def test_a_transfer_ends_the_talk_and_rings_the_target_without_an_acd_timer() -> None:
    d = transfer_desk(wrap_up_seconds=30)
    outcome = d.acd.transfer_to_agent("x", "1002", now=d.later(40))
    assert rows(outcome) == [
        ("1001", "call_end", S.TALKING, S.AFTER_CALL_WORK, "x", "hotline"),
        ("1002", "transfer_offer", S.IDLE, S.RINGING, "x", "hotline"),
    ]
    assert outcome.decisions == []  # the switch rings the target and times the ring
    events = [e for e in outcome.events if isinstance(e, AgentStateChanged)]
    assert events == [c.to_event() for c in outcome.changes]
    assert view(d, "1001").counters.talk_seconds == 40.0
    assert view(d, "1001").wrap_up_until == d.now + (at(30) - at(0))
    target = view(d, "1002")
    assert (target.state, target.call_id, target.queue) == (S.RINGING, "x", "hotline")
    assert d.acd.next_deadline() == view(d, "1001").wrap_up_until  # the wrap-up only
    d.acd.tick(d.later(600))
    assert d.state("1002") is S.RINGING  # no ring timeout in the ACD


def test_the_target_is_reserved_for_the_transfer() -> None:
    d = transfer_desk()
    d.acd.transfer_to_agent("x", "1002", now=d.later(10))
    # 1002 idled longer than 1003, but it rings with the transfer: 1003 takes the caller
    assert offers(d.join("b1", "billing")) == [("b1", "1003")]
    d.acd.offer_answered("b1", now=d.later(1))
    assert offers(d.join("b2", "billing")) == []
    assert offers(d.acd.tick(d.later(100))) == []
    d.acd.transfer_answered("x", now=d.later(1))
    assert offers(d.acd.call_ended("x", now=d.later(30))) == []
    d.acd.finish_wrap_up("1002", now=d.later(1))
    assert d.state("1002") is S.RINGING
    assert view(d, "1002").call_id == "b2"


def test_the_target_answers_and_the_call_ends_as_any_call() -> None:
    d = transfer_desk(wrap_up_seconds=20)
    d.acd.transfer_to_agent("x", "1002", now=d.later(10))
    answered = d.acd.transfer_answered("x", now=d.later(5))
    assert rows(answered) == [("1002", "answer", S.RINGING, S.TALKING, "x", "hotline")]
    assert view(d, "1002").counters.answered == 1
    ended = d.acd.call_ended("x", now=d.later(100))
    assert rows(ended) == [
        ("1001", "wrap_up_timeout", S.AFTER_CALL_WORK, S.IDLE, "x", "hotline"),  # at 20 s
        ("1002", "call_end", S.TALKING, S.AFTER_CALL_WORK, "x", "hotline"),
    ]
    target = view(d, "1002")
    assert (target.counters.answered, target.counters.talk_seconds) == (1, 100.0)
    assert target.wrap_up_until == d.now + (at(20) - at(0))
    wrapped = d.acd.tick(d.later(20))
    assert ("1002", "wrap_up_timeout", S.AFTER_CALL_WORK, S.IDLE, "x", "hotline") in rows(wrapped)
    # the first agent answered it once and talked 10 s; nothing counts twice
    first = view(d, "1001")
    assert (first.counters.answered, first.counters.talk_seconds) == (1, 10.0)


def test_the_queue_learns_the_handle_time_of_a_transferred_call_once() -> None:
    d = transfer_desk(wrap_up_seconds=20)
    d.acd.transfer_to_agent("x", "1002", now=d.later(70))  # 1001: 70 s talk
    d.acd.transfer_answered("x", now=d.later(1))
    d.acd.call_ended("x", now=d.later(500))
    d.acd.tick(d.later(100))  # both wrap-ups over; 1001's handle time: 70 + 20
    queue = d.acd.queue("hotline", now=d.now)
    assert queue is not None and queue.expected_wait == 90.0  # position 1 × 90 s ÷ 1 agent


def test_the_queue_wrap_up_limit_follows_the_call_to_the_target() -> None:
    d = desk(
        hotline(("1001",), wrap_up_seconds=7),
        QueueConfig("billing", ("1002",)),
        wrap_up_seconds=30,
    )
    d.signed_on("1001", "1002")
    talking(d, "1001", "x")
    d.acd.transfer_to_agent("x", "1002", now=d.later(10))
    d.acd.transfer_answered("x", now=d.later(1))
    d.acd.call_ended("x", now=d.later(10))
    assert view(d, "1002").wrap_up_until == d.now + (at(7) - at(0))


@pytest.mark.parametrize(
    ("cause", "transition", "reason"),
    [
        (None, "ring_timeout", MISSED),
        (OfferFailure.NO_ANSWER, "ring_timeout", MISSED),
        (OfferFailure.DECLINED, "decline", MISSED),
        (OfferFailure.UNREACHABLE, "unreachable", UNREACHABLE),
    ],
)
def test_a_failed_transfer_sets_the_target_not_ready_as_a_missed_ring(
    cause: OfferFailure | None, transition: str, reason: str
) -> None:
    d = transfer_desk()
    d.acd.transfer_to_agent("x", "1002", now=d.later(10))
    if cause is None:
        outcome = d.acd.transfer_failed("x", now=d.later(15))
    else:
        outcome = d.acd.transfer_failed("x", now=d.later(15), cause=cause)
    assert rows(outcome) == [("1002", transition, S.RINGING, S.NOT_READY, "x", "hotline")]
    assert outcome.changes[0].reason == reason
    target = view(d, "1002")
    assert (target.state, target.reason, target.call_id) == (S.NOT_READY, reason, "")
    assert (target.counters.missed, target.counters.answered) == (1, 0)
    # the call is no longer in the ACD
    refused(Refusal.UNKNOWN_CALL, d.acd.transfer_answered, "x", now=d.later(1))
    refused(Refusal.UNKNOWN_CALL, d.acd.transfer_failed, "x", now=d.later(1))
    refused(Refusal.UNKNOWN_CALL, d.acd.call_ended, "x", now=d.later(1))
    refused(Refusal.UNKNOWN_CALL, d.acd.caller_left, "x", now=d.later(1))
    # back with 复席, afresh: 1003 has idled longer
    d.acd.set_ready("1002", now=d.later(1))
    assert offers(d.join("b1", "billing")) == [("b1", "1003")]


@pytest.mark.parametrize("report", ["caller_left", "call_ended"])
def test_a_caller_gone_during_the_transfer_ring_returns_the_target_to_its_place(
    report: str,
) -> None:
    d = transfer_desk()
    idle_since = view(d, "1002").idle_since
    d.acd.transfer_to_agent("x", "1002", now=d.later(10))
    outcome = getattr(d.acd, report)("x", now=d.later(8))
    assert rows(outcome) == [("1002", "withdraw", S.RINGING, S.IDLE, "x", "hotline")]
    assert outcome.decisions == []  # the switch rang it: the switch stops the ring
    target = view(d, "1002")
    assert (target.state, target.idle_since, target.call_id) == (S.IDLE, idle_since, "")
    assert (target.counters.answered, target.counters.missed) == (0, 0)
    assert offers(d.join("b1", "billing")) == [("b1", "1002")]  # still idle longest
    refused(Refusal.UNKNOWN_CALL, d.acd.transfer_answered, "x", now=d.later(1))


@pytest.mark.parametrize(
    ("state", "code", "words"),
    [
        (S.RINGING, Refusal.TARGET_BUSY, "a call rings at it"),
        (S.TALKING, Refusal.TARGET_BUSY, "it is on a call"),
        (S.AFTER_CALL_WORK, Refusal.TARGET_BUSY, "after-call work"),
        (S.NOT_READY, Refusal.TARGET_NOT_READY, "not ready (开会)"),
        (S.LOGGED_OUT, Refusal.TARGET_LOGGED_OUT, "logged out"),
    ],
)
def test_a_transfer_is_refused_unless_the_target_is_idle(
    state: AgentState, code: str, words: str
) -> None:
    d = desk(hotline(("1001",)), QueueConfig("billing", ("1002",)), wrap_up_seconds=300)
    d.signed_on("1001", "1002")
    talking(d, "1001", "x")
    if state is S.NOT_READY:
        d.acd.set_not_ready("1002", "开会", now=d.later(1))
    elif state is S.LOGGED_OUT:
        d.acd.logout("1002", now=d.later(1))
    else:
        d.join("y", "billing")
        if state is not S.RINGING:
            d.acd.offer_answered("y", now=d.later(1))
        if state is S.AFTER_CALL_WORK:
            d.acd.call_ended("y", now=d.later(1))
    assert d.state("1002") is state
    error = refused(code, d.acd.transfer_to_agent, "x", "1002", now=d.later(1))
    assert "agent 1002" in error.message and words in error.message
    # nothing changed: 1001 still talks x, which ends as usual
    assert (d.state("1001"), d.state("1002")) == (S.TALKING, state)
    assert rows(d.acd.call_ended("x", now=d.later(1)))[0][:2] == ("1001", "call_end")


def test_a_transfer_to_an_unknown_agent_is_refused() -> None:
    d = transfer_desk()
    error = refused(Refusal.UNKNOWN_AGENT, d.acd.transfer_to_agent, "x", "1009", now=d.now)
    assert "1009" in error.message
    assert d.state("1001") is S.TALKING
    assert d.acd.agent("1009", now=d.now) is None


def test_a_transfer_to_the_agent_that_has_the_call_is_refused() -> None:
    d = transfer_desk()
    error = refused(Refusal.TARGET_BUSY, d.acd.transfer_to_agent, "x", "1001", now=d.now)
    assert "already has call x" in error.message
    d.acd.transfer_to_agent("x", "1002", now=d.later(1))
    error = refused(Refusal.TARGET_BUSY, d.acd.transfer_to_agent, "x", "1002", now=d.now)
    assert "already has call x" in error.message


def test_a_call_cannot_be_transferred_to_two_agents_at_once() -> None:
    d = transfer_desk()
    d.acd.transfer_to_agent("x", "1002", now=d.later(1))
    error = refused(Refusal.DUPLICATE_CALL, d.acd.transfer_to_agent, "x", "1003", now=d.later(1))
    assert "1002" in error.message
    assert d.state("1003") is S.IDLE
    refused(Refusal.DUPLICATE_CALL, d.acd.caller_joined, "x", "billing", now=d.now)
    refused(Refusal.DUPLICATE_CALL, d.acd.agent_call_started, "1003", "x", now=d.now)


def test_a_queued_call_cannot_be_transferred() -> None:
    d = desk(hotline(("1001",)), QueueConfig("billing", ("1002",)))
    d.signed_on("1001", "1002")
    d.join("ringing")  # rings at 1001
    d.join("waiting")
    for call_id in ("ringing", "waiting"):
        error = refused(Refusal.NOT_ANSWERED, d.acd.transfer_to_agent, call_id, "1002", now=d.now)
        assert "queued" in error.message
    assert (d.state("1001"), d.state("1002")) == (S.RINGING, S.IDLE)


def test_a_call_the_acd_does_not_know_only_reserves_the_target() -> None:
    # e.g. the consult leg of an attended transfer: the consulting agent keeps talking
    d = transfer_desk(wrap_up_seconds=300)
    outcome = d.acd.transfer_to_agent("consult-1", "1002", now=d.later(3))
    assert rows(outcome) == [("1002", "transfer_offer", S.IDLE, S.RINGING, "consult-1", "")]
    assert d.state("1001") is S.TALKING
    d.acd.transfer_answered("consult-1", now=d.later(2))
    d.acd.call_ended("x", now=d.later(30))  # the consulting agent leaves
    d.acd.call_ended("consult-1", now=d.later(60))
    assert (d.state("1001"), d.state("1002")) == (S.AFTER_CALL_WORK, S.AFTER_CALL_WORK)
    assert view(d, "1002").counters.talk_seconds == 90.0


def test_a_transferred_call_can_be_transferred_again() -> None:
    d = transfer_desk(wrap_up_seconds=0)
    d.acd.transfer_to_agent("x", "1002", now=d.later(10))
    d.acd.transfer_answered("x", now=d.later(1))
    outcome = d.acd.transfer_to_agent("x", "1003", now=d.later(20))
    assert rows(outcome) == [
        ("1002", "call_end", S.TALKING, S.AFTER_CALL_WORK, "x", "hotline"),
        ("1003", "transfer_offer", S.IDLE, S.RINGING, "x", "hotline"),
        ("1002", "wrap_up_timeout", S.AFTER_CALL_WORK, S.IDLE, "x", "hotline"),
    ]
    assert view(d, "1002").counters.talk_seconds == 20.0
    d.acd.transfer_answered("x", now=d.later(1))
    d.acd.call_ended("x", now=d.later(5))
    assert [view(d, a).counters.answered for a in ("1001", "1002", "1003")] == [1, 1, 1]


def test_transfer_reports_need_a_call_ringing_after_a_transfer() -> None:
    d = transfer_desk()
    d.join("waiting")  # 1001 talks: it waits in the hotline
    for request in (d.acd.transfer_answered, d.acd.transfer_failed):
        refused(Refusal.UNKNOWN_CALL, request, "nowhere", now=d.now)
        refused(Refusal.NOT_OFFERED, request, "waiting", now=d.now)
        refused(Refusal.NOT_OFFERED, request, "x", now=d.now)  # it is being talked
    d.acd.transfer_to_agent("x", "1002", now=d.later(1))
    d.acd.transfer_answered("x", now=d.later(1))
    refused(Refusal.NOT_OFFERED, d.acd.transfer_answered, "x", now=d.now)
    refused(Refusal.NOT_OFFERED, d.acd.transfer_failed, "x", now=d.now)
    assert d.state("1002") is S.TALKING


def test_queue_offer_reports_point_to_the_transfer_reports() -> None:
    d = transfer_desk()
    d.acd.transfer_to_agent("x", "1002", now=d.later(1))
    error = refused(Refusal.UNKNOWN_CALL, d.acd.offer_answered, "x", now=d.now)
    assert "transfer_answered" in error.message
    refused(Refusal.UNKNOWN_CALL, d.acd.offer_failed, "x", OfferFailure.DECLINED, now=d.now)
    assert d.state("1002") is S.RINGING


def test_a_ringing_transfer_target_cannot_leave() -> None:
    d = transfer_desk()
    d.acd.transfer_to_agent("x", "1002", now=d.later(1))
    refused(Refusal.TRANSITION_NOT_ALLOWED, d.acd.logout, "1002", now=d.now)
    refused(Refusal.TRANSITION_NOT_ALLOWED, d.acd.sign_off, "1002", now=d.now)
    refused(Refusal.AGENT_BUSY, d.acd.agent_call_started, "1002", "out", now=d.now)
    assert d.acd.agent_transitions("1002") == []


# --- the agents' own calls ---------------------------------------------------------------------


def own_call_desk(before: AgentState, **config: object) -> Desk:
    """1001 in `before` (idle, not ready 开会, or after-call work for call a)."""
    d = desk(hotline(("1001", "1002")), **config)
    d.signed_on("1001")
    if before is S.NOT_READY:
        d.acd.set_not_ready("1001", "开会", now=d.later(1))
    elif before is S.AFTER_CALL_WORK:
        talking(d, "1001", "a")
        d.acd.call_ended("a", now=d.later(60))
    assert d.state("1001") is before
    return d


@pytest.mark.parametrize("before", [S.IDLE, S.NOT_READY, S.AFTER_CALL_WORK])
def test_an_agent_dials_out_from_a_state_off_a_call(before: AgentState) -> None:
    d = own_call_desk(before, wrap_up_seconds=300)
    outcome = d.acd.agent_call_started("1001", "out-1", now=d.later(5))
    assert rows(outcome) == [("1001", "outbound", before, S.TALKING, "out-1", "")]
    assert outcome.decisions == []
    [event] = [e for e in outcome.events if isinstance(e, AgentStateChanged)]
    assert event == outcome.changes[0].to_event() and event.call_id == "out-1"
    assert event_from_dict(event.to_dict()) == event
    agent = view(d, "1001")
    assert (agent.state, agent.reason, agent.call_id, agent.queue) == (S.TALKING, "", "out-1", "")
    assert agent.wrap_up_until is None
    assert d.acd.agent_transitions("1001") == []


def test_an_agent_on_its_own_call_gets_no_queue_callers() -> None:
    d = own_call_desk(S.IDLE)
    d.acd.agent_call_started("1001", "out-1", now=d.later(1))
    assert offers(d.join("a")) == []
    d.signed_on("1002")
    assert d.state("1002") is S.RINGING


@pytest.mark.parametrize("state", [S.RINGING, S.TALKING])
def test_dialling_out_is_refused_while_a_call_rings_or_is_talked(state: AgentState) -> None:
    d = desk(hotline(("1001",)))
    d.signed_on("1001")
    d.join("a")
    if state is S.TALKING:
        d.acd.offer_answered("a", now=d.later(1))
    error = refused(Refusal.AGENT_BUSY, d.acd.agent_call_started, "1001", "out-1", now=d.later(1))
    assert "agent 1001 is busy" in error.message
    assert (d.state("1001"), view(d, "1001").call_id) == (state, "a")


def test_dialling_out_is_refused_when_logged_out() -> None:
    d = desk()
    for agent_id in ("1001", "1002"):  # never logged in; logged in and out
        if agent_id == "1002":
            d.acd.login("1002", "8002", now=d.later(1))
            d.acd.logout("1002", now=d.later(1))
        refused(
            Refusal.TRANSITION_NOT_ALLOWED,
            d.acd.agent_call_started,
            agent_id,
            "out-1",
            now=d.later(1),
        )
        assert d.state(agent_id) is S.LOGGED_OUT


def test_dialling_out_with_a_call_id_the_acd_has_is_refused() -> None:
    d = desk(hotline(("1001", "1002")))
    d.signed_on("1001", "1002")
    d.join("a")  # rings at 1001
    d.join("b")  # rings at 1002
    d.acd.offer_answered("b", now=d.later(1))
    d.acd.login("1003", "8003", now=d.later(1))
    for call_id in ("a", "b"):
        refused(Refusal.DUPLICATE_CALL, d.acd.agent_call_started, "1003", call_id, now=d.later(1))
    assert (d.state("1003"), d.reason("1003")) == (S.NOT_READY, SIGNED_OFF)


@pytest.mark.parametrize("before", [S.IDLE, S.NOT_READY, S.AFTER_CALL_WORK])
def test_an_own_call_that_ends_gives_after_call_work(before: AgentState) -> None:
    d = own_call_desk(before, wrap_up_seconds=25)
    answered_before = view(d, "1001").counters.answered
    d.acd.agent_call_started("1001", "out-1", now=d.later(1))
    outcome = d.acd.call_ended("out-1", now=d.later(42))
    assert rows(outcome) == [("1001", "call_end", S.TALKING, S.AFTER_CALL_WORK, "out-1", "")]
    agent = view(d, "1001")
    assert agent.wrap_up_until == d.now + (at(25) - at(0))
    assert agent.counters.answered == answered_before  # no offer was answered
    assert agent.counters.talk_seconds == (60.0 if before is S.AFTER_CALL_WORK else 0.0) + 42.0
    wrapped = d.acd.tick(d.later(25))
    assert rows(wrapped) == [
        ("1001", "wrap_up_timeout", S.AFTER_CALL_WORK, S.IDLE, "out-1", ""),
    ]
    refused(Refusal.UNKNOWN_CALL, d.acd.agent_call_failed, "out-1", now=d.now)


def test_an_own_call_teaches_the_queue_no_handle_time() -> None:
    d = own_call_desk(S.IDLE, wrap_up_seconds=0, default_handle_seconds=100)
    d.acd.agent_call_started("1001", "out-1", now=d.later(1))
    d.acd.call_ended("out-1", now=d.later(900))
    queue = d.acd.queue("hotline", now=d.now)
    assert queue is not None and queue.expected_wait == 100.0


def test_an_own_call_started_in_after_call_work_ends_the_wrap_up_of_the_last_call() -> None:
    d = own_call_desk(S.AFTER_CALL_WORK, wrap_up_seconds=300, default_handle_seconds=500)
    d.acd.agent_call_started("1001", "out-1", now=d.later(15))
    assert d.acd.next_deadline() is None  # a's wrap-up limit no longer runs
    queue = d.acd.queue("hotline", now=d.now)
    # a: 60 s talk + 15 s wrap-up, learnt once; one member signed on (talking)
    assert queue is not None and queue.expected_wait == 75.0


def test_a_failed_own_call_from_idle_keeps_the_old_place_in_the_idle_order() -> None:
    d = own_call_desk(S.IDLE)
    idle_since = view(d, "1001").idle_since
    d.acd.agent_call_started("1001", "out-1", now=d.later(10))
    d.signed_on("1002")  # idle while 1001 dials
    outcome = d.acd.agent_call_failed("out-1", now=d.later(20))
    assert rows(outcome) == [("1001", "outbound_failed", S.TALKING, S.IDLE, "out-1", "")]
    agent = view(d, "1001")
    assert (agent.state, agent.idle_since, agent.call_id) == (S.IDLE, idle_since, "")
    assert (agent.counters.answered, agent.counters.missed, agent.counters.talk_seconds) == (
        0,
        0,
        0.0,
    )
    assert offers(d.join("a")) == [("a", "1001")]  # idle longer than 1002
    refused(Refusal.UNKNOWN_CALL, d.acd.call_ended, "out-1", now=d.now)


@pytest.mark.parametrize("reason", ["开会", SIGNED_OFF, MISSED])
def test_a_failed_own_call_goes_back_to_not_ready_with_the_old_reason(reason: str) -> None:
    d = desk(hotline(("1001",)))
    d.signed_on("1001")
    if reason == MISSED:
        d.join("a")
        d.acd.offer_failed("a", OfferFailure.NO_ANSWER, now=d.later(1))
    elif reason == SIGNED_OFF:
        d.acd.sign_off("1001", now=d.later(1))
    else:
        d.acd.set_not_ready("1001", reason, now=d.later(1))
    d.acd.agent_call_started("1001", "out-1", now=d.later(1))
    outcome = d.acd.agent_call_failed("out-1", now=d.later(9))
    [change] = outcome.changes
    assert (change.transition, change.new_state, change.reason, change.call_id) == (
        "outbound_failed_not_ready",
        S.NOT_READY,
        reason,
        "out-1",
    )
    assert (d.state("1001"), d.reason("1001"), view(d, "1001").call_id) == (
        S.NOT_READY,
        reason,
        "",
    )
    assert offers(outcome) == []


def test_a_failed_own_call_from_after_call_work_goes_idle_afresh() -> None:
    d = own_call_desk(S.AFTER_CALL_WORK, wrap_up_seconds=300)
    d.signed_on("1002")
    d.acd.agent_call_started("1001", "out-1", now=d.later(5))
    d.join("a")  # 1002
    outcome = d.acd.agent_call_failed("out-1", now=d.later(7))
    assert rows(outcome) == [("1001", "outbound_failed", S.TALKING, S.IDLE, "out-1", "")]
    agent = view(d, "1001")
    assert (agent.state, agent.idle_since, agent.wrap_up_until) == (S.IDLE, d.now, None)
    assert d.acd.next_deadline() == at(d.seconds - 7 + 15)  # only a's ring at 1002


def test_a_caller_waiting_is_offered_when_an_own_call_fails() -> None:
    d = own_call_desk(S.IDLE)
    d.acd.agent_call_started("1001", "out-1", now=d.later(1))
    d.join("a")
    outcome = d.acd.agent_call_failed("out-1", now=d.later(3))
    assert [c.transition for c in outcome.changes] == ["outbound_failed", "offer"]
    assert offers(outcome) == [("a", "1001")]


def test_an_own_call_failure_needs_an_own_call() -> None:
    d = desk(hotline(("1001",)))
    d.signed_on("1001")
    d.join("a")
    refused(Refusal.UNKNOWN_CALL, d.acd.agent_call_failed, "a", now=d.now)  # queued
    d.acd.offer_answered("a", now=d.later(1))
    error = refused(Refusal.UNKNOWN_CALL, d.acd.agent_call_failed, "a", now=d.now)
    assert "call_ended" in error.message
    refused(Refusal.UNKNOWN_CALL, d.acd.agent_call_failed, "nowhere", now=d.now)
    assert d.state("1001") is S.TALKING


def test_an_own_call_transferred_to_another_agent() -> None:
    d = desk(hotline(("1001", "1002")), wrap_up_seconds=30)
    d.signed_on("1001", "1002")
    d.acd.agent_call_started("1001", "out-1", now=d.later(1))
    outcome = d.acd.transfer_to_agent("out-1", "1002", now=d.later(50))
    assert rows(outcome) == [
        ("1001", "call_end", S.TALKING, S.AFTER_CALL_WORK, "out-1", ""),
        ("1002", "transfer_offer", S.IDLE, S.RINGING, "out-1", ""),
    ]
    assert view(d, "1001").counters.talk_seconds == 50.0
    refused(Refusal.UNKNOWN_CALL, d.acd.agent_call_failed, "out-1", now=d.now)
    d.acd.transfer_answered("out-1", now=d.later(2))
    d.acd.call_ended("out-1", now=d.later(10))
    assert d.state("1002") is S.AFTER_CALL_WORK


def test_every_call_control_change_carries_its_call_on_the_record() -> None:
    d = desk(hotline(("1001", "1002")), wrap_up_seconds=0)
    d.signed_on("1001", "1002")
    outcomes = [
        d.acd.agent_call_started("1001", "out-1", now=d.later(1)),
        d.acd.agent_call_failed("out-1", now=d.later(1)),
        d.acd.agent_call_started("1001", "out-2", now=d.later(1)),
        d.acd.transfer_to_agent("out-2", "1002", now=d.later(1)),
        d.acd.transfer_failed("out-2", now=d.later(1)),
    ]
    changes = [c for o in outcomes for c in o.changes]
    assert [(c.agent_id, c.transition, c.call_id) for c in changes] == [
        ("1001", "outbound", "out-1"),
        ("1001", "outbound_failed", "out-1"),
        ("1001", "outbound", "out-2"),
        ("1001", "call_end", "out-2"),
        ("1002", "transfer_offer", "out-2"),
        ("1001", "wrap_up_timeout", "out-2"),
        ("1002", "ring_timeout", "out-2"),
    ]
    events = [e for o in outcomes for e in o.events if isinstance(e, AgentStateChanged)]
    assert [e.call_id for e in events] == [c.call_id for c in changes]
    assert {c.extension for c in changes} == {AGENTS["1001"], AGENTS["1002"]}
