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

Whole past days come from the daily summaries (`aqualine.reports.summaries`): their figures are
those of the day's last refresh, a few minutes old at most for orders that changed (the refresh
follows the orders' event timeline). Today and days not summarised yet are counted from the
orders themselves (`selectors.summaries`). The data scope and the filters apply to both: the
summaries keep, for each group of orders, the set of departments that had a task on them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from aqualine.accounts.models import Department
from aqualine.reports.models import OrderSummary, SummaryDay, TaskSummary
from aqualine.reports.periods import Period
from aqualine.reports.selectors.summaries import PeriodSplit, period_split
from aqualine.workorders.models import Category, DepartmentTask, WorkOrder
from aqualine.workorders.permissions import WorkordersPerm

# The handler's departments as `workorders_visible_to` has them: one definition of the data
# scope, for the live tables and for the summaries.
from aqualine.workorders.selectors import _visible_department_ids, workorders_visible_to

OrderStatus = WorkOrder.Status
TaskStatus = DepartmentTask.Status
NONE_LABEL = "—"
SCORES = (1, 2, 3, 4, 5)


def category_ids(category: Category) -> list[int]:
    """`category` and its children (the tree has two levels)."""
    children = Category.objects.filter(parent=category).values_list("pk", flat=True)
    return [category.pk, *children]


def category_and_below(category: Category) -> Q:
    """Orders filed under `category` or one of its children. The ids are looked up first, so
    that the database can use its index on the orders' category."""
    return Q(category_id__in=category_ids(category))


# --- the summaries' side ---------------------------------------------------------------------


def departments_key(ids: Iterable[int]) -> str:
    """The summaries' `departments` value of an order with tasks of departments `ids`."""
    found = sorted(set(ids))
    return "," + ",".join(str(i) for i in found) + "," if found else ""


def has_department(ids: Iterable[int]) -> Q:
    """Summary rows of orders with a task of one of the departments `ids`."""
    q = Q(pk__in=[])
    for pk in ids:
        q |= Q(departments__contains=f",{pk},")
    return q


