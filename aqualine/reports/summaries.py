"""Daily summaries of work orders and calls for the ready reports (B6, X1), refreshed by the
worker, so that a report over a year sums a few hundred thousand summary rows instead of
counting a million orders and a million calls at every page view.

What is kept, per local day (models `OrderSummary`, `TaskSummary`, `CallSummary`,
`CallAcwSummary`, `AgentStateSummary`; `SummaryDay` says when each day was last refreshed):

- orders taken that day by content, accepting unit, status, and the set of departments that had
  a task on them (the data scope and the department filter); their department tasks by the
  task's department — counts, on time, late, open past / within the deadline, returned, urges,
  satisfaction scores (`aqualine.reports.selectors.orders` defines each figure);
- calls that started that day by local hour, queue and agent — inbound, outbound, answered,
  answered within the service-level threshold, abandoned, short abandons, overflowed, IVR only,
  Σ wait, Σ talk, longest wait (`aqualine.reports.selectors.calls`); the after-call work done for
  them; the agents' time in each signed-on state.

Reports read the summaries for whole past days and count today (and any day not summarised) from
the live tables (`aqualine.reports.selectors.summaries`).

When days are refreshed (`aqualine refresh_report_summaries`, jobs in `aqualine/jobs.py`):

- every 5 minutes (no options): yesterday; every past day with new rows since the last run —
  call records and agent-state history (found by id: a call's record is written when it ends,
  its after-call work follows, and neither changes afterwards), work orders and their event
  timeline (every change of an order or of its tasks writes an OrderEvent: dispatch, sign-for,
  submit, return, cancel, follow-up, urge, redo, and the reminder when a task passes its
  deadline); days of calls counted with another service-level threshold than the parameter's;
  and up to `BACKLOG_PER_RUN` days never summarised (newest first), so that an installation
  fills in its history by itself. Past days' figures are thus a few minutes old at most.
- daily with `--days 92`: the last 92 days in full. Orders change for weeks after intake
  (deadlines of days, follow-up within 72 h, redos); this catches changes that write no event
  — a staff member moving to another department changes their orders' accepting unit, which
  is "as it is now" — and any event the id scan missed.
- `--all`: every day, after an import or a bulk change of old orders.

The service-level threshold: the call summaries count "answered in time" and "short abandons"
for the threshold the system parameter had at the refresh, and record it. A report asking for
another threshold (the parameter changed, or the form's override) counts those days from the
call records — right, only slower — until the next run recounts them with the new value. A
wait-time histogram would serve any threshold, at ~600 times the rows or a JSON column to add
up in Python; the threshold changes rarely.

Each day is rebuilt in one transaction (lock its SummaryDay row, delete its rows, insert the new
ones, stamp it), so two workers may refresh at once and a report never reads half a day.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max, Min, Model, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from aqualine.callcenter.models import AgentStateChange, CallRecord
from aqualine.reports.models import (
    AgentStateSummary,
    CallAcwSummary,
    CallSummary,
    OrderSummary,
    SummaryDay,
    SummaryMark,
    TaskSummary,
)
from aqualine.reports.periods import days_period, local_midnight
from aqualine.reports.selectors.calls import (
    ANSWERED,
    INBOUND,
    SIGNED_ON_STATES,
    _after_call_work,
    call_groups,
    report_calls,
    service_level_threshold,
)
from aqualine.reports.selectors.orders import SCORES, departments_key
from aqualine.workorders.models import DepartmentTask, OrderEvent, WorkOrder

Kind = SummaryDay.Kind
ONE_DAY = timedelta(days=1)
# Days never summarised (or counted with another threshold) that one run catches up on.
# About 30 s for a year of a busy hotline (bench/reports.py): a new installation is caught up
# within its first runs.
BACKLOG_PER_RUN = 366
# New rows are looked for from this many ids below the last one seen: a transaction that took
# its id before one seen by the last run may have committed after it.
LOOKBACK_IDS = 500
OPEN = DepartmentTask.OPEN_STATUSES
TaskStatus = DepartmentTask.Status


def _lock(kind: str, day: date) -> SummaryDay:
    """The day's SummaryDay row, created if need be and locked until the transaction ends."""
    SummaryDay.objects.bulk_create([SummaryDay(kind=kind, day=day)], ignore_conflicts=True)
    return SummaryDay.objects.select_for_update().get(kind=kind, day=day)


