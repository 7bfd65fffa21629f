"""Deadline reminders (B1d): each open task gets one "due soon" reminder within the warning time
before its deadline and one "overdue" reminder after it, recorded on the timeline and pushed to
the department and the hotline — once, however often and by how many workers the job runs."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from aqualine.accounts.models import Department, User
from aqualine.conftest import make_user
from aqualine.core.models import Parameter
from aqualine.core.parameters import invalidate_cache
from aqualine.jobs import JOBS
from aqualine.workorders import events, reminders, services
from aqualine.workorders.models import Category, DepartmentTask, OrderEvent
from aqualine.workorders.tests.conftest import dispatched, finish

SHANGHAI = ZoneInfo("Asia/Shanghai")
DISPATCHED_AT = datetime(2025, 7, 1, 9, 0, tzinfo=SHANGHAI)  # leak-pipe: 24 h → 2 July 09:00
Type = OrderEvent.Type


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, now: datetime) -> None:
        self.now = now
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def at(self, hours: float) -> datetime:
        """Move to `hours` after the dispatch."""
        self.now = DISPATCHED_AT + timedelta(hours=hours)
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch, DISPATCHED_AT)


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[OrderEvent]:
    sent: list[OrderEvent] = []
    monkeypatch.setattr(events, "publish_order_event", sent.append)
    return sent


def _run() -> str:
    out = io.StringIO()
    call_command("remind_deadlines", stdout=out)
    return out.getvalue().strip()


def _reminders() -> list[tuple[str, int]]:
    return list(
        OrderEvent.objects.filter(type__in=[Type.DUE_SOON, Type.OVERDUE])
        .order_by("id")
        .values_list("type", "task_id")
    )


pytestmark = pytest.mark.django_db


def test_each_reminder_is_sent_once_at_its_time(
    clock: Clock,
    agent: User,
    repair: Department,
    leak: Category,
    published: list[OrderEvent],
    django_capture_on_commit_callbacks: Callable,
) -> None:
    _order, (task,) = dispatched(agent, leak, repair)
    clock.at(22.9)  # more than the warning time (1 h) before the deadline
    assert _run() == "sent 0 deadline reminder(s)"

    clock.at(23.5)
    with django_capture_on_commit_callbacks(execute=True):
        assert _run() == "sent 1 deadline reminder(s)"
    assert _reminders() == [(Type.DUE_SOON, task.pk)]
    assert [e.type for e in published] == [Type.DUE_SOON]  # pushed once committed
    clock.at(23.9)
    assert _run() == "sent 0 deadline reminder(s)"

    clock.at(24.01)
    with django_capture_on_commit_callbacks(execute=True):
        assert _run() == "sent 1 deadline reminder(s)"
        assert _run() == "sent 0 deadline reminder(s)"
    clock.at(48)
    assert _run() == "sent 0 deadline reminder(s)"
    assert _reminders() == [(Type.DUE_SOON, task.pk), (Type.OVERDUE, task.pk)]
    assert [e.type for e in published] == [Type.DUE_SOON, Type.OVERDUE]

    overdue = OrderEvent.objects.get(type=Type.OVERDUE)
    assert (overdue.actor, overdue.department, overdue.at) == (
        None,
        repair,
        DISPATCHED_AT + timedelta(hours=24.01),
    )
    assert parse_datetime(overdue.data["deadline"]) == task.deadline
    task.refresh_from_db()
    assert task.due_soon_reminded_at == DISPATCHED_AT + timedelta(hours=23.5)
    assert task.overdue_reminded_at == DISPATCHED_AT + timedelta(hours=24.01)


def test_nothing_is_sent_for_tasks_the_department_is_done_with(
    clock: Clock,
    agent: User,
    dispatcher: User,
    handler: User,
    repair: Department,
    quality: Department,
    leak: Category,
) -> None:
    _o1, (submitted,) = dispatched(agent, leak, repair)
    _o2, (returned,) = dispatched(agent, leak, repair)
    _o3, (cancelled,) = dispatched(agent, leak, quality)
    finish(submitted, handler)
    services.task_return(actor=handler, task=returned, version=returned.version, reason="错派")
    cancelled.refresh_from_db()
    services.task_cancel(actor=dispatcher, task=cancelled, version=cancelled.version, reason="重复")
    for hours in (23.5, 30):
        clock.at(hours)
        assert _run() == "sent 0 deadline reminder(s)"
    assert _reminders() == []


def test_every_open_task_of_an_order_is_reminded_for_itself(
    clock: Clock,
    agent: User,
    handler: User,
    repair: Department,
    quality: Department,
    leak: Category,
) -> None:
    _order, tasks = dispatched(agent, leak, repair, quality)
    finish(tasks[0], handler)  # repair is done; quality is late
    clock.at(25)
    _run()
    assert _reminders() == [(Type.OVERDUE, tasks[1].pk)]


def test_a_task_found_already_overdue_gets_only_the_overdue_reminder(
    clock: Clock, agent: User, repair: Department, leak: Category
) -> None:
    _order, (task,) = dispatched(agent, leak, repair)
    clock.at(30)  # the worker was down through the warning time
    _run()
    clock.at(31)
    _run()
    assert _reminders() == [(Type.OVERDUE, task.pk)]


def test_no_due_soon_reminder_when_the_warning_time_is_zero(
    clock: Clock, agent: User, repair: Department, leak: Category
) -> None:
    Parameter.objects.create(key="business.overdue_warning", value=0)
    invalidate_cache()
    _order, (task,) = dispatched(agent, leak, repair)
    clock.at(23.99)
    _run()
    assert _reminders() == []
    clock.at(24.5)
    _run()
    assert _reminders() == [(Type.OVERDUE, task.pk)]


def test_the_warning_time_is_the_system_parameter(
    clock: Clock, agent: User, repair: Department, leak: Category
) -> None:
    Parameter.objects.create(key="business.overdue_warning", value=4 * 3600)
    invalidate_cache()
    _order, (task,) = dispatched(agent, leak, repair)
    clock.at(19.9)
    _run()
    assert _reminders() == []
    clock.at(20.1)
    _run()
    assert _reminders() == [(Type.DUE_SOON, task.pk)]


def test_a_runner_that_found_the_reminders_due_sends_none_that_another_sent_meanwhile(
    clock: Clock, agent: User, repair: Department, quality: Department, leak: Category
) -> None:
    """Two workers: both find the same reminders due; the slower one claims none of them."""
    _order, tasks = dispatched(agent, leak, repair, quality)
    now = clock.at(24.5)
    seen_by_slow_runner = reminders.reminders_due(now=now)
    assert len(seen_by_slow_runner) == 2
    assert len(reminders.deadline_reminders_send(now=now)) == 2  # the fast one
    for reminder, task in seen_by_slow_runner:
        assert reminders.reminder_send(reminder=reminder, task=task, now=now) is None
    assert sorted(_reminders()) == sorted((Type.OVERDUE, t.pk) for t in tasks)


def test_a_task_submitted_after_it_was_found_due_is_not_reminded(
    clock: Clock, agent: User, handler: User, repair: Department, leak: Category
) -> None:
    _order, (task,) = dispatched(agent, leak, repair)
    now = clock.at(23.5)
    ((reminder, found),) = reminders.reminders_due(now=now)
    finish(task, handler)
    assert reminders.reminder_send(reminder=reminder, task=found, now=now) is None
    assert _reminders() == []


def test_reminders_reach_the_department_and_the_hotline(
    clock: Clock,
    agent: User,
    repair: Department,
    quality: Department,
    leak: Category,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    _order, (task,) = dispatched(agent, leak, repair)
    layer = get_channel_layer()
    assert layer is not None
    channels = {
        group: async_to_sync(layer.new_channel)()
        for group in ("workorders", f"department_{repair.pk}", f"department_{quality.pk}")
    }
    for group, channel in channels.items():
        async_to_sync(layer.group_add)(group, channel)

    async def receive(channel: str) -> dict:
        return await asyncio.wait_for(layer.receive(channel), timeout=5)

    try:
        clock.at(24.5)
        with django_capture_on_commit_callbacks(execute=True):
            _run()
        for group in ("workorders", f"department_{repair.pk}"):
            message = async_to_sync(receive)(channels[group])
            assert (message["event"], message["task"], message["department"]) == (
                "overdue",
                task.pk,
                repair.pk,
            )
        # Quality was not dispatched to: its channel got nothing (a marker comes first).
        async_to_sync(layer.send)(channels[f"department_{quality.pk}"], {"type": "marker"})
        assert async_to_sync(receive)(channels[f"department_{quality.pk}"]) == {"type": "marker"}
    finally:
        for group, channel in channels.items():
            async_to_sync(layer.group_discard)(group, channel)


def test_the_worker_runs_the_reminders_every_minute() -> None:
    assert [(j.every_seconds, j.command) for j in JOBS if j.command[0] == "remind_deadlines"] == [
        (60, ("remind_deadlines",))
    ]


@pytest.mark.django_db(transaction=True)
def test_concurrent_runners_send_each_reminder_once(monkeypatch: pytest.MonkeyPatch) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("threads need a server database (an in-memory SQLite test DB is per thread)")
    from aqualine.workorders.tests.conftest import ensure_seeded_categories

    ensure_seeded_categories()
    monkeypatch.setattr(events, "publish_order_event", lambda event: None)
    hotline = Department.objects.create(name="热线中心", code="hotline")
    departments = [Department.objects.create(name=f"部门{i}", code=f"dept-{i}") for i in range(4)]
    agent = make_user("1001", "agent", department=hotline)
    leak = Category.objects.get(code="leak-pipe")
    Clock(monkeypatch, DISPATCHED_AT)
    for _ in range(5):
        dispatched(agent, leak, *departments)
    now = DISPATCHED_AT + timedelta(hours=25)
    start = threading.Barrier(6)
    counts: list[int] = []
    errors: list[BaseException] = []

    def runner() -> None:
        try:
            start.wait(timeout=10)
            counts.append(len(reminders.deadline_reminders_send(now=now)))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sum(counts) == 20
    assert OrderEvent.objects.filter(type=Type.OVERDUE).count() == 20
    assert (
        DepartmentTask.objects.filter(overdue_reminded_at=now).count()
        == DepartmentTask.objects.count()
        == 20
    )
