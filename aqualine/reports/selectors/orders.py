"""The ready work-order reports (B6): intake and handling; timeliness and satisfaction.

Which orders count: those the viewer may see (`workorders_visible_to`: every order with
`view_all_orders`, a department handler's only those with a task of their department), taken in
the period (`WorkOrder.created_at` in [start, end)), narrowed by the filters — a department (the
order has a task of that department) and a category (the order's category is the chosen one or
one below it). Every figure, those of department tasks too, is about these orders: a task
counts in the period in which its order was taken.

Terms:

- 受理单位 (accepting unit): the department of the staff member who created the order, as it is
  now. Orders created by the system (messages left in the IVR) or by someone without a
  department have none and show as "—".
- 反映类别 (category): the top level of the category tree; 反映内容 (content): the leaf the order
  was filed under. A top-level category without children (咨询, 投诉 ...) is its own content.
- Statuses are the orders' and tasks' statuses now, not at the end of the period.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from aqualine.accounts.models import Department
from aqualine.reports.periods import Period
from aqualine.workorders.models import Category, DepartmentTask, WorkOrder
from aqualine.workorders.selectors import workorders_visible_to

OrderStatus = WorkOrder.Status
TaskStatus = DepartmentTask.Status
NONE_LABEL = "—"
SCORES = (1, 2, 3, 4, 5)


def category_and_below(category: Category) -> Q:
    """Orders filed under `category` or one of its children (the tree has two levels). The ids
    are looked up first, so that the database can use its index on the orders' category."""
    children = Category.objects.filter(parent=category).values_list("pk", flat=True)
    return Q(category_id__in=[category.pk, *children])


def report_orders(
    *,
    user: Any,
    period: Period,
    department: Department | None = None,
    category: Category | None = None,
) -> QuerySet[WorkOrder]:
    """The orders a report counts (see the module's docstring)."""
    orders = (
        workorders_visible_to(user)
        .select_related(None)
        .filter(created_at__gte=period.start, created_at__lt=period.end)
    )
    if department is not None:
        orders = orders.filter(
            Exists(DepartmentTask.objects.filter(order=OuterRef("pk"), department=department))
        )
    if category is not None:
        orders = orders.filter(category_and_below(category))
    return orders


def with_tasks(orders: QuerySet[WorkOrder]) -> QuerySet[WorkOrder]:
    """`orders` joined to their department tasks (for figures grouped by `tasks__...`).

    Order ids grow with intake time, so the tasks of a period's orders lie in one range of
    `order_id`: naming the range lets PostgreSQL read just those tasks through the index on
    `order_id` instead of scanning every task. The range is only a pre-filter (the join decides),
    so an order entered out of sequence is still counted, only less quickly."""
    # "+ 0": PostgreSQL would answer a bare MIN(id) by walking the primary key from the
    # lowest id until it meets an order of the period, nearly the whole table for a recent one.
    bounds = orders.aggregate(lo=Min(F("pk") + 0), hi=Max(F("pk") + 0))
    if bounds["lo"] is None:
        return orders.none()
    return orders.filter(tasks__order_id__gte=bounds["lo"], tasks__order_id__lte=bounds["hi"])


def department_names() -> dict[int, str]:
    return dict(Department.objects.values_list("pk", "name"))


def category_map() -> dict[int, Category]:
    return {c.pk: c for c in Category.objects.select_related("parent")}


def top_category(category: Category) -> Category:
    return category.parent if category.parent_id is not None else category  # type: ignore[return-value]


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


# --- 1. intake and handling ----------------------------------------------------------------


@dataclass
class IntakeRow:
    """Orders of one group: how many were taken and what became of them (status now).

    `closed_rate` = closed ÷ taken. `urged` = orders urged at least once."""

    key: Any
    label: str
    total: int = 0
    urged: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    def add(self, status: str, count: int, urged: int) -> None:
        self.total += count
        self.urged += urged
        self.by_status[status] = self.by_status.get(status, 0) + count

    def status(self, status: str) -> int:
        return self.by_status.get(status, 0)

    @property
    def pending_dispatch(self) -> int:
        return self.status(OrderStatus.PENDING_DISPATCH)

    @property
    def processing(self) -> int:
        return self.status(OrderStatus.PROCESSING)

    @property
    def pending_follow_up(self) -> int:
        return self.status(OrderStatus.PENDING_FOLLOW_UP)

    @property
    def redo(self) -> int:
        return self.status(OrderStatus.REDO)

    @property
    def closed(self) -> int:
        return self.status(OrderStatus.CLOSED)

    @property
    def open(self) -> int:
        return self.total - self.closed

    @property
    def closed_rate(self) -> float | None:
        return _ratio(self.closed, self.total)


