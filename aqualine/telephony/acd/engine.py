"""The ACD: queues, longest-idle routing and the agents' states, as pure code.

No sockets, no asyncio, no clock of its own: every request carries `now` (an aware datetime) and
returns an :class:`~.model.Outcome` — decisions for the switch, agent-state records, events.
See the package docstring for the rules.
"""

from __future__ import annotations

import enum
import itertools
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from aqualine.telephony.acd.model import (
    AcdConfig,
    AgentCounters,
    AgentStateChange,
    AgentView,
    Announce,
    CallerView,
    CancelOffer,
    Offer,
    Outcome,
    Overflow,
    QueueConfig,
    QueueView,
)
from aqualine.telephony.acd.states import (
    SIGNED_ON,
    AcdError,
    AgentState,
    Refusal,
    Who,
    available_transitions,
    check_transition,
)
from aqualine.telephony.api.events import (
    QueueCallerJoined,
    QueueCallerLeft,
    QueueCallerOffered,
    QueueCallerPosition,
)

S = AgentState


class OfferFailure(enum.StrEnum):
    """Why a rung agent did not take the call (told by the switch)."""

    NO_ANSWER = "no_answer"  # the switch's own ring timer ran out
    DECLINED = "declined"  # the phone answered 486/603 or the agent pressed decline
    UNREACHABLE = "unreachable"  # not registered, 480, no response


_FAILURE_TRANSITION = {
    OfferFailure.NO_ANSWER: "ring_timeout",
    OfferFailure.DECLINED: "decline",
    OfferFailure.UNREACHABLE: "unreachable",
}

# Timers due at the same moment run in this order: a caller whose ring ran out goes back to the
# queue before an agent whose wrap-up ended picks the longest-waiting caller, and callers are
# routed before anyone overflows.
_RING, _WRAP_UP, _MAX_WAIT, _ANNOUNCE = range(4)


def _seconds(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds())


# Why a transfer target that is not idle is refused, and how to say it.
_TARGET_REFUSALS = {
    S.RINGING: (Refusal.TARGET_BUSY, "is busy: a call rings at it"),
    S.TALKING: (Refusal.TARGET_BUSY, "is busy: it is on a call"),
    S.AFTER_CALL_WORK: (Refusal.TARGET_BUSY, "is busy: it is in after-call work"),
    S.NOT_READY: (Refusal.TARGET_NOT_READY, "is not ready"),
    S.LOGGED_OUT: (Refusal.TARGET_LOGGED_OUT, "is logged out"),
}


@dataclass(frozen=True)
class _Before:
    """Where an agent was when it started its own call: it goes back there if the call fails."""

    state: AgentState
    reason: str
    idle_key: tuple[datetime, int] | None


@dataclass
class _Agent:
    agent_id: str
    state: AgentState
    since: datetime
    extension: str = ""
    reason: str = ""
    idle_key: tuple[datetime, int] | None = None  # while idle: (idle since, order of entry)
    key_before_offer: tuple[datetime, int] | None = None  # while ringing
    call_id: str = ""  # while ringing, talking, in after-call work
    queue: str = ""  # of the call ("" for the agent's own calls)
    transferred: bool = False  # the call was transferred to the agent (not taken from a queue)
    before_call: _Before | None = None  # while talking its own (outbound) call
    answered_at: datetime | None = None
    wrap_up_until: datetime | None = None
    day: date | None = None
    answered: int = 0
    missed: int = 0
    talk_seconds: float = 0.0


@dataclass
class _Caller:
    call_id: str
    queue: str
    caller: str
    joined_at: datetime
    seq: int
    agent_id: str = ""  # the agent being rung
    ring_until: datetime | None = None
    next_announce: datetime | None = None


@dataclass
class _Queue:
    config: QueueConfig
    handle_times: deque[float] = field(default_factory=deque)


