"""Real concurrent writers (threads with their own connections; PostgreSQL only — an in-memory
SQLite test database is private to one thread, and SQLite serialises writers anyway)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial

import pytest
from django.db import connection, connections

from aqualine.accounts.models import Department
from aqualine.conftest import ensure_seeded_roles, make_user
from aqualine.core.concurrency import ConflictError
from aqualine.workorders import services
from aqualine.workorders.models import Category, DepartmentTask, WorkOrder
from aqualine.workorders.tests.conftest import dispatched, ensure_seeded_categories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _server_database() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


def run_together(*jobs: Callable[[], object]) -> list[BaseException | object]:
    """Start the jobs at the same moment; return each one's result or exception."""
    results: list[BaseException | object] = [None] * len(jobs)
    start = threading.Barrier(len(jobs))

    def run(index: int) -> None:
        try:
            start.wait(timeout=10)
            results[index] = jobs[index]()
        except BaseException as exc:  # returned to the test
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return results


def test_two_departments_submitting_at_once_move_the_order_to_follow_up() -> None:
    ensure_seeded_roles()
    ensure_seeded_categories()
    hotline = Department.objects.create(name="热线中心", code="hotline")
    repair = Department.objects.create(name="管网维修部", code="repair")
    quality = Department.objects.create(name="水质监测中心", code="quality")
    agent = make_user("1001", "agent", department=hotline)
    repair_handler = make_user("3001", "handler", department=repair)
    quality_handler = make_user("3101", "handler", department=quality)
    leak = Category.objects.get(code="leak-pipe")
    for _ in range(5):
        order, (a, b) = dispatched(agent, leak, repair, quality)
        services.task_accept(actor=repair_handler, task=a, version=1)
        services.task_accept(actor=quality_handler, task=b, version=1)
        results = run_together(
            partial(services.task_submit, actor=repair_handler, task=a, version=2, result="好"),
            partial(services.task_submit, actor=quality_handler, task=b, version=2, result="好"),
        )
        assert all(isinstance(r, DepartmentTask) for r in results), results
        order.refresh_from_db()
        assert order.status == WorkOrder.Status.PENDING_FOLLOW_UP


def test_two_people_saving_one_section_at_once_one_wins_nothing_lost() -> None:
    ensure_seeded_roles()
    ensure_seeded_categories()
    hotline = Department.objects.create(name="热线中心", code="hotline")
    repair = Department.objects.create(name="管网维修部", code="repair")
    agent = make_user("1001", "agent", department=hotline)
    first = make_user("3001", "handler", department=repair)
    second = make_user("3002", "handler", department=repair)
    leak = Category.objects.get(code="leak-pipe")
    _order, (task,) = dispatched(agent, leak, repair)
    services.task_accept(actor=first, task=task, version=1)
    results = run_together(
        lambda: services.task_record_result(
            actor=first, task=DepartmentTask.objects.get(pk=task.pk), version=2, result="甲"
        ),
        lambda: services.task_record_result(
            actor=second, task=DepartmentTask.objects.get(pk=task.pk), version=2, result="乙"
        ),
    )
    winners = [r for r in results if isinstance(r, DepartmentTask)]
    losers = [r for r in results if isinstance(r, ConflictError)]
    assert (len(winners), len(losers)) == (1, 1), results
    task.refresh_from_db()
    assert task.version == 3
    assert task.result == winners[0].result
