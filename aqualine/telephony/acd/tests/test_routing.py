"""Queues and routing: longest idle, after-call work, missed rings, overflow, abandon, positions."""

from __future__ import annotations

import pytest

from aqualine.telephony.acd import (
    MISSED,
    UNREACHABLE,
    AcdError,
    AgentState,
    Announce,
    CancelOffer,
    Offer,
    OfferFailure,
    Overflow,
    OverflowAction,
    OverflowKind,
    QueueConfig,
    Refusal,
)
from aqualine.telephony.acd.tests.support import VOICEMAIL, Desk, at, desk, hotline, offers
from aqualine.telephony.api.events import (
    QueueCallerJoined,
    QueueCallerLeft,
    QueueCallerOffered,
    QueueCallerPosition,
)

S = AgentState


def answer_and_end(d: Desk, call_id: str, *, talk: float = 60.0) -> None:
    d.acd.offer_answered(call_id, now=d.later(1))
    d.acd.call_ended(call_id, now=d.later(talk))


# --- longest idle ------------------------------------------------------------------------------


def test_it_offers_the_agent_idle_longest() -> None:
    d = desk()
    d.signed_on("1003", "1001", "1004", "1002")
    assert offers(d.join("a")) == [("a", "1003")]
    assert offers(d.join("b")) == [("b", "1001")]
    assert offers(d.join("c")) == [("c", "1004")]
    assert offers(d.join("d")) == [("d", "1002")]
    assert offers(d.join("e")) == []


def test_idle_since_is_the_end_of_wrap_up_not_the_end_of_the_call() -> None:
    d = desk(hotline(("1001", "1002")), wrap_up_seconds=30)
    d.signed_on("1001", "1002")
    d.join("a")  # 1001
    d.join("b")  # 1002
    d.acd.offer_answered("a", now=d.later(1))
    d.acd.offer_answered("b", now=d.later(1))
    d.acd.call_ended("a", now=d.later(10))  # 1001 wraps up until +30
    d.acd.call_ended("b", now=d.later(10))  # 1002 wraps up until +30, 10 s later
    d.acd.finish_wrap_up("1002", now=d.later(5))  # 1002 idle first
    d.acd.tick(d.later(100))  # 1001's wrap-up timed out after 1002 finished
    assert offers(d.join("c")) == [("c", "1002")]


def test_not_ready_time_does_not_count_as_idle() -> None:
    d = desk(hotline(("1001", "1002")))
    d.signed_on("1001", "1002")
    d.acd.set_not_ready("1001", "休息", now=d.later(1))
    d.acd.set_ready("1001", now=d.later(600))
    assert offers(d.join("a")) == [("a", "1002")]


def test_an_agent_in_two_queues_gets_the_caller_waiting_longest_across_them() -> None:
    d = desk(hotline(("1001", "1002")), QueueConfig("billing", ("1002", "1003")))
    d.signed_on("1001", "1002", "1003")
    for call_id, queue in (("h1", "hotline"), ("h2", "hotline"), ("b1", "billing")):
        d.join(call_id, queue)  # h1 → 1001, h2 → 1002, b1 → 1003
    assert [d.state(a) for a in ("1001", "1002", "1003")] == [S.RINGING] * 3
    d.acd.offer_answered("h1", now=d.later(1))
    d.acd.offer_answered("b1", now=d.later(1))
    d.join("b2", "billing")
    d.join("h3", "hotline")
    d.join("b3", "billing")
    # waiting: b2 (billing), h3 (hotline), b3 (billing); 1002 serves both queues, hotline first
    answer_and_end(d, "h2", talk=10)
    assert offers(d.acd.finish_wrap_up("1002", now=d.later(1))) == [("b2", "1002")]


def test_one_caller_goes_to_one_agent_at_a_time() -> None:
    d = desk()
    d.signed_on("1001", "1002", "1003")
    outcome = d.join("a")
    assert offers(outcome) == [("a", "1001")]
    assert outcome.of_type(QueueCallerOffered)[0].agent_id == "1001"
    assert [d.state(a) for a in ("1001", "1002", "1003")] == [S.RINGING, S.IDLE, S.IDLE]


