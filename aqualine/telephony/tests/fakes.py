"""In-memory ports and a running switch for the SIP engine's tests."""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from aqualine.telephony.acd.model import AgentStateChange, QueueConfig
from aqualine.telephony.api.events import Event
from aqualine.telephony.config import SwitchConfig
from aqualine.telephony.events import EventBus
from aqualine.telephony.ivr.default_flow import default_flow_data
from aqualine.telephony.ivr.fakes import MemoryIvrPorts
from aqualine.telephony.ports import (
    AgentInfo,
    CallCentreSettings,
    CallRecord,
    ExtensionInfo,
    RecordingInfo,
    TrunkInfo,
)
from aqualine.telephony.switch import Switch

HOTLINE = "96000"
EXTENSIONS = {
    "8001": ExtensionInfo("8001", "secret-8001"),
    "8002": ExtensionInfo("8002", "secret-8002"),
    "8003": ExtensionInfo("8003", "secret-8003", enabled=False),
}
DEMO_TRUNK = TrunkInfo("demo", hosts=("127.0.0.1",), numbers=(HOTLINE,))
AGENTS = {a: AgentInfo(a, f"Agent {a}") for a in ("1001", "1002", "1003", "1004")}
HOTLINE_QUEUE = QueueConfig("hotline", members=tuple(AGENTS))
# Media ports for tests, away from the demo's default range.
TEST_RTP_PORTS = (41000, 48999)


class MemoryDirectory:
    def __init__(
        self,
        extensions: dict[str, ExtensionInfo] | None = None,
        trunks: Sequence[TrunkInfo] = (DEMO_TRUNK,),
    ) -> None:
        self.extensions = dict(EXTENSIONS if extensions is None else extensions)
        self.trunk_list = list(trunks)
        self.lookups = 0
        self.agents = dict(AGENTS)
        self.queue_list = [HOTLINE_QUEUE]
        self.flows: dict[str, Mapping[str, Any]] = {}  # number -> flow; else the default flow
        self.settings = CallCentreSettings()

    def extension(self, number: str) -> ExtensionInfo | None:
        self.lookups += 1
        return self.extensions.get(number)

    def trunks(self) -> Sequence[TrunkInfo]:
        return list(self.trunk_list)

    def agent(self, agent_id: str) -> AgentInfo | None:
        return self.agents.get(agent_id)

    def queues(self) -> Sequence[QueueConfig]:
        return list(self.queue_list)

    def ivr_flow(self, number: str) -> Mapping[str, Any] | None:
        return self.flows.get(number, default_flow_data() if number == HOTLINE else None)

    def call_centre_settings(self) -> CallCentreSettings:
        return self.settings


class MemoryRecords:
    """Keeps what the switch writes; thread-safe (the switch writes from worker threads)."""

    def __init__(self, open_calls: Sequence[CallRecord] = ()) -> None:
        self._lock = threading.Lock()
        self.started: list[CallRecord] = []
        self.ended: list[CallRecord] = []
        self.open: dict[str, CallRecord] = {r.call_id: r for r in open_calls}
        self.closed_dangling: list[CallRecord] = []
        self.agent_changes: list[AgentStateChange] = []
        self.recordings: dict[str, RecordingInfo] = {}
        self.dangling_agents_closed = 0

    def call_started(self, record: CallRecord) -> None:
        with self._lock:
            self.started.append(dataclasses.replace(record))
            self.open[record.call_id] = dataclasses.replace(record)

    def call_ended(self, record: CallRecord) -> None:
        with self._lock:
            self.ended.append(dataclasses.replace(record))
            self.open.pop(record.call_id, None)

    def close_dangling_calls(self, *, ended_at: datetime, cause: str) -> int:
        with self._lock:
            closed = [
                dataclasses.replace(r, ended_at=ended_at, end_cause=cause, outcome="failed")
                for r in self.open.values()
            ]
            self.closed_dangling += closed
            self.open.clear()
            return len(closed)

    def agent_state_changed(self, change: AgentStateChange) -> None:
        with self._lock:
            self.agent_changes.append(change)

    def recording_saved(self, recording: RecordingInfo) -> None:
        with self._lock:
            self.recordings[recording.path] = dataclasses.replace(recording)

    def close_dangling_agent_states(self, *, at: datetime) -> int:
        with self._lock:
            self.dangling_agents_closed += 1
            return 0

    def ended_record(self, call_id: str) -> CallRecord | None:
        with self._lock:
            return next((r for r in self.ended if r.call_id == call_id), None)


class RecordingBus(EventBus):
    """An event bus that also keeps every event published on it."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[Event] = []

    def publish(self, event: Event) -> None:
        self.events.append(event)
        super().publish(event)

    def of_type(self, kind: str) -> list[Any]:
        return [event for event in self.events if event.type == kind]


def make_config(**overrides: Any) -> SwitchConfig:
    """A switch configuration for tests: free ports, short timers, a fixed nonce secret."""
    values: dict[str, Any] = {
        "sip_host": "127.0.0.1",
        "sip_port": 0,
        "rtp_host": "127.0.0.1",
        "rtp_ports": TEST_RTP_PORTS,
        "nonce_secret": b"test-secret-0123456789abcdef",
        "timer_t1": 0.1,
        "timer_t2": 0.4,
        "timer_t4": 0.5,
        "ring_seconds": 0.0,
        "auth_algorithms": ("SHA-256", "MD5"),
        "var_dir": os.environ.get("AQUALINE_VAR_DIR", ""),
    }
    values.update(overrides)
    return SwitchConfig(**values)


@dataclasses.dataclass
class RunningSwitch:
    switch: Switch
    directory: MemoryDirectory
    records: MemoryRecords
    bus: RecordingBus

    @property
    def port(self) -> int:
        return self.switch.sip_port

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.switch.sip_port)


@asynccontextmanager
async def running_switch(
    config: SwitchConfig | None = None,
    *,
    directory: MemoryDirectory | None = None,
    records: MemoryRecords | None = None,
    ivr_ports: Any = None,
) -> AsyncIterator[RunningSwitch]:
    directory = directory or MemoryDirectory()
    records = records or MemoryRecords()
    bus = RecordingBus()
    switch = Switch(
        config or make_config(),
        directory,
        records,
        bus,
        ivr_ports=ivr_ports if ivr_ports is not None else MemoryIvrPorts(),
    )
    await switch.start()
    try:
        yield RunningSwitch(switch, directory, records, bus)
    finally:
        await switch.stop()
