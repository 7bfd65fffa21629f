"""Work-order benchmark (the issue's): p50/p95 of customer lookup, the intake page's caller
context, order lists, the order page and intake save, against a filled database.

Fill a database first, then run against it, e.g. on PostgreSQL:

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/aqualine_bench
    aqualine migrate && aqualine demo && aqualine generate_customers --accounts 200000
    aqualine generate_orders --orders 1000000
    python bench/workorders.py

The goal: every lookup and page p95 under 50 ms, intake save p95 under 100 ms. Prints one line
per measurement (with the goal, and OVER when it is missed) and the load average before and
after; it asserts nothing (speed is measured here, not tested). Intake saves add real orders.
"""

from __future__ import annotations

import os
import random
import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aqualine.settings")
django.setup()

from django.core.paginator import Paginator  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402

from aqualine.accounts.models import Department, User  # noqa: E402
from aqualine.core.parameters import param  # noqa: E402
from aqualine.customers.models import Account, AccountPhone  # noqa: E402
from aqualine.customers.selectors import SearchBy, customer_for_phone, customer_search  # noqa: E402
from aqualine.customers.synthetic import ESTATES  # noqa: E402
from aqualine.workorders import selectors, services  # noqa: E402
from aqualine.workorders.forms import leaf_category_ids  # noqa: E402
from aqualine.workorders.models import Category, WorkOrder  # noqa: E402

LOOKUP_GOAL = 50.0
SAVE_GOAL = 100.0
Status = WorkOrder.Status


def bench(label: str, fn: Callable[[Any], object], args: Sequence[Any], goal: float) -> None:
    fn(args[0])  # warm up
    times = []
    for arg in args:
        started = time.perf_counter()
        fn(arg)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    verdict = "" if p95 < goal else "  OVER"
    print(
        f"{label:52s} n={len(times):3d} p50={statistics.median(times):7.2f} ms "
        f"p95={p95:7.2f} ms (goal {goal:.0f}){verdict}"
    )


def load() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def list_page(orders: Any, page: int = 1) -> list[dict[str, Any]]:
    """What views.order_list does with the selector's queryset: one page with its rows."""
    orders = orders.prefetch_related("tasks")
    current = Paginator(orders, param("basic.page_size")).get_page(page)
    return [
        {
            "order": order,
            "deadline": selectors.workorder_deadline(order),
            "overdue": any(selectors.task_is_overdue(t) for t in order.tasks.all()),
        }
        for order in current
    ]


def list_page_capped(orders: Any, page: int = 1, cap: int = 1000) -> list[dict[str, Any]]:
    """A proposal for views.order_list: the same page, but the total is counted only up to
    `cap` ("1000+ records", pages up to cap / page size): COUNT(*) of every matching order is
    what makes the unfiltered and the closed lists slow (see the report)."""
    size = param("basic.page_size")
    orders[: cap + 1].count()  # SELECT COUNT(*) FROM (SELECT ... LIMIT cap + 1)
    rows = orders.prefetch_related("tasks")[(page - 1) * size : page * size]
    return [
        {
            "order": order,
            "deadline": selectors.workorder_deadline(order),
            "overdue": any(selectors.task_is_overdue(t) for t in order.tasks.all()),
        }
        for order in rows
    ]


