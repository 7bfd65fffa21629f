"""Reads of the agent desktop and the monitor: the switch's view of agents, calls and queues
(through the callcenter client, in the calling thread: views are synchronous and Django runs
them off the event loop), and today's missed calls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django.contrib.auth.models import Permission
from django.db.models import Q
from django.utils import timezone

from aqualine.accounts.models import User
from aqualine.callcenter.client import SwitchClient, SwitchUnavailable
from aqualine.callcenter.models import CallRecord, Queue
from aqualine.desk.models import MissedCallHandled
from aqualine.telephony.acd.states import AgentState, Who, available_transitions

# What the desktop's buttons may send, and the supervisor's buttons on the monitor.
AGENT_COMMANDS = (
    "login",
    "logout",
    "sign_on",
    "sign_off",
    "not_ready",
    "ready",
    "finish_wrap_up",
)
SUPERVISOR_COMMANDS = ("force_sign_off", "force_ready")
MISSED_OUTCOMES = ("abandoned", "missed")
# Call control on the agent's own current call (the desktop's call bar).
CALL_COMMANDS = (
    "hold",
    "unhold",
    "transfer",
    "consult",
    "complete_transfer",
    "conference",
    "cancel_consult",
)
TARGET_COMMANDS = ("transfer", "consult")  # these name whom to: an agent, extension or number
TARGET_KINDS = ("agent", "extension", "number")
SUPERVISE_MODES = ("listen", "whisper", "barge")


def command_table(who: Who = Who.AGENT) -> dict[str, list[str]]:
    """State -> the commands that can work in it, from the ACD's transition table (declared
    once in `aqualine.telephony.acd.states`): a button is enabled only when it can work."""
    wanted = AGENT_COMMANDS if who is Who.AGENT else SUPERVISOR_COMMANDS
    return {
        state.value: [name for name in available_transitions(state, (who,)) if name in wanted]
        for state in AgentState
    }


def _logged_out(agent_id: str) -> dict[str, Any]:
    return {
        "agent_id": agent_id,
        "extension": "",
        "state": AgentState.LOGGED_OUT.value,
        "reason": "",
        "since": None,
        "seconds_in_state": None,
        "call_id": "",
        "queue": "",
        "wrap_up_until": None,
        "answered_today": 0,
        "missed_today": 0,
        "talk_seconds_today": 0,
    }


def _call_view(call: dict[str, Any] | None) -> dict[str, Any] | None:
    if call is None:
        return None
    return {
        "call_id": call.get("call_id", ""),
        "caller": call.get("caller", ""),
        "callee": call.get("callee", ""),
        "direction": call.get("direction", ""),
        "started_at": call.get("started_at"),
        "control": _control_of(call),
    }


def _control_of(call: dict[str, Any]) -> dict[str, Any] | None:
    """The call's hold/consult/conference state as the switch keeps it (so a reloaded desk
    shows it): a hotline call's session, or a click-to-dial call itself."""
    session = call.get("session")
    source = session if isinstance(session, dict) else call
    if call.get("direction") != "outbound" and source is call:
        return None  # a hotline call without its session: nothing known
    held = source.get("held")
    if not isinstance(held, bool):
        return None
    return {
        "held": held,
        "conference": bool(source.get("conference")),
        "consult": source.get("consult"),
    }


def agent_desk_state(*, agent_id: str, client: SwitchClient | None = None) -> dict[str, Any]:
    """One agent's state for the desktop: {switch_ok, now, agent, call}."""
    client = client or SwitchClient()
    now = timezone.now().isoformat()
    try:
        agents = client.agents()
        view = next((a for a in agents if a.get("agent_id") == agent_id), None)
        call = None
        if view is not None and view.get("call_id"):
            call = next((c for c in client.calls() if c.get("call_id") == view["call_id"]), None)
    except SwitchUnavailable:
        return {"switch_ok": False, "now": now, "agent": _logged_out(agent_id), "call": None}
    return {
        "switch_ok": True,
        "now": now,
        "agent": view or _logged_out(agent_id),
        "call": _call_view(call),
    }


