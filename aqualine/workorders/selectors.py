"""Reads of the work-order app. Overdue (超期) is computed from task deadlines, never stored."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from aqualine.accounts.models import Department, User
from aqualine.core.parameters import param
from aqualine.customers.models import normalize_phone
from aqualine.workorders.models import Category, DepartmentTask, OrderEvent, WorkOrder
from aqualine.workorders.permissions import WorkordersPerm


def department_subtree_ids(department: Department) -> set[int]:
    """The department and every department below it."""
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Department.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    found = {department.pk}
    todo = [department.pk]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def user_belongs_to(user: User, department: Department) -> bool:
    """`user` works in `department` or in a department below it."""
    return user.department_id is not None and user.department_id in department_subtree_ids(
        department
    )


def _visible_department_ids(user: User) -> set[int]:
    """A handler sees tasks of their department, of the departments below it, and of the
    departments above it (whose tasks they may act on, see `user_belongs_to`)."""
    if user.department is None:
        return set()
    ids = department_subtree_ids(user.department)
    ids.update(d.pk for d in user.department.ancestors())
    return ids


def workorders_visible_to(user: Any) -> QuerySet[WorkOrder]:
    """Everything for `view_all_orders`; for `view_department_orders` the orders with a task for
    the user's department (or one below or above it); nothing otherwise."""
    orders = WorkOrder.objects.select_related("category", "category__parent")
    if not user.is_authenticated or not user.is_active:
        return orders.none()
    if user.has_perm(WorkordersPerm.VIEW_ALL_ORDERS):
        return orders
    if user.has_perm(WorkordersPerm.VIEW_DEPARTMENT_ORDERS):
        ids = _visible_department_ids(user)
        if ids:
            return orders.filter(
                Exists(DepartmentTask.objects.filter(order=OuterRef("pk"), department_id__in=ids))
            )
    return orders.none()


def workorder_list(
    *,
    user: Any,
    department: Department | None = None,
    status: str | None = None,
    overdue: bool | None = None,
    now: datetime | None = None,
) -> QuerySet[WorkOrder]:
    """Orders `user` may see, newest first, filtered by a department with a task on them, the
    order status, and whether an open task is past its deadline."""
    orders = workorders_visible_to(user)
    if department is not None:
        orders = orders.filter(
            Exists(DepartmentTask.objects.filter(order=OuterRef("pk"), department=department))
        )
    if status:
        orders = orders.filter(status=status)
    if overdue is not None:
        late = Exists(
            DepartmentTask.objects.filter(
                order=OuterRef("pk"),
                status__in=DepartmentTask.OPEN_STATUSES,
                deadline__lt=now or timezone.now(),
            )
        )
        orders = orders.filter(late if overdue else ~late)
    return orders.order_by("-created_at", "-id")


def workorder_by_number(*, user: Any, number: str) -> WorkOrder | None:
    return workorders_visible_to(user).filter(number=number.strip().upper()).first()


def orders_for_caller(*, phone: str, limit: int = 20) -> list[WorkOrder]:
    """Past orders of a caller (caller number or reporter phone), newest first: the screen pop."""
    digits = normalize_phone(phone)
    if not digits:
        return []
    return list(
        WorkOrder.objects.filter(Q(caller_number=digits) | Q(reporter_phone=digits))
        .select_related("category", "category__parent")
        .order_by("-created_at", "-id")[:limit]
    )


def open_order_for_caller(*, phone: str) -> WorkOrder | None:
    """The caller's newest order that is not closed (X3: flag a repeat caller at intake)."""
    digits = normalize_phone(phone)
    if not digits:
        return None
    return (
        WorkOrder.objects.filter(Q(caller_number=digits) | Q(reporter_phone=digits))
        .exclude(status=WorkOrder.Status.CLOSED)
        .order_by("-created_at", "-id")
        .first()
    )


def task_time_left(task: DepartmentTask, now: datetime | None = None) -> timedelta | None:
    """Time until the task's deadline (negative: overdue); None once the department is done
    with it (submitted, returned or cancelled)."""
    if task.status not in DepartmentTask.OPEN_STATUSES:
        return None
    return task.deadline - (now or timezone.now())


def task_is_overdue(task: DepartmentTask, now: datetime | None = None) -> bool:
    left = task_time_left(task, now)
    return left is not None and left < timedelta(0)


def workorder_deadline(order: WorkOrder) -> datetime | None:
    """The order's deadline: the latest deadline of its open tasks."""
    deadlines = [t.deadline for t in order.tasks.all() if t.status in DepartmentTask.OPEN_STATUSES]
    return max(deadlines) if deadlines else None


def _open_tasks() -> QuerySet[DepartmentTask]:
    return DepartmentTask.objects.filter(status__in=DepartmentTask.OPEN_STATUSES).select_related(
        "order", "department"
    )


def overdue_tasks(*, now: datetime | None = None) -> QuerySet[DepartmentTask]:
    return _open_tasks().filter(deadline__lt=now or timezone.now()).order_by("deadline", "id")


def tasks_due_soon(
    *, now: datetime | None = None, within: timedelta | None = None
) -> QuerySet[DepartmentTask]:
    """Open tasks not yet overdue whose deadline falls within `within` (default: the parameter
    business.overdue_warning)."""
    now = now or timezone.now()
    if within is None:
        within = timedelta(seconds=int(param("business.overdue_warning")))
    return (
        _open_tasks()
        .filter(deadline__gte=now, deadline__lte=now + within)
        .order_by("deadline", "id")
    )


def workorder_tasks(*, order: WorkOrder) -> QuerySet[DepartmentTask]:
    """The sections of the joint processing form, oldest round first."""
    return order.tasks.select_related(
        "department", "accepted_by", "surveyed_by", "result_by", "recorded_on_behalf_by"
    ).order_by("round", "dispatched_at", "id")


def workorder_timeline(*, order: WorkOrder) -> QuerySet[OrderEvent]:
    return order.events.select_related("department", "task").order_by("at", "id")


def category_tree() -> list[tuple[Category, list[Category]]]:
    """Active top-level categories with their active sub-categories, in sort order."""
    categories = list(Category.objects.filter(is_active=True).order_by("sort_order", "name"))
    children: dict[int, list[Category]] = {}
    for category in categories:
        if category.parent_id is not None:
            children.setdefault(category.parent_id, []).append(category)
    return [(c, children.get(c.pk, [])) for c in categories if c.parent_id is None]
