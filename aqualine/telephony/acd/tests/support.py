"""A clock, the demo's agents and queues, and a way to put an agent in any state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aqualine.telephony.acd import (
    Acd,
    AcdConfig,
    AgentState,
    Offer,
    Outcome,
    OverflowAction,
    OverflowKind,
    QueueConfig,
)

# domain.md, "Demo telephony".
BUSY_REASONS = ("休息", "开会", "就餐", "如厕", "接待客户", "培训")
AGENTS = {"1001": "8001", "1002": "8002", "1003": "8003", "1004": "8004"}
SUPERVISOR = "1001"
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
S = AgentState


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def config(**overrides: object) -> AcdConfig:
    values: dict[str, object] = {"busy_reasons": BUSY_REASONS}
    values.update(overrides)
    return AcdConfig(**values)  # type: ignore[arg-type]


def hotline(members: tuple[str, ...] = tuple(AGENTS), **overrides: object) -> QueueConfig:
    return QueueConfig("hotline", members, **overrides)  # type: ignore[arg-type]


VOICEMAIL = OverflowAction(OverflowKind.VOICEMAIL, "repairs")


@dataclass
class Desk:
    """An ACD with a clock that only moves forward when told to."""

    acd: Acd
    seconds: float = 0.0

    @property
    def now(self) -> datetime:
        return at(self.seconds)

    def later(self, seconds: float) -> datetime:
        self.seconds += seconds
        return self.now

    def state(self, agent_id: str) -> AgentState:
        view = self.acd.agent(agent_id, now=self.now)
        return view.state if view is not None else S.LOGGED_OUT

    def reason(self, agent_id: str) -> str:
        view = self.acd.agent(agent_id, now=self.now)
        return view.reason if view is not None else ""

    def signed_on(self, *agent_ids: str, gap: float = 1.0) -> None:
        """Log the agents in and sign them on, `gap` seconds apart, in this order."""
        for agent_id in agent_ids:
            self.acd.login(agent_id, AGENTS[agent_id], now=self.later(gap))
            self.acd.sign_on(agent_id, now=self.now)

    def join(self, call_id: str, queue: str = "hotline", *, after: float = 1.0) -> Outcome:
        return self.acd.caller_joined(call_id, queue, caller="13800000000", now=self.later(after))


def desk(*queues: QueueConfig, **config_overrides: object) -> Desk:
    return Desk(Acd(config(**config_overrides), queues or (hotline(),)))


def offers(outcome: Outcome) -> list[tuple[str, str]]:
    """(call, agent) of each offer in the outcome."""
    return [(o.call_id, o.agent_id) for o in outcome.of_type(Offer)]


def bring(d: Desk, agent_id: str, state: AgentState) -> None:
    """Put `agent_id` (alone in the hotline queue) in `state` through the public requests."""
    if state is S.LOGGED_OUT:
        return
    d.acd.login(agent_id, AGENTS[agent_id], now=d.later(1))
    if state is S.NOT_READY:
        return
    d.acd.sign_on(agent_id, now=d.later(1))
    if state is S.IDLE:
        return
    outcome = d.join("call-1")
    assert offers(outcome) == [("call-1", agent_id)]
    if state is S.RINGING:
        return
    d.acd.offer_answered("call-1", now=d.later(1))
    if state is S.TALKING:
        return
    d.acd.call_ended("call-1", now=d.later(60))
    assert state is S.AFTER_CALL_WORK
