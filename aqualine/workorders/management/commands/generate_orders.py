from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aqualine.workorders.synthetic import OrdersExistError, analyze_tables, generate_orders


class Command(BaseCommand):
    help = (
        "Add realistic synthetic work orders (about two years of intake, with department tasks, "
        "timelines, follow-ups, urges, returned and overdue tasks) for demos and benchmarks. "
        "Run `aqualine demo` (departments and staff) first, and `generate_customers` for callers "
        "who are customers. Refuses when work orders exist, unless --append."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, required=True, help="how many orders")
        parser.add_argument("--days", type=int, default=730, help="over how many days (730)")
        parser.add_argument("--seed", type=int, default=None, help="random seed (repeatable)")
        parser.add_argument("--batch", type=int, default=5000, help="orders per transaction")
        parser.add_argument(
            "--append",
            action="store_true",
            help="add to existing orders (over the same period; numbers continue each day's "
            "counter, so they stay unique)",
        )
        parser.add_argument(
            "--no-analyze",
            action="store_true",
            help="skip refreshing the tables' statistics (VACUUM ANALYZE) at the end",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["orders"] < 1:
            raise CommandError("--orders must be at least 1")
        if not 1 <= options["days"] <= 3660:
            raise CommandError("--days must be between 1 and 3660")
        started = time.perf_counter()
        every = max(options["orders"] // 10, options["batch"])
        last_report = [0]

        def progress(done: int) -> None:
            if done - last_report[0] >= every or done == options["orders"]:
                last_report[0] = done
                elapsed = time.perf_counter() - started
                self.stdout.write(f"  {done} orders ({elapsed:.1f} s)")

        try:
            result = generate_orders(
                orders=options["orders"],
                days=options["days"],
                seed=options["seed"],
                batch=max(options["batch"], 1),
                append=options["append"],
                progress=progress if options["verbosity"] > 0 else None,
            )
        except OrdersExistError as error:
            raise CommandError(
                f"{error}; pass --append to add more (numbers continue each day's counter)."
            ) from error
        except ValueError as error:
            raise CommandError(str(error)) from error
        elapsed = time.perf_counter() - started
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(result.statuses.items()))
        self.stdout.write(
            f"Generated {result.orders} orders ({result.first_day}–{result.last_day}), "
            f"{result.tasks} department tasks, {result.events} events in {elapsed:.1f} s; "
            f"statuses: {statuses}."
        )
        if not options["no_analyze"]:
            analyzing = time.perf_counter()
            analyze_tables()
            self.stdout.write(
                f"Refreshed the tables' statistics in {time.perf_counter() - analyzing:.1f} s."
            )
