"""Realistic synthetic work orders for demos and benchmarks: about two years of hotline intake
with the seeded categories, the usual sources, callers who are mostly customers (so that some
call again and again), one to three department tasks per dispatched order, and the timeline of
each order as the services write it (created, dispatched, signed for, survey, result, submitted,
returned and re-dispatched, urged, follow-up, redo, closed), every time after the one before.

Each order's life is simulated from its intake time and cut at `now`: orders from before the
last few days are nearly all closed, recent ones are still being dispatched, processed or
followed up, and a few tasks are stuck past their deadline (overdue). Deterministic for a given
seed and `now`.

Order numbers are those `services.next_order_number` hands out: `GD` + local date + the day's
sequence, continued from the day's OrderCounter row, which is locked while a batch is written
and left at the last number used, so a later (or concurrent) intake gets the next free number.

The Chinese words here are data (what a hotline's records look like), not interface text.
"""

from __future__ import annotations

import queue
import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction
from django.utils import timezone

from aqualine.workorders.models import DepartmentTask, OrderCounter, OrderEvent, WorkOrder
from aqualine.workorders.synthetic.data import MONTH_WEIGHTS, WEEKDAY_WEIGHTS
from aqualine.workorders.synthetic.lifecycle import (
    EVENT_COLUMNS,
    ORDER_COLUMNS,
    TASK_COLUMNS,
    Batch,
    Context,
    cumulative,
)
from aqualine.workorders.synthetic.rows import claim_numbers, write_rows

HOUR = 3600.0
DAY = 24 * HOUR


class OrdersExistError(Exception):
    """Work orders exist already and appending was not asked for."""


@dataclass(frozen=True)
class Generated:
    orders: int
    tasks: int
    events: int
    first_day: date
    last_day: date
    statuses: dict[str, int] = field(default_factory=dict)


def _day_counts(
    rng: random.Random, orders: int, days: int, now: datetime
) -> list[tuple[date, int]]:
    """How many orders each of the last `days` local days gets: fewer at weekends, more in
    midsummer and midwinter, a slow growth, now and then a day of burst mains."""
    today = timezone.localdate(now)
    first = today - timedelta(days=days - 1)
    calendar = [first + timedelta(days=i) for i in range(days)]
    weights = []
    for index, day in enumerate(calendar):
        weight = WEEKDAY_WEIGHTS[day.weekday()] * MONTH_WEIGHTS.get(day.month, 1.0)
        weight *= 1 + 0.1 * index / days
        if rng.random() < 0.02:
            weight *= 2.5
        weights.append(weight)
    midnight = datetime.combine(today, time(), tzinfo=timezone.get_current_timezone())
    weights[-1] *= max((now - midnight).total_seconds(), 1.0) / DAY
    picked = Counter(rng.choices(range(days), cum_weights=cumulative(weights), k=orders))
    return [(calendar[i], picked[i]) for i in range(days) if picked[i]]


def _day_moments(
    rng: random.Random, ctx: Context, day: date, count: int, now: datetime
) -> list[tuple[datetime, float]]:
    """`count` intake times on `day` (busy mornings and afternoons, quiet nights), never after
    `now`, in order: (UTC time, local seconds since midnight)."""
    midnight = datetime.combine(day, time(), tzinfo=timezone.get_current_timezone())
    latest = (now - midnight).total_seconds()
    hours = rng.choices(range(24), cum_weights=ctx.hour_weights, k=count)
    seconds = []
    for hour in hours:
        second = hour * HOUR + rng.random() * HOUR
        if second >= latest:
            second = rng.random() * max(latest, 1.0)
        seconds.append(int(second))
    seconds.sort()
    return [((midnight + timedelta(seconds=s)).astimezone(UTC), float(s)) for s in seconds]


def _batches(day_counts: list[tuple[date, int]], size: int) -> list[list[tuple[date, int]]]:
    batches: list[list[tuple[date, int]]] = [[]]
    total = 0
    for day, count in day_counts:
        if total >= size:
            batches.append([])
            total = 0
        batches[-1].append((day, count))
        total += count
    return [b for b in batches if b]


def _build(work: Batch, group: list[tuple[date, int]], ctx: Context, now: datetime) -> None:
    last = claim_numbers(dict(group))
    work.order_ids.reserve(sum(count for _day, count in group))
    work.task_ids.reserve(int(sum(count for _day, count in group) * 1.2))
    for day, count in group:
        moments = _day_moments(work.rng, ctx, day, count, now)
        for seq, (moment, second) in enumerate(moments, start=last[day] + 1):
            work.add_order(f"GD{day:%Y%m%d}{seq:04d}", moment, day.month, second)


