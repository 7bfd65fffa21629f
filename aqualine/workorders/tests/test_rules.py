"""Permissions of every transition, on-behalf recording, optimistic locking of a section,
urging (B1e) and overdue detection with a frozen clock (B1d)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from aqualine.accounts.models import Department, User
from aqualine.core.concurrency import ConflictError
from aqualine.workorders import services
from aqualine.workorders.models import Category, DepartmentTask, OrderEvent, WorkOrder
from aqualine.workorders.selectors import (
    overdue_tasks,
    task_is_overdue,
    task_time_left,
    tasks_due_soon,
    workorder_deadline,
    workorder_list,
)
from aqualine.workorders.tests.conftest import dispatched, finish, new_order

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 7, 1, 10, 0, tzinfo=SHANGHAI)


# --- every transition is refused to a user without the permission ------------------------------


def _pending(agent: User, leak: Category, repair: Department) -> WorkOrder:
    return new_order(agent, leak)


def _task(agent: User, leak: Category, repair: Department) -> DepartmentTask:
    return dispatched(agent, leak, repair)[1][0]


def _accepted(agent: User, leak: Category, repair: Department, handler: User) -> DepartmentTask:
    task = _task(agent, leak, repair)
    return services.task_accept(actor=handler, task=task, version=task.version)


def _returned(agent: User, leak: Category, repair: Department, handler: User) -> DepartmentTask:
    task = _task(agent, leak, repair)
    return services.task_return(actor=handler, task=task, version=1, reason="非本部门")


def _follow_up(agent: User, leak: Category, repair: Department, handler: User) -> WorkOrder:
    order, (task,) = dispatched(agent, leak, repair)
    finish(task, handler)
    order.refresh_from_db()
    return order


Attempt = Callable[[User, User, Category, Department, User], object]

ATTEMPTS: dict[str, Attempt] = {
    "create": lambda who, agent, leak, repair, handler: new_order(who, leak),
    "close_at_intake": lambda who, agent, leak, repair, handler: services.workorder_close_at_intake(
        actor=who, order=_pending(agent, leak, repair), answer="已答复"
    ),
    "dispatch": lambda who, agent, leak, repair, handler: services.workorder_dispatch(
        actor=who, order=_pending(agent, leak, repair), departments=[repair]
    ),
    "urge": lambda who, agent, leak, repair, handler: services.workorder_urge(
        actor=who, order=_pending(agent, leak, repair)
    ),
    "accept": lambda who, agent, leak, repair, handler: services.task_accept(
        actor=who, task=_task(agent, leak, repair), version=1
    ),
    "record_survey": lambda who, agent, leak, repair, handler: services.task_record_survey(
        actor=who, task=_accepted(agent, leak, repair, handler), version=2, survey="勘查"
    ),
    "record_result": lambda who, agent, leak, repair, handler: services.task_record_result(
        actor=who, task=_accepted(agent, leak, repair, handler), version=2, result="结果"
    ),
    "submit": lambda who, agent, leak, repair, handler: services.task_submit(
        actor=who, task=_accepted(agent, leak, repair, handler), version=2, result="结果"
    ),
    "return": lambda who, agent, leak, repair, handler: services.task_return(
        actor=who, task=_task(agent, leak, repair), version=1, reason="原因"
    ),
    "redispatch": lambda who, agent, leak, repair, handler: services.task_redispatch(
        actor=who, task=_returned(agent, leak, repair, handler), version=2, department=repair
    ),
    "cancel": lambda who, agent, leak, repair, handler: services.task_cancel(
        actor=who, task=_task(agent, leak, repair), version=1, reason="原因"
    ),
    "follow_up": lambda who, agent, leak, repair, handler: services.workorder_follow_up(
        actor=who,
        order=_follow_up(agent, leak, repair, handler),
        outcome="satisfied",
        satisfaction=5,
    ),
    "redo": lambda who, agent, leak, repair, handler: services.workorder_redo(
        actor=who, order=_follow_up(agent, leak, repair, handler), departments=[repair]
    ),
    "close": lambda who, agent, leak, repair, handler: services.workorder_close(
        actor=who,
        order=services.task_cancel(
            actor=agent, task=_task(agent, leak, repair), version=1, reason="重复"
        ).order,
    ),
}


@pytest.mark.parametrize("name", sorted(ATTEMPTS))
def test_every_transition_is_refused_without_the_permission(
    name: str,
    agent: User,
    handler: User,
    outsider: User,
    repair: Department,
    leak: Category,
) -> None:
    with pytest.raises(PermissionDenied):
        ATTEMPTS[name](outsider, agent, leak, repair, handler)
    assert not OrderEvent.objects.filter(actor=outsider).exists()


def test_handlers_cannot_run_the_hotline_transitions(
    agent: User, handler: User, repair: Department, leak: Category
) -> None:
    order = new_order(agent, leak)
    with pytest.raises(PermissionDenied):
        services.workorder_dispatch(actor=handler, order=order, departments=[repair])
    with pytest.raises(PermissionDenied):
        new_order(handler, leak)
    with pytest.raises(PermissionDenied):  # agents dispatch but do not handle tasks
        services.task_accept(actor=agent, task=_task(agent, leak, repair), version=1)


# --- on behalf of a department ----------------------------------------------------------------


def test_hotline_staff_with_the_permission_record_for_a_department(
    agent: User, dispatcher: User, handler: User, repair: Department, leak: Category
) -> None:
    order, (task,) = dispatched(agent, leak, repair)
    services.task_accept(actor=dispatcher, task=task, version=task.version)
    services.task_record_survey(
        actor=dispatcher, task=task, version=task.version, survey="电话报告：阀门损坏"
    )
    task.refresh_from_db()
    assert (task.recorded_on_behalf_by, task.surveyed_by) == (dispatcher, dispatcher)
    event = OrderEvent.objects.filter(task=task, type=OrderEvent.Type.SURVEYED).get()
    assert event.data == {"survey": "电话报告：阀门损坏", "on_behalf": True}
    assert event.department == repair

    with pytest.raises(PermissionDenied):  # a department handler may not return on behalf
        services.task_return(actor=dispatcher, task=task, version=task.version, reason="x")

    services.task_submit(actor=handler, task=task, version=task.version, result="已更换阀门")
    task.refresh_from_db()
    assert task.recorded_on_behalf_by is None  # the department itself recorded the result
    order.refresh_from_db()
    assert order.status == WorkOrder.Status.PENDING_FOLLOW_UP


def test_surveys_may_be_recorded_several_times(
    agent: User, handler: User, repair: Department, leak: Category
) -> None:
    _order, (task,) = dispatched(agent, leak, repair)
    services.task_accept(actor=handler, task=task, version=task.version)
    services.task_record_survey(actor=handler, task=task, version=task.version, survey="第一次")
    services.task_record_survey(actor=handler, task=task, version=task.version, survey="第二次")
    task.refresh_from_db()
    assert task.survey == "第二次"
    surveys = OrderEvent.objects.filter(task=task, type=OrderEvent.Type.SURVEYED)
    assert [e.data["survey"] for e in surveys.order_by("id")] == ["第一次", "第二次"]


# --- concurrent edits of one section ----------------------------------------------------------


def test_the_second_save_of_one_section_is_a_conflict_and_nothing_is_overwritten(
    agent: User, handler: User, repair_handler2: User, repair: Department, leak: Category
) -> None:
    _order, (task,) = dispatched(agent, leak, repair)
    services.task_accept(actor=handler, task=task, version=task.version)
    seen = task.version
    mine = DepartmentTask.objects.get(pk=task.pk)
    theirs = DepartmentTask.objects.get(pk=task.pk)

    services.task_record_result(actor=handler, task=mine, version=seen, result="第一人的结果")
    with pytest.raises(ConflictError):
        services.task_record_result(
            actor=repair_handler2, task=theirs, version=seen, result="第二人的结果"
        )
    task.refresh_from_db()
    assert (task.result, task.result_by, task.version) == ("第一人的结果", handler, seen + 1)
    assert OrderEvent.objects.filter(task=task, type="result_recorded").count() == 1


def test_two_submits_of_one_task_submit_it_once(
    agent: User, handler: User, repair_handler2: User, repair: Department, leak: Category
) -> None:
    _order, (task,) = dispatched(agent, leak, repair)
    services.task_accept(actor=handler, task=task, version=1)
    services.task_submit(actor=handler, task=task, version=2, result="完成")
    with pytest.raises(ConflictError):
        services.task_submit(actor=repair_handler2, task=task, version=2, result="也完成")
    assert OrderEvent.objects.filter(task=task, type="submitted").count() == 1


# --- urge -------------------------------------------------------------------------------------


def test_urges_are_counted_on_the_order_and_its_open_tasks(
    agent: User,
    handler: User,
    quality_handler: User,
    repair: Department,
    quality: Department,
    leak: Category,
) -> None:
    order, (repair_task, quality_task) = dispatched(agent, leak, repair, quality)
    finish(quality_task, quality_handler)
    services.workorder_urge(actor=agent, order=order, note="客户再次来电")
    services.workorder_urge(actor=agent, order=order)
    order.refresh_from_db()
    repair_task.refresh_from_db()
    quality_task.refresh_from_db()
    assert (order.urge_count, repair_task.urge_count, quality_task.urge_count) == (2, 2, 0)
    urges = OrderEvent.objects.filter(order=order, type=OrderEvent.Type.URGED).order_by("id")
    assert [(e.data["count"], e.data["tasks"]) for e in urges] == [
        (1, [repair_task.pk]),
        (2, [repair_task.pk]),
    ]
    assert urges[0].data["note"] == "客户再次来电"


# --- overdue (computed from the deadline, never a status) -------------------------------------


def test_overdue_is_detected_from_the_deadline_with_a_frozen_clock(
    agent: User,
    handler: User,
    repair: Department,
    monkeypatch: pytest.MonkeyPatch,
    db: None,
) -> None:
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    burst = Category.objects.get(code="leak-burst")  # 2 h
    order, (task,) = dispatched(agent, burst, repair)
    assert task.deadline == NOW + timedelta(hours=2)
    assert workorder_deadline(order) == task.deadline

    at = NOW + timedelta(hours=1, minutes=30)
    assert task_time_left(task, at) == timedelta(minutes=30)
    assert not task_is_overdue(task, at)
    assert list(overdue_tasks(now=at)) == []
    assert list(tasks_due_soon(now=at, within=timedelta(hours=1))) == [task]
    assert list(tasks_due_soon(now=NOW, within=timedelta(hours=1))) == []

    late = NOW + timedelta(hours=3)
    assert task_time_left(task, late) == timedelta(hours=-1)
    assert task_is_overdue(task, late)
    assert list(overdue_tasks(now=late)) == [task]
    assert list(workorder_list(user=agent, overdue=True, now=late)) == [order]
    assert list(workorder_list(user=agent, overdue=False, now=at)) == [order]
    order.refresh_from_db()
    assert order.status == WorkOrder.Status.PROCESSING  # overdue is not a status

    monkeypatch.setattr(timezone, "now", lambda: late)
    finish(task, handler)
    task.refresh_from_db()
    assert task_time_left(task, late) is None  # submitted: the clock stopped
    assert list(overdue_tasks(now=late)) == []
    submitted = OrderEvent.objects.get(task=task, type=OrderEvent.Type.SUBMITTED)
    assert submitted.data["late"] is True


def test_the_default_time_limit_parameter_applies_without_a_category_limit(
    agent: User, repair: Department, monkeypatch: pytest.MonkeyPatch, db: None
) -> None:
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    category = Category.objects.create(name="其他", code="other")
    _order, (task,) = dispatched(agent, category, repair)
    assert task.deadline == NOW + timedelta(hours=24)  # business.default_time_limit