# --- after-call work ---------------------------------------------------------------------------


def test_after_call_work_blocks_routing_until_the_agent_finishes() -> None:
    d = desk(hotline(("1001",)), wrap_up_seconds=30)
    d.signed_on("1001")
    d.join("a")
    answer_and_end(d, "a")
    assert d.state("1001") is S.AFTER_CALL_WORK
    assert offers(d.join("b")) == []
    assert offers(d.acd.tick(d.later(20))) == []
    assert offers(d.acd.finish_wrap_up("1001", now=d.later(1))) == [("b", "1001")]


def test_after_call_work_ends_at_the_limit_even_when_ticked_late() -> None:
    d = desk(hotline(("1001",)), wrap_up_seconds=30)
    d.signed_on("1001")
    d.join("a")
    answer_and_end(d, "a")
    ended = d.seconds
    assert d.acd.next_deadline() == at(ended + 30)
    d.join("b", after=5)
    outcome = d.acd.tick(d.later(30))  # 5 s after the limit: late, but the records are exact
    [timeout, offer] = outcome.changes
    assert (timeout.transition, timeout.at, timeout.duration) == (
        "wrap_up_timeout",
        at(ended + 30),
        30.0,
    )
    assert (offer.transition, offer.at) == ("offer", at(ended + 30))
    assert offers(outcome) == [("b", "1001")]


def test_a_queue_overrides_the_wrap_up_limit() -> None:
    d = desk(hotline(("1001",)), QueueConfig("billing", ("1001",), wrap_up_seconds=5))
    d.signed_on("1001")
    d.join("a", "billing")
    answer_and_end(d, "a")
    assert d.acd.agent("1001", now=d.now).wrap_up_until == at(d.seconds + 5)  # type: ignore[union-attr]
    d.acd.tick(d.later(5))
    assert d.state("1001") is S.IDLE


def test_a_wrap_up_limit_of_zero_means_straight_back_to_idle() -> None:
    d = desk(hotline(("1001",)), wrap_up_seconds=0)
    d.signed_on("1001")
    d.join("a")
    d.join("b")
    d.acd.offer_answered("a", now=d.later(1))
    outcome = d.acd.call_ended("a", now=d.later(60))
    assert [c.transition for c in outcome.changes] == ["call_end", "wrap_up_timeout", "offer"]
    assert offers(outcome) == [("b", "1001")]


# --- missed rings -------------------------------------------------------------------------------


def test_a_missed_ring_sets_the_agent_not_ready_and_offers_the_next() -> None:
    d = desk(hotline(("1001", "1002")), ring_seconds=15)
    d.signed_on("1001", "1002")
    assert offers(d.join("a")) == [("a", "1001")]
    assert d.acd.next_deadline() == at(d.seconds + 15)
    assert offers(d.acd.tick(d.later(14))) == []
    outcome = d.acd.tick(d.later(1))
    assert outcome.of_type(CancelOffer) == [CancelOffer("a", "1001", "8001", "ring_timeout")]
    assert offers(outcome) == [("a", "1002")]
    assert (d.state("1001"), d.reason("1001")) == (S.NOT_READY, MISSED)
    counters = d.acd.agent("1001", now=d.now).counters  # type: ignore[union-attr]
    assert counters.missed == 1


def test_a_declined_or_unreachable_offer_moves_on_at_once() -> None:
    d = desk(hotline(("1001", "1002", "1003")))
    d.signed_on("1001", "1002", "1003")
    d.join("a")
    outcome = d.acd.offer_failed("a", OfferFailure.DECLINED, now=d.later(2))
    assert offers(outcome) == [("a", "1002")]
    assert outcome.of_type(CancelOffer) == []  # the switch knows: the phone said no
    outcome = d.acd.offer_failed("a", OfferFailure.UNREACHABLE, now=d.later(1))
    assert offers(outcome) == [("a", "1003")]
    assert [d.reason(a) for a in ("1001", "1002")] == [MISSED, UNREACHABLE]
    assert [c.transition for c in outcome.changes] == ["unreachable", "offer"]


