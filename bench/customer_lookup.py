"""Customer lookup latency (issue 3's benchmark): p50/p95 of each kind of lookup.

Fill a database first, then run against it, e.g. on PostgreSQL:

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/aqualine_bench
    aqualine migrate && aqualine demo && aqualine generate_customers --accounts 200000
    python bench/customer_lookup.py

Prints one line per lookup; it asserts nothing (speed is measured here, not tested).
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aqualine.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from aqualine.accounts.models import User  # noqa: E402
from aqualine.customers.models import Account, AccountPhone  # noqa: E402
from aqualine.customers.selectors import (  # noqa: E402
    SearchBy,
    account_arrears,
    customer_for_phone,
    customer_search,
)
from aqualine.customers.synthetic import ESTATES  # noqa: E402


def bench(label: str, fn: Callable[[Any], object], args: Sequence[Any]) -> None:
    fn(args[0])  # warm up
    times = []
    for arg in args:
        started = time.perf_counter()
        fn(arg)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    print(f"{label:44s} n={len(times):3d} p50={statistics.median(times):7.2f} ms p95={p95:7.2f} ms")


def main() -> None:
    rng = random.Random(5)  # noqa: S311 (sampling, not security)
    count = Account.objects.count()
    numbers = list(Account.objects.values_list("number", flat=True)[:200000:997])
    phones = list(AccountPhone.objects.values_list("number", flat=True)[:250000:1013])
    accounts = list(Account.objects.filter(number__in=numbers[:100]))
    estates = [e.prefix.split("号")[1] for e in ESTATES]

    def by(kind: SearchBy) -> Callable[[str], object]:
        return lambda q: customer_search(query=q, by=kind)

    print(connection.vendor, count, "accounts")
    bench("number (exact)", by(SearchBy.NUMBER), numbers[:100])
    bench("number (auto)", lambda q: customer_search(query=q), numbers[:100])
    bench("phone (exact)", by(SearchBy.PHONE), phones[:100])
    bench("customer_for_phone", customer_for_phone, phones[:100])
    bench(
        "address: estate + building (幸福小区3栋2单元)",
        by(SearchBy.ADDRESS),
        [f"{rng.choice(estates)}{rng.randint(1, 24)}栋{rng.randint(1, 4)}单元" for _ in range(60)],
    )
    bench("address: estate only", by(SearchBy.ADDRESS), [rng.choice(estates) for _ in range(60)])
    bench(
        "address: one flat's full address",
        by(SearchBy.ADDRESS),
        [a.address[3:] for a in accounts[:60]],
    )
    bench("name", by(SearchBy.NAME), [a.name for a in accounts[:60]])
    bench(
        "anything (name or address)",
        lambda q: customer_search(query=q),
        [f"{rng.choice(estates)}{rng.randint(1, 24)}栋" for _ in range(60)],
    )
    bench("arrears of one account", lambda a: account_arrears(account=a), accounts[:100])
    bench("address: no match", by(SearchBy.ADDRESS), ["不存在的小区"] * 20)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(agent_id="1001"))
    bench(
        "JSON endpoint by phone (whole request)",
        lambda q: client.get("/customers/lookup.json", {"q": q}),
        phones[:50],
    )


if __name__ == "__main__":
    main()