def _write(work: Batch) -> None:
    with transaction.atomic():
        write_rows(WorkOrder, ORDER_COLUMNS, work.orders)
        write_rows(DepartmentTask, TASK_COLUMNS, work.tasks)
        write_rows(OrderEvent, EVENT_COLUMNS, work.events)


class _Writer(threading.Thread):
    """Writes the batches on its own connection while the next one is being built: PostgreSQL
    (COPY, index upkeep, the foreign-key checks at commit) works on one core while Python
    builds rows on the other. Batches go through a short queue; an error stops the run."""

    def __init__(self, written: Callable[[Batch], None]) -> None:
        super().__init__(name="generate_orders-writer", daemon=True)
        self.batches: queue.Queue[Batch | None] = queue.Queue(maxsize=2)
        self.written = written
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while (work := self.batches.get()) is not None:
                _write(work)
                self.written(work)
        except BaseException as error:  # handed to the main thread
            self.error = error
            while self.batches.get() is not None:  # let the builder finish putting
                pass
        finally:
            connection.close()

    def put(self, work: Batch) -> None:
        if self.error is not None:
            raise self.error
        self.batches.put(work)

    def finish(self) -> None:
        self.batches.put(None)
        self.join()
        if self.error is not None:
            raise self.error


def generate_orders(
    *,
    orders: int,
    days: int = 730,
    seed: int | None = None,
    batch: int = 5000,
    append: bool = False,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> Generated:
    """Add `orders` synthetic work orders created over the last `days` days up to `now`, with
    their tasks and timelines, in batches of whole days (each in its own transaction).

    Refuses (OrdersExistError) when work orders exist, unless `append`: then the new orders
    are spread over the same period and their numbers continue each day's counter, so they are
    unique, though a day's numbers are then no longer in the order of their intake times.

    On PostgreSQL outside a transaction a second thread writes each batch while the next is
    built; the numbers of a batch are claimed before it is written, so a failed run leaves gaps
    in those days' numbers. Elsewhere (SQLite, or inside a transaction) a batch is claimed,
    built and written in one transaction.
    """
    if orders < 1 or days < 1:
        raise ValueError("orders and days must be at least 1")
    if not append and WorkOrder.objects.exists():
        raise OrdersExistError(f"{WorkOrder.objects.count()} work orders exist")
    rng = random.Random(seed)  # noqa: S311  (synthetic data, not secrets)
    now = now or timezone.now()
    ctx = Context(rng)
    day_counts = _day_counts(rng, orders, days, now)
    recent = now - timedelta(days=60)
    totals: Counter[str] = Counter()
    statuses: Counter[str] = Counter()

    def written(work: Batch) -> None:
        totals.update(orders=len(work.orders), tasks=len(work.tasks), events=len(work.events))
        statuses.update(work.statuses)
        if progress is not None:
            progress(totals["orders"])

    threaded = connection.vendor == "postgresql" and not connection.in_atomic_block
    writer = _Writer(written) if threaded else None
    if writer is not None:
        writer.start()
    try:
        for group in _batches(day_counts, max(batch, 1)):
            work = Batch(ctx, rng, now, recent)
            if writer is not None:
                _build(work, group, ctx, now)
                writer.put(work)
            else:
                with transaction.atomic():
                    _build(work, group, ctx, now)
                    _write(work)
                written(work)
    finally:
        if writer is not None:
            writer.finish()
    return Generated(
        orders=totals["orders"],
        tasks=totals["tasks"],
        events=totals["events"],
        first_day=day_counts[0][0],
        last_day=day_counts[-1][0],
        statuses=dict(statuses),
    )


def analyze_tables() -> None:
    """Refresh the planner's statistics of the work-order tables after a bulk load; on
    PostgreSQL outside a transaction also VACUUM them (the visibility map that index-only scans
    need)."""
    vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    tables = [m._meta.db_table for m in (WorkOrder, DepartmentTask, OrderEvent, OrderCounter)]
    with connection.cursor() as cursor:
        for table in tables:
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"VACUUM (ANALYZE) {quoted}" if vacuum else f"ANALYZE {quoted}")