def test_a_missed_caller_keeps_its_place_ahead_of_later_callers() -> None:
    d = desk(hotline(("1001", "1002")))
    d.signed_on("1001", "1002")
    d.join("a")  # 1001
    d.join("b")  # 1002
    d.join("c")  # waits
    d.acd.offer_failed("b", OfferFailure.NO_ANSWER, now=d.later(1))
    answer_and_end(d, "a")
    assert offers(d.acd.finish_wrap_up("1001", now=d.later(1))) == [("b", "1001")]


def test_a_missed_caller_with_nobody_idle_waits_again() -> None:
    d = desk(hotline(("1001",)))
    d.signed_on("1001")
    d.join("a")
    outcome = d.acd.offer_failed("a", OfferFailure.NO_ANSWER, now=d.later(2))
    assert offers(outcome) == []
    view = d.acd.queue("hotline", now=d.now)
    assert view is not None and [(c.call_id, c.agent_id) for c in view.callers] == [("a", "")]


def test_an_answer_after_the_ring_timed_out_is_refused() -> None:
    d = desk(hotline(("1001",)), ring_seconds=10)
    d.signed_on("1001")
    d.join("a")
    with pytest.raises(AcdError) as refused:
        d.acd.offer_answered("a", now=d.later(11))
    assert refused.value.code == Refusal.NOT_OFFERED
    # what the timer did before the refused answer is not lost
    outcome = d.acd.tick(d.now)
    assert outcome.of_type(CancelOffer) == [CancelOffer("a", "1001", "8001", "ring_timeout")]


# --- abandon ---------------------------------------------------------------------------------


def test_a_caller_abandons_while_waiting() -> None:
    d = desk(hotline(("1001",)))
    d.join("a")
    d.join("b")
    outcome = d.acd.caller_left("a", now=d.later(20))
    assert outcome.of_type(QueueCallerLeft) == [
        QueueCallerLeft(
            queue="hotline", call_id="a", reason="abandoned", waited=21.0, at=at(22).isoformat()
        )
    ]
    view = d.acd.queue("hotline", now=d.now)
    assert view is not None and [(c.call_id, c.position) for c in view.callers] == [("b", 1)]
    d.signed_on("1001")
    assert d.state("1001") is S.RINGING
    with pytest.raises(AcdError) as refused:
        d.acd.caller_left("a", now=d.later(1))
    assert refused.value.code == Refusal.UNKNOWN_CALL


def test_a_caller_abandons_while_ringing_and_the_agent_keeps_its_place() -> None:
    d = desk(hotline(("1001", "1002")))
    d.signed_on("1001", "1002")
    d.join("a")  # rings 1001, idle longest
    outcome = d.acd.caller_left("a", now=d.later(3))
    assert outcome.of_type(CancelOffer) == [CancelOffer("a", "1001", "8001", "caller_left")]
    assert [c.transition for c in outcome.changes] == ["withdraw"]
    assert d.state("1001") is S.IDLE
    assert d.acd.agent("1001", now=d.now).idle_since == at(1)  # type: ignore[union-attr]
    assert offers(d.join("b")) == [("b", "1001")]
    counters = d.acd.agent("1001", now=d.now).counters  # type: ignore[union-attr]
    assert (counters.answered, counters.missed) == (0, 0)


def test_the_answered_caller_leaves_the_queue() -> None:
    d = desk(hotline(("1001",)))
    d.signed_on("1001")
    d.join("a", after=4)
    outcome = d.acd.offer_answered("a", now=d.later(6))
    [left] = outcome.of_type(QueueCallerLeft)
    assert (left.reason, left.waited, left.agent_id) == ("answered", 6.0, "1001")
    assert d.acd.queue("hotline", now=d.now).callers == ()  # type: ignore[union-attr]