def transfer_targets(*, agent_id: str, client: SwitchClient | None = None) -> dict[str, Any]:
    """The agents a call can be transferred to or consulted with: every other agent logged in
    to the queue, with their state (only an idle one can take it), idle ones first."""
    client = client or SwitchClient()
    try:
        live_agents = client.agents()
    except SwitchUnavailable:
        return {"switch_ok": False, "agents": []}
    others = [
        a
        for a in live_agents
        if a.get("agent_id") != agent_id and a.get("state") not in (None, "logged_out")
    ]
    names = dict(
        User.objects.filter(agent_id__in=[a["agent_id"] for a in others]).values_list(
            "agent_id", "name"
        )
    )
    agents = [
        {
            "agent_id": a["agent_id"],
            "name": names.get(a["agent_id"], ""),
            "extension": a.get("extension", ""),
            "state": a.get("state", ""),
        }
        for a in others
    ]
    agents.sort(key=lambda a: (a["state"] != AgentState.IDLE.value, a["agent_id"]))
    return {"switch_ok": True, "agents": agents}


def own_extension(*, agent_id: str, client: SwitchClient) -> str:
    """The extension the agent is logged in on ("" when not logged in)."""
    view = next((a for a in client.agents() if a.get("agent_id") == agent_id), None)
    return str(view.get("extension") or "") if view is not None else ""


def desk_agents() -> list[User]:
    """The staff who may use the desktop (the monitor lists them, logged in or not)."""
    permission = Permission.objects.filter(
        content_type__app_label="desk", codename="use_desktop"
    ).first()
    if permission is None:
        return []
    return list(
        User.objects.filter(
            Q(groups__permissions=permission) | Q(user_permissions=permission), is_active=True
        )
        .distinct()
        .order_by("agent_id")
    )


def queue_names() -> dict[str, str]:
    """Queue name -> the name people see."""
    return {
        name: display or name for name, display in Queue.objects.values_list("name", "display_name")
    }


def monitor_state(*, client: SwitchClient | None = None) -> dict[str, Any]:
    """Every agent (state, time in it, current call, today's counts) and every queue."""
    client = client or SwitchClient()
    now = timezone.now().isoformat()
    try:
        live_agents = client.agents()
        calls = {c.get("call_id"): c for c in client.calls()}
        queues = client.queues()
        switch_ok = True
    except SwitchUnavailable:
        live_agents, calls, queues, switch_ok = [], {}, [], False
    by_id = {str(a.get("agent_id")): a for a in live_agents}
    people = {u.agent_id: u.name for u in desk_agents()}
    for agent_id in by_id:
        if agent_id not in people:
            user = User.objects.filter(agent_id__iexact=agent_id).first()
            people[agent_id] = user.name if user is not None else ""
    agents = []
    for agent_id in sorted(people):
        view = dict(by_id.get(agent_id) or _logged_out(agent_id))
        view["name"] = people[agent_id]
        view["call"] = _call_view(calls.get(view.get("call_id"))) if view.get("call_id") else None
        agents.append(view)
    names = queue_names()
    for queue in queues:
        queue["display_name"] = names.get(str(queue.get("name"))) or queue.get("name")
    return {"switch_ok": switch_ok, "now": now, "agents": agents, "queues": queues}


@dataclass(frozen=True)
class MissedCall:
    record: CallRecord
    handled: MissedCallHandled | None


def missed_calls_today(*, now: datetime | None = None, limit: int = 200) -> list[MissedCall]:
    """未接来电: today's inbound calls that no agent answered (abandoned in the queue or while
    an agent's phone rang, or missed: the queue gave up), newest first, with who handled them."""
    local = timezone.localtime(now or timezone.now())
    start = timezone.make_aware(datetime.combine(local.date(), time.min), local.tzinfo)
    records = list(
        CallRecord.objects.filter(
            direction=CallRecord.Direction.INBOUND,
            outcome__in=MISSED_OUTCOMES,
            started_at__gte=start,
        ).order_by("-started_at")[:limit]
    )
    handled = {
        h.call_id: h
        for h in MissedCallHandled.objects.filter(
            call_id__in=[r.call_id for r in records]
        ).select_related("handled_by")
    }
    return [MissedCall(r, handled.get(r.call_id)) for r in records]