# --- orders ----------------------------------------------------------------------------------

ORDER_COUNTS = ("orders", "urged_orders", "urges", "s1", "s2", "s3", "s4", "s5")
TASK_COUNTS = (
    "tasks",
    "orders",
    "waiting",
    "accepted",
    "submitted",
    "returned",
    "cancelled",
    "open_overdue",
    "open_in_time",
    "on_time",
    "late",
    "task_urges",
    "s1",
    "s2",
    "s3",
    "s4",
    "s5",
)


def _counter() -> defaultdict[str, int]:
    return defaultdict(int)


def order_summaries_rebuild(*, day: date, now: datetime | None = None) -> SummaryDay:
    """Summarise the orders taken on local `day` (and their tasks), as they are now."""
    start, end = local_midnight(day), local_midnight(day + ONE_DAY)
    with transaction.atomic():
        stamp = _lock(Kind.ORDERS, day)
        now = now or timezone.now()
        orders = list(
            WorkOrder.objects.filter(created_at__gte=start, created_at__lt=end)
            .order_by()
            .values_list(
                "id",
                "category_id",
                "created_by__department_id",
                "status",
                "urge_count",
                "satisfaction",
            )
        )
        tasks = list(
            DepartmentTask.objects.filter(order__created_at__gte=start, order__created_at__lt=end)
            .order_by()
            .values_list(
                "order_id",
                "department_id",
                "status",
                "deadline",
                "submitted_at",
                "returned_at",
                "urge_count",
            )
        )
        departments: dict[int, set[int]] = defaultdict(set)
        for task in tasks:
            departments[task[0]].add(task[1])
        keys = {order_id: departments_key(ids) for order_id, ids in departments.items()}
        facts: dict[int, tuple[int, int | None]] = {}  # order: content, score

        by_order: dict[tuple[Any, ...], defaultdict[str, int]] = defaultdict(_counter)
        for order_id, content, unit, status, urges, score in orders:
            facts[order_id] = (content, score)
            row = by_order[(content, unit, status, keys.get(order_id, ""))]
            row["orders"] += 1
            row["urged_orders"] += urges > 0
            row["urges"] += urges
            if score in SCORES:
                row[f"s{score}"] += 1

        by_task: dict[tuple[Any, ...], defaultdict[str, int]] = defaultdict(_counter)
        seen: set[tuple[int, int]] = set()
        for order_id, department, status, deadline, submitted_at, returned_at, urges in tasks:
            content, score = facts[order_id]
            row = by_task[(content, keys[order_id], department)]
            row["tasks"] += 1
            if status in (TaskStatus.WAITING, TaskStatus.ACCEPTED):
                row[str(status)] += 1
            row["submitted"] += status == TaskStatus.SUBMITTED
            row["cancelled"] += status == TaskStatus.CANCELLED
            row["returned"] += returned_at is not None
            if status in OPEN:
                row["open_overdue" if deadline < now else "open_in_time"] += 1
            if status == TaskStatus.SUBMITTED and submitted_at is not None:
                row["on_time" if submitted_at <= deadline else "late"] += 1
            row["task_urges"] += urges
            if (order_id, department) not in seen:  # each order once per department
                seen.add((order_id, department))
                row["orders"] += 1
                if score in SCORES:
                    row[f"s{score}"] += 1

        OrderSummary.objects.filter(day=day).delete()
        TaskSummary.objects.filter(day=day).delete()
        OrderSummary.objects.bulk_create(
            [
                OrderSummary(
                    day=day,
                    content_id=content,
                    unit_id=unit,
                    status=status,
                    departments=key,
                    **{name: counts[name] for name in ORDER_COUNTS},
                )
                for (content, unit, status, key), counts in by_order.items()
            ],
            batch_size=1000,
        )
        TaskSummary.objects.bulk_create(
            [
                TaskSummary(
                    day=day,
                    content_id=content,
                    departments=key,
                    department_id=department,
                    **{name: counts[name] for name in TASK_COUNTS},
                )
                for (content, key, department), counts in by_task.items()
            ],
            batch_size=1000,
        )
        stamp.refreshed_at = now
        stamp.save(update_fields=["refreshed_at"])
    return stamp