# --- maximum wait --------------------------------------------------------------------------


def test_a_caller_overflows_at_the_maximum_wait() -> None:
    d = desk(hotline(("1001",), max_wait_seconds=120, overflow=VOICEMAIL))
    joined = d.join("a")
    assert joined.of_type(QueueCallerJoined)[0].position == 1
    assert d.acd.next_deadline() == at(d.seconds + 120)
    assert d.acd.tick(d.later(119)).of_type(Overflow) == []
    outcome = d.acd.tick(d.later(5))
    assert outcome.of_type(Overflow) == [Overflow("a", "hotline", VOICEMAIL, 120.0)]
    [left] = outcome.of_type(QueueCallerLeft)
    assert (left.reason, left.at) == ("overflow", at(d.seconds - 4).isoformat())
    assert d.acd.next_deadline() is None
    d.signed_on("1001")
    assert d.state("1001") is S.IDLE


def test_a_caller_being_rung_at_its_maximum_is_not_overflowed_until_the_ring_fails() -> None:
    transfer = OverflowAction(OverflowKind.TRANSFER, "96001")
    d = desk(hotline(("1001",), max_wait_seconds=10, overflow=transfer), ring_seconds=15)
    d.join("a")
    d.signed_on("1001")  # rings at +1
    assert d.acd.tick(d.later(12)).of_type(Overflow) == []
    outcome = d.acd.tick(d.later(10))
    assert [type(x).__name__ for x in outcome.decisions] == ["CancelOffer", "Overflow"]


def test_max_wait_needs_an_overflow_action() -> None:
    with pytest.raises(ValueError, match="overflow"):
        QueueConfig("hotline", ("1001",), max_wait_seconds=60)


# --- positions ---------------------------------------------------------------------------------


def test_waiting_callers_hear_their_position_and_expected_wait() -> None:
    d = desk(
        hotline(("1001", "1002"), announce_seconds=30),
        default_handle_seconds=120,
    )
    d.signed_on("1001", "1002")
    d.join("a")
    d.join("b")
    # nobody is idle: a2 waits behind a and b, which are being rung
    assert d.join("a2").of_type(Announce) == [Announce("a2", "hotline", 3, 180.0)]
    for call_id in ("a", "b"):
        d.acd.offer_answered(call_id, now=d.later(1))
    outcome = d.join("c")
    assert outcome.of_type(Announce) == [Announce("c", "hotline", 2, 120.0)]
    assert outcome.of_type(QueueCallerPosition)[0].position == 2
    outcome = d.acd.tick(d.later(29))
    assert [a.call_id for a in outcome.of_type(Announce)] == ["a2"]  # a2 joined 3 s earlier
    outcome = d.acd.tick(d.later(1))
    assert outcome.of_type(Announce) == [Announce("c", "hotline", 2, 120.0)]
    d.acd.caller_left("a2", now=d.later(1))
    assert d.acd.tick(d.later(29)).of_type(Announce) == [Announce("c", "hotline", 1, 60.0)]


def test_a_caller_offered_at_once_hears_no_position() -> None:
    d = desk(hotline(("1001",), announce_seconds=30))
    d.signed_on("1001")
    outcome = d.join("a")
    assert outcome.of_type(Announce) == []
    assert d.acd.next_deadline() == at(d.seconds + 15)  # only the ring timeout


def test_the_expected_wait_learns_the_handle_time_and_is_unknown_without_staff() -> None:
    d = desk(hotline(("1001",), announce_seconds=60), wrap_up_seconds=20)
    assert d.join("x").of_type(Announce) == [Announce("x", "hotline", 1, None)]
    d.acd.caller_left("x", now=d.later(1))
    d.signed_on("1001")
    d.join("a")
    d.acd.offer_answered("a", now=d.later(1))
    d.acd.call_ended("a", now=d.later(70))
    d.acd.tick(d.later(20))  # handle time: 70 talk + 20 wrap-up
    d.acd.set_not_ready("1001", "培训", now=d.later(1))
    view = d.acd.queue("hotline", now=d.now)
    assert view is not None and view.expected_wait is None
    d.acd.set_ready("1001", now=d.later(1))
    d.acd.sign_off("1001", now=d.later(0))
    d.acd.sign_on("1001", now=d.later(0))
    d.acd.set_not_ready("1001", "开会", now=d.later(1))
    d.acd.set_ready("1001", now=d.later(1))
    d.join("b")  # 1001 rings
    view = d.acd.queue("hotline", now=d.now)
    assert view is not None and view.expected_wait == 180.0  # position 2 × 90 s ÷ 1 agent


