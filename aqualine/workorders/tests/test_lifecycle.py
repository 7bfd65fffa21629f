"""The work-order life cycle at service level (B1, B1f, B2): intake, dispatch to several
departments, each writing only its own section, return, re-dispatch, cancel, follow-up, redo,
close."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from aqualine.accounts.models import Department, User
from aqualine.workorders import services
from aqualine.workorders.models import Category, DepartmentTask, OrderEvent, WorkOrder
from aqualine.workorders.selectors import workorder_timeline
from aqualine.workorders.tests.conftest import dispatched, finish, new_order
from aqualine.workorders.transitions import (
    TransitionNotAllowed,
    available_order_transitions,
    available_task_transitions,
)

pytestmark = pytest.mark.django_db

S = WorkOrder.Status
TS = DepartmentTask.Status
E = OrderEvent.Type


def event_types(order: WorkOrder) -> list[str]:
    return [e.type for e in workorder_timeline(order=order)]


def test_two_departments_each_write_only_their_own_section(
    agent: User,
    dispatcher: User,
    handler: User,
    quality_handler: User,
    repair: Department,
    quality: Department,
    leak: Category,
) -> None:
    order, (repair_task, quality_task) = dispatched(agent, leak, repair, quality)
    assert order.status == S.PROCESSING

    with pytest.raises(PermissionDenied):
        services.task_accept(actor=handler, task=quality_task, version=quality_task.version)
    with pytest.raises(PermissionDenied):
        services.task_accept(actor=quality_handler, task=repair_task, version=repair_task.version)

    finish(repair_task, handler, result="更换管段")
    with pytest.raises(PermissionDenied):  # the repair handler cannot write quality's section
        services.task_record_result(
            actor=handler, task=quality_task, version=quality_task.version, result="篡改"
        )
    order.refresh_from_db()
    assert order.status == S.PROCESSING  # quality has not submitted yet

    finish(quality_task, quality_handler, result="水质合格")
    order.refresh_from_db()
    assert order.status == S.PENDING_FOLLOW_UP
    repair_task.refresh_from_db()
    quality_task.refresh_from_db()
    assert (repair_task.result, repair_task.submitted_by) == ("更换管段", handler)
    assert (quality_task.result, quality_task.submitted_by) == ("水质合格", quality_handler)

    services.workorder_follow_up(actor=dispatcher, order=order, outcome="satisfied", satisfaction=5)
    order.refresh_from_db()
    assert order.status == S.CLOSED
    assert order.closed_at is not None
    assert order.satisfaction == 5
    assert event_types(order) == [
        E.CREATED,
        E.DISPATCHED,
        E.DISPATCHED,
        E.ACCEPTED,
        E.SURVEYED,
        E.RESULT_RECORDED,
        E.SUBMITTED,
        E.ACCEPTED,
        E.SURVEYED,
        E.RESULT_RECORDED,
        E.SUBMITTED,
        E.FOLLOW_UP,
        E.CLOSED,
    ]
    surveyed = OrderEvent.objects.filter(order=order, type=E.SURVEYED, task=quality_task).get()
    assert (surveyed.actor, surveyed.department, surveyed.actor_label) == (
        quality_handler,
        quality,
        str(quality_handler),
    )


def test_a_handler_of_a_sub_department_acts_for_the_parent_department(
    agent: User, repair: Department, leak: Category
) -> None:
    from aqualine.conftest import make_user

    east = Department.objects.create(name="东区抢修班", code="repair-east", parent=repair)
    east_handler = make_user("3301", "handler", department=east)
    _order, (task,) = dispatched(agent, leak, repair)
    services.task_accept(actor=east_handler, task=task, version=task.version)
    assert task.status == TS.ACCEPTED


def test_it_returns_a_task_with_a_reason_and_the_hotline_redispatches_it(
    agent: User,
    handler: User,
    quality_handler: User,
    repair: Department,
    quality: Department,
    leak: Category,
) -> None:
    order, (task,) = dispatched(agent, leak, repair)
    with pytest.raises(ValidationError):
        services.task_return(actor=handler, task=task, version=task.version, reason="  ")
    services.task_return(actor=handler, task=task, version=task.version, reason="不属于本部门")
    order.refresh_from_db()
    assert order.status == S.PROCESSING
    assert (task.status, task.return_reason, task.returned_by) == (
        TS.RETURNED,
        "不属于本部门",
        handler,
    )

    new = services.task_redispatch(actor=agent, task=task, version=task.version, department=quality)
    assert (new.department, new.round, new.status) == (quality, 1, TS.WAITING)
    task.refresh_from_db()
    assert task.replaced_by == new
    with pytest.raises(ValidationError):  # a returned task is re-dispatched once
        services.task_redispatch(actor=agent, task=task, version=task.version, department=repair)

    finish(new, quality_handler)
    order.refresh_from_db()
    assert order.status == S.PENDING_FOLLOW_UP  # the returned, replaced task does not count
    assert E.RETURNED in event_types(order)
    assert E.REDISPATCHED in event_types(order)


def test_a_returned_task_that_is_neither_redispatched_nor_cancelled_holds_the_order(
    agent: User,
    handler: User,
    quality_handler: User,
    repair: Department,
    quality: Department,
    leak: Category,
) -> None:
    order, (repair_task, quality_task) = dispatched(agent, leak, repair, quality)
    services.task_return(actor=handler, task=repair_task, version=1, reason="地址不详")
    finish(quality_task, quality_handler)
    order.refresh_from_db()
    assert order.status == S.PROCESSING
    repair_task.refresh_from_db()
    services.task_cancel(actor=agent, task=repair_task, version=repair_task.version, reason="重复")
    order.refresh_from_db()
    assert order.status == S.PENDING_FOLLOW_UP


def test_cancelling_every_task_lets_the_hotline_close_the_order(
    agent: User, repair: Department, quality: Department, leak: Category
) -> None:
    order, (repair_task, quality_task) = dispatched(agent, leak, repair, quality)
    with pytest.raises(ValidationError):
        services.task_cancel(actor=agent, task=repair_task, version=1, reason="")
    services.task_cancel(actor=agent, task=repair_task, version=1, reason="重复工单")
    with pytest.raises(ValidationError):  # quality's task is still open
        services.workorder_close(actor=agent, order=order)
    services.task_cancel(actor=agent, task=quality_task, version=1, reason="重复工单")
    order.refresh_from_db()
    assert order.status == S.PROCESSING  # all cancelled: nothing submitted, the hotline decides
    services.workorder_close(actor=agent, order=order, note="重复工单")
    order.refresh_from_db()
    assert order.status == S.CLOSED
    assert event_types(order)[-3:] == [E.TASK_CANCELLED, E.TASK_CANCELLED, E.CLOSED]
    repair_task.refresh_from_db()
    assert (repair_task.status, repair_task.cancel_reason, repair_task.cancelled_by) == (
        TS.CANCELLED,
        "重复工单",
        agent,
    )


def test_redo_after_an_unsatisfied_follow_up_opens_a_new_round(
    agent: User,
    dispatcher: User,
    handler: User,
    repair: Department,
    leak: Category,
) -> None:
    order, (first,) = dispatched(agent, leak, repair)
    finish(first, handler, result="已处理")
    first.refresh_from_db()
    before = (first.status, first.result, first.version, first.submitted_at)

    services.workorder_follow_up(
        actor=dispatcher, order=order, outcome="unsatisfied", satisfaction=2, note="仍在漏水"
    )
    order.refresh_from_db()
    assert order.status == S.REDO
    (second,) = services.workorder_redo(actor=dispatcher, order=order, departments=[repair])
    order.refresh_from_db()
    assert (order.status, order.redo_count, second.round, second.status) == (
        S.PROCESSING,
        1,
        2,
        TS.WAITING,
    )
    first.refresh_from_db()
    assert (first.status, first.result, first.version, first.submitted_at) == before
    with pytest.raises(TransitionNotAllowed):  # the old section is history, read-only
        services.task_record_result(actor=handler, task=first, version=first.version, result="x")

    finish(second, handler, result="彻底修复")
    order.refresh_from_db()
    assert order.status == S.PENDING_FOLLOW_UP
    assert E.REDO in event_types(order)


def test_redo_of_a_closed_order_needs_the_supervisor_permission(
    agent: User,
    dispatcher: User,
    supervisor: User,
    handler: User,
    repair: Department,
    leak: Category,
) -> None:
    order, (task,) = dispatched(agent, leak, repair)
    finish(task, handler)
    services.workorder_follow_up(actor=dispatcher, order=order, outcome="satisfied", satisfaction=4)
    with pytest.raises(PermissionDenied):
        services.workorder_redo(actor=dispatcher, order=order, departments=[repair])
    tasks = services.workorder_redo(actor=supervisor, order=order, departments=[repair])
    order.refresh_from_db()
    assert (order.status, order.closed_at, order.redo_count) == (S.PROCESSING, None, 1)
    assert tasks[0].round == 2


def test_close_at_intake_only_from_pending_dispatch(
    agent: User, repair: Department, db: None
) -> None:
    consultation = Category.objects.get(code="consultation")
    order = new_order(agent, consultation, description="咨询缴费方式")
    services.workorder_close_at_intake(actor=agent, order=order, answer="已告知缴费方式")
    order.refresh_from_db()
    assert order.status == S.CLOSED
    assert event_types(order) == [E.CREATED, E.CLOSED]
    with pytest.raises(TransitionNotAllowed):
        services.workorder_dispatch(actor=agent, order=order, departments=[repair])


def test_an_order_cannot_be_dispatched_twice(
    agent: User, repair: Department, leak: Category
) -> None:
    order, _tasks = dispatched(agent, leak, repair)
    stale = WorkOrder.objects.get(pk=order.pk)
    stale.status = S.PENDING_DISPATCH  # a page loaded before the first dispatch
    with pytest.raises(TransitionNotAllowed):
        services.workorder_dispatch(actor=agent, order=stale, departments=[repair])
    assert DepartmentTask.objects.filter(order=order).count() == 1


def test_intake_refuses_a_category_with_sub_categories(agent: User, db: None) -> None:
    with pytest.raises(ValidationError):
        new_order(agent, Category.objects.get(code="leak"))


def test_dispatch_deadline_uses_the_category_limit(
    agent: User, repair: Department, db: None
) -> None:
    burst = Category.objects.get(code="leak-burst")  # 2 h
    _order, (task,) = dispatched(agent, burst, repair)
    assert (task.deadline - task.dispatched_at).total_seconds() == 2 * 3600
    connection = Category.objects.get(code="connection-new")  # inherits 5 days = 120 h
    _order, (task,) = dispatched(agent, connection, repair)
    assert (task.deadline - task.dispatched_at).total_seconds() == 120 * 3600


def test_category_default_department_is_resolved_from_its_code(
    repair: Department, db: None
) -> None:
    assert services.category_default_department(Category.objects.get(code="leak-burst")) == repair
    assert services.category_default_department(Category.objects.get(code="quality-odour")) is None


def test_buttons_follow_the_transition_table(
    agent: User, dispatcher: User, handler: User, repair: Department, leak: Category
) -> None:
    order = new_order(agent, leak)
    assert set(available_order_transitions(agent, order)) == {
        "close_at_intake",
        "dispatch",
        "urge",
    }
    assert available_order_transitions(handler, order) == []
    services.workorder_dispatch(actor=agent, order=order, departments=[repair])
    assert set(available_order_transitions(dispatcher, order)) == {"close", "urge"}


def test_section_buttons_follow_the_same_rules_as_the_services(
    agent: User,
    dispatcher: User,
    handler: User,
    quality_handler: User,
    repair: Department,
    leak: Category,
) -> None:
    _order, (task,) = dispatched(agent, leak, repair)
    assert available_task_transitions(handler, task) == ["accept", "return"]
    assert available_task_transitions(quality_handler, task) == []
    assert available_task_transitions(agent, task) == ["cancel"]
    assert available_task_transitions(dispatcher, task) == ["accept", "cancel"]
    services.task_accept(actor=handler, task=task, version=task.version)
    assert available_task_transitions(handler, task) == [
        "record_survey",
        "record_result",
        "submit",
        "return",
    ]


def test_the_ivr_creates_orders_without_a_person_but_nobody_else_does(leak: Category) -> None:
    order = services.workorder_create(
        actor=None,
        source=WorkOrder.Source.IVR,
        category=leak,
        description="语音留言报修",
        caller_number="13800138000",
        call_id="c-1",
    )
    assert order.status == WorkOrder.Status.PENDING_DISPATCH and order.created_by is None
    created = order.events.get()
    assert created.actor is None and created.data["source"] == WorkOrder.Source.IVR
    with pytest.raises(PermissionDenied):
        services.workorder_create(
            actor=None, source=WorkOrder.Source.PHONE, category=leak, description="冒充"
        )
