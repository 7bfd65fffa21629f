"""The agent transition table: every allowed and every refused transition."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from aqualine.telephony.acd import (
    AGENT_TRANSITIONS,
    MISSED,
    SIGNED_OFF,
    UNREACHABLE,
    AcdError,
    AgentState,
    Outcome,
    Refusal,
    TransitionRefused,
    Who,
    available_transitions,
    check_transition,
)
from aqualine.telephony.acd.tests.support import SUPERVISOR, Desk, bring, desk, hotline

S = AgentState
FREE = {S.IDLE, S.NOT_READY, S.AFTER_CALL_WORK}

# Written out by hand from domain.md and the brief, not derived from the table under test:
# name -> (states it starts from, state it leads to, not-ready reason it sets).
EXPECTED: dict[str, tuple[set[AgentState], AgentState, str | None]] = {
    "login": ({S.LOGGED_OUT}, S.NOT_READY, SIGNED_OFF),
    "logout": (FREE, S.LOGGED_OUT, ""),
    "force_logout": (FREE, S.LOGGED_OUT, ""),
    "sign_on": ({S.NOT_READY}, S.IDLE, ""),
    "sign_off": (FREE, S.NOT_READY, SIGNED_OFF),
    "force_sign_off": (FREE, S.NOT_READY, SIGNED_OFF),
    "not_ready": (FREE, S.NOT_READY, None),
    "ready": ({S.NOT_READY}, S.IDLE, ""),
    "force_ready": ({S.NOT_READY, S.AFTER_CALL_WORK}, S.IDLE, ""),
    "offer": ({S.IDLE}, S.RINGING, ""),
    "answer": ({S.RINGING}, S.TALKING, ""),
    "ring_timeout": ({S.RINGING}, S.NOT_READY, MISSED),
    "decline": ({S.RINGING}, S.NOT_READY, MISSED),
    "unreachable": ({S.RINGING}, S.NOT_READY, UNREACHABLE),
    "withdraw": ({S.RINGING}, S.IDLE, ""),
    "call_end": ({S.TALKING}, S.AFTER_CALL_WORK, ""),
    "finish_wrap_up": ({S.AFTER_CALL_WORK}, S.IDLE, ""),
    "wrap_up_timeout": ({S.AFTER_CALL_WORK}, S.IDLE, ""),
    "transfer_offer": ({S.IDLE}, S.RINGING, ""),
    "outbound": (FREE, S.TALKING, ""),
    "outbound_failed": ({S.TALKING}, S.IDLE, ""),
    "outbound_failed_not_ready": ({S.TALKING}, S.NOT_READY, None),
}

ALL_PAIRS = [(name, state) for name in EXPECTED for state in S]


def test_the_table_has_exactly_the_expected_rows() -> None:
    assert set(AGENT_TRANSITIONS) == set(EXPECTED)
    for name, (source, target, reason) in EXPECTED.items():
        row = AGENT_TRANSITIONS[name]
        assert (set(row.source), row.target, row.reason) == (source, target, reason), name


@pytest.mark.parametrize(("name", "state"), ALL_PAIRS)
def test_check_transition_allows_exactly_the_sources(name: str, state: AgentState) -> None:
    if state in EXPECTED[name][0]:
        assert check_transition("1001", name, state).target is EXPECTED[name][1]
    else:
        with pytest.raises(TransitionRefused) as refused:
            check_transition("1001", name, state)
        assert refused.value.code == Refusal.TRANSITION_NOT_ALLOWED
        assert name in refused.value.message and state.value in refused.value.message


# What an agent or a supervisor does, through the ACD's public requests.
COMMANDS: dict[str, Callable[[Desk], Outcome]] = {
    "login": lambda d: d.acd.login("1001", "8001", now=d.later(1)),
    "logout": lambda d: d.acd.logout("1001", now=d.later(1)),
    "force_logout": lambda d: d.acd.force_logout("1001", by=SUPERVISOR, now=d.later(1)),
    "sign_on": lambda d: d.acd.sign_on("1001", now=d.later(1)),
    "sign_off": lambda d: d.acd.sign_off("1001", now=d.later(1)),
    "force_sign_off": lambda d: d.acd.force_sign_off("1001", by=SUPERVISOR, now=d.later(1)),
    "not_ready": lambda d: d.acd.set_not_ready("1001", "培训", now=d.later(1)),
    "ready": lambda d: d.acd.set_ready("1001", now=d.later(1)),
    "force_ready": lambda d: d.acd.force_ready("1001", by=SUPERVISOR, now=d.later(1)),
    "finish_wrap_up": lambda d: d.acd.finish_wrap_up("1001", now=d.later(1)),
    "outbound": lambda d: d.acd.agent_call_started("1001", "out-1", now=d.later(1)),
}


def test_every_agent_and_supervisor_transition_has_a_request() -> None:
    by_people = {n for n, t in AGENT_TRANSITIONS.items() if t.who is not Who.SYSTEM}
    assert by_people == set(COMMANDS)


@pytest.mark.parametrize(("name", "state"), [(n, s) for n in COMMANDS for s in S])
def test_requests_change_the_state_or_are_refused(name: str, state: AgentState) -> None:
    d = desk(hotline(("1001",)))
    bring(d, "1001", state)
    assert d.state("1001") is state
    source, target, reason = EXPECTED[name]
    if state in source:
        outcome = COMMANDS[name](d)
        assert d.state("1001") is target
        assert d.reason("1001") == ("培训" if reason is None else reason)
        if name == "outbound":
            assert d.acd.agent("1001", now=d.now).call_id == "out-1"  # type: ignore[union-attr]
        # sign_off when signed off changes nothing; everything else leaves one record
        if not (state is S.NOT_READY and reason == SIGNED_OFF):
            assert [(c.old_state, c.new_state, c.transition) for c in outcome.changes] == [
                (state, target, name)
            ]
    else:
        with pytest.raises(AcdError) as refused:
            COMMANDS[name](d)
        expected = {
            "login": Refusal.AGENT_LOGGED_IN,
            "outbound": Refusal.AGENT_BUSY if state in (S.RINGING, S.TALKING) else None,
        }.get(name) or Refusal.TRANSITION_NOT_ALLOWED
        assert refused.value.code == expected
        assert d.state("1001") is state


@pytest.mark.parametrize("state", [s for s in S if s is not S.RINGING])
def test_answering_is_refused_unless_the_call_rings_at_an_agent(state: AgentState) -> None:
    d = desk(hotline(("1001",)))
    bring(d, "1001", state)
    with pytest.raises(AcdError) as refused:
        d.acd.offer_answered("call-1", now=d.later(1))
    assert refused.value.code in {Refusal.UNKNOWN_CALL, Refusal.NOT_OFFERED}


def test_a_call_still_queued_cannot_end_as_answered_nor_be_answered() -> None:
    d = desk(hotline(("1001",)))
    d.join("call-1")
    with pytest.raises(AcdError) as refused:
        d.acd.call_ended("call-1", now=d.later(1))
    assert refused.value.code == Refusal.NOT_ANSWERED
    with pytest.raises(AcdError) as refused:
        d.acd.offer_answered("call-1", now=d.later(1))
    assert refused.value.code == Refusal.NOT_OFFERED


def test_an_answered_call_is_not_abandoned_but_ended() -> None:
    d = desk(hotline(("1001",)))
    bring(d, "1001", S.TALKING)
    with pytest.raises(AcdError) as refused:
        d.acd.caller_left("call-1", now=d.later(1))
    assert refused.value.code == Refusal.UNKNOWN_CALL
    assert "call_ended" in refused.value.message
    assert d.state("1001") is S.TALKING


def test_not_ready_needs_a_configured_reason() -> None:
    d = desk()
    d.signed_on("1001")
    for reason in ("午睡", SIGNED_OFF, MISSED, ""):
        with pytest.raises(AcdError) as refused:
            d.acd.set_not_ready("1001", reason, now=d.later(1))
        assert refused.value.code == Refusal.UNKNOWN_REASON
    assert d.state("1001") is S.IDLE


def test_busy_reasons_cannot_reuse_system_reasons() -> None:
    from aqualine.telephony.acd.tests.support import config

    with pytest.raises(ValueError, match="system reasons"):
        config(busy_reasons=("休息", MISSED))


def test_the_agent_bar_shows_the_buttons_of_the_state() -> None:
    assert available_transitions(S.LOGGED_OUT) == ["login"]
    assert available_transitions(S.IDLE) == ["logout", "sign_off", "not_ready", "outbound"]
    assert available_transitions(S.NOT_READY) == [
        "logout",
        "sign_on",
        "sign_off",
        "not_ready",
        "ready",
        "outbound",
    ]
    assert available_transitions(S.AFTER_CALL_WORK) == [
        "logout",
        "sign_off",
        "not_ready",
        "finish_wrap_up",
        "outbound",
    ]
    assert available_transitions(S.RINGING) == []
    assert available_transitions(S.TALKING) == []
    assert available_transitions(S.AFTER_CALL_WORK, (Who.SUPERVISOR,)) == [
        "force_logout",
        "force_sign_off",
        "force_ready",
    ]
    d = desk()
    d.signed_on("1002")
    assert d.acd.agent_transitions("1002") == ["logout", "sign_off", "not_ready", "outbound"]
    assert d.acd.agent_transitions("1003") == ["login"]
