"""The ACD (automatic call distribution): queues, longest-idle routing, the agent state machine.

Pure code (requirements T2, T3, T5, T6, T7): no sockets, no asyncio, no clock of its own. The
switch tells an :class:`Acd` what happened — agent requests, call outcomes, the passing of time —
each with `now` (an aware datetime), and gets back an :class:`Outcome`:

- ``decisions`` to carry out: :class:`Offer` (ring this agent with this caller),
  :class:`CancelOffer` (stop ringing), :class:`Overflow` (the caller waited the maximum: carry
  out the queue's action), :class:`Announce` (tell the caller its position and expected wait);
- ``changes``: one :class:`AgentStateChange` per state change, for the agent-state history
  (agent, old → new state and reasons, transition, at, duration of the old state);
- ``events`` to publish: ``agent.state_changed`` and ``queue.*`` (``api/events.py``).

Agent states and transitions are declared once in :mod:`.states` (with the meaning of sign on /
sign off, 上号/下号). The rules:

**Longest idle (最大空闲时间).** An agent's *idle since* is the moment it last entered ``idle``:
the end of its last after-call work (finished or timed out), or when it signed on / came back
ready (复席) — time spent not ready does not count as idle. Routing offers a caller to the idle
member of its queue with the earliest *idle since*; ties go to whoever entered ``idle`` first
(the ACD numbers those entries). Two exceptions keep this fair: an agent whose offer is withdrawn
because the caller hung up while it rang returns to ``idle`` with its old *idle since* (it got no
call); an agent whose ring went unanswered goes ``not_ready`` (reason ``missed``) and starts
afresh when it comes back.

**Which caller.** Callers are served longest-waiting first (time of joining the queue, then
order of arrival). When an agent becomes idle and is a member of several queues, it gets the
caller that has waited longest across all of them. A caller is offered to one agent at a time;
when that agent does not take the call (ring timeout, declined, unreachable) the agent goes
``not_ready`` and the caller keeps its place and goes to the next longest-idle member.

**After-call work.** When an answered call ends the agent is in ``after_call_work`` until it
finishes (``finish_wrap_up``) or the limit runs out (the queue's ``wrap_up_seconds``, else
``AcdConfig.wrap_up_seconds``, 30 s in the demo); a limit of 0 means straight back to idle.

**Timers.** Ring timeouts, wrap-up limits, maximum waits and position announcements are deadlines
the ACD keeps; each request first runs the timers due by its `now`, each at its own deadline
(records carry the deadline, not the moment the owner noticed), so the outcome does not depend
on how often the owner calls :meth:`Acd.tick`. The owner calls ``tick(now)`` at
:meth:`Acd.next_deadline` (and whenever it likes). Time never runs backwards: a `now` earlier
than the last one counts as the last one.

**Maximum wait.** A waiting caller (not one being rung) that has waited the queue's
``max_wait_seconds`` leaves the queue with an :class:`Overflow` decision carrying the queue's
action (message / voicemail / transfer target); a caller whose maximum passes while it is being
rung is overflowed when that ring fails and no other member is idle.

**Positions.** Position = 1 + callers of the same queue that joined earlier (waiting or being
rung). Expected wait = position × mean handle time (answer to end of wrap-up, over the queue's
last ``AcdConfig.handle_history`` calls, else ``default_handle_seconds``) ÷ members signed on;
unknown (None) when no member is signed on. With ``announce_seconds`` > 0 a caller that is still
waiting after routing hears its position on joining and then every ``announce_seconds``.

**Transfers.** :meth:`Acd.transfer_to_agent` reserves an idle agent for a call transferred to
it (refused otherwise: ``target_busy`` when it rings, talks or wraps up, ``target_not_ready``,
``target_logged_out``, ``unknown_agent`` for an agent that never logged in, ``target_busy`` for
the agent that has the call). The agent that talked the call ends its talk as with
``call_ended``; the target rings (``transfer_offer``) and gets no queue caller until the switch,
which rings it and times the ring, reports ``transfer_answered`` (→ talking, answered +1),
``transfer_failed`` (→ not ready as after a missed offer, missed +1) or ``caller_left`` /
``call_ended`` (→ idle in its old place, as a withdrawn offer). A transferred call's handle time
is that of the agent that answered it from the queue; the target's is not counted again.

**The agents' own calls** (click-to-dial). :meth:`Acd.agent_call_started` puts an agent that is
idle, not ready or in after-call work (which ends) on the call (``outbound`` → talking; refused
``agent_busy`` while a call rings or is talked); ``call_ended`` then gives after-call work as for
any call (the queue-less wrap-up limit, talk seconds from the start of the call, no answered
offer counted). :meth:`Acd.agent_call_failed` (never connected) takes the agent back: to idle
with its old *idle since* if it was idle (it got no call, as a withdrawn offer), to idle afresh
if it was in after-call work, to not ready with its old reason.

**Today's counters** per agent: answered, missed, talk seconds (a call counts on the day it
ends), "today" in ``AcdConfig.timezone``.
"""

from aqualine.telephony.acd.engine import Acd, OfferFailure
from aqualine.telephony.acd.model import (
    AcdConfig,
    AgentCounters,
    AgentStateChange,
    AgentView,
    Announce,
    CallerView,
    CancelOffer,
    Decision,
    Offer,
    Outcome,
    Overflow,
    OverflowAction,
    OverflowKind,
    QueueConfig,
    QueueView,
)
from aqualine.telephony.acd.states import (
    AGENT_TRANSITIONS,
    MISSED,
    SIGNED_OFF,
    SYSTEM_REASONS,
    UNREACHABLE,
    AcdError,
    AgentState,
    Refusal,
    Transition,
    TransitionRefused,
    Who,
    available_transitions,
    check_transition,
)

__all__ = [
    "AGENT_TRANSITIONS",
    "MISSED",
    "SIGNED_OFF",
    "SYSTEM_REASONS",
    "UNREACHABLE",
    "Acd",
    "AcdConfig",
    "AcdError",
    "AgentCounters",
    "AgentState",
    "AgentStateChange",
    "AgentView",
    "Announce",
    "CallerView",
    "CancelOffer",
    "Decision",
    "Offer",
    "OfferFailure",
    "Outcome",
    "Overflow",
    "OverflowAction",
    "OverflowKind",
    "QueueConfig",
    "QueueView",
    "Refusal",
    "Transition",
    "TransitionRefused",
    "Who",
    "available_transitions",
    "check_transition",
]
