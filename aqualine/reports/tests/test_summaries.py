"""The daily summaries: every ready report reads the same from the summaries as from the live
tables (over the hand-built fixtures of conftest.py), the data scope holds on the summaries,
today is always live, and the refresh finds the days that changed."""

from __future__ import annotations

import io
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from aqualine.accounts.models import Department, User
from aqualine.callcenter.models import AgentStateChange, CallRecord
from aqualine.core.models import Parameter
from aqualine.core.parameters import invalidate_cache
from aqualine.jobs import JOBS
from aqualine.reports.models import CallSummary, OrderSummary, SummaryDay, TaskSummary
from aqualine.reports.periods import days_period
from aqualine.reports.selectors.calls import call_report
from aqualine.reports.selectors.orders import intake_report, timeliness_report
from aqualine.reports.selectors.summaries import DayRange, day_ranges, period_split
from aqualine.reports.summaries import report_summaries_refresh, summaries_delete
from aqualine.reports.tests.conftest import NOW, Orders, call, category, local, state
from aqualine.workorders.models import OrderEvent, WorkOrder

pytestmark = pytest.mark.django_db

MARCH = days_period(date(2026, 3, 1), date(2026, 3, 31))
SINCE_FEBRUARY = days_period(date(2026, 2, 1), date(2026, 3, 31))
MONDAY = days_period(date(2026, 3, 2), date(2026, 3, 2))
Kind = SummaryDay.Kind


def refresh(**options: Any) -> None:
    """Summarise every day of the fixtures (20 February – 19 March), as of NOW."""
    report_summaries_refresh(days=40, now=NOW, **options)


def figures(report: Any) -> dict[str, Any]:
    found = asdict(report)
    found.pop("summarised_at")
    return found


def both_ways(build: Any, **kwargs: Any) -> tuple[Any, Any]:
    """The report from the summaries (checking that they were used) and from the live tables."""
    summarised = build(**kwargs)
    assert summarised.summarised_at is not None
    live = build(use_summaries=False, **kwargs)
    assert live.summarised_at is None
    return summarised, live


# --- orders ----------------------------------------------------------------------------------


@pytest.mark.parametrize("build", [intake_report, timeliness_report])
@pytest.mark.parametrize("period", [MARCH, SINCE_FEBRUARY])
def test_the_order_reports_read_the_same_from_the_summaries(
    orders: Orders, supervisor: User, build: Any, period: Any
) -> None:
    refresh()
    summarised, live = both_ways(build, user=supervisor, period=period, now=NOW)
    assert figures(summarised) == figures(live)


@pytest.mark.parametrize("build", [intake_report, timeliness_report])
@pytest.mark.parametrize(
    "filters",
    [
        {"department": "repair"},
        {"department": "billing"},
        {"category": "leak"},
        {"category": "leak-burst"},
        {"department": "repair", "category": "no-water"},
    ],
)
def test_the_filters_read_the_same_from_the_summaries(
    orders: Orders, supervisor: User, build: Any, filters: dict[str, str]
) -> None:
    refresh()
    kwargs: dict[str, Any] = {}
    if "department" in filters:
        kwargs["department"] = Department.objects.get(code=filters["department"])
    if "category" in filters:
        kwargs["category"] = category(filters["category"])
    summarised, live = both_ways(build, user=supervisor, period=MARCH, now=NOW, **kwargs)
    assert figures(summarised) == figures(live)


@pytest.mark.parametrize("build", [intake_report, timeliness_report])
@pytest.mark.parametrize("persona", ["billing_handler", "handler", "agent", "viewer"])
def test_the_data_scope_reads_the_same_from_the_summaries(
    orders: Orders, request: pytest.FixtureRequest, build: Any, persona: str
) -> None:
    user = request.getfixturevalue(persona)
    refresh()
    summarised = build(user=user, period=MARCH, now=NOW)
    live = build(user=user, period=MARCH, now=NOW, use_summaries=False)
    assert figures(summarised) == figures(live)


def test_a_department_handler_sees_only_their_departments_orders_via_summaries(
    orders: Orders, billing_handler: User
) -> None:
    refresh()
    report = intake_report(user=billing_handler, period=MARCH, now=NOW)
    assert report.summarised_at is not None
    # O4, the only order with a task of 营业收费部: counted from the summaries alone
    assert report.total.total == 1
    assert {r.label for r in report.by_category} == {"缴费"}
    timeliness = timeliness_report(user=billing_handler, period=MARCH, now=NOW)
    assert timeliness.orders == 1 and timeliness.total.satisfaction == [0, 1, 0, 0, 0]
    # the summaries hold the other orders too, for those who may see them
    assert OrderSummary.objects.filter(day__month=3).count() > 1


