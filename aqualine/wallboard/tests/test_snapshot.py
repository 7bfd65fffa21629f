"""The wallboard's figures, against rows made by hand at known times today and yesterday (local
time, Asia/Shanghai), and against the switch's answers."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aqualine.accounts.models import Department
from aqualine.callcenter.models import CallRecord
from aqualine.reports.periods import days_period
from aqualine.reports.selectors.calls import call_report
from aqualine.wallboard import selectors
from aqualine.wallboard.tests.conftest import FakeSwitch
from aqualine.workorders.models import Category, DepartmentTask, WorkOrder

pytestmark = pytest.mark.django_db

LOCAL = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=LOCAL)
TODAY = datetime(2026, 3, 10, tzinfo=LOCAL)
YESTERDAY = TODAY - timedelta(days=1)
_ids = itertools.count(1)


def at(day: datetime, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute, second=second)


def call(started: datetime, direction: str, outcome: str, wait: float | None = None) -> None:
    CallRecord.objects.create(
        call_id=f"c{next(_ids)}",
        direction=direction,
        caller="13800138000",
        callee="96000",
        started_at=started,
        outcome=outcome,
        wait_seconds=wait,
    )


def order(category: Category, created: datetime, status: str) -> WorkOrder:
    return WorkOrder.objects.create(
        number=f"T{next(_ids):06d}",
        source=WorkOrder.Source.PHONE,
        category=category,
        description="管道漏水",
        status=status,
        created_at=created,
    )


def task(
    work_order: WorkOrder,
    department: Department,
    dispatched: datetime,
    deadline: datetime,
    status: str = DepartmentTask.Status.WAITING,
) -> DepartmentTask:
    return DepartmentTask.objects.create(
        order=work_order,
        department=department,
        status=status,
        dispatched_at=dispatched,
        deadline=deadline,
    )


# --- calls ------------------------------------------------------------------------------------


@pytest.fixture
def calls(db: None) -> None:
    inbound, outbound = CallRecord.Direction.INBOUND, CallRecord.Direction.OUTBOUND
    call(at(TODAY, 0, 10), inbound, "answered", 5)  # in time, just after midnight
    call(at(TODAY, 9), inbound, "answered", 10)  # in time
    call(at(TODAY, 9, 5), inbound, "answered", 20)  # exactly 20 s: in time
    call(at(TODAY, 9, 10), inbound, "answered", 30)  # late
    call(at(TODAY, 10), inbound, "abandoned", 3)  # short abandon: counts nowhere in the level
    call(at(TODAY, 10, 5), inbound, "abandoned", 45)  # late abandon
    call(at(TODAY, 11), inbound, "missed", 60)  # overflowed
    call(at(TODAY, 11, 5), inbound, "ivr_only")  # self-service
    call(at(TODAY, 12), outbound, "answered")
    call(at(TODAY, 12, 5), outbound, "missed")
    call(at(TODAY, 13), CallRecord.Direction.INTERNAL, "answered")
    # yesterday and tomorrow: not today's
    call(at(YESTERDAY, 23, 59, 59), inbound, "answered", 100)
    call(at(YESTERDAY, 18), outbound, "answered")
    call(TODAY + timedelta(days=1), inbound, "abandoned", 50)


def test_todays_calls_are_counted_by_direction_and_outcome(calls: None) -> None:
    figures = selectors.calls_today(now=NOW)
    assert figures["inbound"] == 8
    assert figures["outbound"] == 2
    assert figures["answered"] == 4
    assert figures["abandoned"] == 2


def test_the_service_level_is_the_call_reports_one(calls: None) -> None:
    # in time: 5 s, 10 s, 20 s; out of answered 4 + late abandoned 1 + missed 1
    figures = selectors.calls_today(now=NOW)
    assert figures["service_level"] == pytest.approx(3 / 6)
    assert figures["service_level_seconds"] == 20
    report = call_report(period=days_period(NOW.date(), NOW.date()), threshold=20)
    assert figures["service_level"] == pytest.approx(report.total.service_level)


def test_without_calls_there_is_no_service_level(db: None) -> None:
    assert selectors.calls_today(now=NOW)["service_level"] is None


# --- work orders ------------------------------------------------------------------------------


@pytest.fixture
def orders(leak: Category, repair: Department, quality: Department) -> dict[str, WorkOrder]:
    processing, pending = WorkOrder.Status.PROCESSING, WorkOrder.Status.PENDING_DISPATCH
    a = order(leak, at(TODAY, 9), processing)  # new today, dispatched to repair today
    task(a, repair, at(TODAY, 9, 10), at(TODAY, 9) + timedelta(days=1))
    b = order(leak, at(YESTERDAY, 10), processing)  # repair's task is overdue since noon
    task(b, repair, at(YESTERDAY, 10, 30), at(TODAY, 12))
    task(b, quality, at(YESTERDAY, 10, 30), at(TODAY, 11), DepartmentTask.Status.SUBMITTED)
    c = order(leak, at(TODAY, 14), pending)  # new today, not dispatched
    d = order(leak, at(YESTERDAY, 8), WorkOrder.Status.CLOSED)  # done
    task(d, repair, at(YESTERDAY, 8, 30), at(YESTERDAY, 20), DepartmentTask.Status.SUBMITTED)
    e = order(leak, at(YESTERDAY - timedelta(days=1), 9), processing)  # re-dispatched today
    task(e, repair, at(YESTERDAY, 9), at(TODAY, 9), DepartmentTask.Status.CANCELLED)
    task(e, quality, at(TODAY, 8), at(TODAY, 16), DepartmentTask.Status.ACCEPTED)
    f = order(leak, at(YESTERDAY, 23, 59, 59), pending)  # yesterday's, still waiting
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f}


def test_todays_orders_open_and_overdue(orders: dict[str, WorkOrder]) -> None:
    figures = selectors.orders_today(now=NOW)
    assert figures["new"] == 2  # a, c
    assert figures["open"] == 5  # a, b, c, e, f
    assert figures["pending_dispatch"] == 2  # c, f
    assert figures["overdue"] == 1  # b


def test_orders_by_department_busiest_first(orders: dict[str, WorkOrder]) -> None:
    figures = selectors.orders_today(now=NOW)
    assert figures["departments"] == [
        {"name": "管网维修部", "new": 1, "open": 2, "overdue": 1},  # a; a, b; b
        {"name": "水质监测中心", "new": 1, "open": 1, "overdue": 0},  # e; e
    ]


def test_a_task_becomes_overdue_when_its_deadline_passes(orders: dict[str, WorkOrder]) -> None:
    later = at(TODAY, 16, 30)  # e's quality task (due 16:00) is late too
    figures = selectors.orders_today(now=later)
    assert figures["overdue"] == 2
    assert [d["overdue"] for d in figures["departments"]] == [1, 1]


def test_departments_beyond_the_limit_are_summed(
    leak: Category, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "MAX_DEPARTMENTS", 2)
    for n in range(4):
        department = Department.objects.create(name=f"部门{n}", code=f"d{n}")
        for _ in range(n + 1):  # d3 is the busiest
            work_order = order(leak, at(TODAY, 9), WorkOrder.Status.PROCESSING)
            task(work_order, department, at(TODAY, 9), at(TODAY, 20))
    departments = selectors.orders_today(now=NOW)["departments"]
    assert [d["name"] for d in departments[:2]] == ["部门3", "部门2"]
    assert departments[2]["open"] == 2 + 1 and departments[2]["new"] == 3
    assert "2" in departments[2]["name"]
    assert len(departments) == 3


# --- the switch -------------------------------------------------------------------------------


def agent(agent_id: str, state: str) -> dict[str, Any]:
    return {"agent_id": agent_id, "extension": "80" + agent_id[-2:], "state": state}


def test_agents_and_queues_come_from_the_switch() -> None:
    switch = FakeSwitch(
        [
            agent("1001", "idle"),
            agent("1002", "idle"),
            agent("1003", "talking"),
            agent("1004", "ringing"),
            agent("1005", "not_ready"),
            agent("1006", "after_call_work"),
            agent("1007", "logged_out"),
        ],
        [
            {"name": "hotline", "longest_wait": 42.5, "callers": [{"call_id": "x"}, {}]},
            {"name": "vip", "longest_wait": 7.0, "callers": [{"call_id": "y"}]},
            {"name": "empty", "longest_wait": 0, "callers": []},
        ],
    )
    assert selectors.switch_figures(client=switch) == {
        "up": True,
        "logged_in": 6,
        "talking": 2,
        "idle": 2,
        "not_ready": 1,
        "after_call_work": 1,
        "waiting": 3,
        "longest_wait": 42.5,
    }


def test_a_switch_that_does_not_answer_is_reported_down_not_raised() -> None:
    assert selectors.switch_figures(client=FakeSwitch(up=False)) == {"up": False}


def test_the_snapshot_holds_every_part(calls: None) -> None:
    snapshot = selectors.wallboard_snapshot(
        now=NOW,
        database=selectors.database_figures(now=NOW),
        switch=selectors.switch_figures(client=FakeSwitch(up=False)),
    )
    assert snapshot["type"] == "snapshot"
    assert snapshot["switch"] == {"up": False}
    assert snapshot["calls"]["inbound"] == 8
    assert snapshot["orders"]["new"] == 0
    assert snapshot["at"] == NOW.isoformat()
