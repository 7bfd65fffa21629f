"""Reports benchmark (B6, X1): p50/p95 of each ready report page and of a custom query with three
conditions, the refresh of the daily summaries, and an Excel export of 100,000 rows written as
the worker writes it (an ExportJob: time, peak memory), against a filled database.

Fill a database first, then run against it, e.g. on PostgreSQL:

    createdb aqualine_reports_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/aqualine_reports_bench
    aqualine migrate && aqualine demo && aqualine generate_orders --orders 1000000
    python bench/reports.py --calls 1000000     # adds the call records that are missing

The ready reports read whole past days from the summaries (`aqualine.reports.summaries`): the
benchmark rebuilds them all first (`--no-rebuild` keeps them as they are; `--live` deletes them,
so that the reports count everything from the live tables, as before the summaries).

The goal: every report and query p95 under 1 s (pages measured whole: selectors, tables,
charts, template), the export reported as is. Prints one line per measurement (with OVER when the
goal is missed) and the load average before and after; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import timedelta

import django
import openpyxl.xml

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aqualine.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from aqualine.accounts.models import Department, User  # noqa: E402
from aqualine.callcenter.models import CallRecord  # noqa: E402
from aqualine.reports.export_jobs import (  # noqa: E402
    export_job_claim,
    export_job_create,
    export_job_run,
)
from aqualine.reports.models import ExportJob  # noqa: E402
from aqualine.reports.selectors.query import COLUMNS, DEFAULT_COLUMNS  # noqa: E402
from aqualine.reports.summaries import report_summaries_refresh, summaries_delete  # noqa: E402
from aqualine.reports.synthetic import generate_calls  # noqa: E402
from aqualine.workorders.models import Category, WorkOrder  # noqa: E402

GOAL_MS = 1000.0
AGENTS = [str(1001 + i) for i in range(12)]


def load() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def bench(label: str, fn: Callable[[int], object], runs: int) -> None:
    fn(0)  # warm up
    times = []
    for i in range(runs):
        started = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    verdict = "" if p95 < GOAL_MS else "  OVER"
    print(
        f"{label:58s} n={len(times):3d} p50={statistics.median(times):8.1f} ms "
        f"p95={p95:8.1f} ms (goal {GOAL_MS:.0f}){verdict}",
        flush=True,
    )


def page(client: Client, url: str) -> Callable[[int], object]:
    def get(_i: int) -> object:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response

    return get


def ensure_calls(wanted: int) -> None:
    have = CallRecord.objects.count()
    if have >= wanted:
        print(f"{have} call records present")
        return
    print(f"{have} call records present; adding {wanted - have} ...", flush=True)
    started = time.perf_counter()
    generate_calls(calls=wanted - have, seed=have, agents=AGENTS)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE callcenter_callrecord")
            cursor.execute("ANALYZE callcenter_agentstatechange")
    print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)


def client_for(agent_id: str) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(User.objects.get(agent_id=agent_id))
    return client


def export_job(user: User, query: str) -> ExportJob:
    """Queue an export and run it here, as `aqualine run_report_exports` does."""
    job = export_job_create(owner=user, kind=ExportJob.Kind.QUERY, query=query)
    export_job_claim(job=job, now=timezone.now())
    return export_job_run(job=job)


def summaries(args: argparse.Namespace) -> None:
    if args.live:
        summaries_delete()
        print("summaries deleted: every report counts from the live tables", flush=True)
        return
    if not args.no_rebuild:
        started = time.perf_counter()
        result = report_summaries_refresh(all_days=True)
        days = {str(kind): len(found) for kind, found in result.days.items()}
        print(
            f"summaries rebuilt (every day): {time.perf_counter() - started:.1f} s "
            f"({', '.join(f'{k} {n} days {result.seconds[k]:.1f} s' for k, n in days.items())})",
            flush=True,
        )
    for label, last_days in (("every 5 minutes", 0), ("daily, last 92 days", 92)):
        started = time.perf_counter()
        result = report_summaries_refresh(days=last_days)
        days = {str(kind): len(found) for kind, found in result.days.items()}
        print(
            f"summaries refresh ({label}, nothing new): {time.perf_counter() - started:.1f} s, "
            f"days {days}",
            flush=True,
        )


def pages(runs: int) -> None:
    """The report pages and the custom query, p50/p95 of whole requests."""
    viewer = client_for("9001")  # 领导查询: every order, call reports
    handler = client_for("3001")  # 管网维修部's handler: that department's orders only
    repair = Department.objects.get(code="repair")
    today = timezone.localdate()
    year = f"period=custom&date_from={today - timedelta(days=364)}&date_to={today}"

    for name, label in (("intake", "intake and handling"), ("timeliness", "timeliness")):
        bench(f"{label}, this month (viewer)", page(viewer, f"/reports/{name}/"), runs)
        bench(f"{label}, this month (repair handler)", page(handler, f"/reports/{name}/"), runs)
        bench(f"{label}, last 365 days (viewer)", page(viewer, f"/reports/{name}/?{year}"), runs)
        leak = Category.objects.get(code="leak").pk
        bench(
            f"{label}, 365 days, dept + category (viewer)",
            page(viewer, f"/reports/{name}/?{year}&department={repair.pk}&category={leak}"),
            runs,
        )
    bench("calls, this month", page(viewer, "/reports/calls/"), runs)
    bench("calls, this week", page(viewer, "/reports/calls/?period=week"), runs)
    bench("calls, last 365 days", page(viewer, f"/reports/calls/?{year}"), runs)
    bench("calls, 365 days, one agent", page(viewer, f"/reports/calls/?{year}&agent_id=1003"), runs)

    # A custom query with three conditions: the last 365 days, one category, not overdue;
    # the count and the first page, with 处理次数 and the departments.
    categories = list(Category.objects.filter(parent__isnull=True).values_list("pk", flat=True))
    columns = "&".join(
        f"columns={c}"
        for c in ("number", "created_at", "content", "departments", "times_processed")
    )

    def query_url(i: int) -> str:
        start = today - timedelta(days=364)
        return (
            f"/reports/query/?date_from={start}&date_to={today}"
            f"&category={categories[i % len(categories)]}&overdue=no&{columns}"
        )

    def run_query(i: int, client: Client = viewer) -> object:
        response = client.get(query_url(i))
        assert response.status_code == 200
        return response

    bench("custom query, 3 conditions, count + page 1 (viewer)", run_query, runs)
    bench(
        "custom query, 3 conditions, count + page 1 (repair handler)",
        lambda i: run_query(i, handler),
        runs,
    )

    def page_50(i: int) -> object:
        response = viewer.get(query_url(i) + "&page=50")
        assert response.status_code == 200
        return response

    bench("custom query, 3 conditions, page 50 (viewer)", page_50, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1_000_000, help="call records wanted")
    parser.add_argument("--runs", type=int, default=20, help="runs per measurement")
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--export-columns", choices=["default", "every", "both"], default="both")
    parser.add_argument(
        "--skip-pages", action="store_true", help="measure only the summaries and the export"
    )
    parser.add_argument("--no-rebuild", action="store_true", help="keep the summaries as they are")
    parser.add_argument("--live", action="store_true", help="delete the summaries first")
    args = parser.parse_args()

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    print(load(), flush=True)
    ensure_calls(args.calls)
    print(f"{WorkOrder.objects.count()} orders, {CallRecord.objects.count()} call records")
    summaries(args)

    if not args.skip_pages:
        pages(args.runs)

    if args.skip_export:
        print(load())
        return
    # Excel export of the newest N orders (default columns, then every column), written by an
    # export job as the worker writes it.
    user = User.objects.get(agent_id="9001")
    newest = (
        WorkOrder.objects.order_by("-created_at")
        .values_list("created_at", flat=True)[args.export_rows - 1 : args.export_rows]
        .get()
    )
    since = f"date_from={timezone.localdate(newest)}"
    print(f"openpyxl writes XML with {'lxml' if openpyxl.xml.LXML else 'the standard library'}")
    with tempfile.TemporaryDirectory() as tmp:
        settings.REPORT_EXPORTS_DIR = tmp
        for label, chosen in (("default", list(DEFAULT_COLUMNS)), ("every", list(COLUMNS))):
            if args.export_columns not in (label, "both"):
                continue
            query = "&".join([since, *(f"columns={c}" for c in chosen)])
            started = time.perf_counter()
            cpu = time.process_time()
            job = export_job(user, query)
            elapsed = time.perf_counter() - started
            cpu_used = time.process_time() - cpu
            assert job.status == ExportJob.Status.DONE, job.error
            written = job.rows or 0
            print(
                f"export job {written} rows x {len(chosen)} columns ({label}): {elapsed:.1f} s "
                f"wall, {cpu_used:.1f} s CPU here, {written / elapsed:.0f} rows/s, "
                f"file {(job.size or 0) / 1e6:.1f} MB",
                flush=True,
            )
            tracemalloc.start()
            export_job(user, query)
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(f"  peak Python memory (tracemalloc, a second run): {peak / 1e6:.1f} MB")
        ExportJob.objects.filter(owner=user, query__startswith=since).delete()
    print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(load())


if __name__ == "__main__":
    main()
