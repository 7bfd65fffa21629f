"""The custom query (自定义查询, B6): orders matching the conditions a user picks, their count,
and detail rows with the columns the user picks, for a page or for an Excel export.

Conditions (all optional, all must hold):

- intake date range: `created_at` on the local days `date_from` to `date_to`, both included;
- 受理单位 (accepting unit): the department of the staff member who created the order;
- 反映类别 (category): the order's category is the chosen top-level one or one of its children;
- 反映内容 (content): the order's category is the chosen one;
- status, urgency, source (受理渠道): the order's;
- department (处理部门): the order has a task of that department;
- overdue (超期) yes/no: the order has / has no task still open (waiting or signed for) past its
  deadline now — as the order list shows it;
- returned (退单) yes/no: the order has / has no task that a department returned.

Departments match exactly (not the departments below them). The viewer's data scope applies
first: only orders `workorders_visible_to` gives them are ever counted or shown.

处理次数 (times processed): the number of department tasks (部门处理单) the order has had —
each dispatch to a department, each re-dispatch of a returned task and each task of a redo round
counts once, whatever became of it (submitted, returned or cancelled); an order closed at intake
has 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from aqualine.accounts.models import Department
from aqualine.reports.models import SavedQuery
from aqualine.reports.periods import local_midnight
from aqualine.reports.selectors.orders import (
    NONE_LABEL,
    category_and_below,
    category_map,
    department_names,
    top_category,
)
from aqualine.workorders.models import Category, DepartmentTask, WorkOrder
from aqualine.workorders.selectors import workorders_visible_to

CHUNK = 2000
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class QueryConditions:
    date_from: date | None = None
    date_to: date | None = None
    accepting_unit: Department | None = None
    category: Category | None = None
    content: Category | None = None
    status: str = ""
    department: Department | None = None
    urgency: str = ""
    source: str = ""
    overdue: bool | None = None
    returned: bool | None = None


def query_orders(
    *, user: Any, conditions: QueryConditions, now: datetime | None = None
) -> QuerySet[WorkOrder]:
    """The orders matching `conditions` that `user` may see, newest first."""
    c = conditions
    orders = workorders_visible_to(user).select_related(None)
    if c.date_from is not None:
        orders = orders.filter(created_at__gte=local_midnight(c.date_from))
    if c.date_to is not None:
        orders = orders.filter(created_at__lt=local_midnight(c.date_to) + _ONE_DAY)
    if c.accepting_unit is not None:
        orders = orders.filter(created_by__department=c.accepting_unit)
    if c.category is not None:
        orders = orders.filter(category_and_below(c.category))
    if c.content is not None:
        orders = orders.filter(category=c.content)
    if c.status:
        orders = orders.filter(status=c.status)
    if c.urgency:
        orders = orders.filter(urgency=c.urgency)
    if c.source:
        orders = orders.filter(source=c.source)
    if c.department is not None:
        orders = orders.filter(
            Exists(DepartmentTask.objects.filter(order=OuterRef("pk"), department=c.department))
        )
    if c.overdue is not None:
        late = Exists(
            DepartmentTask.objects.filter(
                order=OuterRef("pk"),
                status__in=DepartmentTask.OPEN_STATUSES,
                deadline__lt=now or timezone.now(),
            )
        )
        orders = orders.filter(late if c.overdue else ~late)
    if c.returned is not None:
        returned = Exists(
            DepartmentTask.objects.filter(order=OuterRef("pk"), returned_at__isnull=False)
        )
        orders = orders.filter(returned if c.returned else ~returned)
    return orders.order_by("-created_at", "-id")


# --- columns ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskFacts:
    department_id: int
    status: str
    deadline: datetime
    returned: bool


@dataclass
class RowContext:
    """What the cells of a chunk of rows are computed from besides the order's own values."""

    now: datetime
    departments: dict[int, str]
    categories: dict[int, Category]
    tasks: dict[int, list[TaskFacts]] = field(default_factory=dict)
    # translated texts, looked up once per export rather than once per cell
    texts: dict[Any, str] = field(default_factory=dict)

    def text(self, key: Any, label: Any) -> str:
        found = self.texts.get(key)
        if found is None:
            found = self.texts[key] = str(label)
        return found


Row = dict[str, Any]


@dataclass(frozen=True)
class Column:
    key: str
    label: Promise
    fields: tuple[str, ...]  # the order's values the cell needs
    value: Callable[[Row, RowContext], Any]
    needs_tasks: bool = False


def _yes_no(value: bool, ctx: RowContext) -> str:
    return ctx.text(value, _("Yes") if value else _("No"))


def _open_deadlines(tasks: Sequence[TaskFacts]) -> list[datetime]:
    return [t.deadline for t in tasks if t.status in DepartmentTask.OPEN_STATUSES]


def _departments(row: Row, ctx: RowContext) -> str:
    names: list[str] = []
    for task in ctx.tasks.get(row["id"], []):
        name = ctx.departments.get(task.department_id, NONE_LABEL)
        if name not in names:
            names.append(name)
    return "、".join(names)


def _deadline(row: Row, ctx: RowContext) -> datetime | None:
    deadlines = _open_deadlines(ctx.tasks.get(row["id"], []))
    return max(deadlines) if deadlines else None


def _overdue(row: Row, ctx: RowContext) -> str:
    late = any(d < ctx.now for d in _open_deadlines(ctx.tasks.get(row["id"], [])))
    return _yes_no(late, ctx)


def _category(row: Row, ctx: RowContext) -> str:
    return top_category(ctx.categories[row["category_id"]]).name


def _content(row: Row, ctx: RowContext) -> str:
    return ctx.categories[row["category_id"]].name


