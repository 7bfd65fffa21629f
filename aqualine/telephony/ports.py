"""What the telephony core needs from the rest of the system, as plain interfaces.

The switch process hands implementations of these to the core: `aqualine.callcenter.ports`
implements them with the Django ORM; tests use in-memory ones. Port methods are synchronous
(the ORM is); the core calls them through `asyncio.to_thread` so that the event loop never
waits on the database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from aqualine.telephony.acd.model import AgentStateChange, QueueConfig


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
    # Outbound calls (click-to-dial, transfer to an outside number): where INVITEs go
    # ("host" or "host:port"; empty: the trunk carries no outbound calls), the caller ID
    # presented (empty: the first hotline number) and the digest credentials the trunk's
    # challenge is answered with (empty: `username` / `password`).
    outbound_address: str = ""
    caller_id: str = ""
    outbound_username: str = ""
    outbound_password: str = ""


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
    # "answered" (an agent took it) | "abandoned" (hung up in the queue or while an agent's
    # phone rang) | "ivr_only" (ended in the IVR) | "missed" (left the queue unanswered: overflow)
    # | "cancelled" | "rejected" | "failed" (never answered by the switch)
    outcome: str = ""
    end_cause: str = ""  # e.g. "caller hung up", "switch hung up", "487 Request Terminated"
    ivr_path: str = ""  # e.g. "主菜单>人工服务"
    queue: str = ""
    agent_id: str = ""  # the agent who answered (工号)
    agent_extension: str = ""
    queued_at: datetime | None = None
    agent_answered_at: datetime | None = None
    wait_seconds: float | None = None  # from joining the queue to an agent answering or leaving
    talk_seconds: float | None = None  # from the agent answering to the end
    hold_seconds: float = 0.0  # total time the caller was on hold
    transfer_agent_id: str = ""  # the agent the call was transferred to (a second agent)
    transfer_target: str = ""  # what it was transferred to: agent ID, extension or number
    transferred_at: datetime | None = None
    conference: bool = False  # a three-party conference took place
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class AgentInfo:
    """An agent (坐席) the ACD may log in: a staff member with an agent ID (工号)."""

    agent_id: str
    name: str = ""
    enabled: bool = True


@dataclass(frozen=True)
class CallCentreSettings:
    """What the ACD and the IVR read from the system parameters."""

    busy_reasons: tuple[str, ...] = ("休息", "开会", "就餐", "如厕", "接待客户", "培训")
    wrap_up_seconds: float = 30.0
    ring_seconds: float = 20.0
    timezone: str = "Asia/Shanghai"
    on_duty_number: str = ""
    recording_channels: str = "mono"  # "mono" | "stereo"


@dataclass
class RecordingInfo:
    """A recording file the switch wrote (path relative to the recordings directory)."""

    call_id: str
    path: str
    started_at: datetime
    kind: str = "call"  # "call" | "message"
    duration_seconds: float = 0.0
    size_bytes: int = 0
    complete: bool = False


class Directory(Protocol):
    """Configuration the switch reads: extensions, trunks, agents, queues and IVR flows."""

    def extension(self, number: str) -> ExtensionInfo | None: ...

    def trunks(self) -> Sequence[TrunkInfo]: ...

    def agent(self, agent_id: str) -> AgentInfo | None: ...

    def queues(self) -> Sequence[QueueConfig]: ...

    def ivr_flow(self, number: str) -> Mapping[str, Any] | None:
        """The IVR flow (schema of `aqualine.telephony.ivr.schema`) for a called number."""
        ...

    def call_centre_settings(self) -> CallCentreSettings: ...


class Records(Protocol):
    """Records the switch writes."""

    def call_started(self, record: CallRecord) -> None: ...

    def call_ended(self, record: CallRecord) -> None: ...

    def close_dangling_calls(self, *, ended_at: datetime, cause: str) -> int:
        """Close records of calls that were in progress when the switch last stopped."""
        ...

    def agent_state_changed(self, change: AgentStateChange) -> None: ...

    def recording_saved(self, recording: RecordingInfo) -> None:
        """Called when a recording starts (complete False) and again when it is finished."""
        ...

    def close_dangling_agent_states(self, *, at: datetime) -> int:
        """Log out (in the history) agents the switch knew before it last stopped."""
        ...