def test_summarised_days_are_as_of_their_refresh_and_today_is_live(
    orders: Orders, supervisor: User, agent: User
) -> None:
    refresh()
    # a change that writes no event shows once the day is refreshed again
    WorkOrder.objects.filter(pk=orders.o2.pk).update(status=WorkOrder.Status.CLOSED)
    assert intake_report(user=supervisor, period=MARCH, now=NOW).total.closed == 3
    assert (
        intake_report(user=supervisor, period=MARCH, now=NOW, use_summaries=False).total.closed == 4
    )
    report_summaries_refresh(days=40, now=NOW)
    assert intake_report(user=supervisor, period=MARCH, now=NOW).total.closed == 4
    # an order taken today (20 March) is counted at once, from the orders
    WorkOrder.objects.create(
        number="GD7",
        source=WorkOrder.Source.PHONE,
        category=category("consultation"),
        description="问水价",
        status=WorkOrder.Status.CLOSED,
        created_by=agent,
        created_at=local(20, 9),
    )
    report = intake_report(user=supervisor, period=MARCH, now=NOW)
    assert report.total.total == 6 and report.summarised_at is not None
    assert not SummaryDay.objects.filter(kind=Kind.ORDERS, day=date(2026, 3, 20)).exists()


def test_the_refresh_follows_the_orders_event_timeline(
    orders: Orders, supervisor: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (no look-back: here every id is within a few hundred of the last one seen)
    monkeypatch.setattr("aqualine.reports.summaries.LOOKBACK_IDS", 0)
    report_summaries_refresh(all_days=True, now=NOW)
    stamped = SummaryDay.objects.get(kind=Kind.ORDERS, day=date(2026, 3, 3)).refreshed_at
    # O2 (taken 3 March) is closed through a service, which writes an event
    WorkOrder.objects.filter(pk=orders.o2.pk).update(status=WorkOrder.Status.CLOSED)
    OrderEvent.objects.create(order=orders.o2, type=OrderEvent.Type.CLOSED, at=NOW)
    later = NOW + timedelta(minutes=5)
    result = report_summaries_refresh(backlog=0, now=later)
    # yesterday (19 March) always, and the day of the changed order
    assert result.days[Kind.ORDERS] == [date(2026, 3, 19), date(2026, 3, 3)]
    assert SummaryDay.objects.get(kind=Kind.ORDERS, day=date(2026, 3, 3)).refreshed_at == later
    assert stamped != later
    summarised, live = both_ways(intake_report, user=supervisor, period=MARCH, now=later)
    assert summarised.total.closed == 4
    assert figures(summarised) == figures(live)


def test_the_refresh_is_idempotent(orders: Orders, calls: None) -> None:
    refresh()
    counts = (
        OrderSummary.objects.count(),
        TaskSummary.objects.count(),
        CallSummary.objects.count(),
    )
    refresh()
    report_summaries_refresh(all_days=True, now=NOW)
    assert (
        OrderSummary.objects.count(),
        TaskSummary.objects.count(),
        CallSummary.objects.count(),
    ) == counts
    assert counts[0] > 0 and counts[2] > 0


def test_a_new_installation_catches_up_on_its_history(orders: Orders) -> None:
    result = report_summaries_refresh(backlog=10, now=NOW)
    # the ten newest days before today first; the rest at the next runs
    assert result.days[Kind.ORDERS] == [date(2026, 3, 19) - timedelta(days=i) for i in range(10)]
    result = report_summaries_refresh(now=NOW)
    # from the first order (O6, 27 February) to 9 March
    assert result.days[Kind.ORDERS][-1] == date(2026, 2, 27)
    assert len(result.days[Kind.ORDERS]) == 1 + 11  # yesterday, 27 Feb – 9 Mar


def test_without_summaries_every_day_is_live(orders: Orders, supervisor: User) -> None:
    refresh()
    summaries_delete()
    assert intake_report(user=supervisor, period=MARCH, now=NOW).summarised_at is None
    assert not OrderSummary.objects.exists() and not SummaryDay.objects.exists()


# --- calls -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filters",
    [{}, {"agent_id": "1001"}, {"agent_id": "1002"}, {"queue": "hotline"}, {"queue": "other"}],
)
@pytest.mark.parametrize("period", [MONDAY, MARCH])
def test_the_call_report_reads_the_same_from_the_summaries(
    calls: None, filters: dict[str, str], period: Any
) -> None:
    # after-call work past midnight (counted for its call's day)
    call("L1", local(2, 23, 58), outcome="answered", wait=0, talk=60, agent="1003")
    AgentStateChange.objects.create(
        agent_id="1003",
        old_state="after_call_work",
        old_duration_seconds=90,
        new_state="idle",
        at=local(3, 0, 0, 45),
        call_id="L1",
    )
    refresh()
    summarised, live = both_ways(call_report, period=period, **filters)
    assert figures(summarised) == figures(live)
    if not filters and period is MONDAY:  # C1 C2 C5 and L1: (talk + ACW) / 4
        assert summarised.total.aht == pytest.approx((390 + 60 + 90) / 4)