@dataclass
class DepartmentLoadRow:
    """Department tasks (部门处理单) of one department on the report's orders.

    `orders`: distinct orders the department had a task on; `returned`: tasks the department
    returned to the hotline (whatever became of them afterwards); `open_overdue`: tasks still
    waiting or signed for whose deadline has passed (now)."""

    key: int
    label: str
    tasks: int = 0
    orders: int = 0
    waiting: int = 0
    accepted: int = 0
    submitted: int = 0
    returned: int = 0
    cancelled: int = 0
    open_overdue: int = 0


@dataclass
class IntakeReport:
    period: Period
    total: IntakeRow
    by_unit: list[IntakeRow]
    by_category: list[IntakeRow]
    by_content: list[IntakeRow]
    by_department: list[DepartmentLoadRow]


def _by_size(rows: Iterable[IntakeRow]) -> list[IntakeRow]:
    return sorted(rows, key=lambda r: (-r.total, r.label))


def intake_report(
    *,
    user: Any,
    period: Period,
    department: Department | None = None,
    category: Category | None = None,
    now: datetime | None = None,
) -> IntakeReport:
    """Report 1 — intake and handling (受理与办理情况): orders taken in the period by accepting
    unit, by category, by content, with their status now; and department tasks by department.

    Two queries: orders grouped by (content, accepting unit, status), rolled up in Python; tasks
    grouped by department."""
    now = now or timezone.now()
    orders = report_orders(user=user, period=period, department=department, category=category)
    categories = category_map()
    departments = department_names()
    total = IntakeRow(None, "")
    units: dict[Any, IntakeRow] = {}
    tops: dict[int, IntakeRow] = {}
    contents: dict[int, IntakeRow] = {}
    grouped = (
        orders.values("category_id", "created_by__department_id", "status")
        .annotate(n=Count("id"), urged=Count("id", filter=Q(urge_count__gt=0)))
        .order_by()
    )
    for row in grouped:
        n, urged, status = row["n"], row["urged"], row["status"]
        leaf = categories[row["category_id"]]
        top = top_category(leaf)
        unit_id = row["created_by__department_id"]
        total.add(status, n, urged)
        units.setdefault(unit_id, IntakeRow(unit_id, departments.get(unit_id, NONE_LABEL))).add(
            status, n, urged
        )
        tops.setdefault(top.pk, IntakeRow(top.pk, top.name)).add(status, n, urged)
        contents.setdefault(leaf.pk, IntakeRow(leaf.pk, str(leaf))).add(status, n, urged)

    load: list[DepartmentLoadRow] = []
    open_ = Q(tasks__status__in=DepartmentTask.OPEN_STATUSES)
    for row in (
        with_tasks(orders)
        .values("tasks__department_id")
        .annotate(
            task_count=Count("tasks__id"),
            orders=Count("id", distinct=True),
            waiting=Count("tasks__id", filter=Q(tasks__status=TaskStatus.WAITING)),
            accepted=Count("tasks__id", filter=Q(tasks__status=TaskStatus.ACCEPTED)),
            submitted=Count("tasks__id", filter=Q(tasks__status=TaskStatus.SUBMITTED)),
            returned=Count("tasks__id", filter=Q(tasks__returned_at__isnull=False)),
            cancelled=Count("tasks__id", filter=Q(tasks__status=TaskStatus.CANCELLED)),
            open_overdue=Count("tasks__id", filter=open_ & Q(tasks__deadline__lt=now)),
        )
        .order_by()
    ):
        key = row.pop("tasks__department_id")
        if key is None:  # orders without a task
            continue
        row["tasks"] = row.pop("task_count")
        load.append(DepartmentLoadRow(key, departments.get(key, NONE_LABEL), **row))
    return IntakeReport(
        period=period,
        total=total,
        by_unit=_by_size(units.values()),
        by_category=_by_size(tops.values()),
        by_content=_by_size(contents.values()),
        by_department=sorted(load, key=lambda r: (-r.tasks, r.label)),
    )


# --- 2. timeliness and satisfaction ---------------------------------------------------------


