"""Random sequences of arrivals, answers, hang-ups, agent requests, transfers and the agents' own
calls, checked against a model.

The model learns what happened only from the events the ACD publishes (in order) and keeps its
own idea of who has been idle longest and who has waited longest. At every offer it checks that
the agent was idle, a member of the caller's queue and the longest idle of them; that the caller
was waiting (not being rung elsewhere) and had waited longest of the callers the agent could
take; after every step, that no caller waits while a member of its queue is idle. An agent
back from a withdrawn ring or a failed own call it started while idle keeps its old place.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from aqualine.telephony.acd import (
    Acd,
    AcdError,
    AgentState,
    Offer,
    OfferFailure,
    Outcome,
    Overflow,
    QueueConfig,
    Refusal,
)
from aqualine.telephony.acd.tests.support import AGENTS, SUPERVISOR, VOICEMAIL, at, config
from aqualine.telephony.acd.tests.test_transitions import EXPECTED
from aqualine.telephony.api.events import (
    AgentStateChanged,
    QueueCallerJoined,
    QueueCallerLeft,
    QueueCallerOffered,
)

S = AgentState
QUEUES = {
    "hotline": QueueConfig(
        "hotline",
        ("1001", "1002", "1003"),
        max_wait_seconds=120,
        overflow=VOICEMAIL,
        announce_seconds=20,
    ),
    "billing": QueueConfig("billing", ("1003", "1004"), wrap_up_seconds=5, ring_seconds=8),
}
MAX_WAIT = {"hotline": 120.0}
COMMANDS = [
    "sign_on",
    "sign_off",
    "not_ready",
    "ready",
    "finish_wrap_up",
    "logout",
    "force_ready",
    "force_sign_off",
    "force_logout",
]


@dataclass
class Waiting:
    queue: str
    order: int
    joined: datetime
    agent: str = ""  # being rung


class AcdMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.acd = Acd(config(ring_seconds=12, wrap_up_seconds=15), QUEUES.values())
        self.seconds = 0.0
        self.calls = itertools.count(1)
        self.order = itertools.count()
        # the model, fed by events
        self.state = dict.fromkeys(AGENTS, S.LOGGED_OUT)
        self.idle_key: dict[str, tuple[datetime, int]] = {}
        self.key_before_offer: dict[str, tuple[datetime, int]] = {}
        self.holder: dict[str, str] = {}  # extension -> agent
        self.callers: dict[str, Waiting] = {}
        self.talking: dict[str, str] = {}  # call -> agent
        self.transfers: dict[str, str] = {}  # call -> agent, ringing after a transfer
        self.own_calls: dict[str, str] = {}  # call -> agent, the agent's own, until it ends
        self.key_before_own_call: dict[str, tuple[datetime, int] | None] = {}

    # --- feeding the model ----------------------------------------------------------------

    def observe(self, outcome: Outcome) -> None:
        offered = []
        for event in outcome.events:
            if isinstance(event, AgentStateChanged):
                offered += self.agent_changed(event)
            elif isinstance(event, QueueCallerJoined):
                self.callers[event.call_id] = Waiting(
                    event.queue, next(self.order), datetime.fromisoformat(event.at)
                )
            elif isinstance(event, QueueCallerOffered):
                entry = self.callers[event.call_id]
                assert entry.agent == "", f"{event.call_id} offered to two agents"
                assert self.state[event.agent_id] is S.RINGING
                entry.agent = event.agent_id
            elif isinstance(event, QueueCallerLeft):
                entry = self.callers.pop(event.call_id)
                if event.reason == "answered":
                    assert entry.agent == event.agent_id
                    self.talking[event.call_id] = event.agent_id
                elif event.reason == "overflow":
                    assert entry.agent == ""
                    waited = (datetime.fromisoformat(event.at) - entry.joined).total_seconds()
                    assert waited >= MAX_WAIT[event.queue]
        assert [(o.call_id, o.agent_id) for o in outcome.of_type(Offer)] == offered
        for overflow in outcome.of_type(Overflow):
            assert overflow.call_id not in self.callers

    def agent_changed(self, e: AgentStateChanged) -> list[tuple[str, str]]:
        agent, old, new = e.agent_id, S(e.old_state), S(e.new_state)
        assert self.state[agent] is old, f"{agent}: {old} reported, model has {self.state[agent]}"
        assert new in EXPECTED[e.transition][1:2] and old in EXPECTED[e.transition][0]
        when = datetime.fromisoformat(e.at)
        offered = []
        if e.transition == "offer":
            self.check_offer(agent, e.call_id, e.queue)
            offered.append((e.call_id, agent))
            self.key_before_offer[agent] = self.idle_key[agent]
        if e.transition == "transfer_offer":
            assert e.call_id not in self.transfers and e.call_id not in self.talking
            self.transfers[e.call_id] = agent
            self.key_before_offer[agent] = self.idle_key[agent]
        if old is S.RINGING:
            if e.call_id in self.transfers:
                assert self.transfers.pop(e.call_id) == agent
                if new is S.TALKING:
                    self.talking[e.call_id] = agent
            elif new is not S.TALKING:  # the ring ended without an answer
                entry = self.callers.get(e.call_id)
                if entry is not None:
                    entry.agent = ""
        if old is S.TALKING:
            assert self.talking.pop(e.call_id) == agent
            self.own_calls.pop(e.call_id, None)  # ended, failed or transferred
        if e.transition == "outbound":
            self.talking[e.call_id] = agent
            self.own_calls[e.call_id] = agent
            self.key_before_own_call[agent] = self.idle_key.get(agent)
        if old is S.IDLE:
            del self.idle_key[agent]
        if new is S.IDLE:
            if e.transition == "withdraw":
                self.idle_key[agent] = self.key_before_offer[agent]
            elif e.transition == "outbound_failed" and self.key_before_own_call[agent]:
                self.idle_key[agent] = self.key_before_own_call[agent]  # type: ignore[assignment]
            else:
                self.idle_key[agent] = (when, next(self.order))
        self.state[agent] = new
        return offered

    def check_offer(self, agent: str, call_id: str, queue: str) -> None:
        assert self.state[agent] is S.IDLE, f"offered {call_id} to {agent} in {self.state[agent]}"
        assert agent in QUEUES[queue].members
        entry = self.callers[call_id]
        assert entry.queue == queue and entry.agent == "", f"{call_id} is not waiting"
        idle = [a for a in QUEUES[queue].members if self.state[a] is S.IDLE]
        longest_idle = min(idle, key=lambda a: self.idle_key[a])
        assert agent == longest_idle, f"{call_id} went to {agent}, not {longest_idle}"
        serves = {name for name, q in QUEUES.items() if agent in q.members}
        waiting = [
            (c.order, cid) for cid, c in self.callers.items() if c.queue in serves and c.agent == ""
        ]
        assert min(waiting)[1] == call_id, f"{agent} took {call_id}, not {min(waiting)[1]}"

    # --- time ----------------------------------------------------------------------------

    def now(self, step: float) -> datetime:
        self.seconds += step
        return at(self.seconds)

    steps = st.sampled_from([0, 0, 1, 2, 5])

    @rule(seconds=st.sampled_from([1, 3, 5, 8, 12, 15, 30, 60, 130]))
    def time_passes(self, seconds: int) -> None:
        self.observe(self.acd.tick(self.now(seconds)))

    # --- agents ------------------------------------------------------------------------------

    @rule(
        agent=st.sampled_from(sorted(AGENTS)),
        extension=st.sampled_from(sorted(AGENTS.values())),
        step=steps,
    )
    def login(self, agent: str, extension: str, step: float) -> None:
        holder = self.holder.get(extension)
        try:
            outcome = self.acd.login(agent, extension, now=self.now(step))
        except AcdError as refused:
            self.observe(self.acd.tick(self.now(0)))
            if self.state[agent] is not S.LOGGED_OUT:
                assert refused.code == Refusal.AGENT_LOGGED_IN
            else:
                assert refused.code == Refusal.EXTENSION_IN_USE and holder not in (None, agent)
            return
        assert self.state[agent] is S.LOGGED_OUT and holder is None
        self.holder[extension] = agent
        self.observe(outcome)

    @rule(agent=st.sampled_from(sorted(AGENTS)), name=st.sampled_from(COMMANDS), step=steps)
    def agent_request(self, agent: str, name: str, step: float) -> None:
        now = self.now(step)
        # the request first runs the timers due by now: see where the agent is then
        self.observe(self.acd.tick(now))
        before = self.state[agent]
        acd = self.acd
        try:
            if name == "not_ready":
                outcome = acd.set_not_ready(agent, "休息", now=now)
            elif name == "ready":
                outcome = acd.set_ready(agent, now=now)
            elif name.startswith("force_"):
                outcome = getattr(acd, name)(agent, by=SUPERVISOR, now=now)
            else:
                outcome = getattr(acd, name)(agent, now=now)
        except AcdError as refused:
            assert refused.code == Refusal.TRANSITION_NOT_ALLOWED
            assert before not in EXPECTED[name][0]
            return
        assert before in EXPECTED[name][0], f"{name} was allowed in {before}"
        self.observe(outcome)
        if name in ("logout", "force_logout"):
            self.holder = {e: a for e, a in self.holder.items() if a != agent}

    # --- callers -----------------------------------------------------------------------------

    @rule(queue=st.sampled_from(sorted(QUEUES)), step=steps)
    def caller_arrives(self, queue: str, step: float) -> None:
        call_id = f"call-{next(self.calls)}"
        self.observe(self.acd.caller_joined(call_id, queue, now=self.now(step)))

    def ringing(self) -> list[str]:
        return sorted(c for c, w in self.callers.items() if w.agent)

    @precondition(lambda self: self.ringing())
    @rule(data=st.data(), step=steps)
    def agent_answers(self, data: st.DataObject, step: float) -> None:
        self.observe(self.acd.tick(self.now(step)))
        if not self.ringing():
            return
        call_id = data.draw(st.sampled_from(self.ringing()))
        self.observe(self.acd.offer_answered(call_id, now=self.now(0)))
        assert call_id in self.talking

    @precondition(lambda self: self.ringing())
    @rule(data=st.data(), cause=st.sampled_from(list(OfferFailure)))
    def offer_fails(self, data: st.DataObject, cause: OfferFailure) -> None:
        call_id = data.draw(st.sampled_from(self.ringing()))
        agent = self.callers[call_id].agent
        self.observe(self.acd.offer_failed(call_id, cause, now=self.now(0)))
        assert self.state[agent] is S.NOT_READY

    @precondition(lambda self: self.callers)
    @rule(data=st.data())
    def caller_hangs_up(self, data: st.DataObject) -> None:
        call_id = data.draw(st.sampled_from(sorted(self.callers)))
        self.observe(self.acd.caller_left(call_id, now=self.now(0)))
        assert call_id not in self.callers

    @precondition(lambda self: self.talking)
    @rule(data=st.data(), step=steps)
    def call_ends(self, data: st.DataObject, step: float) -> None:
        call_id = data.draw(st.sampled_from(sorted(self.talking)))
        agent = self.talking[call_id]
        self.observe(self.acd.call_ended(call_id, now=self.now(step)))
        assert self.state[agent] in (S.AFTER_CALL_WORK, S.IDLE, S.RINGING)

    # --- transfers and the agents' own calls ---------------------------------------------------

    @precondition(lambda self: self.talking)
    @rule(data=st.data(), to_idle=st.booleans(), step=steps)
    def transfer(self, data: st.DataObject, to_idle: bool, step: float) -> None:
        now = self.now(step)
        self.observe(self.acd.tick(now))
        if not self.talking:
            return
        call_id = data.draw(st.sampled_from(sorted(self.talking)))
        idle = sorted(a for a, state in self.state.items() if state is S.IDLE)
        to = data.draw(st.sampled_from(idle if to_idle and idle else sorted(AGENTS)))
        holder, before = self.talking[call_id], self.state[to]
        try:
            outcome = self.acd.transfer_to_agent(call_id, to, now=now)
        except AcdError as refused:
            expected = {
                S.RINGING: Refusal.TARGET_BUSY,
                S.TALKING: Refusal.TARGET_BUSY,
                S.AFTER_CALL_WORK: Refusal.TARGET_BUSY,
                S.NOT_READY: Refusal.TARGET_NOT_READY,
                S.LOGGED_OUT: Refusal.TARGET_LOGGED_OUT,
            }[before]
            if before is S.LOGGED_OUT and to not in self.acd_knows:
                expected = Refusal.UNKNOWN_AGENT
            assert refused.code == expected
            assert self.talking.get(call_id) == holder
            return
        assert before is S.IDLE and to != holder
        self.observe(outcome)
        assert self.transfers[call_id] == to and self.state[to] is S.RINGING
        assert self.state[holder] in (S.AFTER_CALL_WORK, S.IDLE, S.RINGING)

    @property
    def acd_knows(self) -> set[str]:
        return {v.agent_id for v in self.acd.agents(now=at(self.seconds))}

    @precondition(lambda self: self.transfers)
    @rule(data=st.data(), step=steps)
    def transfer_answered(self, data: st.DataObject, step: float) -> None:
        call_id = data.draw(st.sampled_from(sorted(self.transfers)))
        agent = self.transfers[call_id]
        self.observe(self.acd.transfer_answered(call_id, now=self.now(step)))
        assert self.talking[call_id] == agent and self.state[agent] is S.TALKING

    @precondition(lambda self: self.transfers)
    @rule(
        data=st.data(),
        how=st.sampled_from(["failed", "caller_left", "call_ended"]),
        step=steps,
    )
    def transfer_not_taken(self, data: st.DataObject, how: str, step: float) -> None:
        call_id = data.draw(st.sampled_from(sorted(self.transfers)))
        agent = self.transfers[call_id]
        now = self.now(step)
        if how == "failed":
            self.observe(self.acd.transfer_failed(call_id, now=now))
            assert self.state[agent] is S.NOT_READY
        else:
            self.observe(getattr(self.acd, how)(call_id, now=now))
            assert self.state[agent] in (S.IDLE, S.RINGING)
        assert call_id not in self.transfers and call_id not in self.talking

    @rule(agent=st.sampled_from(sorted(AGENTS)), step=steps)
    def agent_dials(self, agent: str, step: float) -> None:
        now = self.now(step)
        self.observe(self.acd.tick(now))
        before = self.state[agent]
        call_id = f"out-{next(self.calls)}"
        try:
            outcome = self.acd.agent_call_started(agent, call_id, now=now)
        except AcdError as refused:
            if before in (S.RINGING, S.TALKING):
                assert refused.code == Refusal.AGENT_BUSY
            else:
                assert before is S.LOGGED_OUT and refused.code == Refusal.TRANSITION_NOT_ALLOWED
            return
        assert before in (S.IDLE, S.NOT_READY, S.AFTER_CALL_WORK)
        self.observe(outcome)
        assert self.own_calls[call_id] == agent and self.state[agent] is S.TALKING

    @precondition(lambda self: self.own_calls)
    @rule(data=st.data(), step=steps)
    def own_call_fails(self, data: st.DataObject, step: float) -> None:
        call_id = data.draw(st.sampled_from(sorted(self.own_calls)))
        agent = self.own_calls[call_id]
        self.observe(self.acd.agent_call_failed(call_id, now=self.now(step)))
        assert self.state[agent] in (S.IDLE, S.NOT_READY, S.RINGING)
        assert call_id not in self.own_calls and call_id not in self.talking

    # --- what must always hold ---------------------------------------------------------------

    @invariant()
    def nobody_waits_while_a_member_is_idle(self) -> None:
        for call_id, entry in self.callers.items():
            if not entry.agent:
                idle = [a for a in QUEUES[entry.queue].members if self.state[a] is S.IDLE]
                assert not idle, f"{call_id} waits while {idle} are idle"

    @invariant()
    def one_call_per_agent(self) -> None:
        rung = [w.agent for w in self.callers.values() if w.agent] + list(self.transfers.values())
        busy = rung + list(self.talking.values())
        assert len(busy) == len(set(busy))
        for agent in rung:
            assert self.state[agent] is S.RINGING
        for agent in self.talking.values():
            assert self.state[agent] is S.TALKING

    @invariant()
    def the_model_and_the_acd_agree(self) -> None:
        now = at(self.seconds)
        views = {v.agent_id: v for v in self.acd.agents(now=now)}
        for agent, state in self.state.items():
            assert (views[agent].state if agent in views else S.LOGGED_OUT) is state
        for name in QUEUES:
            view = self.acd.queue(name, now=now)
            assert view is not None
            expected = sorted(
                ((w.order, c, w.agent) for c, w in self.callers.items() if w.queue == name)
            )
            assert [(c.call_id, c.agent_id) for c in view.callers] == [
                (c, a) for _, c, a in expected
            ]
            for caller in view.callers:
                if name in MAX_WAIT and not caller.agent_id:
                    assert caller.waited < MAX_WAIT[name]

    @invariant()
    def wrap_up_never_outlasts_its_limit(self) -> None:
        now = at(self.seconds)
        for view in self.acd.agents(now=now):
            if view.state is S.AFTER_CALL_WORK:
                assert view.wrap_up_until is not None and view.wrap_up_until > now


AcdMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestAcdStateMachine = AcdMachine.TestCase