def test_the_summaries_hold_the_days_threshold(calls: None) -> None:
    refresh()
    assert SummaryDay.objects.get(kind=Kind.CALLS, day=date(2026, 3, 2)).threshold == 20
    # another threshold than the summaries': counted from the call records
    other = call_report(period=MONDAY, threshold=30)
    assert other.summarised_at is None and other.total.service_level == pytest.approx(0.6)
    # the parameter changes: reports follow at once (live), the next refresh recounts
    Parameter.objects.create(key="communication.service_level_seconds", value=30)
    invalidate_cache()
    report = call_report(period=MONDAY)
    assert report.threshold == 30 and report.summarised_at is None
    assert report.total.service_level == pytest.approx(0.6)
    result = report_summaries_refresh(backlog=100, now=NOW)
    assert date(2026, 3, 2) in result.days[Kind.CALLS]
    summarised, live = both_ways(call_report, period=MONDAY)
    assert summarised.threshold == 30 and figures(summarised) == figures(live)


def test_a_late_call_record_refreshes_its_day(calls: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("aqualine.reports.summaries.LOOKBACK_IDS", 0)
    report_summaries_refresh(all_days=True, now=NOW)
    # a record written long after its call started (the switch writes it when the call ends)
    CallRecord.objects.create(
        call_id="LATE",
        direction=CallRecord.Direction.INBOUND,
        caller="13800138000",
        callee="96000",
        started_at=local(2, 11),
        outcome="abandoned",
        queue="hotline",
        wait_seconds=50,
    )
    state("1001", local(5, 9), "idle", 30)
    result = report_summaries_refresh(backlog=0, now=NOW)
    # the call's day; the state change's day and the day before it (after-call work)
    assert result.days[Kind.CALLS] == [
        date(2026, 3, 19),
        date(2026, 3, 5),
        date(2026, 3, 4),
        date(2026, 3, 2),
    ]
    summarised, live = both_ways(call_report, period=MONDAY)
    assert summarised.total.abandoned == 3
    assert figures(summarised) == figures(live)


# --- the parameter, the command and the jobs ---------------------------------------------------


def test_the_service_level_threshold_is_a_system_parameter(calls: None) -> None:
    from aqualine.wallboard.selectors import calls_today

    assert call_report(period=MONDAY).threshold == 20
    Parameter.objects.create(key="communication.service_level_seconds", value=5)
    invalidate_cache()
    assert call_report(period=MONDAY).threshold == 5
    assert calls_today(now=local(2, 18))["service_level_seconds"] == 5


def test_the_worker_runs_the_refresh(orders: Orders, calls: None) -> None:
    commands = {job.command: job.every_seconds for job in JOBS}
    assert commands[("refresh_report_summaries",)] == 300
    assert commands[("refresh_report_summaries", "--days", "92")] == 24 * 3600
    out = io.StringIO()
    call_command("refresh_report_summaries", "--all", stdout=out)
    assert "orders: refreshed" in out.getvalue() and "calls: refreshed" in out.getvalue()
    today = timezone.localdate()
    assert SummaryDay.objects.filter(kind=Kind.ORDERS, day=today - timedelta(days=1)).exists()
    assert not SummaryDay.objects.filter(day__gte=today).exists()


def test_day_ranges_and_the_split() -> None:
    days = [date(2026, 3, d) for d in (5, 1, 2, 3, 7)]
    assert day_ranges(days) == [
        DayRange(date(2026, 3, 1), date(2026, 3, 3)),
        DayRange(date(2026, 3, 5), date(2026, 3, 5)),
        DayRange(date(2026, 3, 7), date(2026, 3, 7)),
    ]
    split = period_split(kind=Kind.ORDERS, period=MARCH, now=NOW)
    assert split.summary == [] and split.live == [DayRange(date(2026, 3, 1), date(2026, 3, 31))]
