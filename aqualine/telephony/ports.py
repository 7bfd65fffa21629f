"""What the telephony core needs from the rest of the system, as plain interfaces.

The switch process hands implementations of these to the core: `aqualine.callcenter.ports`
implements them with the Django ORM; tests use in-memory ones. Port methods are synchronous
(the ORM is); the core calls them through `asyncio.to_thread` so that the event loop never
waits on the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ExtensionInfo:
    """An extension (分机) a desk phone or softphone registers as."""

    number: str
    password: str
    enabled: bool = True
    display_name: str = ""


@dataclass(frozen=True)
class TrunkInfo:
    """A carrier trunk peer: calls from its addresses to its numbers are inbound hotline calls.

    `hosts` are the peer's IP addresses (an allow-list). When `username` is set, calls from the
    trunk must also answer a digest challenge with these credentials (and we use them when the
    trunk challenges our outbound calls).
    """

    name: str
    hosts: tuple[str, ...]
    numbers: tuple[str, ...]
    username: str = ""
    password: str = ""
    enabled: bool = True


@dataclass
class CallRecord:
    """One call as the switch saw it; written when the call starts and again when it ends."""

    call_id: str  # the switch's own identifier (not the SIP Call-ID)
    sip_call_id: str
    direction: str  # "inbound" | "outbound" | "internal"
    caller: str
    callee: str
    source: str  # "ip:port" of the peer that sent the INVITE
    trunk: str = ""
    started_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    outcome: str = ""  # "answered" | "cancelled" | "rejected" | "failed"
    end_cause: str = ""  # e.g. "caller hung up", "switch hung up", "487 Request Terminated"
    extra: dict[str, object] = field(default_factory=dict)


class Directory(Protocol):
    """Configuration the switch reads: extensions and trunks."""

    def extension(self, number: str) -> ExtensionInfo | None: ...

    def trunks(self) -> Sequence[TrunkInfo]: ...


class Records(Protocol):
    """Records the switch writes."""

    def call_started(self, record: CallRecord) -> None: ...

    def call_ended(self, record: CallRecord) -> None: ...

    def close_dangling_calls(self, *, ended_at: datetime, cause: str) -> int:
        """Close records of calls that were in progress when the switch last stopped."""
        ...