def summary_scope(user: Any) -> Q | None:
    """The data scope of `workorders_visible_to` on the summaries; None: nothing."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.has_perm(WorkordersPerm.VIEW_ALL_ORDERS):
        return Q()
    if user.has_perm(WorkordersPerm.VIEW_DEPARTMENT_ORDERS):
        ids = _visible_department_ids(user)
        if ids:
            return has_department(ids)
    return None


def _summary_rows(
    model: type[OrderSummary] | type[TaskSummary],
    *,
    user: Any,
    split: PeriodSplit,
    department: Department | None,
    category: Category | None,
) -> QuerySet[Any] | None:
    """The summary rows of the summarised days within the scope and the filters."""
    scope = summary_scope(user)
    if scope is None or not split.summary:
        return None
    rows = model.objects.filter(split.summary_q()).filter(scope)
    if department is not None:
        rows = rows.filter(has_department([department.pk]))
    if category is not None:
        rows = rows.filter(content_id__in=category_ids(category))
    return rows.order_by()


def _live_orders(
    *,
    user: Any,
    split: PeriodSplit,
    department: Department | None,
    category: Category | None,
) -> QuerySet[WorkOrder] | None:
    """The orders of the days counted from the live tables."""
    if not split.live:
        return None
    first, last = split.live[0], split.live[-1]
    orders = report_orders(
        user=user,
        period=Period(first.start, last.end, first.first, last.last),
        department=department,
        category=category,
    )
    return orders.filter(split.live_q("created_at")) if len(split.live) > 1 else orders


def _split(period: Period, now: datetime, use_summaries: bool) -> PeriodSplit:
    return period_split(
        kind=SummaryDay.Kind.ORDERS, period=period, now=now, use_summaries=use_summaries
    )


def _sums(names: Iterable[str]) -> dict[str, Any]:
    """Sum of each summary column, as "sum_<name>" (an annotation may not take a field's name)."""
    return {f"sum_{name}": Sum(name) for name in names}


def _unsum(row: dict[str, Any], names: Iterable[str]) -> dict[str, int]:
    return {name: row[f"sum_{name}"] or 0 for name in names}


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
    # the oldest refresh of the summarised days counted (None: all counted from the orders)
    summarised_at: datetime | None = None


def _by_size(rows: Iterable[IntakeRow]) -> list[IntakeRow]:
    return sorted(rows, key=lambda r: (-r.total, r.label))


LOAD_FIGURES = (
    "tasks",
    "orders",
    "waiting",
    "accepted",
    "submitted",
    "returned",
    "cancelled",
    "open_overdue",
)


def intake_report(
    *,
    user: Any,
    period: Period,
    department: Department | None = None,
    category: Category | None = None,
    now: datetime | None = None,
    use_summaries: bool = True,
) -> IntakeReport:
    """Report 1 — intake and handling (受理与办理情况): orders taken in the period by accepting
    unit, by category, by content, with their status now; and department tasks by department.

    From the orders (live days): orders grouped by (content, accepting unit, status), rolled up
    in Python, and tasks grouped by department; from the summaries (summarised days) the same
    two by summing their rows."""
    now = now or timezone.now()
    split = _split(period, now, use_summaries)
    categories = category_map()
    departments = department_names()
    total = IntakeRow(None, "")
    units: dict[Any, IntakeRow] = {}
    tops: dict[int, IntakeRow] = {}
    contents: dict[int, IntakeRow] = {}
    load: dict[int, DepartmentLoadRow] = {}

    def add_orders(content_id: int, unit_id: int | None, status: str, n: int, urged: int) -> None:
        leaf = categories.get(content_id)
        if leaf is None:  # a summary of orders since deleted, with their category
            return
        top = top_category(leaf)
        total.add(status, n, urged)
        unit_label = departments.get(unit_id, NONE_LABEL) if unit_id is not None else NONE_LABEL
        units.setdefault(unit_id, IntakeRow(unit_id, unit_label)).add(status, n, urged)
        tops.setdefault(top.pk, IntakeRow(top.pk, top.name)).add(status, n, urged)
        contents.setdefault(leaf.pk, IntakeRow(leaf.pk, str(leaf))).add(status, n, urged)

    def add_load(key: int, figures: dict[str, int]) -> None:
        row = load.setdefault(key, DepartmentLoadRow(key, departments.get(key, NONE_LABEL)))
        for name in LOAD_FIGURES:
            setattr(row, name, getattr(row, name) + figures[name])

    scope = dict(user=user, split=split, department=department, category=category)
    orders = _live_orders(**scope)
    if orders is not None:
        grouped = (
            orders.values("category_id", "created_by__department_id", "status")
            .annotate(n=Count("id"), urged=Count("id", filter=Q(urge_count__gt=0)))
            .order_by()
        )
        for row in grouped:
            add_orders(
                row["category_id"],
                row["created_by__department_id"],
                row["status"],
                row["n"],
                row["urged"],
            )
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
            add_load(key, row)

    summary = _summary_rows(OrderSummary, **scope)
    if summary is not None:
        for row in summary.values("content_id", "unit_id", "status").annotate(
            **_sums(("orders", "urged_orders"))
        ):
            add_orders(
                row["content_id"],
                row["unit_id"],
                row["status"],
                row["sum_orders"] or 0,
                row["sum_urged_orders"] or 0,
            )
        tasks = _summary_rows(TaskSummary, **scope)
        assert tasks is not None
        for row in tasks.values("department_id").annotate(**_sums(LOAD_FIGURES)):
            add_load(row["department_id"], _unsum(row, LOAD_FIGURES))

    return IntakeReport(
        period=period,
        total=total,
        by_unit=_by_size(units.values()),
        by_category=_by_size(tops.values()),
        by_content=_by_size(contents.values()),
        by_department=sorted(load.values(), key=lambda r: (-r.tasks, r.label)),
        summarised_at=split.refreshed_at,
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
    summarised_at: datetime | None = None


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


TASK_FIGURES = ("tasks", "on_time", "late", "open_overdue", "open_in_time", "returned")
SCORE_COLUMNS = tuple(f"s{s}" for s in SCORES)
ORDER_FIGURES = ("orders", "urged_orders", "urges", *SCORE_COLUMNS)


def timeliness_report(
    *,
    user: Any,
    period: Period,
    department: Department | None = None,
    category: Category | None = None,
    now: datetime | None = None,
    use_summaries: bool = True,
) -> TimelinessReport:
    """Report 2 — timeliness and satisfaction (办理时效与满意度), by department and in total.
    From the orders (live days): tasks by department, the distinct orders' scores by department,
    and the orders' urges and scores; from the summaries (summarised days) the same three by
    summing their rows."""
    now = now or timezone.now()
    split = _split(period, now, use_summaries)
    departments = department_names()
    rows: dict[int, TimelinessRow] = {}
    summary = dict.fromkeys(ORDER_FIGURES, 0)

    def row_of(key: int) -> TimelinessRow:
        return rows.setdefault(key, TimelinessRow(key, departments.get(key, NONE_LABEL)))

    def add_tasks(key: int, figures: dict[str, int], urges: int) -> None:
        row = row_of(key)
        for name in TASK_FIGURES:
            setattr(row, name, getattr(row, name) + figures[name])
        row.task_urges += urges

    scope = dict(user=user, split=split, department=department, category=category)
    orders = _live_orders(**scope)
    if orders is not None:
        joined = with_tasks(orders)
        for row in joined.values("tasks__department_id").annotate(**_task_figures(now)).order_by():
            key = row.pop("tasks__department_id")
            if key is None:  # orders without a task
                continue
            row["tasks"] = row.pop("task_count")
            add_tasks(key, row, row["task_urges"] or 0)
        # each order once per department, however many tasks the department had on it
        scored = (
            joined.filter(satisfaction__isnull=False)
            .values("tasks__department_id", "satisfaction")
            .annotate(n=Count("id", distinct=True))
            .order_by()
        )
        for row in scored:
            key = row["tasks__department_id"]
            if key is not None and row["satisfaction"] in SCORES:
                row_of(key).satisfaction[row["satisfaction"] - 1] += row["n"]
        live = orders.aggregate(
            orders=Count("id"),
            urged_orders=Count("id", filter=Q(urge_count__gt=0)),
            urges=Sum("urge_count"),
            **{f"s{s}": Count("id", filter=Q(satisfaction=s)) for s in SCORES},
        )
        for name in ORDER_FIGURES:
            summary[name] += live[name] or 0

    summarised = _summary_rows(OrderSummary, **scope)
    if summarised is not None:
        tasks = _summary_rows(TaskSummary, **scope)
        assert tasks is not None
        names = (*TASK_FIGURES, "task_urges", *SCORE_COLUMNS)
        for row in tasks.values("department_id").annotate(**_sums(names)):
            figures = _unsum(row, names)
            add_tasks(row["department_id"], figures, figures["task_urges"])
            dept_row = row_of(row["department_id"])
            for i, name in enumerate(SCORE_COLUMNS):
                dept_row.satisfaction[i] += figures[name]
        totals = summarised.aggregate(**_sums(ORDER_FIGURES))
        for name in ORDER_FIGURES:
            summary[name] += totals[f"sum_{name}"] or 0

    total = TimelinessRow(None, "")
    for dept_row in rows.values():
        for name in ("tasks", "on_time", "late", "open_overdue", "open_in_time", "returned"):
            setattr(total, name, getattr(total, name) + getattr(dept_row, name))
        total.task_urges += dept_row.task_urges
    total.satisfaction = [summary[name] for name in SCORE_COLUMNS]
    return TimelinessReport(
        period=period,
        total=total,
        orders=summary["orders"],
        urged_orders=summary["urged_orders"],
        urges=summary["urges"],
        by_department=sorted(rows.values(), key=lambda r: (-r.tasks, r.label)),
        summarised_at=split.refreshed_at,
    )