# --- calls -----------------------------------------------------------------------------------

CALL_COUNTS = (
    "inbound",
    "outbound",
    "outbound_connected",
    "offered",
    "answered",
    "answered_in_time",
    "abandoned",
    "short_abandoned",
    "missed",
    "ivr_only",
    "wait_seconds",
    "talk_seconds",
    "longest_wait",
)


def call_summaries_rebuild(
    *, day: date, threshold: int | None = None, now: datetime | None = None
) -> SummaryDay:
    """Summarise the calls that started on local `day`, their after-call work and the agents'
    time in each state, with the service-level `threshold` (the parameter's by default)."""
    if threshold is None:
        threshold = service_level_threshold()
    period = days_period(day, day)
    with transaction.atomic():
        stamp = _lock(Kind.CALLS, day)
        now = now or timezone.now()
        calls = report_calls(period=period)
        rows = [
            CallSummary(
                day=day,
                hour=key["hour"],
                queue=key["queue"],
                agent_id=key["agent_id"],
                **{name: getattr(figures, name) for name in CALL_COUNTS},
            )
            for key, figures in call_groups(calls, threshold, "queue", "agent_id")
        ]
        answered = calls.filter(direction=INBOUND, outcome=ANSWERED)
        acw = [
            CallAcwSummary(
                day=day,
                hour=hour,
                queue=queue,
                call_agent_id=call_agent,
                agent_id=agent,
                seconds=seconds or 0.0,
            )
            for agent, hour, queue, call_agent, seconds in _after_call_work(
                answered, period, extra=("queue", "agent_id")
            )
            if hour is not None
        ]
        states = [
            AgentStateSummary(
                day=day, agent_id=row["agent_id"], state=row["old_state"], seconds=row["seconds"]
            )
            for row in AgentStateChange.objects.filter(
                at__gte=period.start, at__lt=period.end, old_state__in=SIGNED_ON_STATES
            )
            .values("agent_id", "old_state")
            .annotate(seconds=Sum("old_duration_seconds"))
            .order_by()
        ]
        for model in (CallSummary, CallAcwSummary, AgentStateSummary):
            model.objects.filter(day=day).delete()
        CallSummary.objects.bulk_create(rows, batch_size=1000)
        CallAcwSummary.objects.bulk_create(acw, batch_size=1000)
        AgentStateSummary.objects.bulk_create(states, batch_size=1000)
        stamp.refreshed_at = now
        stamp.threshold = threshold
        stamp.save(update_fields=["refreshed_at", "threshold"])
    return stamp


# --- which days ------------------------------------------------------------------------------


def _local_days(rows: QuerySet[Any], name: str) -> set[date]:
    return set(
        rows.order_by()
        .annotate(summary_day=TruncDate(name))
        .values_list("summary_day", flat=True)
        .distinct()
    )


@dataclass(frozen=True)
class _Source:
    key: str  # SummaryMark.key
    model: type[Model]
    days_of: str  # the local day of a new row: of this time


SOURCES: dict[str, tuple[_Source, ...]] = {
    Kind.CALLS: (
        _Source("calls.call_record", CallRecord, "started_at"),
        _Source("calls.agent_state", AgentStateChange, "at"),
    ),
    Kind.ORDERS: (
        _Source("orders.work_order", WorkOrder, "created_at"),
        _Source("orders.order_event", OrderEvent, "order__created_at"),
    ),
}


