"""The call-centre report (X1): volumes and KPIs overall, per agent and per hour of the day.

Which calls: call records that started in the period (`CallRecord.started_at` in [start, end)),
optionally of one queue or one agent (with an agent chosen, only the calls that agent answered
or made count: unanswered calls have no agent). Call figures are not scoped by department.

Definitions (N = the service-level threshold in seconds: the system parameter
`communication.service_level_seconds`, 20 by default, which the report's form may override):

- inbound / outbound: the record's direction; internal calls are not counted.
- offered (进入队列): inbound calls that reached the agent queue — outcome `answered`,
  `abandoned` or `missed`. Calls that ended in the IVR (`ivr_only`, self-service) are counted
  apart; calls the switch never answered (`cancelled`, `rejected`, `failed`) only as inbound.
- answered (人工接通): outcome `answered`, an agent took the call.
- abandoned (放弃): outcome `abandoned`, the caller hung up while queued or while an agent's
  phone rang; a *short* abandon is one within N s (wait <= N).
- missed (溢出): outcome `missed`, the call left the queue unanswered (overflow).
- wait: `wait_seconds`, from joining the queue to an agent answering (answered calls) or to the
  caller hanging up (abandoned); a missing wait counts as 0 s.
- service level (服务水平) = answered with wait <= N ÷ (answered + abandoned with wait > N +
  missed). Short abandons are in neither part; an answered call waiting exactly N s is in time.
- ASA, average speed of answer (平均应答时长) = Σ wait of answered calls ÷ answered calls.
- talk: `talk_seconds`, from the agent answering to the end of the call.
- ACW, after-call work (话后处理): the time the agent spent in `after_call_work` for the call —
  the agent-state history rows leaving that state with the call's ID (their
  `old_duration_seconds`), ended less than a day after the end of the call's day (after the end
  of the run of live days, for the days counted from the live tables; the two differ only for
  after-call work lasting more than a day, which the switch's wrap-up limit of at most 600 s
  rules out).
- AHT, average handle time (平均处理时长) = (Σ talk + Σ ACW) of answered calls ÷ answered calls.
- abandon rate (放弃率) = abandoned ÷ offered (short abandons included).
- longest wait: the longest wait of an offered call.
- outbound connected: outbound calls the called party answered (`answered_at` set).
- occupancy (占用率, per agent) = time talking and in after-call work ÷ time signed on (idle,
  ringing, talking, after-call work), from the agent-state history; a stretch counts in the
  period in which it ended.

Per agent: the calls the agent answered or made (`agent_id`); ACW by the agent who did it.
Per hour: the local hour (settings.TIME_ZONE) in which the call started; a call's ACW counts in
its call's hour.

Whole past days come from the daily summaries (`aqualine.reports.summaries`) when they hold the
day with the report's threshold, the rest from the call records (`selectors.summaries`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.functions import ExtractHour

from aqualine.accounts.models import User
from aqualine.callcenter.models import AgentStateChange, CallRecord, Queue
from aqualine.core.parameters import param
from aqualine.reports.models import AgentStateSummary, CallAcwSummary, CallSummary, SummaryDay
from aqualine.reports.periods import Period
from aqualine.reports.selectors.summaries import PeriodSplit, period_split

INBOUND = CallRecord.Direction.INBOUND
OUTBOUND = CallRecord.Direction.OUTBOUND
ANSWERED, ABANDONED, MISSED, IVR_ONLY = "answered", "abandoned", "missed", "ivr_only"
OFFERED = (ANSWERED, ABANDONED, MISSED)
AFTER_CALL_WORK = "after_call_work"
BUSY_STATES = ("talking", AFTER_CALL_WORK)
SIGNED_ON_STATES = ("idle", "ringing", "talking", AFTER_CALL_WORK)
DEFAULT_THRESHOLD = 20  # the parameter's default
# An after-call work stretch is looked for up to this long after the period's end.
ACW_GRACE = timedelta(days=1)
HOURS = range(24)


def service_level_threshold() -> int:
    """N of the service level: the system parameter `communication.service_level_seconds`."""
    return int(param("communication.service_level_seconds"))


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


@dataclass
class CallFigures:
    """Counts and sums of one group of calls; the KPIs are properties (see the module)."""

    inbound: int = 0
    outbound: int = 0
    outbound_connected: int = 0
    offered: int = 0
    answered: int = 0
    answered_in_time: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    missed: int = 0
    ivr_only: int = 0
    wait_seconds: float = 0.0  # of answered calls
    talk_seconds: float = 0.0  # of answered calls
    acw_seconds: float = 0.0  # of answered calls
    longest_wait: float | None = None

    def add(self, other: CallFigures) -> None:
        for f in fields(CallFigures):
            if f.name == "longest_wait":
                continue
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        if other.longest_wait is not None:
            self.longest_wait = max(self.longest_wait or 0.0, other.longest_wait)

    @property
    def late_abandoned(self) -> int:
        return self.abandoned - self.short_abandoned

    @property
    def service_level(self) -> float | None:
        return _ratio(self.answered_in_time, self.answered + self.late_abandoned + self.missed)

    @property
    def asa(self) -> float | None:
        return _ratio(self.wait_seconds, self.answered)

    @property
    def aht(self) -> float | None:
        return _ratio(self.talk_seconds + self.acw_seconds, self.answered)

    @property
    def average_talk(self) -> float | None:
        return _ratio(self.talk_seconds, self.answered)

    @property
    def average_acw(self) -> float | None:
        return _ratio(self.acw_seconds, self.answered)

    @property
    def abandon_rate(self) -> float | None:
        return _ratio(self.abandoned, self.offered)


@dataclass
class AgentFigures(CallFigures):
    agent_id: str = ""
    name: str = ""
    signed_on_seconds: float = 0.0
    busy_seconds: float = 0.0  # talking and after-call work

    @property
    def occupancy(self) -> float | None:
        return _ratio(self.busy_seconds, self.signed_on_seconds)


@dataclass
class HourFigures(CallFigures):
    hour: int = 0


@dataclass
class CallReport:
    period: Period
    threshold: int
    total: CallFigures
    by_agent: list[AgentFigures] = field(default_factory=list)
    by_hour: list[HourFigures] = field(default_factory=list)
    # the oldest refresh of the summarised days counted (None: all counted from call records)
    summarised_at: datetime | None = None


def report_calls(*, period: Period, queue: str = "", agent_id: str = "") -> QuerySet[CallRecord]:
    calls = CallRecord.objects.filter(started_at__gte=period.start, started_at__lt=period.end)
    if queue:
        calls = calls.filter(queue=queue)
    if agent_id:
        calls = calls.filter(agent_id=agent_id)
    return calls


def _aggregates(threshold: int) -> dict[str, Any]:
    inbound = Q(direction=INBOUND)
    answered = inbound & Q(outcome=ANSWERED)
    abandoned = inbound & Q(outcome=ABANDONED)
    offered = inbound & Q(outcome__in=OFFERED)
    in_time = Q(wait_seconds__isnull=True) | Q(wait_seconds__lte=threshold)
    return {
        "inbound": Count("id", filter=inbound),
        "offered": Count("id", filter=offered),
        "answered": Count("id", filter=answered),
        "answered_in_time": Count("id", filter=answered & in_time),
        "abandoned": Count("id", filter=abandoned),
        "short_abandoned": Count("id", filter=abandoned & in_time),
        "missed": Count("id", filter=inbound & Q(outcome=MISSED)),
        "ivr_only": Count("id", filter=inbound & Q(outcome=IVR_ONLY)),
        "wait_total": Sum("wait_seconds", filter=answered),
        "talk_total": Sum("talk_seconds", filter=answered),
        "longest_wait": Max("wait_seconds", filter=offered),
        "outbound": Count("id", filter=Q(direction=OUTBOUND)),
        "outbound_connected": Count("id", filter=Q(direction=OUTBOUND, answered_at__isnull=False)),
    }


# Aggregate names that would clash with the model's fields, and the figures they fill.
_RENAMED = {"wait_total": "wait_seconds", "talk_total": "talk_seconds"}


def _fill(target: CallFigures, row: dict[str, Any]) -> None:
    for key, value in row.items():
        name = _RENAMED.get(key, key)
        if name == "longest_wait":
            target.longest_wait = value
        elif hasattr(target, name):
            setattr(target, name, value or 0)


def _after_call_work(
    answered: QuerySet[CallRecord], period: Period, *, extra: tuple[str, ...] = ()
) -> list[tuple[Any, ...]]:
    """(agent, local hour of the call, *`extra` columns of the call, seconds) of the after-call
    work done for `answered`, ended in [period start, period end + ACW_GRACE).

    A join of the agent-state history to the calls on the call's ID. The ORM has no relation
    between the two tables (the ID is a plain column) and a correlated subquery per wrap-up
    costs seconds over a year, so this one statement is SQL: the calls' side is the ORM's own
    query, the history's table and columns come from its model."""
    calls_sql, calls_params = (
        answered.order_by()
        .annotate(call_hour=ExtractHour("started_at"))
        .values("call_id", "call_hour", *extra)
        .query.sql_with_params()
    )
    meta = AgentStateChange._meta
    quote = connection.ops.quote_name

    def column(name: str) -> str:
        field: Any = meta.get_field(name)
        return "s." + quote(str(field.column))

    agent = column("agent_id")
    groups = ", ".join([agent, "c.call_hour", *(f"c.{quote(name)}" for name in extra)])
    sql = (
        f"SELECT {groups}, SUM({column('old_duration_seconds')}) "  # noqa: S608
        f"FROM {quote(meta.db_table)} s INNER JOIN ({calls_sql}) c "
        f"ON c.call_id = {column('call_id')} "
        f"WHERE {column('old_state')} = %s AND {column('at')} >= %s AND {column('at')} < %s "
        f"GROUP BY {groups}"
    )
    adapt = connection.ops.adapt_datetimefield_value
    params = [
        *calls_params,
        AFTER_CALL_WORK,
        adapt(period.start),
        adapt(period.end + ACW_GRACE),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def call_groups(
    calls: QuerySet[CallRecord], threshold: int, *keys: str
) -> list[tuple[dict[str, Any], CallFigures]]:
    """`calls` grouped by local `hour` and model fields `keys`: (keys' values, figures)."""
    grouped = (
        calls.annotate(hour=ExtractHour("started_at"))
        .values("hour", *keys)
        .annotate(**_aggregates(threshold))
        .order_by()
    )
    found = []
    for row in grouped:
        key = {name: row.pop(name) for name in ("hour", *keys)}
        figures = CallFigures()
        _fill(figures, row)
        found.append((key, figures))
    return found


# Sums of CallSummary's columns; their annotations are prefixed ("sum_inbound"): an annotation
# may not have the name of a field of the model.
_SUMMED = (
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
)


class _Collector:
    """Adds groups of calls, after-call work and agent time to a report's hours and agents."""

    def __init__(self) -> None:
        self.hours = {h: HourFigures(hour=h) for h in HOURS}
        self.agents: dict[str, AgentFigures] = {}

    def agent(self, key: str) -> AgentFigures:
        return self.agents.setdefault(key, AgentFigures(agent_id=key))

    def calls(self, hour: int, agent_id: str, figures: CallFigures) -> None:
        self.hours[hour].add(figures)
        if agent_id:
            self.agent(agent_id).add(figures)

    def after_call_work(self, agent: str, hour: int | None, seconds: float | None) -> None:
        if hour is not None:
            self.hours[int(hour)].acw_seconds += seconds or 0.0
        self.agent(agent).acw_seconds += seconds or 0.0

    def state(self, agent: str, state: str, seconds: float | None) -> None:
        figures = self.agent(agent)
        figures.signed_on_seconds += seconds or 0.0
        if state in BUSY_STATES:
            figures.busy_seconds += seconds or 0.0


def _live(
    collect: _Collector, split: PeriodSplit, threshold: int, queue: str, agent_id: str
) -> None:
    if not split.live:
        return
    first, last = split.live[0], split.live[-1]
    calls = report_calls(
        period=Period(first.start, last.end, first.first, last.last),
        queue=queue,
        agent_id=agent_id,
    )
    if len(split.live) > 1:
        calls = calls.filter(split.live_q("started_at"))
    for key, figures in call_groups(calls, threshold, "agent_id"):
        collect.calls(key["hour"], key["agent_id"], figures)
    for run in split.live:
        answered = report_calls(period=run.period, queue=queue, agent_id=agent_id).filter(
            direction=INBOUND, outcome=ANSWERED
        )
        for agent, hour, seconds in _after_call_work(answered, run.period):
            collect.after_call_work(agent, hour, seconds)
    states = AgentStateChange.objects.filter(split.live_q("at"), old_state__in=SIGNED_ON_STATES)
    if agent_id:
        states = states.filter(agent_id=agent_id)
    for row in (
        states.values("agent_id", "old_state")
        .annotate(seconds=Sum("old_duration_seconds"))
        .order_by()
    ):
        collect.state(row["agent_id"], row["old_state"], row["seconds"])


def _summarised(collect: _Collector, split: PeriodSplit, queue: str, agent_id: str) -> None:
    if not split.summary:
        return
    days = split.summary_q()
    rows = CallSummary.objects.filter(days)
    acw = CallAcwSummary.objects.filter(days)
    states = AgentStateSummary.objects.filter(days)
    if queue:
        rows, acw = rows.filter(queue=queue), acw.filter(queue=queue)
    if agent_id:
        rows, acw = rows.filter(agent_id=agent_id), acw.filter(call_agent_id=agent_id)
        states = states.filter(agent_id=agent_id)
    sums: dict[str, Any] = {f"sum_{name}": Sum(name) for name in _SUMMED}
    for row in rows.values("hour", "agent_id").annotate(**sums, max_wait=Max("longest_wait")):
        figures = CallFigures(longest_wait=row["max_wait"])
        for name in _SUMMED:
            setattr(figures, name, row[f"sum_{name}"] or 0)
        collect.calls(row["hour"], row["agent_id"], figures)
    for row in acw.values("agent_id", "hour").annotate(total=Sum("seconds")).order_by():
        collect.after_call_work(row["agent_id"], row["hour"], row["total"])
    for row in states.values("agent_id", "state").annotate(total=Sum("seconds")).order_by():
        collect.state(row["agent_id"], row["state"], row["total"])


def call_report(
    *,
    period: Period,
    threshold: int | None = None,
    queue: str = "",
    agent_id: str = "",
    now: datetime | None = None,
    use_summaries: bool = True,
) -> CallReport:
    """Report 3 — calls (话务统计), see the module's docstring for every definition.

    From the call records (live days): calls by (hour, agent), after-call work by (agent, call
    hour) for each run of live days, and the agents' time in each state; from the summaries
    (summarised days) the same three by summing their rows."""
    if threshold is None:
        threshold = service_level_threshold()
    split = period_split(
        kind=SummaryDay.Kind.CALLS,
        period=period,
        now=now,
        threshold=threshold,
        use_summaries=use_summaries,
    )
    collect = _Collector()
    _live(collect, split, threshold, queue, agent_id)
    _summarised(collect, split, queue, agent_id)

    agents = collect.agents
    names = dict(User.objects.filter(agent_id__in=list(agents)).values_list("agent_id", "name"))
    for key, figures in agents.items():
        figures.name = names.get(key, "")
    total = CallFigures()
    for hour_figures in collect.hours.values():
        total.add(hour_figures)
    return CallReport(
        period=period,
        threshold=threshold,
        total=total,
        by_agent=sorted(agents.values(), key=lambda a: (-a.answered, a.agent_id)),
        by_hour=[collect.hours[h] for h in HOURS],
        summarised_at=split.refreshed_at,
    )


def queue_choices() -> list[tuple[str, str]]:
    """The configured queues (for the filter): name and display name."""
    return [(q.name, str(q)) for q in Queue.objects.order_by("name")]
