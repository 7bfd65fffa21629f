"""The wallboard's figures (B7, X1): one snapshot, a plain JSON-able dict, for every screen.

Today is the local day (settings.TIME_ZONE) of `now`, [midnight, next midnight).

Calls — call records that started today, with the definitions of the call-centre report
(`aqualine.reports.selectors.calls`): inbound / outbound by direction; answered = inbound calls
an agent answered; abandoned = inbound calls the caller hung up while queued or ringing;
service level (服务水平) = answered with a wait <= N s ÷ (answered + abandoned after more than
N s + missed), N = the system parameter `communication.service_level_seconds` (the call
report's threshold, 20 s by default); None with no such call.

Work orders — totals: `new` orders created today, `open` orders not closed (whenever they were
created), `pending_dispatch` orders not yet dispatched, `overdue` orders with an open department
task (waiting or signed for) past its deadline. By department (the department of the task):
`new` orders dispatched to it today, `open` orders with an open task of it, `overdue` orders with
an open task of it past its deadline; departments with nothing in any column are left out, the
busiest MAX_DEPARTMENTS are shown and the rest summed in one row.

Switch — from the control API (`SwitchClient.agents()` / `.queues()`): agents logged in (any
state but logged_out), talking (ringing or talking: on a call), idle, not ready (示忙), after-call
work; callers waiting in every queue and the longest wait in seconds. When the switch does not
answer: {"up": False} and no figures.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aqualine.accounts.models import Department
from aqualine.callcenter.client import SwitchUnavailable
from aqualine.callcenter.models import CallRecord
from aqualine.reports.selectors.calls import CallFigures, service_level_threshold
from aqualine.workorders.models import DepartmentTask, WorkOrder

MAX_DEPARTMENTS = 6
INBOUND = CallRecord.Direction.INBOUND
OUTBOUND = CallRecord.Direction.OUTBOUND


class SwitchReader(Protocol):
    def agents(self) -> list[dict[str, Any]]: ...

    def queues(self) -> list[dict[str, Any]]: ...


def today_bounds(now: datetime) -> tuple[datetime, datetime]:
    """Local midnight of `now`'s day and the next one."""
    zone = timezone.get_current_timezone()
    day = timezone.localdate(now, zone)
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()), zone)
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), datetime.min.time()), zone)
    return start, end


def calls_today(*, now: datetime) -> dict[str, Any]:
    start, end = today_bounds(now)
    threshold = service_level_threshold()
    inbound = Q(direction=INBOUND)
    in_time = Q(wait_seconds__isnull=True) | Q(wait_seconds__lte=threshold)
    answered = inbound & Q(outcome="answered")
    abandoned = inbound & Q(outcome="abandoned")
    row = CallRecord.objects.filter(started_at__gte=start, started_at__lt=end).aggregate(
        inbound=Count("id", filter=inbound),
        outbound=Count("id", filter=Q(direction=OUTBOUND)),
        answered=Count("id", filter=answered),
        answered_in_time=Count("id", filter=answered & in_time),
        abandoned=Count("id", filter=abandoned),
        short_abandoned=Count("id", filter=abandoned & in_time),
        missed=Count("id", filter=inbound & Q(outcome="missed")),
    )
    figures = CallFigures(**row)  # the report's own formula for the service level
    return {
        "inbound": figures.inbound,
        "outbound": figures.outbound,
        "answered": figures.answered,
        "abandoned": figures.abandoned,
        "service_level": figures.service_level,
        "service_level_seconds": threshold,
    }


def orders_today(*, now: datetime) -> dict[str, Any]:
    start, end = today_bounds(now)
    open_tasks = Q(status__in=DepartmentTask.OPEN_STATUSES)
    late = open_tasks & Q(deadline__lt=now)
    totals = WorkOrder.objects.aggregate(
        new=Count("id", filter=Q(created_at__gte=start, created_at__lt=end)),
        open=Count("id", filter=Q(status__in=WorkOrder.OPEN_STATUSES)),
        pending_dispatch=Count("id", filter=Q(status=WorkOrder.Status.PENDING_DISPATCH)),
    )
    totals["overdue"] = WorkOrder.objects.filter(
        Exists(DepartmentTask.objects.filter(late, order=OuterRef("pk")))
    ).count()

    dispatched_today = Q(dispatched_at__gte=start, dispatched_at__lt=end)
    rows = list(
        DepartmentTask.objects.filter(open_tasks | dispatched_today)
        .values("department_id")
        .annotate(
            new=Count("order_id", filter=dispatched_today, distinct=True),
            open=Count("order_id", filter=open_tasks, distinct=True),
            overdue=Count("order_id", filter=late, distinct=True),
        )
        .order_by()
    )
    departments = Department.objects.in_bulk([r["department_id"] for r in rows])
    rows.sort(
        key=lambda r: (
            -r["overdue"],
            -r["open"],
            -r["new"],
            departments[r["department_id"]].sort_order,
            departments[r["department_id"]].name,
        )
    )
    shown = [
        {
            "name": departments[r["department_id"]].name,
            "new": r["new"],
            "open": r["open"],
            "overdue": r["overdue"],
        }
        for r in rows[:MAX_DEPARTMENTS]
    ]
    rest = rows[MAX_DEPARTMENTS:]
    if rest:
        shown.append(
            {
                "name": _("Other departments (%(count)d)") % {"count": len(rest)},
                **{key: sum(r[key] for r in rest) for key in ("new", "open", "overdue")},
            }
        )
    return {**totals, "departments": shown}


def switch_figures(*, client: SwitchReader) -> dict[str, Any]:
    """Agents and queues as the switch sees them now; {"up": False} when it does not answer."""
    try:
        agents = client.agents()
        queues = client.queues()
    except SwitchUnavailable:
        return {"up": False}
    states = Counter(str(agent.get("state", "")) for agent in agents)
    return {
        "up": True,
        "logged_in": sum(n for state, n in states.items() if state != "logged_out"),
        "talking": states["talking"] + states["ringing"],
        "idle": states["idle"],
        "not_ready": states["not_ready"],
        "after_call_work": states["after_call_work"],
        "waiting": sum(len(queue.get("callers") or ()) for queue in queues),
        "longest_wait": max((float(queue.get("longest_wait") or 0) for queue in queues), default=0),
    }


def database_figures(*, now: datetime) -> dict[str, Any]:
    return {"calls": calls_today(now=now), "orders": orders_today(now=now)}


def wallboard_snapshot(
    *, now: datetime, database: dict[str, Any], switch: dict[str, Any]
) -> dict[str, Any]:
    """The message every screen gets (see `aqualine.wallboard.consumers`)."""
    return {"type": "snapshot", "at": now.isoformat(), "switch": switch, **database}