def _changed_days(kind: str, upto: dict[str, int]) -> set[date]:
    """Local days with rows added since the last run (none on the first run: the backlog of
    days never summarised covers those)."""
    days: set[date] = set()
    marks = dict(SummaryMark.objects.values_list("key", "last_id"))
    for source in SOURCES[kind]:
        last = marks.get(source.key)
        if last is None:
            continue
        new = source.model._default_manager.filter(
            pk__gt=max(last - LOOKBACK_IDS, 0), pk__lte=upto[source.key]
        )
        found = _local_days(new, source.days_of)
        if source.model is AgentStateChange:  # after-call work of a call of the day before
            found |= {day - ONE_DAY for day in found}
        days |= found
    return days


def _first_day(kind: str) -> date | None:
    firsts = [
        source.model._default_manager.aggregate(first=Min(source.days_of))["first"]
        for source in SOURCES[kind]
        if source.model is not OrderEvent
    ]
    found = [timezone.localdate(first) for first in firsts if first is not None]
    return min(found) if found else None


def _backlog(kind: str, *, yesterday: date, threshold: int) -> list[date]:
    """Days up to yesterday never summarised, or (calls) counted with another threshold;
    newest first."""
    first = _first_day(kind)
    if first is None or first > yesterday:
        return []
    ready = SummaryDay.objects.filter(
        kind=kind, day__gte=first, day__lte=yesterday, refreshed_at__isnull=False
    )
    if kind == Kind.CALLS:
        ready = ready.filter(threshold=threshold)
    have = set(ready.values_list("day", flat=True))
    count = (yesterday - first).days + 1
    return [d for d in (yesterday - timedelta(days=i) for i in range(count)) if d not in have]


@dataclass
class RefreshResult:
    days: dict[str, list[date]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def report_summaries_refresh(
    *,
    days: int = 0,
    all_days: bool = False,
    backlog: int = BACKLOG_PER_RUN,
    kinds: Iterable[str] = (Kind.ORDERS, Kind.CALLS),
    now: datetime | None = None,
) -> RefreshResult:
    """Refresh the summaries of the days that need it (see the module): yesterday, days with
    new rows, up to `backlog` days never summarised; also the last `days` days, or every day.
    `now` (tests): the time the days are counted as of; by default each day's own."""
    as_of = now
    yesterday = timezone.localdate(now or timezone.now()) - ONE_DAY
    threshold = service_level_threshold()
    result = RefreshResult()
    for kind in kinds:
        started = time.perf_counter()
        upto = {
            s.key: s.model._default_manager.aggregate(last=Max("pk"))["last"] or 0
            for s in SOURCES[kind]
        }
        wanted = {yesterday} | _changed_days(kind, upto)
        pending = _backlog(kind, yesterday=yesterday, threshold=threshold)
        if all_days:
            first = _first_day(kind)
            if first is not None:
                wanted |= {first + timedelta(days=i) for i in range((yesterday - first).days + 1)}
        else:
            wanted |= {yesterday - timedelta(days=i) for i in range(days)}
            wanted |= set(pending[:backlog])
        chosen = sorted((d for d in wanted if d <= yesterday), reverse=True)
        for day in chosen:
            if kind == Kind.CALLS:
                call_summaries_rebuild(day=day, threshold=threshold, now=as_of)
            else:
                order_summaries_rebuild(day=day, now=as_of)
        for key, last in upto.items():
            SummaryMark.objects.update_or_create(key=key, defaults={"last_id": last})
        result.days[kind] = chosen
        result.seconds[kind] = time.perf_counter() - started
    return result


def summaries_delete(*, kinds: Iterable[str] = (Kind.ORDERS, Kind.CALLS)) -> None:
    """Forget every summary of `kinds` (reports count from the live tables until the next
    refresh)."""
    with transaction.atomic():
        for kind in kinds:
            models: tuple[type[Model], ...] = (
                (OrderSummary, TaskSummary)
                if kind == Kind.ORDERS
                else (CallSummary, CallAcwSummary, AgentStateSummary)
            )
            for model in models:
                model._default_manager.all().delete()
            SummaryDay.objects.filter(kind=kind).delete()
            SummaryMark.objects.filter(key__startswith=f"{kind}.").delete()
