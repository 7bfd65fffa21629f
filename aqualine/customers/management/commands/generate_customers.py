from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from aqualine.customers.models import Account, AccountPhone, Bill, Meter
from aqualine.customers.synthetic import generate_customers


class Command(BaseCommand):
    help = (
        "Add realistic synthetic customer accounts (with phones, meters and monthly bills, some "
        "in arrears) for demos and benchmarks."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", type=int, required=True, help="how many accounts")
        parser.add_argument("--seed", type=int, default=None, help="random seed (repeatable)")
        parser.add_argument("--months", type=int, default=12, help="months of bills (12)")
        parser.add_argument("--batch", type=int, default=2000, help="accounts per transaction")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["accounts"] < 1:
            raise CommandError("--accounts must be at least 1")
        if not 1 <= options["months"] <= 120:
            raise CommandError("--months must be between 1 and 120")
        started = time.perf_counter()
        every = max(options["accounts"] // 10, options["batch"])
        last_report = [0]

        def progress(done: int) -> None:
            if done - last_report[0] >= every or done == options["accounts"]:
                last_report[0] = done
                elapsed = time.perf_counter() - started
                self.stdout.write(f"  {done} accounts ({elapsed:.1f} s)")

        result = generate_customers(
            accounts=options["accounts"],
            seed=options["seed"],
            months=options["months"],
            batch=max(options["batch"], 1),
            progress=progress if options["verbosity"] > 0 else None,
        )
        if connection.vendor == "postgresql":  # fresh statistics for the planner
            with connection.cursor() as cursor:
                for model in (Account, AccountPhone, Meter, Bill):
                    cursor.execute(f'ANALYZE "{model._meta.db_table}"')
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"Generated {result.accounts} accounts ({result.first_number}–{result.last_number}), "
            f"{result.phones} phones, {result.meters} meters, {result.bills} bills "
            f"in {elapsed:.1f} s."
        )
