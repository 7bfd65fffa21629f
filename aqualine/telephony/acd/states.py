"""The agent state machine, declared once (requirements T3, T5, T6, T7).

Each row of :data:`AGENT_TRANSITIONS` names a transition, the states it starts from, the state
it leads to, who starts it and, for a transition into ``not_ready``, the reason it sets (``None``:
the agent picks one of the configured busy reasons). The ACD (:mod:`.engine`) carries every state
change out through :func:`check_transition`; the agent bar asks :func:`available_transitions`
which buttons to show.

Sign on / sign off (上号/下号) and not ready (离席):

- *login* (登录, agent ID + extension) puts the agent in ``not_ready`` with the system reason
  ``signed_off``: logged in, but not taking calls yet (T3: "then chooses to sign on").
- *sign_on* (上号) and *ready* (复席) both lead from ``not_ready`` to ``idle``, whatever the
  reason; the two names exist so that the history says which button was pressed.
- *sign_off* (下号) is ``not_ready`` with the reason ``signed_off``; *not_ready* (离席) is
  ``not_ready`` with a configured busy reason (休息, 开会, ...). A signed-off agent may pick a busy
  reason and the other way round; both keep the agent logged in and its extension held.
- *logout* (退出) leads to ``logged_out`` and frees the extension.

Nothing that an agent or a supervisor starts is allowed while a call rings or is being talked:
such a request is refused (``transition_not_allowed``), the agent finishes the call first.

Transfers and the agents' own calls (call control):

- *transfer_offer*: a call is transferred to this agent; it rings, reserved for that call (no
  queue caller is offered to it), until the switch reports the answer (*answer*), the failure
  (*ring_timeout*, *decline*, *unreachable*, as for a queue offer) or the caller's hang-up
  (*withdraw*).
- *outbound*: the agent's own call (click-to-dial), from any state off a call (while a call
  rings or is talked the ACD refuses it as ``agent_busy``); *call_end* when it ends. When it
  never connects the agent goes back where it was: *outbound_failed* to ``idle`` (from idle, in
  its old place in the idle order, or from after-call work), *outbound_failed_not_ready* to
  ``not_ready`` with the reason it had before the call.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class AgentState(enum.StrEnum):
    LOGGED_OUT = "logged_out"
    NOT_READY = "not_ready"  # signed off (下号) or away (离席) with a reason
    IDLE = "idle"  # signed on and free: gets calls
    RINGING = "ringing"  # offered a call, the phone rings
    TALKING = "talking"
    AFTER_CALL_WORK = "after_call_work"  # wrap-up (话后处理)


S = AgentState

# Not-ready reasons that the system sets; the configured busy reasons are data (domain.md).
SIGNED_OFF = "signed_off"  # 下号, also right after login
MISSED = "missed"  # 未接: the offered call was not answered in time, or was declined
UNREACHABLE = "unreachable"  # the agent's phone could not be rung
SYSTEM_REASONS = frozenset({SIGNED_OFF, MISSED, UNREACHABLE})

# States an agent is signed on in: counted as staffing a queue.
SIGNED_ON = frozenset({S.IDLE, S.RINGING, S.TALKING, S.AFTER_CALL_WORK})
LOGGED_IN = frozenset(S) - {S.LOGGED_OUT}


class Who(enum.StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    SYSTEM = "system"  # a consequence of a call or a timer


@dataclass(frozen=True)
class Transition:
    name: str
    source: frozenset[AgentState]
    target: AgentState
    who: Who
    # For a target of not_ready: the reason it sets; None: the request gives it (a configured
    # busy reason; for outbound_failed_not_ready the reason the agent had before its call).
    reason: str | None = ""
    note: str = ""


_FREE = frozenset({S.IDLE, S.NOT_READY, S.AFTER_CALL_WORK})  # not on a call

AGENT_TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition(
            "login",
            frozenset({S.LOGGED_OUT}),
            S.NOT_READY,
            Who.AGENT,
            SIGNED_OFF,
            note="agent ID + extension; one agent per extension, one extension per agent",
        ),
        Transition("logout", _FREE, S.LOGGED_OUT, Who.AGENT, note="frees the extension"),
        Transition("force_logout", _FREE, S.LOGGED_OUT, Who.SUPERVISOR),
        Transition("sign_on", frozenset({S.NOT_READY}), S.IDLE, Who.AGENT, note="上号"),
        Transition("sign_off", _FREE, S.NOT_READY, Who.AGENT, SIGNED_OFF, note="下号"),
        Transition("force_sign_off", _FREE, S.NOT_READY, Who.SUPERVISOR, SIGNED_OFF),
        Transition(
            "not_ready",
            _FREE,
            S.NOT_READY,
            Who.AGENT,
            None,
            note="离席 with a configured busy reason; from not_ready it changes the reason",
        ),
        Transition("ready", frozenset({S.NOT_READY}), S.IDLE, Who.AGENT, note="复席"),
        Transition(
            "force_ready", frozenset({S.NOT_READY, S.AFTER_CALL_WORK}), S.IDLE, Who.SUPERVISOR
        ),
        Transition(
            "offer",
            frozenset({S.IDLE}),
            S.RINGING,
            Who.SYSTEM,
            note="routing picked this agent for a waiting caller",
        ),
        Transition(
            "answer",
            frozenset({S.RINGING}),
            S.TALKING,
            Who.SYSTEM,
            note="the agent answered a queue offer or a transfer",
        ),
        Transition(
            "ring_timeout",
            frozenset({S.RINGING}),
            S.NOT_READY,
            Who.SYSTEM,
            MISSED,
            note="no answer within the ring timeout; a queue caller goes to the next agent",
        ),
        Transition(
            "decline",
            frozenset({S.RINGING}),
            S.NOT_READY,
            Who.SYSTEM,
            MISSED,
            note="the phone declined the call (busy, rejected)",
        ),
        Transition(
            "unreachable",
            frozenset({S.RINGING}),
            S.NOT_READY,
            Who.SYSTEM,
            UNREACHABLE,
            note="the phone could not be rung (not registered, no response)",
        ),
        Transition(
            "withdraw",
            frozenset({S.RINGING}),
            S.IDLE,
            Who.SYSTEM,
            note="the caller hung up while it rang; the agent keeps its place in the idle order",
        ),
        Transition(
            "transfer_offer",
            frozenset({S.IDLE}),
            S.RINGING,
            Who.SYSTEM,
            note="a call is transferred to this agent; the switch times the ring",
        ),
        Transition("call_end", frozenset({S.TALKING}), S.AFTER_CALL_WORK, Who.SYSTEM),
        Transition("finish_wrap_up", frozenset({S.AFTER_CALL_WORK}), S.IDLE, Who.AGENT),
        Transition(
            "wrap_up_timeout",
            frozenset({S.AFTER_CALL_WORK}),
            S.IDLE,
            Who.SYSTEM,
            note="the queue's wrap-up limit (or the default) ran out",
        ),
        Transition(
            "outbound",
            _FREE,
            S.TALKING,
            Who.AGENT,
            note="the agent's own call (click-to-dial); from after-call work it ends the wrap-up",
        ),
        Transition(
            "outbound_failed",
            frozenset({S.TALKING}),
            S.IDLE,
            Who.SYSTEM,
            note="the agent's own call never connected; it was idle (keeps its place in the idle "
            "order) or in after-call work",
        ),
        Transition(
            "outbound_failed_not_ready",
            frozenset({S.TALKING}),
            S.NOT_READY,
            Who.SYSTEM,
            None,
            note="the agent's own call never connected; back to not_ready with its old reason",
        ),
    )
}


class AcdError(Exception):
    """A request the ACD refuses; `code` says why (one of :class:`Refusal`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Refusal(enum.StrEnum):
    TRANSITION_NOT_ALLOWED = "transition_not_allowed"
    UNKNOWN_AGENT = "unknown_agent"
    AGENT_LOGGED_IN = "agent_logged_in"  # already logged in (on some extension)
    EXTENSION_IN_USE = "extension_in_use"  # another agent is logged in on it
    NO_EXTENSION = "no_extension"
    UNKNOWN_REASON = "unknown_reason"  # not a configured busy reason
    UNKNOWN_QUEUE = "unknown_queue"
    QUEUE_NOT_EMPTY = "queue_not_empty"
    UNKNOWN_CALL = "unknown_call"
    DUPLICATE_CALL = "duplicate_call"
    NOT_OFFERED = "not_offered"  # the call is not ringing at an agent (any more)
    NOT_ANSWERED = "not_answered"  # the call is still queued: it was never answered
    TARGET_BUSY = "target_busy"  # transfer target ringing, talking or in after-call work
    TARGET_NOT_READY = "target_not_ready"  # transfer target not ready (any reason)
    TARGET_LOGGED_OUT = "target_logged_out"  # transfer target logged out
    AGENT_BUSY = "agent_busy"  # an own call while ringing or talking


class TransitionRefused(AcdError):
    """The agent is not in a state the transition starts from."""

    def __init__(self, agent_id: str, transition: str, state: AgentState) -> None:
        super().__init__(
            Refusal.TRANSITION_NOT_ALLOWED,
            f"agent {agent_id}: {transition!r} is not possible in state {state.value!r}",
        )
        self.agent_id = agent_id
        self.transition = transition
        self.state = state


def check_transition(agent_id: str, name: str, state: AgentState) -> Transition:
    """The transition called `name`, or TransitionRefused when `state` is not one of its sources."""
    transition = AGENT_TRANSITIONS[name]
    if state not in transition.source:
        raise TransitionRefused(agent_id, name, state)
    return transition


def available_transitions(state: AgentState, who: Iterable[Who] = (Who.AGENT,)) -> list[str]:
    """Names of the transitions `who` may start from `state` (the agent bar's buttons)."""
    allowed = set(who)
    return [t.name for t in AGENT_TRANSITIONS.values() if t.who in allowed and state in t.source]
