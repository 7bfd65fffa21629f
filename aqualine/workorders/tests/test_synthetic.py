"""The synthetic work-order generator: its orders, tasks and timelines are what the services
would have written (statuses, events in time order, versions), its numbers never collide with
a later intake's, and it refuses to run twice unless asked to append."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from aqualine.accounts.models import Department, User
from aqualine.conftest import make_user
from aqualine.customers.synthetic import generate_customers
from aqualine.workorders import services
from aqualine.workorders.models import (
    Category,
    DepartmentTask,
    OrderCounter,
    OrderEvent,
    WorkOrder,
)
from aqualine.workorders.synthetic import OrdersExistError, analyze_tables, generate_orders
from aqualine.workorders.tests.conftest import ensure_seeded_categories, new_order

Status = WorkOrder.Status
TaskStatus = DepartmentTask.Status
EventType = OrderEvent.Type
NOW = datetime(2026, 3, 16, 2, 30, tzinfo=UTC)  # 10:30 in Shanghai, a Monday


@pytest.fixture
def hotline_staff(hotline: Department, agent: User, dispatcher: User) -> list[User]:
    return [agent, dispatcher]


@pytest.fixture
def departments(
    hotline_staff: list[User], repair: Department, handler: User, quality: Department
) -> dict[str, Department]:
    """The departments the seeded categories name, each with a handler, and some customers."""
    ensure_seeded_categories()
    found = {"repair": repair, "quality": quality}
    make_user("3101", "handler", department=quality)
    for number, code in enumerate(("billing", "service", "secondary"), start=2):
        found[code] = Department.objects.create(name=code, code=code)
        make_user(f"300{number + 1}", "handler", department=found[code])
    generate_customers(accounts=40, seed=5, months=1)
    return found


def _timelines() -> dict[int, list[OrderEvent]]:
    timelines: dict[int, list[OrderEvent]] = defaultdict(list)
    for event in OrderEvent.objects.order_by("order_id", "at", "id"):
        timelines[event.order_id].append(event)
    return timelines


def _tasks() -> dict[int, list[DepartmentTask]]:
    tasks: dict[int, list[DepartmentTask]] = defaultdict(list)
    for task in DepartmentTask.objects.order_by("id"):
        tasks[task.order_id].append(task)
    return tasks


@pytest.mark.django_db
def test_every_order_has_the_tasks_and_timeline_its_status_needs(
    departments: dict[str, Department],
) -> None:
    result = generate_orders(orders=300, days=30, seed=11, batch=70, now=NOW)
    orders = list(WorkOrder.objects.all())
    tasks, timelines = _tasks(), _timelines()
    assert result.orders == len(orders) == 300
    assert result.tasks == DepartmentTask.objects.count()
    assert result.events == OrderEvent.objects.count()
    assert sum(result.statuses.values()) == 300
    at_intake = 0
    for order in orders:
        timeline = timelines[order.pk]
        types = [e.type for e in timeline]
        assert timeline[0].type == EventType.CREATED and timeline[0].at == order.created_at
        assert [e.pk for e in timeline] == sorted(e.pk for e in timeline), order.number
        assert timeline[-1].at <= NOW
        if order.source == WorkOrder.Source.IVR:  # a message left with the IVR: no agent
            assert order.created_by_id is None and timeline[0].actor_id is None
        else:
            assert order.created_by_id is not None and timeline[0].actor_id is not None
        if order.status == Status.PENDING_DISPATCH:
            assert not tasks[order.pk] and types == [EventType.CREATED]
            continue
        if not tasks[order.pk]:  # 直接办结: answered by the agent during the call
            assert order.status == Status.CLOSED and order.created_by_id is not None
            assert types == [EventType.CREATED, EventType.CLOSED]
            assert timeline[-1].data["at_intake"] is True
            at_intake += 1
            continue
        for task in tasks[order.pk]:
            assert order.created_at < task.dispatched_at < task.deadline
            if task.accepted_at is not None:
                assert task.dispatched_at < task.accepted_at
            if task.status == TaskStatus.SUBMITTED:
                assert task.result and task.result_by_id is not None
                assert task.accepted_at is not None and task.submitted_at is not None
                assert task.accepted_at < task.submitted_at
        current = [t for t in tasks[order.pk] if t.round == order.redo_count + 1]
        counting = [t for t in current if t.replaced_by_id is None]
        if order.status in (Status.PENDING_FOLLOW_UP, Status.CLOSED):
            assert all(t.status == TaskStatus.SUBMITTED for t in counting), order.number
        if order.status == Status.PROCESSING:
            assert any(t.status != TaskStatus.SUBMITTED for t in counting), order.number
        if order.status == Status.CLOSED:
            follow_up, closed = timeline[-2], timeline[-1]
            assert (follow_up.type, closed.type) == (EventType.FOLLOW_UP, EventType.CLOSED)
            assert follow_up.data["outcome"] == "satisfied"
            submitted = [t.submitted_at for t in counting if t.submitted_at is not None]
            assert len(submitted) == len(counting)
            assert max(submitted) <= follow_up.at <= closed.at
            assert order.closed_at == closed.at and order.satisfaction is not None
        else:
            assert order.closed_at is None
        assert types.count(EventType.REDO) == order.redo_count
        assert types.count(EventType.URGED) == order.urge_count
        assert types.count(EventType.DISPATCHED) == len(
            [t for t in tasks[order.pk] if not hasattr(t, "replaces")]
        )
    statuses = Counter(o.status for o in orders)
    assert statuses[Status.CLOSED] > 250  # most are closed, ...
    assert statuses[Status.PROCESSING] > 0  # ... some are still being worked on
    assert 0 < at_intake < 150
    joint = [pk for pk, ts in tasks.items() if len({t.department_id for t in ts}) > 1]
    assert joint


@pytest.mark.django_db
def test_returned_tasks_are_redispatched_and_some_tasks_are_overdue(
    departments: dict[str, Department],
) -> None:
    generate_orders(orders=300, days=4, seed=3, now=NOW)
    returned = list(DepartmentTask.objects.filter(status=TaskStatus.RETURNED))
    assert returned
    for task in returned:
        assert task.return_reason and task.returned_at is not None
        if task.replaced_by is not None:
            assert task.replaced_by.round == task.round
            assert task.replaced_by.dispatched_at > task.returned_at
            assert OrderEvent.objects.filter(
                task=task.replaced_by, type=EventType.REDISPATCHED, data__from_task=task.pk
            ).exists()
    overdue = DepartmentTask.objects.filter(
        status__in=DepartmentTask.OPEN_STATUSES, deadline__lt=NOW
    )
    assert overdue.exists()
    urged = WorkOrder.objects.filter(urge_count__gt=0)
    assert urged.exists()
    assert DepartmentTask.objects.filter(urge_count__gt=0).exists()


@pytest.mark.django_db
def test_callers_are_mostly_customers_and_some_call_again(
    departments: dict[str, Department],
) -> None:
    generate_orders(orders=300, days=30, seed=5, now=NOW)
    callers = Counter(
        WorkOrder.objects.exclude(reporter_phone="").values_list("reporter_phone", flat=True)
    )
    assert callers.most_common(1)[0][1] >= 3
    linked = WorkOrder.objects.filter(account__isnull=False)
    assert linked.count() > 100
    order = linked.select_related("account").first()
    assert order is not None and order.account is not None
    assert order.address == order.account.address
    assert order.account.phones.filter(number=order.reporter_phone or order.caller_number)


@pytest.mark.django_db
def test_numbers_follow_the_day_counters_so_a_later_intake_gets_a_fresh_one(
    departments: dict[str, Department], agent: User
) -> None:
    now = timezone.now()
    generate_orders(orders=120, days=1, seed=2, now=now)
    today = timezone.localdate(now)
    numbers = list(WorkOrder.objects.order_by("created_at", "id").values_list("number", flat=True))
    assert numbers == [f"GD{today:%Y%m%d}{seq:04d}" for seq in range(1, 121)]
    assert OrderCounter.objects.get(day=today).last == 120
    leak = Category.objects.get(code="leak-pipe")
    assert new_order(agent, leak).number == f"GD{today:%Y%m%d}0121"


@pytest.mark.django_db
def test_numbers_match_the_local_day_of_intake(departments: dict[str, Department]) -> None:
    generate_orders(orders=200, days=20, seed=8, batch=30, now=NOW)
    per_day: dict[str, list[int]] = defaultdict(list)
    for number, created in WorkOrder.objects.values_list("number", "created_at"):
        assert re.fullmatch(r"GD\d{12}", number)
        assert number[2:10] == f"{timezone.localdate(created):%Y%m%d}"
        per_day[number[2:10]].append(int(number[10:]))
    for day, seqs in per_day.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1))
        counter = OrderCounter.objects.get(day=datetime.strptime(day, "%Y%m%d").date())
        assert counter.last == len(seqs)


@pytest.mark.django_db
def test_a_second_run_refuses_unless_it_appends(
    departments: dict[str, Department], agent: User
) -> None:
    generate_orders(orders=80, days=3, seed=1, now=NOW)
    with pytest.raises(OrdersExistError):
        generate_orders(orders=80, days=3, seed=1, now=NOW)
    assert WorkOrder.objects.count() == 80
    later = NOW + timedelta(hours=1)
    more = generate_orders(orders=50, days=3, seed=2, append=True, now=later)
    assert more.orders == 50
    numbers = list(WorkOrder.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == 130
    for counter in OrderCounter.objects.all():
        day_numbers = [n for n in numbers if n[2:10] == f"{counter.day:%Y%m%d}"]
        assert counter.last == len(day_numbers)
    order = services.workorder_create(
        actor=agent,
        source=WorkOrder.Source.PHONE,
        category=Category.objects.get(code="leak-pipe"),
        description="管道漏水",
    )
    assert order.number not in numbers


@pytest.mark.django_db
def test_the_command_reports_and_refuses_a_second_run(departments: dict[str, Department]) -> None:
    from io import StringIO

    out = StringIO()
    call_command("generate_orders", "--orders", "60", "--seed", "4", "--batch", "25", stdout=out)
    assert "Generated 60 orders" in out.getvalue()
    assert WorkOrder.objects.count() == 60
    with pytest.raises(CommandError, match="--append"):
        call_command("generate_orders", "--orders", "10", stdout=StringIO())
    call_command("generate_orders", "--orders", "10", "--append", "--no-analyze", stdout=out)
    assert WorkOrder.objects.count() == 70
    analyze_tables()


@pytest.mark.django_db
def test_it_needs_the_departments_of_the_categories(hotline_staff: list[User]) -> None:
    ensure_seeded_categories()
    with pytest.raises(CommandError, match="demo"):
        call_command("generate_orders", "--orders", "10")