@dataclass
class TimelinessRow:
    """Timeliness of the department tasks and satisfaction of the orders of one group.

    A task is *due* when the department finished it (submitted) or its deadline has passed
    while it is still open. Then:

    - on time (按期办结): submitted no later than its deadline (`submitted_at <= deadline`);
    - late: submitted after its deadline; open overdue: waiting or signed for past its deadline;
    - overdue (超期) = late + open overdue;
    - on-time completion rate (按期办结率) = on time ÷ (on time + late + open overdue).
      Returned and cancelled tasks are not due (the department did not finish them), nor are
      open tasks still within their deadline;
    - returned (退单): tasks returned to the hotline; task urges: the urges its tasks received.

    Satisfaction is the score (1–5) of the order's latest follow-up; `satisfaction[k - 1]` is
    how many orders got score k, the average is over the orders with a score. In a department's
    row an order counts once however many of its tasks the department had."""

    key: Any
    label: str
    tasks: int = 0
    on_time: int = 0
    late: int = 0
    open_overdue: int = 0
    open_in_time: int = 0
    returned: int = 0
    task_urges: int = 0
    satisfaction: list[int] = field(default_factory=lambda: [0] * len(SCORES))

    @property
    def due(self) -> int:
        return self.on_time + self.late + self.open_overdue

    @property
    def overdue(self) -> int:
        return self.late + self.open_overdue

    @property
    def on_time_rate(self) -> float | None:
        return _ratio(self.on_time, self.due)

    @property
    def rated(self) -> int:
        return sum(self.satisfaction)

    @property
    def satisfaction_average(self) -> float | None:
        return _ratio(
            sum(s * n for s, n in zip(SCORES, self.satisfaction, strict=True)), self.rated
        )

    @property
    def satisfaction_shares(self) -> list[float | None]:
        return [_ratio(n, self.rated) for n in self.satisfaction]


@dataclass
class TimelinessReport:
    """`total`: task figures of every department together (a task belongs to one department,
    so they add up) and the satisfaction of all the report's orders (each once). `orders`:
    orders taken; `urged_orders`: urged at least once; `urges`: urges of the orders in all."""

    period: Period
    total: TimelinessRow
    orders: int
    urged_orders: int
    urges: int
    by_department: list[TimelinessRow]


def _task_figures(now: datetime) -> dict[str, Any]:
    """Aggregates over `tasks__...` of orders joined to their tasks (`with_tasks`)."""
    open_ = Q(tasks__status__in=DepartmentTask.OPEN_STATUSES)
    submitted = Q(tasks__status=TaskStatus.SUBMITTED, tasks__submitted_at__isnull=False)
    return {
        "task_count": Count("tasks__id"),  # not "tasks": that would hide the relation
        "on_time": Count(
            "tasks__id", filter=submitted & Q(tasks__submitted_at__lte=F("tasks__deadline"))
        ),
        "late": Count(
            "tasks__id", filter=submitted & Q(tasks__submitted_at__gt=F("tasks__deadline"))
        ),
        "open_overdue": Count("tasks__id", filter=open_ & Q(tasks__deadline__lt=now)),
        "open_in_time": Count("tasks__id", filter=open_ & Q(tasks__deadline__gte=now)),
        "returned": Count("tasks__id", filter=Q(tasks__returned_at__isnull=False)),
        "task_urges": Sum("tasks__urge_count"),
    }


def timeliness_report(
    *,
    user: Any,
    period: Period,
    department: Department | None = None,
    category: Category | None = None,
    now: datetime | None = None,
) -> TimelinessReport:
    """Report 2 — timeliness and satisfaction (办理时效与满意度), by department and in total.
    Three queries: tasks by department, the distinct orders' scores by department, and the
    orders' urges and scores."""
    now = now or timezone.now()
    orders = report_orders(user=user, period=period, department=department, category=category)
    departments = department_names()
    joined = with_tasks(orders)
    rows: dict[int, TimelinessRow] = {}
    for row in joined.values("tasks__department_id").annotate(**_task_figures(now)).order_by():
        key = row.pop("tasks__department_id")
        if key is None:  # orders without a task
            continue
        row["tasks"] = row.pop("task_count")
        row["task_urges"] = row["task_urges"] or 0
        rows[key] = TimelinessRow(key, departments.get(key, NONE_LABEL), **row)
    # each order once per department, however many tasks the department had on it
    scored = (
        joined.filter(satisfaction__isnull=False)
        .values("tasks__department_id", "satisfaction")
        .annotate(n=Count("id", distinct=True))
        .order_by()
    )
    for row in scored:
        dept_row = rows.get(row["tasks__department_id"])
        if dept_row is not None and row["satisfaction"] in SCORES:
            dept_row.satisfaction[row["satisfaction"] - 1] += row["n"]

    total = TimelinessRow(None, "")
    for dept_row in rows.values():
        for name in ("tasks", "on_time", "late", "open_overdue", "open_in_time", "returned"):
            setattr(total, name, getattr(total, name) + getattr(dept_row, name))
        total.task_urges += dept_row.task_urges
    summary = orders.aggregate(
        orders=Count("id"),
        urged_orders=Count("id", filter=Q(urge_count__gt=0)),
        urges=Sum("urge_count"),
        **{f"s{s}": Count("id", filter=Q(satisfaction=s)) for s in SCORES},
    )
    total.satisfaction = [summary[f"s{s}"] for s in SCORES]
    return TimelinessReport(
        period=period,
        total=total,
        orders=summary["orders"],
        urged_orders=summary["urged_orders"],
        urges=summary["urges"] or 0,
        by_department=sorted(rows.values(), key=lambda r: (-r.tasks, r.label)),
    )
