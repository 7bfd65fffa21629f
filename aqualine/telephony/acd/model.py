"""What goes into the ACD (configuration, call outcomes) and what comes out of it (decisions for
the switch, agent-state records, events, and the supervisor's views)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import TypeVar

from aqualine.telephony.acd.states import SYSTEM_REASONS, AgentState
from aqualine.telephony.api.events import AgentStateChanged, Event

T = TypeVar("T")

# --- configuration ---------------------------------------------------------------------------


class OverflowKind(enum.StrEnum):
    MESSAGE = "message"  # play a prompt (target: the prompt's name), then hang up
    VOICEMAIL = "voicemail"  # record a message (target: the mailbox)
    TRANSFER = "transfer"  # transfer to a number (target: the number)


@dataclass(frozen=True)
class OverflowAction:
    """What the switch does with a caller who waited the queue's maximum; the ACD only says so."""

    kind: OverflowKind
    target: str = ""


@dataclass(frozen=True)
class QueueConfig:
    name: str
    members: tuple[str, ...] = ()  # agent IDs
    wrap_up_seconds: float | None = None  # None: AcdConfig.wrap_up_seconds
    ring_seconds: float | None = None  # None: AcdConfig.ring_seconds
    max_wait_seconds: float | None = None  # None: callers wait until answered or they hang up
    overflow: OverflowAction | None = None  # required with max_wait_seconds
    announce_seconds: float = 0.0  # >0: position announced on joining, then this often; 0: never

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a queue needs a name")
        if self.max_wait_seconds is not None and self.overflow is None:
            raise ValueError(f"queue {self.name}: a maximum wait needs an overflow action")
        for value in (self.wrap_up_seconds, self.ring_seconds, self.max_wait_seconds):
            if value is not None and value < 0:
                raise ValueError(f"queue {self.name}: times must not be negative")
        if self.announce_seconds < 0:
            raise ValueError(f"queue {self.name}: times must not be negative")
        if self.ring_seconds is not None and self.ring_seconds <= 0:
            raise ValueError(f"queue {self.name}: the ring time must be positive")


@dataclass(frozen=True)
class AcdConfig:
    busy_reasons: tuple[str, ...] = ()  # the configured not-ready reasons (休息, 开会, ...)
    wrap_up_seconds: float = 30.0  # the system parameter; a queue may override it
    ring_seconds: float = 15.0  # ring an agent this long before trying the next one
    default_handle_seconds: float = 180.0  # for expected waits before a queue has history
    handle_history: int = 20  # expected waits use the mean of this many recent calls per queue
    timezone: tzinfo = UTC  # "today" for the per-agent counters

    def __post_init__(self) -> None:
        clash = SYSTEM_REASONS & set(self.busy_reasons)
        if clash:
            raise ValueError(f"busy reasons must not reuse system reasons: {sorted(clash)}")
        if self.wrap_up_seconds < 0 or self.ring_seconds <= 0:
            raise ValueError("the wrap-up limit must not be negative, the ring time positive")


# --- decisions: what the switch must carry out ------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """Ring the agent's extension with this caller; report answered / failed / caller left."""

    call_id: str
    queue: str
    agent_id: str
    extension: str
    ring_seconds: float


@dataclass(frozen=True)
class CancelOffer:
    """Stop ringing the agent (reason: "ring_timeout" | "caller_left")."""

    call_id: str
    agent_id: str
    extension: str
    reason: str


@dataclass(frozen=True)
class Overflow:
    """The caller waited the queue's maximum and left the queue: carry out `action`."""

    call_id: str
    queue: str
    action: OverflowAction
    waited: float


@dataclass(frozen=True)
class Announce:
    """Tell the waiting caller its position (1 = next) and expected wait (None: unknown)."""

    call_id: str
    queue: str
    position: int
    expected_wait: float | None


Decision = Offer | CancelOffer | Overflow | Announce


# --- records and results ----------------------------------------------------------------------


@dataclass(frozen=True)
class AgentStateChange:
    """One row of an agent's state history (written through the records port)."""

    agent_id: str
    extension: str
    old_state: AgentState
    new_state: AgentState
    old_reason: str
    reason: str
    transition: str
    at: datetime
    duration: float  # seconds spent in the old state
    call_id: str = ""
    queue: str = ""
    by: str = ""

    def to_event(self) -> AgentStateChanged:
        return AgentStateChanged(
            agent_id=self.agent_id,
            extension=self.extension,
            old_state=self.old_state.value,
            new_state=self.new_state.value,
            old_reason=self.old_reason,
            reason=self.reason,
            transition=self.transition,
            duration=self.duration,
            call_id=self.call_id,
            queue=self.queue,
            by=self.by,
            at=self.at.isoformat(),
        )


@dataclass
class Outcome:
    """What one request to the ACD produced, each list in the order it happened.

    The owner carries out `decisions`, writes `changes` (agent-state history) and publishes
    `events` (which include one `agent.state_changed` per change)."""

    decisions: list[Decision] = field(default_factory=list)
    changes: list[AgentStateChange] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.decisions or self.changes or self.events)

    def of_type(self, kind: type[T]) -> list[T]:
        """The decisions (or events) of one class, e.g. ``outcome.of_type(Offer)``."""
        items: list[object] = [*self.decisions, *self.events]
        return [item for item in items if isinstance(item, kind)]


# --- views for the supervisor (T7) and the agent bar ------------------------------------------


@dataclass(frozen=True)
class AgentCounters:
    """Today's figures of one agent ("today" in AcdConfig.timezone)."""

    day: date
    answered: int = 0
    missed: int = 0  # offers not answered: ring timeout, declined, unreachable
    talk_seconds: float = 0.0  # of calls that ended today


@dataclass(frozen=True)
class AgentView:
    agent_id: str
    extension: str
    state: AgentState
    reason: str
    since: datetime
    seconds_in_state: float
    idle_since: datetime | None  # the routing key while idle
    call_id: str
    queue: str
    wrap_up_until: datetime | None
    queues: tuple[str, ...]  # the queues it is a member of
    counters: AgentCounters


@dataclass(frozen=True)
class CallerView:
    call_id: str
    caller: str
    joined_at: datetime
    waited: float
    position: int
    agent_id: str  # "" while waiting; the agent being rung otherwise


@dataclass(frozen=True)
class QueueView:
    name: str
    members: tuple[str, ...]
    callers: tuple[CallerView, ...]
    staffed: int  # members signed on (idle, ringing, talking, after-call work)
    idle: int
    longest_wait: float
    expected_wait: float | None  # for a caller joining now
