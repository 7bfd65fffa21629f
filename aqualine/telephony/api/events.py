"""Every event the switch publishes, as a small typed model with a `type`.

The web side (`aqualine.callcenter.client`) receives the same JSON; `event_from_dict` turns it
back into these classes, so both sides share one schema.

| type | when |
|---|---|
| `extension.registered` | a phone registered (or refreshed) a contact for an extension |
| `extension.unregistered` | a contact was removed, expired, or replaced |
| `call.started` | the switch accepted an INVITE and the call exists |
| `call.answered` | the call was answered (by the switch or an agent) |
| `call.ended` | the call is over (any cause) |
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
class CallEnded(Event):
    type: ClassVar[str] = "call.ended"
    call_id: str
    outcome: str
    cause: str
    duration: float  # seconds from start to end


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (ExtensionRegistered, ExtensionUnregistered, CallStarted, CallAnswered, CallEnded)
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