def _choice(choices: type[Any], name: str) -> Callable[[Row, RowContext], str]:
    labels = dict(choices.choices)
    return lambda row, ctx: ctx.text((name, row[name]), labels.get(row[name], row[name]))


def _plain(name: str) -> Callable[[Row, RowContext], Any]:
    return lambda row, ctx: row[name]


COLUMNS: dict[str, Column] = {
    c.key: c
    for c in (
        Column("number", _("Order number"), ("number",), _plain("number")),
        Column("created_at", _("Intake time"), ("created_at",), _plain("created_at")),
        Column("source", _("Source"), ("source",), _choice(WorkOrder.Source, "source")),
        Column(
            "accepting_unit",
            _("Accepting unit"),
            ("created_by__department_id",),
            lambda row, ctx: ctx.departments.get(row["created_by__department_id"], NONE_LABEL),
        ),
        Column(
            "created_by",
            _("Taken by"),
            ("created_by__name",),
            lambda row, ctx: row["created_by__name"] or NONE_LABEL,
        ),
        Column("category", _("Category"), ("category_id",), _category),
        Column("content", _("Content"), ("category_id",), _content),
        Column("caller_number", _("Caller number"), ("caller_number",), _plain("caller_number")),
        Column("reporter_name", _("Reporter"), ("reporter_name",), _plain("reporter_name")),
        Column(
            "reporter_phone", _("Reporter phone"), ("reporter_phone",), _plain("reporter_phone")
        ),
        Column("address", _("Address"), ("address",), _plain("address")),
        Column("description", _("Problem description"), ("description",), _plain("description")),
        Column("urgency", _("Urgency"), ("urgency",), _choice(WorkOrder.Urgency, "urgency")),
        Column("status", _("Status"), ("status",), _choice(WorkOrder.Status, "status")),
        Column("departments", _("Handling departments"), (), _departments, needs_tasks=True),
        Column(
            "times_processed",
            _("Times processed"),
            (),
            lambda row, ctx: len(ctx.tasks.get(row["id"], [])),
            needs_tasks=True,
        ),
        Column(
            "times_returned",
            _("Times returned"),
            (),
            lambda row, ctx: sum(1 for t in ctx.tasks.get(row["id"], []) if t.returned),
            needs_tasks=True,
        ),
        Column("deadline", _("Deadline"), (), _deadline, needs_tasks=True),
        Column("overdue", _("Past the deadline"), (), _overdue, needs_tasks=True),
        Column("urge_count", _("Urges"), ("urge_count",), _plain("urge_count")),
        Column("redo_count", _("Redos"), ("redo_count",), _plain("redo_count")),
        Column("satisfaction", _("Satisfaction"), ("satisfaction",), _plain("satisfaction")),
        Column("closed_at", _("Closing time"), ("closed_at",), _plain("closed_at")),
    )
}
DEFAULT_COLUMNS = (
    "number",
    "created_at",
    "accepting_unit",
    "category",
    "content",
    "status",
    "departments",
    "times_processed",
)


def column_choices() -> list[tuple[str, Promise]]:
    return [(c.key, c.label) for c in COLUMNS.values()]


def _tasks_of(order_ids: Sequence[int]) -> dict[int, list[TaskFacts]]:
    found: dict[int, list[TaskFacts]] = defaultdict(list)
    rows = (
        DepartmentTask.objects.filter(order_id__in=order_ids)
        .order_by("order_id", "round", "dispatched_at", "id")
        .values_list("order_id", "department_id", "status", "deadline", "returned_at")
    )
    for order_id, department_id, status, deadline, returned_at in rows:
        found[order_id].append(TaskFacts(department_id, status, deadline, returned_at is not None))
    return found


@dataclass(frozen=True)
class DetailRow:
    pk: int
    number: str
    cells: list[Any]


def query_rows(
    orders: QuerySet[WorkOrder] | Iterable[Row],
    columns: Sequence[str],
    *,
    now: datetime | None = None,
) -> Iterator[DetailRow]:
    """The detail rows of `orders` (a query set, or a page of it already sliced) with the cells
    of `columns`, in chunks of 2,000 orders: one query for the orders' values (streamed from a
    server-side cursor on PostgreSQL) and one for the tasks of each chunk."""
    chosen = [COLUMNS[key] for key in columns if key in COLUMNS]
    needed = {"id", "number"}
    for column in chosen:
        needed.update(column.fields)
    ctx = RowContext(
        now=now or timezone.now(), departments=department_names(), categories=category_map()
    )
    needs_tasks = any(c.needs_tasks for c in chosen)
    if isinstance(orders, QuerySet):
        values: Iterable[Row] = orders.values(*sorted(needed)).iterator(chunk_size=CHUNK)
    else:
        values = orders
    chunk: list[Row] = []

    def flush() -> Iterator[DetailRow]:
        ctx.tasks = _tasks_of([r["id"] for r in chunk]) if needs_tasks else {}
        for row in chunk:
            yield DetailRow(row["id"], row["number"], [c.value(row, ctx) for c in chosen])
        chunk.clear()

    for row in values:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield from flush()
    if chunk:
        yield from flush()


def values_for_page(orders: QuerySet[WorkOrder], columns: Sequence[str]) -> QuerySet[WorkOrder]:
    """The values `query_rows` needs, as a query set a paginator can slice."""
    needed = {"id", "number"}
    for key in columns:
        if key in COLUMNS:
            needed.update(COLUMNS[key].fields)
    return orders.values(*sorted(needed))


def saved_queries_of(user: Any) -> QuerySet[SavedQuery]:
    """A person's saved queries, by name (nobody sees anyone else's)."""
    return SavedQuery.objects.filter(owner=user).order_by("name", "id")


def saved_query_get(*, user: Any, pk: int) -> SavedQuery | None:
    return saved_queries_of(user).filter(pk=pk).first()
