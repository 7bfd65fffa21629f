"""Every event the switch publishes, as a small typed model with a `type`.

The web side (`aqualine.callcenter.client`) receives the same JSON; `event_from_dict` turns it
back into these classes, so both sides share one schema.

| type | when |
|---|---|
| `extension.registered` | a phone registered (or refreshed) a contact for an extension |
| `extension.unregistered` | a contact was removed, expired, or replaced |
| `call.started` | the switch accepted an INVITE and the call exists |
| `call.answered` | the call was answered (by the switch or an agent) |
| `call.offered` | a caller is offered to one agent (its phone rings): the screen pop |
| `call.ended` | the call is over (any cause) |
| `call.control` | call control on a call: held, transferred, consulting, conference, dialing... |
| `agent.state_changed` | an agent's state (or not-ready reason) changed; the ACD's history row |
| `queue.caller_joined` | a caller joined a queue and waits for an agent |
| `queue.caller_offered` | a waiting caller is being offered to (rung at) one agent |
| `queue.caller_position` | a waiting caller's position announced (on joining, then periodically) |
| `queue.caller_left` | a caller left a queue: answered, abandoned (hung up) or overflowed |

Times in the `agent.*` and `queue.*` events (`at`) are the ACD's own (`aqualine.telephony.acd`):
the moment the change happened, which for a timer (wrap-up limit, ring timeout) is its deadline.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True)
class Event:
    type: ClassVar[str] = ""
    at: str = field(default_factory=_now, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["type"] = self.type
        return data


@dataclass(frozen=True)
class ExtensionRegistered(Event):
    type: ClassVar[str] = "extension.registered"
    number: str
    contact: str
    source: str
    expires: int
    user_agent: str = ""


@dataclass(frozen=True)
class ExtensionUnregistered(Event):
    type: ClassVar[str] = "extension.unregistered"
    number: str
    contact: str
    reason: str  # "unregistered" | "expired" | "replaced"


@dataclass(frozen=True)
class CallStarted(Event):
    type: ClassVar[str] = "call.started"
    call_id: str
    direction: str
    caller: str
    callee: str


@dataclass(frozen=True)
class CallAnswered(Event):
    type: ClassVar[str] = "call.answered"
    call_id: str


@dataclass(frozen=True)
class CallOffered(Event):
    """A caller is offered to an agent: what the agent's screen pop needs, in one event."""

    type: ClassVar[str] = "call.offered"
    call_id: str
    caller: str
    callee: str
    agent_id: str
    extension: str
    queue: str
    ivr_path: str  # the IVR path so far, e.g. "主菜单>报修>人工服务"
    waited: float  # seconds in the queue before this offer


@dataclass(frozen=True)
class CallEnded(Event):
    type: ClassVar[str] = "call.ended"
    call_id: str
    outcome: str
    cause: str
    duration: float  # seconds from start to end


@dataclass(frozen=True)
class CallControl(Event):
    """A call-control step on a call (the agent desktop shows it).

    ``action``: held, unheld, transferring, transferred, transfer_failed, consulting,
    consult_answered, consult_failed, consult_ended, conference, dialing, dial_answered,
    dial_failed, supervising, supervision_ended. ``detail``: e.g. the SIP cause of a failure.
    """

    type: ClassVar[str] = "call.control"
    call_id: str
    agent_id: str
    action: str
    target: str = ""
    detail: str = ""


@dataclass(frozen=True)
class AgentStateChanged(Event):
    type: ClassVar[str] = "agent.state_changed"
    agent_id: str
    extension: str
    # "logged_out" | "not_ready" | "idle" | "ringing" | "talking" | "after_call_work"
    old_state: str
    new_state: str
    old_reason: str  # the not-ready reason of the old state ("" unless not_ready)
    reason: str  # the not-ready reason of the new state ("" unless not_ready)
    transition: str  # the row of the ACD's transition table, e.g. "sign_on", "ring_timeout"
    duration: float  # seconds spent in the old state
    call_id: str = ""
    queue: str = ""
    by: str = ""  # the supervisor, for forced transitions


@dataclass(frozen=True)
class QueueCallerJoined(Event):
    type: ClassVar[str] = "queue.caller_joined"
    queue: str
    call_id: str
    caller: str
    position: int


@dataclass(frozen=True)
class QueueCallerOffered(Event):
    type: ClassVar[str] = "queue.caller_offered"
    queue: str
    call_id: str
    agent_id: str
    extension: str


@dataclass(frozen=True)
class QueueCallerPosition(Event):
    type: ClassVar[str] = "queue.caller_position"
    queue: str
    call_id: str
    position: int
    expected_wait: float | None  # seconds; None when no member is signed on


@dataclass(frozen=True)
class QueueCallerLeft(Event):
    type: ClassVar[str] = "queue.caller_left"
    queue: str
    call_id: str
    reason: str  # "answered" | "abandoned" | "overflow"
    waited: float  # seconds from joining to leaving
    agent_id: str = ""  # who answered


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        ExtensionRegistered,
        ExtensionUnregistered,
        CallStarted,
        CallAnswered,
        CallOffered,
        CallEnded,
        CallControl,
        AgentStateChanged,
        QueueCallerJoined,
        QueueCallerOffered,
        QueueCallerPosition,
        QueueCallerLeft,
    )
}


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from its JSON form; unknown types or fields raise ValueError."""
    kind = data.get("type")
    cls = EVENT_TYPES.get(str(kind))
    if cls is None:
        raise ValueError(f"unknown event type {kind!r}")
    fields = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in data.items() if k != "type"}
    unknown = set(values) - fields
    if unknown:
        raise ValueError(f"unknown fields for {kind}: {sorted(unknown)}")
    return cls(**values)