def analyze_if_never_analyzed() -> None:
    """A server with autovacuum off (as this one) never gathers statistics, and the planner then
    guesses badly (customer_for_phone: a 90 ms sequential scan instead of 0.2 ms). Analyze every
    table that was never analyzed, as autovacuum would have done after the bulk load."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_stat_user_tables "
            "WHERE last_analyze IS NULL AND last_autoanalyze IS NULL AND n_live_tup > 1000"
        )
        tables = [row[0] for row in cursor.fetchall()]
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    if tables:
        print("analyzed (never analyzed before):", ", ".join(sorted(tables)))


def get(client: Client, path: str, expected: int = 200) -> Callable[[Any], object]:
    def fetch(query: Any) -> object:
        response = client.get(path.format(query) if "{" in path else path, query)
        if response.status_code != expected:
            raise RuntimeError(f"{path} {query}: {response.status_code}")
        return response

    return fetch


def main() -> None:
    rng = random.Random(7)  # noqa: S311 (sampling, not security)
    started = time.perf_counter()
    analyze_if_never_analyzed()
    print(connection.vendor, f"{Account.objects.count()} accounts,", end=" ")
    print(f"{WorkOrder.objects.count()} work orders;", load(), flush=True)

    numbers = list(Account.objects.values_list("number", flat=True)[:200000:997])
    phones = list(AccountPhone.objects.values_list("number", flat=True)[:300000:1013])
    estates = [e.prefix.split("号")[1] for e in ESTATES]
    last_id = WorkOrder.objects.order_by("-id").values_list("id", flat=True).first() or 0
    sample_ids = [rng.randint(1, last_id) for _ in range(400)]
    sample = list(WorkOrder.objects.filter(pk__in=sample_ids).exclude(caller_number=""))
    callers = [o.caller_number for o in sample][:100]
    frequent = [
        row["caller_number"]
        for row in WorkOrder.objects.exclude(caller_number="")
        .values("caller_number")
        .annotate(n=Count("id"))
        .order_by("-n")[:30]
    ]
    agent = User.objects.get(agent_id="1001")  # hotline: views every order, takes calls
    handler = User.objects.get(agent_id="3001")  # 管网维修部: its department's orders only
    departments = list(Department.objects.filter(code__in=["repair", "billing", "quality"]))
    categories = list(Category.objects.filter(pk__in=leaf_category_ids()))
    print(f"(samples taken in {time.perf_counter() - started:.1f} s)\n")

    def by(kind: SearchBy) -> Callable[[str], object]:
        return lambda q: customer_search(query=q, by=kind)

    print("-- customer lookup")
    bench("account number", by(SearchBy.NUMBER), numbers[:100], LOOKUP_GOAL)
    bench(
        "address fragment (幸福小区3栋2单元)",
        by(SearchBy.ADDRESS),
        [f"{rng.choice(estates)}{rng.randint(1, 24)}栋{rng.randint(1, 4)}单元" for _ in range(60)],
        LOOKUP_GOAL,
    )
    bench("address fragment (estate only)", by(SearchBy.ADDRESS), estates * 2, LOOKUP_GOAL)
    bench("phone", by(SearchBy.PHONE), phones[:100], LOOKUP_GOAL)
    bench("customer_for_phone (screen pop)", customer_for_phone, phones[:100], LOOKUP_GOAL)

    def caller_context(phone: str) -> object:
        return (
            selectors.orders_for_caller(phone=phone),
            selectors.open_order_for_caller(phone=phone),
        )

    print("-- intake: the caller's past and open orders")
    bench("caller context, callers of sampled orders", caller_context, callers, LOOKUP_GOAL)
    bench("caller context, the 30 most frequent callers", caller_context, frequent, LOOKUP_GOAL)
    bench("caller context, customer phones", caller_context, phones[:100], LOOKUP_GOAL)
    hotline = Client(HTTP_HOST="127.0.0.1")
    hotline.force_login(agent)
    bench(
        "intake page with ?caller= (whole request)",
        lambda phone: get(hotline, "/workorders/new/")({"caller": phone}),
        callers[:60],
        LOOKUP_GOAL,
    )

    print("-- order list, department handler (管网维修部), by status")
    for status in (Status.PROCESSING, Status.PENDING_FOLLOW_UP, Status.CLOSED, ""):
        bench(
            f"selector + page 1: {status or 'all statuses'}",
            lambda s: list_page(selectors.workorder_list(user=handler, status=s or None)),
            [status] * 30,
            LOOKUP_GOAL,
        )
    bench(
        "selector + page 50: closed",
        lambda s: list_page(selectors.workorder_list(user=handler, status=s), 50),
        [Status.CLOSED] * 30,
        LOOKUP_GOAL,
    )
    handler_client = Client(HTTP_HOST="127.0.0.1")
    handler_client.force_login(handler)
    for status in (Status.PROCESSING, Status.CLOSED):
        bench(
            f"page via Client: {status}",
            get(handler_client, "/workorders/"),
            [{"status": status}] * 30,
            LOOKUP_GOAL,
        )

    print("-- order list, hotline, by department + status, and overdue only")
    combos = [(d, s) for d in departments for s in (Status.PROCESSING, Status.CLOSED)]
    for department, status in combos:
        bench(
            f"selector + page 1: {department.code} + {status}",
            lambda a: list_page(selectors.workorder_list(user=agent, department=a[0], status=a[1])),
            [(department, status)] * 20,
            LOOKUP_GOAL,
        )
    bench(
        "selector + page 1: overdue only",
        lambda _a: list_page(selectors.workorder_list(user=agent, overdue=True)),
        [None] * 30,
        LOOKUP_GOAL,
    )
    bench(
        "selector + page 1: repair + processing + overdue",
        lambda d: list_page(
            selectors.workorder_list(
                user=agent, department=d, status=Status.PROCESSING, overdue=True
            )
        ),
        [departments[0]] * 30,
        LOOKUP_GOAL,
    )
    repair = next(d for d in departments if d.code == "repair")
    for query in (
        {"department": repair.pk, "status": Status.PROCESSING},
        {"department": repair.pk, "status": Status.CLOSED},
        {"overdue": "on"},
    ):
        bench(
            f"page via Client: {'&'.join(f'{k}={v}' for k, v in query.items())}",
            get(hotline, "/workorders/"),
            [query] * 30,
            LOOKUP_GOAL,
        )

    print("-- proposal: the same lists with the total counted only up to 1,000")
    bench(
        "handler, closed, page 1",
        lambda s: list_page_capped(selectors.workorder_list(user=handler, status=s)),
        [Status.CLOSED] * 30,
        LOOKUP_GOAL,
    )
    bench(
        "handler, all statuses, page 1",
        lambda _s: list_page_capped(selectors.workorder_list(user=handler)),
        [None] * 30,
        LOOKUP_GOAL,
    )
    bench(
        "handler, closed, page 20",
        lambda s: list_page_capped(selectors.workorder_list(user=handler, status=s), 20),
        [Status.CLOSED] * 30,
        LOOKUP_GOAL,
    )
    bench(
        "hotline, repair + closed, page 1",
        lambda d: list_page_capped(
            selectors.workorder_list(user=agent, department=d, status=Status.CLOSED)
        ),
        [repair] * 30,
        LOOKUP_GOAL,
    )

    print("-- order page and lookup by number")
    bench(
        "order page via Client (sampled orders)",
        lambda pk: get(hotline, f"/workorders/{pk}/")(None),
        [o.pk for o in sample[:100]],
        LOOKUP_GOAL,
    )
    open_ids = list(
        WorkOrder.objects.filter(status=Status.PROCESSING).values_list("pk", flat=True)[:60]
    )
    if open_ids:
        bench(
            "order page via Client (processing orders)",
            lambda pk: get(hotline, f"/workorders/{pk}/")(None),
            open_ids,
            LOOKUP_GOAL,
        )
    bench(
        "order by number",
        lambda n: selectors.workorder_by_number(user=agent, number=n),
        [o.number for o in sample[:100]],
        LOOKUP_GOAL,
    )

    print("-- intake save (adds real orders)")
    accounts = list(Account.objects.filter(number__in=numbers[:100]))

    def save(i: int) -> object:
        account = accounts[i % len(accounts)] if i % 2 else None
        return services.workorder_create(
            actor=agent,
            source=WorkOrder.Source.PHONE,
            category=categories[i % len(categories)],
            description="压测：小区门口管道漏水",
            caller_number=phones[i % len(phones)],
            reporter_name="压测",
            account=account,
            address="" if account else "东城区幸福路8号幸福小区门口",
        )

    bench("services.workorder_create", save, list(range(100)), SAVE_GOAL)

    def post(i: int) -> object:
        data = {
            "form_token": str(uuid.uuid4()),
            "source": WorkOrder.Source.PHONE,
            "caller_number": phones[i % len(phones)],
            "reporter_name": "压测",
            "reporter_phone": phones[i % len(phones)],
            "account_number": numbers[i % len(numbers)] if i % 2 else "",
            "address": "" if i % 2 else "东城区幸福路8号幸福小区门口",
            "category": categories[i % len(categories)].pk,
            "description": "压测：小区门口管道漏水",
            "urgency": WorkOrder.Urgency.NORMAL,
        }
        response = hotline.post("/workorders/new/", data)
        if response.status_code != 302:
            raise RuntimeError(f"intake POST: {response.status_code}")
        return response

    bench("intake POST via Client (form, save, redirect)", post, list(range(100)), SAVE_GOAL)
    print(f"\n{load()}; {time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