def test_the_queue_view_for_the_wallboard() -> None:
    d = desk(hotline(("1001", "1002")))
    d.signed_on("1001")
    d.join("a", after=0)
    d.join("b", after=5)
    d.join("c", after=3)
    view = d.acd.queue("hotline", now=d.later(2))
    assert view is not None
    assert [(c.call_id, c.position, c.waited, c.agent_id) for c in view.callers] == [
        ("a", 1, 10.0, "1001"),
        ("b", 2, 5.0, ""),
        ("c", 3, 2.0, ""),
    ]
    assert (view.staffed, view.idle, view.longest_wait) == (1, 0, 10.0)


# --- configuration and errors --------------------------------------------------------------


def test_unknown_queues_and_duplicate_calls_are_refused() -> None:
    d = desk()
    with pytest.raises(AcdError) as refused:
        d.join("a", "nowhere")
    assert refused.value.code == Refusal.UNKNOWN_QUEUE
    d.join("a")
    with pytest.raises(AcdError) as refused:
        d.join("a")
    assert refused.value.code == Refusal.DUPLICATE_CALL


def test_a_new_member_takes_waiting_callers_and_busy_queues_stay() -> None:
    d = desk(hotline(("1001",)))
    d.signed_on("1002")
    d.join("a")
    outcome = d.acd.set_queue(hotline(("1001", "1002")), now=d.later(1))
    assert offers(outcome) == [("a", "1002")]
    with pytest.raises(AcdError) as refused:
        d.acd.remove_queue("hotline", now=d.later(1))
    assert refused.value.code == Refusal.QUEUE_NOT_EMPTY
    d.acd.offer_answered("a", now=d.later(1))
    d.acd.remove_queue("hotline", now=d.later(1))
    assert d.acd.queues(now=d.now) == []


def test_time_never_runs_backwards() -> None:
    d = desk(hotline(("1001",)))
    d.signed_on("1001")
    outcome = d.acd.sign_off("1001", now=at(0))  # a clock that stepped back
    [change] = outcome.changes
    assert (change.at, change.duration) == (at(1), 0.0)
    with pytest.raises(ValueError, match="aware"):
        d.acd.tick(at(5).replace(tzinfo=None))


def test_offers_carry_what_the_switch_needs() -> None:
    d = desk(hotline(("1002",), ring_seconds=20))
    d.signed_on("1002")
    assert d.join("a").of_type(Offer) == [Offer("a", "hotline", "1002", "8002", 20)]


def test_every_acd_event_survives_the_json_the_websocket_sends() -> None:
    import json

    from aqualine.telephony.api.events import event_from_dict

    d = desk(hotline(("1001",), announce_seconds=10, max_wait_seconds=30, overflow=VOICEMAIL))
    outcomes = [d.join("a"), d.join("b"), d.acd.login("1001", "8001", now=d.later(1))]
    outcomes.append(d.acd.sign_on("1001", now=d.later(1)))
    outcomes += [d.acd.offer_answered("a", now=d.later(1)), d.acd.tick(d.later(40))]
    events = [e for o in outcomes for e in o.events]
    assert {e.type for e in events} == {
        "agent.state_changed",
        "queue.caller_joined",
        "queue.caller_offered",
        "queue.caller_position",
        "queue.caller_left",
    }
    for event in events:
        assert event_from_dict(json.loads(json.dumps(event.to_dict()))) == event