class Acd:
    """Queues, callers and agents of one switch; see the package docstring.

    Every request returns the :class:`Outcome` it produced and raises :class:`AcdError` when it
    is refused; a refused request changes nothing, but what timers that fell due before it
    produced is kept and comes with the next outcome (call :meth:`tick` after a refusal).
    """

    def __init__(self, config: AcdConfig | None = None, queues: Iterable[QueueConfig] = ()):
        self.config = config or AcdConfig()
        self._queues: dict[str, _Queue] = {}
        for queue in queues:
            self._queues[queue.name] = self._new_queue(queue)
        self._agents: dict[str, _Agent] = {}
        self._by_extension: dict[str, str] = {}
        self._callers: dict[str, _Caller] = {}  # in joining order: longest waiting first
        self._talking: dict[str, str] = {}  # call_id -> agent_id, from answer to call end
        self._transfers: dict[str, str] = {}  # call_id -> agent_id, ringing after a transfer
        self._caller_seq = itertools.count()
        self._idle_seq = itertools.count()
        self._time: datetime | None = None
        self._pending = Outcome()

    # --- agent requests ----------------------------------------------------------------------

    def login(self, agent_id: str, extension: str, *, now: datetime) -> Outcome:
        """登录: the agent is then logged in, signed off (not_ready "signed_off")."""

        def act(t: datetime) -> None:
            if not extension:
                raise AcdError(Refusal.NO_EXTENSION, f"agent {agent_id}: no extension given")
            agent = self._agents.get(agent_id)
            if agent is not None and agent.state is not S.LOGGED_OUT:
                raise AcdError(
                    Refusal.AGENT_LOGGED_IN,
                    f"agent {agent_id} is already logged in on extension {agent.extension}",
                )
            holder = self._by_extension.get(extension)
            if holder is not None:
                raise AcdError(
                    Refusal.EXTENSION_IN_USE,
                    f"extension {extension} is in use by agent {holder}",
                )
            if agent is None:
                agent = self._agents[agent_id] = _Agent(agent_id, S.LOGGED_OUT, since=t)
            agent.extension = extension
            self._change(agent, "login", t)
            self._by_extension[extension] = agent_id

        return self._run(now, act)

    def logout(self, agent_id: str, *, now: datetime) -> Outcome:
        """退出: frees the extension; refused while a call rings or is talked."""
        return self._run(now, lambda t: self._logout(agent_id, "logout", t, by=""))

    def sign_on(self, agent_id: str, *, now: datetime) -> Outcome:
        """上号: not_ready (any reason) → idle."""
        return self._command(agent_id, "sign_on", now)

    def sign_off(self, agent_id: str, *, now: datetime) -> Outcome:
        """下号: → not_ready "signed_off", still logged in."""
        return self._command(agent_id, "sign_off", now)

    def set_not_ready(self, agent_id: str, reason: str, *, now: datetime) -> Outcome:
        """离席 with one of the configured busy reasons."""
        if reason not in self.config.busy_reasons:
            raise AcdError(Refusal.UNKNOWN_REASON, f"{reason!r} is not a configured busy reason")
        return self._command(agent_id, "not_ready", now, reason=reason)

    def set_ready(self, agent_id: str, *, now: datetime) -> Outcome:
        """复席: not_ready → idle."""
        return self._command(agent_id, "ready", now)

    def finish_wrap_up(self, agent_id: str, *, now: datetime) -> Outcome:
        """The agent ends its after-call work before the limit: → idle."""
        return self._command(agent_id, "finish_wrap_up", now)

    # --- supervisor requests (the permission is checked by the caller of the API) -------------

    def force_sign_off(self, agent_id: str, *, by: str, now: datetime) -> Outcome:
        return self._command(agent_id, "force_sign_off", now, by=by)

    def force_ready(self, agent_id: str, *, by: str, now: datetime) -> Outcome:
        return self._command(agent_id, "force_ready", now, by=by)

    def force_logout(self, agent_id: str, *, by: str, now: datetime) -> Outcome:
        """Frees an extension an agent left logged in."""
        return self._run(now, lambda t: self._logout(agent_id, "force_logout", t, by=by))

    # --- what the switch reports about calls ------------------------------------------------

    def caller_joined(
        self, call_id: str, queue: str, *, caller: str = "", now: datetime
    ) -> Outcome:
        """A caller enters `queue` (after the IVR); it is offered at once when a member is idle."""

        def act(t: datetime) -> None:
            if queue not in self._queues:
                raise AcdError(Refusal.UNKNOWN_QUEUE, f"no queue {queue!r}")
            self._check_new_call(call_id)
            config = self._queues[queue].config
            entry = _Caller(call_id, queue, caller, joined_at=t, seq=next(self._caller_seq))
            if config.announce_seconds > 0:
                entry.next_announce = t
            self._callers[call_id] = entry
            self._pending.events.append(
                QueueCallerJoined(
                    queue=queue,
                    call_id=call_id,
                    caller=caller,
                    position=self._position(entry),
                    at=t.isoformat(),
                )
            )

        return self._run(now, act)

    def caller_left(self, call_id: str, *, now: datetime) -> Outcome:
        """The caller hung up before an agent answered (waiting, or while an agent was rung,
        also after a transfer: the target returns to idle in its old place)."""

        def act(t: datetime) -> None:
            if call_id in self._transfers:
                self._withdraw_transfer(call_id, t)
                return
            entry = self._queued(call_id)
            if entry.agent_id:
                agent = self._agents[entry.agent_id]
                self._pending.decisions.append(
                    CancelOffer(call_id, agent.agent_id, agent.extension, "caller_left")
                )
                self._withdraw(agent, t)
            self._leave(entry, "abandoned", t)

        return self._run(now, act)

    def offer_answered(self, call_id: str, *, now: datetime) -> Outcome:
        """The rung agent answered: the caller leaves the queue, the agent talks."""

        def act(t: datetime) -> None:
            entry = self._offered(call_id)
            agent = self._agents[entry.agent_id]
            self._change(agent, "answer", t)
            self._count(agent, t).answered += 1
            agent.answered_at = t
            self._talking[call_id] = agent.agent_id
            self._leave(entry, "answered", t, agent_id=agent.agent_id)

        return self._run(now, act)

    def offer_failed(self, call_id: str, cause: OfferFailure, *, now: datetime) -> Outcome:
        """The rung agent did not take the call: it goes not ready, the caller to the next."""

        def act(t: datetime) -> None:
            self._miss(self._offered(call_id), _FAILURE_TRANSITION[OfferFailure(cause)], t)

        return self._run(now, act)

    def call_ended(self, call_id: str, *, now: datetime) -> Outcome:
        """An answered call ended (either side hung up): the agent goes to after-call work.

        Also for a transferred call and an agent's own call. A call that ends while it rings at
        a transfer target ends that ring as :meth:`caller_left` does."""

        def act(t: datetime) -> None:
            if call_id in self._transfers:
                self._withdraw_transfer(call_id, t)
                return
            if call_id not in self._talking:
                if call_id in self._callers:
                    raise AcdError(
                        Refusal.NOT_ANSWERED,
                        f"call {call_id} was not answered yet: report caller_left",
                    )
                raise AcdError(Refusal.UNKNOWN_CALL, f"no answered call {call_id}")
            self._end_talk(call_id, t)

        return self._run(now, act)

    # --- call control: transfers and the agents' own calls ---------------------------------

    def transfer_to_agent(self, call_id: str, agent_id: str, *, now: datetime) -> Outcome:
        """A call is transferred to `agent_id`, which must be idle.

        The agent talking the call (when the ACD has it) ends its talk as with
        :meth:`call_ended`; the target rings with the call ("transfer_offer") and is offered no
        queue caller until the switch reports :meth:`transfer_answered`,
        :meth:`transfer_failed` or :meth:`caller_left`. The switch rings the target and times
        the ring: no Offer decision, no ACD timer. A call the ACD does not know (e.g. a consult
        leg) is accepted and only reserves the target."""

        def act(t: datetime) -> None:
            target = self._transfer_target(call_id, agent_id)
            if call_id in self._callers:
                raise AcdError(
                    Refusal.NOT_ANSWERED,
                    f"call {call_id} is still queued: only an answered call can be transferred",
                )
            if call_id in self._transfers:
                raise AcdError(
                    Refusal.DUPLICATE_CALL,
                    f"call {call_id} is already being transferred to agent "
                    f"{self._transfers[call_id]}",
                )
            queue = ""
            holder = self._talking.get(call_id)
            if holder is not None:
                queue = self._agents[holder].queue
                self._end_talk(call_id, t)
            key = target.idle_key
            target.call_id, target.queue = call_id, queue
            self._change(target, "transfer_offer", t)
            target.key_before_offer, target.transferred = key, True
            self._transfers[call_id] = agent_id

        return self._run(now, act)

    def transfer_answered(self, call_id: str, *, now: datetime) -> Outcome:
        """The transfer target answered: it talks (answered +1); report call_ended later."""

        def act(t: datetime) -> None:
            agent = self._transfer_ringing(call_id)
            self._change(agent, "answer", t)
            self._count(agent, t).answered += 1
            agent.answered_at = t
            del self._transfers[call_id]
            self._talking[call_id] = agent.agent_id

        return self._run(now, act)

    def transfer_failed(
        self, call_id: str, *, now: datetime, cause: OfferFailure = OfferFailure.NO_ANSWER
    ) -> Outcome:
        """The transfer target did not take the call: it goes not ready as after a missed
        queue offer (missed +1); the call is no longer in the ACD."""

        def act(t: datetime) -> None:
            agent = self._transfer_ringing(call_id)
            self._ring_missed(agent, _FAILURE_TRANSITION[OfferFailure(cause)], t)
            del self._transfers[call_id]

        return self._run(now, act)

    def agent_call_started(self, agent_id: str, call_id: str, *, now: datetime) -> Outcome:
        """The agent's own call (click-to-dial) starts: from idle, not ready or after-call work
        (which it ends) to talking ("outbound"); refused while a call rings or is talked.
        Report :meth:`call_ended` when it ends, :meth:`agent_call_failed` if it never
        connects. Its talk seconds count from now; it counts as no answered offer."""

        def act(t: datetime) -> None:
            agent = self._agents.get(agent_id)
            if agent is None:  # never logged in: refused like any logged-out agent
                check_transition(agent_id, "outbound", S.LOGGED_OUT)
                return
            if agent.state in (S.RINGING, S.TALKING):
                doing = "a call rings at it" if agent.state is S.RINGING else "it is on a call"
                raise AcdError(Refusal.AGENT_BUSY, f"agent {agent_id} is busy: {doing}")
            check_transition(agent_id, "outbound", agent.state)
            self._check_new_call(call_id)
            before = _Before(agent.state, agent.reason, agent.idle_key)
            self._change(agent, "outbound", t, call_id=call_id, queue="")
            agent.call_id, agent.queue, agent.answered_at = call_id, "", t
            agent.before_call = before
            self._talking[call_id] = agent_id

        return self._run(now, act)

    def agent_call_failed(self, call_id: str, *, now: datetime) -> Outcome:
        """The agent's own call never connected: the agent goes back to idle (in its old place
        in the idle order if it was idle; afresh if it was in after-call work) or to not ready
        with the reason it had."""

        def act(t: datetime) -> None:
            agent_id = self._talking.get(call_id)
            agent = self._agents[agent_id] if agent_id is not None else None
            if agent is None or agent.before_call is None:
                if agent is not None:
                    raise AcdError(
                        Refusal.UNKNOWN_CALL,
                        f"call {call_id} is not an agent's own call: report call_ended",
                    )
                raise AcdError(Refusal.UNKNOWN_CALL, f"no own call {call_id} of an agent")
            before = agent.before_call
            if before.state is S.NOT_READY:
                self._change(agent, "outbound_failed_not_ready", t, reason=before.reason)
            else:
                self._change(agent, "outbound_failed", t)
                if before.state is S.IDLE:
                    agent.idle_key = before.idle_key
            del self._talking[call_id]
            self._clear_call(agent)

        return self._run(now, act)

    def tick(self, now: datetime) -> Outcome:
        """Run the timers due by `now`: ring timeouts, wrap-up limits, maximum waits and
        position announcements, each at its own deadline. Call it at :meth:`next_deadline`."""
        return self._run(now, lambda t: None)

    def next_deadline(self) -> datetime | None:
        """When the next timer falls due (None: no timer runs)."""
        timer = self._next_timer()
        return timer[0] if timer is not None else None

    # --- configuration ----------------------------------------------------------------------

    def set_queue(self, config: QueueConfig, *, now: datetime) -> Outcome:
        """Add a queue or replace its configuration; its callers stay and are routed again."""

        def act(t: datetime) -> None:
            current = self._queues.get(config.name)
            if current is None:
                self._queues[config.name] = self._new_queue(config)
            else:
                current.config = config
                current.handle_times = deque(current.handle_times, self.config.handle_history)

        return self._run(now, act)

    def remove_queue(self, name: str, *, now: datetime) -> Outcome:
        def act(t: datetime) -> None:
            if name not in self._queues:
                raise AcdError(Refusal.UNKNOWN_QUEUE, f"no queue {name!r}")
            if any(c.queue == name for c in self._callers.values()):
                raise AcdError(Refusal.QUEUE_NOT_EMPTY, f"callers are waiting in {name!r}")
            del self._queues[name]

        return self._run(now, act)

    # --- reads (they do not run timers: tick first for up-to-date states) ---------------------

    def agent(self, agent_id: str, *, now: datetime) -> AgentView | None:
        agent = self._agents.get(agent_id)
        return self._agent_view(agent, now) if agent is not None else None

    def agents(self, *, now: datetime) -> list[AgentView]:
        """Every agent that logged in since the switch started (T7), by agent ID."""
        return [self._agent_view(a, now) for _, a in sorted(self._agents.items())]

    def queue(self, name: str, *, now: datetime) -> QueueView | None:
        queue = self._queues.get(name)
        return self._queue_view(queue, now) if queue is not None else None

    def queues(self, *, now: datetime) -> list[QueueView]:
        return [self._queue_view(q, now) for _, q in sorted(self._queues.items())]

    def agent_transitions(self, agent_id: str, who: Iterable[Who] = (Who.AGENT,)) -> list[str]:
        """The transitions `who` may start for this agent now (the agent bar's buttons)."""
        agent = self._agents.get(agent_id)
        return available_transitions(agent.state if agent else S.LOGGED_OUT, who)

    # --- internals: requests ----------------------------------------------------------------

    def _run(self, now: datetime, act: Callable[[datetime], None]) -> Outcome:
        if now.tzinfo is None:
            raise ValueError("the ACD needs aware datetimes")
        # A clock that steps back does not undo what happened: time never runs backwards here.
        t = now if self._time is None or now > self._time else self._time
        self._advance(t)
        act(t)
        self._route(t)
        self._advance(t)  # timers of zero length that the request started (wrap-up 0 s)
        outcome, self._pending = self._pending, Outcome()
        return outcome

    def _command(
        self, agent_id: str, name: str, now: datetime, *, reason: str = "", by: str = ""
    ) -> Outcome:
        def act(t: datetime) -> None:
            agent = self._agents.get(agent_id)
            if agent is None:  # never logged in: refused like any logged-out agent
                check_transition(agent_id, name, S.LOGGED_OUT)
                return
            self._change(agent, name, t, reason=reason, by=by)

        return self._run(now, act)

    def _logout(self, agent_id: str, name: str, t: datetime, *, by: str) -> None:
        agent = self._agents.get(agent_id)
        if agent is None:
            check_transition(agent_id, name, S.LOGGED_OUT)
            return
        self._change(agent, name, t, by=by)
        self._by_extension.pop(agent.extension, None)
        agent.extension = ""

    def _queued(self, call_id: str) -> _Caller:
        entry = self._callers.get(call_id)
        if entry is None:
            if call_id in self._transfers:
                raise AcdError(
                    Refusal.UNKNOWN_CALL,
                    f"call {call_id} rings at agent {self._transfers[call_id]} after a transfer: "
                    "report transfer_answered or transfer_failed",
                )
            if call_id in self._talking:
                raise AcdError(
                    Refusal.UNKNOWN_CALL, f"call {call_id} was answered: report call_ended"
                )
            raise AcdError(Refusal.UNKNOWN_CALL, f"call {call_id} is not queued")
        return entry

    def _offered(self, call_id: str) -> _Caller:
        entry = self._queued(call_id)
        if not entry.agent_id:
            raise AcdError(Refusal.NOT_OFFERED, f"call {call_id} is not ringing at an agent")
        return entry

    def _check_new_call(self, call_id: str) -> None:
        if call_id in self._callers or call_id in self._talking or call_id in self._transfers:
            raise AcdError(Refusal.DUPLICATE_CALL, f"call {call_id} is already in the ACD")

    def _transfer_target(self, call_id: str, agent_id: str) -> _Agent:
        """The agent `agent_id` if it can take a transfer of `call_id` (it is idle)."""
        target = self._agents.get(agent_id)
        if target is None:
            raise AcdError(
                Refusal.UNKNOWN_AGENT,
                f"agent {agent_id} is unknown: it has not logged in since the switch started",
            )
        if agent_id in (self._talking.get(call_id), self._transfers.get(call_id)):
            raise AcdError(Refusal.TARGET_BUSY, f"agent {agent_id} already has call {call_id}")
        if target.state is not S.IDLE:
            code, why = _TARGET_REFUSALS[target.state]
            if target.state is S.NOT_READY:
                why = f"{why} ({target.reason})"
            raise AcdError(code, f"agent {agent_id} cannot take the transfer: it {why}")
        return target

    def _transfer_ringing(self, call_id: str) -> _Agent:
        """The agent that call `call_id` rings at after a transfer."""
        agent_id = self._transfers.get(call_id)
        if agent_id is not None:
            return self._agents[agent_id]
        if call_id in self._talking:
            raise AcdError(
                Refusal.NOT_OFFERED,
                f"call {call_id} is not ringing at a transfer target: it is being talked",
            )
        if call_id in self._callers:
            raise AcdError(Refusal.NOT_OFFERED, f"call {call_id} is queued, not transferred")
        raise AcdError(Refusal.UNKNOWN_CALL, f"call {call_id} is not being transferred")

    # --- internals: state changes -----------------------------------------------------------

    def _change(
        self,
        agent: _Agent,
        name: str,
        t: datetime,
        *,
        reason: str = "",
        by: str = "",
        call_id: str | None = None,
        queue: str | None = None,
    ) -> None:
        """Carry out one row of the transition table (or refuse it), and record it.

        The record carries the agent's call, or `call_id` / `queue` when given (a new call that
        the agent takes on only once the old state, with its call, has ended)."""
        transition = check_transition(agent.agent_id, name, agent.state)
        new_reason = ""
        if transition.target is S.NOT_READY:
            new_reason = reason if transition.reason is None else transition.reason
        if transition.target is agent.state and new_reason == agent.reason:
            return  # e.g. sign off when signed off: nothing changes, nothing to record
        change = AgentStateChange(
            agent_id=agent.agent_id,
            extension=agent.extension,
            old_state=agent.state,
            new_state=transition.target,
            old_reason=agent.reason,
            reason=new_reason,
            transition=name,
            at=t,
            duration=_seconds(agent.since, t),
            call_id=agent.call_id if call_id is None else call_id,
            queue=agent.queue if queue is None else queue,
            by=by,
        )
        leaving_wrap_up = agent.state is S.AFTER_CALL_WORK
        agent.state, agent.reason, agent.since = transition.target, new_reason, t
        agent.idle_key = (t, next(self._idle_seq)) if agent.state is S.IDLE else None
        if leaving_wrap_up:
            self._wrap_up_ended(agent, t)
        self._pending.changes.append(change)
        self._pending.events.append(change.to_event())

    def _wrap_up_ended(self, agent: _Agent, t: datetime) -> None:
        queue = self._queues.get(agent.queue)
        # a transferred call counts once, with the agent that answered it from the queue
        if queue is not None and agent.answered_at is not None and not agent.transferred:
            queue.handle_times.append(_seconds(agent.answered_at, t))
        self._clear_call(agent)

    def _end_talk(self, call_id: str, t: datetime) -> None:
        """The agent talking `call_id` goes to after-call work; its talk time counts."""
        agent = self._agents[self._talking[call_id]]
        self._change(agent, "call_end", t)
        del self._talking[call_id]
        if agent.answered_at is not None:
            self._count(agent, t).talk_seconds += _seconds(agent.answered_at, t)
        agent.before_call = None
        agent.wrap_up_until = t + timedelta(seconds=self._wrap_up_seconds(agent.queue))

    def _withdraw(self, agent: _Agent, t: datetime) -> None:
        """The call that rings at `agent` is gone: idle again, in its old place."""
        self._change(agent, "withdraw", t)
        agent.idle_key = agent.key_before_offer or agent.idle_key
        self._clear_call(agent)

    def _withdraw_transfer(self, call_id: str, t: datetime) -> None:
        self._withdraw(self._agents[self._transfers[call_id]], t)
        del self._transfers[call_id]

    def _ring_missed(self, agent: _Agent, transition: str, t: datetime) -> None:
        """The agent did not take the call that rang: not ready (missed), missed +1."""
        self._change(agent, transition, t)
        self._count(agent, t).missed += 1
        self._clear_call(agent)

    @staticmethod
    def _clear_call(agent: _Agent) -> None:
        agent.call_id = agent.queue = ""
        agent.answered_at = agent.wrap_up_until = agent.key_before_offer = None
        agent.transferred, agent.before_call = False, None

    def _count(self, agent: _Agent, t: datetime) -> _Agent:
        """The agent, with its counters reset when `t` is on a later day than they count."""
        day = t.astimezone(self.config.timezone).date()
        if agent.day != day:
            agent.day, agent.answered, agent.missed, agent.talk_seconds = day, 0, 0, 0.0
        return agent

    # --- internals: routing -----------------------------------------------------------------

    def _route(self, t: datetime) -> None:
        """Offer waiting callers, longest waiting first, each to the longest-idle idle member of
        its queue; then overflow waiting callers that reached their queue's maximum wait."""
        for entry in list(self._callers.values()):
            if not entry.agent_id:
                agent = self._longest_idle(entry.queue)
                if agent is not None:
                    self._offer(entry, agent, t)
        for entry in list(self._callers.values()):
            config = self._queues[entry.queue].config
            if entry.agent_id or config.max_wait_seconds is None or config.overflow is None:
                continue
            if t >= entry.joined_at + timedelta(seconds=config.max_wait_seconds):
                self._pending.decisions.append(
                    Overflow(
                        entry.call_id, entry.queue, config.overflow, _seconds(entry.joined_at, t)
                    )
                )
                self._leave(entry, "overflow", t)

    def _longest_idle(self, queue: str) -> _Agent | None:
        best: _Agent | None = None
        for agent_id in self._queues[queue].config.members:
            agent = self._agents.get(agent_id)
            if agent is None or agent.state is not S.IDLE or agent.idle_key is None:
                continue
            if best is None or best.idle_key is None or agent.idle_key < best.idle_key:
                best = agent
        return best

    def _offer(self, entry: _Caller, agent: _Agent, t: datetime) -> None:
        key = agent.idle_key
        agent.call_id, agent.queue = entry.call_id, entry.queue
        self._change(agent, "offer", t)
        agent.key_before_offer = key
        ring = self._queues[entry.queue].config.ring_seconds or self.config.ring_seconds
        entry.agent_id = agent.agent_id
        entry.ring_until = t + timedelta(seconds=ring)
        self._pending.decisions.append(
            Offer(entry.call_id, entry.queue, agent.agent_id, agent.extension, ring)
        )
        self._pending.events.append(
            QueueCallerOffered(
                queue=entry.queue,
                call_id=entry.call_id,
                agent_id=agent.agent_id,
                extension=agent.extension,
                at=t.isoformat(),
            )
        )

    def _miss(self, entry: _Caller, transition: str, t: datetime) -> None:
        self._ring_missed(self._agents[entry.agent_id], transition, t)
        entry.agent_id = ""
        entry.ring_until = None
        if entry.next_announce is not None:
            entry.next_announce = max(entry.next_announce, t)

    def _leave(self, entry: _Caller, reason: str, t: datetime, *, agent_id: str = "") -> None:
        del self._callers[entry.call_id]
        self._pending.events.append(
            QueueCallerLeft(
                queue=entry.queue,
                call_id=entry.call_id,
                reason=reason,
                waited=_seconds(entry.joined_at, t),
                agent_id=agent_id,
                at=t.isoformat(),
            )
        )

    # --- internals: timers ------------------------------------------------------------------

    def _next_timer(self) -> tuple[datetime, int, int, str] | None:
        timers: list[tuple[datetime, int, int, str]] = []
        for entry in self._callers.values():
            config = self._queues[entry.queue].config
            if entry.agent_id:
                if entry.ring_until is not None:
                    timers.append((entry.ring_until, _RING, entry.seq, entry.call_id))
                continue
            if config.max_wait_seconds is not None and config.overflow is not None:
                deadline = entry.joined_at + timedelta(seconds=config.max_wait_seconds)
                timers.append((deadline, _MAX_WAIT, entry.seq, entry.call_id))
            if entry.next_announce is not None and config.announce_seconds > 0:
                timers.append((entry.next_announce, _ANNOUNCE, entry.seq, entry.call_id))
        for agent in self._agents.values():
            if agent.state is S.AFTER_CALL_WORK and agent.wrap_up_until is not None:
                timers.append((agent.wrap_up_until, _WRAP_UP, 0, agent.agent_id))
        return min(timers, default=None)

    def _advance(self, now: datetime) -> None:
        """Run every timer due by `now`, in time order, each at its own deadline."""
        last = None
        while (timer := self._next_timer()) is not None and timer[0] <= now:
            if timer == last:  # a handler that leaves its timer due would loop forever
                raise RuntimeError(f"ACD timer {timer} did not move")
            last = timer
            due, kind, _, key = timer
            t = due if self._time is None or due > self._time else self._time
            self._time = t
            if kind == _RING:
                entry = self._callers[key]
                agent = self._agents[entry.agent_id]
                self._pending.decisions.append(
                    CancelOffer(key, agent.agent_id, agent.extension, "ring_timeout")
                )
                self._miss(entry, "ring_timeout", t)
            elif kind == _WRAP_UP:
                self._change(self._agents[key], "wrap_up_timeout", t)
            elif kind == _ANNOUNCE:
                self._announce(self._callers[key], t)
            self._route(t)  # _MAX_WAIT: routing overflows the caller
        self._time = now

    def _announce(self, entry: _Caller, t: datetime) -> None:
        config = self._queues[entry.queue].config
        position = self._position(entry)
        expected = self._expected_wait(entry.queue, position)
        entry.next_announce = t + timedelta(seconds=config.announce_seconds)
        self._pending.decisions.append(Announce(entry.call_id, entry.queue, position, expected))
        self._pending.events.append(
            QueueCallerPosition(
                queue=entry.queue,
                call_id=entry.call_id,
                position=position,
                expected_wait=expected,
                at=t.isoformat(),
            )
        )

    # --- internals: figures -----------------------------------------------------------------

    def _new_queue(self, config: QueueConfig) -> _Queue:
        return _Queue(config, deque(maxlen=self.config.handle_history))

    def _wrap_up_seconds(self, queue: str) -> float:
        entry = self._queues.get(queue)
        override = entry.config.wrap_up_seconds if entry is not None else None
        return self.config.wrap_up_seconds if override is None else override

    def _position(self, entry: _Caller) -> int:
        """1 + the callers of the same queue that joined earlier (waiting or being offered)."""
        return 1 + sum(
            1 for c in self._callers.values() if c.queue == entry.queue and c.seq < entry.seq
        )

    def _staffed(self, queue: str) -> tuple[int, int]:
        staffed = idle = 0
        for agent_id in self._queues[queue].config.members:
            agent = self._agents.get(agent_id)
            if agent is not None and agent.state in SIGNED_ON:
                staffed += 1
                idle += agent.state is S.IDLE
        return staffed, idle

    def _expected_wait(self, queue: str, position: int) -> float | None:
        """position × mean handle time (answer to end of wrap-up) ÷ members signed on."""
        staffed, _ = self._staffed(queue)
        if staffed == 0:
            return None
        times = self._queues[queue].handle_times
        handle = sum(times) / len(times) if times else self.config.default_handle_seconds
        return round(handle * position / staffed, 1)

    def _agent_view(self, agent: _Agent, now: datetime) -> AgentView:
        day = now.astimezone(self.config.timezone).date()
        today = agent.day == day
        return AgentView(
            agent_id=agent.agent_id,
            extension=agent.extension,
            state=agent.state,
            reason=agent.reason,
            since=agent.since,
            seconds_in_state=_seconds(agent.since, now),
            idle_since=agent.idle_key[0] if agent.idle_key else None,
            call_id=agent.call_id,
            queue=agent.queue,
            wrap_up_until=agent.wrap_up_until,
            queues=tuple(
                name
                for name, q in sorted(self._queues.items())
                if agent.agent_id in q.config.members
            ),
            counters=AgentCounters(
                day=day,
                answered=agent.answered if today else 0,
                missed=agent.missed if today else 0,
                talk_seconds=agent.talk_seconds if today else 0.0,
            ),
        )

    def _queue_view(self, queue: _Queue, now: datetime) -> QueueView:
        name = queue.config.name
        callers = [c for c in self._callers.values() if c.queue == name]
        staffed, idle = self._staffed(name)
        return QueueView(
            name=name,
            members=queue.config.members,
            callers=tuple(
                CallerView(
                    call_id=c.call_id,
                    caller=c.caller,
                    joined_at=c.joined_at,
                    waited=_seconds(c.joined_at, now),
                    position=i,
                    agent_id=c.agent_id,
                )
                for i, c in enumerate(callers, start=1)
            ),
            staffed=staffed,
            idle=idle,
            longest_wait=max((_seconds(c.joined_at, now) for c in callers), default=0.0),
            expected_wait=self._expected_wait(name, len(callers) + 1),
        )
