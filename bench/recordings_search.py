"""Recording search benchmark (T13): p50/p95 of the recording search for typical filters over
1,000,000 call records (about 700,000 recordings), and of the whole page.

Fill a database of its own first, then run against it (PostgreSQL):

    createdb -h 127.0.0.1 -U postgres aqualine_rec_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/aqualine_rec_bench
    aqualine migrate
    python bench/recordings_search.py --fill 1000000   # once: bulk_create, then ANALYZE
    python bench/recordings_search.py

The goal: every search p95 under 100 ms. Prints one line per measurement (with OVER when the
goal is missed), the planner's choice for a few of them, and the load average before and after;
it asserts nothing (speed is measured here, not tested).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aqualine.settings")
django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from aqualine.accounts.models import Role, User  # noqa: E402
from aqualine.callcenter.models import CallRecord, Recording  # noqa: E402
from aqualine.callcenter.recordings import (  # noqa: E402
    Cursor,
    RecordingPerm,
    call_search,
    recording_search,
)

GOAL_MS = 100.0
AGENTS = [str(1001 + n) for n in range(60)]
HOTLINES = ["96000", "96000", "96000", "96000", "96001"]
DAYS = 365
SEED = 96000


class Listener:
    """What the selector needs of a user: the permissions and the 工号."""

    def __init__(self, agent_id: str, *, listen_all: bool) -> None:
        self.agent_id = agent_id
        self.perms = {RecordingPerm.LISTEN} | ({RecordingPerm.LISTEN_ALL} if listen_all else set())

    def has_perm(self, perm: str) -> bool:
        return perm in self.perms


def callers(rng: random.Random) -> list[str]:
    return [f"13{rng.randrange(100_000_000, 999_999_999)}" for _ in range(200_000)]


def fill(total: int, end: datetime) -> None:
    rng = random.Random(SEED)  # noqa: S311 (test data, not security)
    pool = callers(rng)
    frequent = pool[:500]  # a few numbers call again and again
    start = end - timedelta(days=DAYS)
    step = DAYS * 86400 / total
    batch_calls: list[CallRecord] = []
    batch_recordings: list[Recording] = []
    started_clock = time.perf_counter()

    def flush() -> None:
        with transaction.atomic():
            CallRecord.objects.bulk_create(batch_calls, batch_size=5000)
            Recording.objects.bulk_create(batch_recordings, batch_size=5000)
        batch_calls.clear()
        batch_recordings.clear()

    for n in range(total):
        at = start + timedelta(seconds=n * step + rng.random() * step)
        roll = rng.random()
        caller = rng.choice(frequent) if rng.random() < 0.1 else rng.choice(pool)
        agent = ""
        talk: float | None = None
        wait: float | None = None
        if roll < 0.85:
            direction, callee = CallRecord.Direction.INBOUND, rng.choice(HOTLINES)
            outcome = rng.choices(["answered", "abandoned", "ivr_only", "missed"], [70, 12, 15, 3])[
                0
            ]
        elif roll < 0.97:
            direction, callee, caller = CallRecord.Direction.OUTBOUND, caller, "96000"
            outcome = rng.choices(["answered", "cancelled", "failed"], [80, 15, 5])[0]
        else:
            direction, callee = CallRecord.Direction.INTERNAL, str(rng.randrange(8001, 8099))
            caller = str(rng.randrange(8001, 8099))
            outcome = "answered"
        if outcome == "answered":
            agent = rng.choice(AGENTS)
            talk = round(min(3600.0, rng.lognormvariate(4.6, 0.8)), 1)  # median ~100 s
            wait = round(rng.expovariate(1 / 20), 1) if direction == "inbound" else None
        ended = at + timedelta(seconds=(talk or rng.uniform(5, 90)) + (wait or 0) + 15)
        call_id = f"b{n:08d}"
        batch_calls.append(
            CallRecord(
                call_id=call_id,
                direction=direction,
                caller=caller,
                callee=callee,
                started_at=at,
                answered_at=at + timedelta(seconds=1),
                ended_at=ended,
                outcome=outcome,
                queue="hotline" if direction == "inbound" else "",
                agent_id=agent,
                wait_seconds=wait,
                talk_seconds=talk,
            )
        )
        kind = ""
        if outcome == "answered" and direction != "internal":
            kind = Recording.Kind.CALL
        elif outcome == "ivr_only" and rng.random() < 0.2:
            kind = Recording.Kind.MESSAGE
        if kind:
            seconds = talk if talk is not None else rng.uniform(5, 60)
            batch_recordings.append(
                Recording(
                    call_id=call_id,
                    kind=kind,
                    path=f"{at:%Y/%m/%d}/{call_id}.wav",
                    started_at=at,
                    duration_seconds=seconds,
                    size_bytes=int(seconds * 16000) + 44,
                    complete=True,
                )
            )
        if len(batch_calls) >= 20_000:
            flush()
            if (n + 1) % 100_000 == 0:
                print(f"  {n + 1:>9,d} calls, {time.perf_counter() - started_clock:6.1f} s")
    flush()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE callcenter_callrecord")
        cursor.execute("ANALYZE callcenter_recording")
    print(f"filled {total:,d} calls in {time.perf_counter() - started_clock:.1f} s")


def bench(label: str, fn: Callable[[Any], object], args: Sequence[Any]) -> float:
    fn(args[0])  # warm up
    times = []
    for arg in args:
        started = time.perf_counter()
        fn(arg)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    verdict = "" if p95 < GOAL_MS else "  OVER"
    print(
        f"{label:58s} n={len(times):3d} p50={statistics.median(times):7.2f} ms "
        f"p95={p95:7.2f} ms{verdict}"
    )
    return p95


def load() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def plan(label: str, filters: dict[str, Any], user: Listener) -> None:
    """The planner's choice for the page query (first line of EXPLAIN ANALYZE)."""
    calls = call_search(user=user, filters=filters).order_by("-started_at", "-pk")[:51]
    sql, params = calls.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}", params)
        lines = [row[0] for row in cursor.fetchall()]
    scans = [line.strip() for line in lines if "Scan" in line]
    total = lines[-1].strip()
    print(f"  plan {label:28s} {' / '.join(scans)[:110]} · {total}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fill", type=int, default=0, help="add this many call records first")
    parser.add_argument("-n", type=int, default=40, help="runs per measurement")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print(f"warning: {connection.vendor}, not PostgreSQL: the goal is for PostgreSQL")
    if args.fill:
        fill(args.fill, timezone.now())
    total = CallRecord.objects.count()
    recordings = Recording.objects.count()
    if total < 10_000:
        raise SystemExit("fill the database first: --fill 1000000")
    print(f"{total:,d} call records, {recordings:,d} recordings · {load()}")

    rng = random.Random(1)  # noqa: S311 (sampling, not security)
    n = args.n
    supervisor = Listener("2001", listen_all=True)
    first, last = (
        CallRecord.objects.order_by("started_at").values_list("started_at", flat=True).first(),
        CallRecord.objects.order_by("-started_at").values_list("started_at", flat=True).first(),
    )
    assert first is not None and last is not None
    span = (last - first).total_seconds()

    def moment() -> datetime:
        return first + timedelta(seconds=rng.random() * span)

    sample_callers = list(
        CallRecord.objects.filter(direction="inbound")
        .order_by("?")
        .values_list("caller", flat=True)[:n]
    )

    def search(filters: dict[str, Any], user: Listener = supervisor, **kw: Any) -> object:
        return recording_search(user=user, filters=filters, limit=50, **kw)

    measurements: list[tuple[str, Callable[[Any], object], list[Any]]] = [
        ("first page, no filter", search, [{}] * n),
        (
            "one day",
            search,
            [
                {"started_from": t, "started_to": t + timedelta(days=1)}
                for t in (moment() for _ in range(n))
            ],
        ),
        ("agent ID", search, [{"agent_id": rng.choice(AGENTS)} for _ in range(n)]),
        (
            "agent ID + one week",
            search,
            [
                {"agent_id": rng.choice(AGENTS), "started_from": t, "started_to": t + timedelta(7)}
                for t in (moment() for _ in range(n))
            ],
        ),
        ("calling number (exact)", search, [{"caller": c} for c in sample_callers]),
        ("called number 96000 (most calls)", search, [{"callee": "96000"}] * n),
        ("direction outbound", search, [{"direction": "outbound"}] * n),
        ("direction internal (3 %)", search, [{"direction": "internal"}] * n),
        ("outcome abandoned", search, [{"outcome": "abandoned"}] * n),
        ("talk time ≥ 300 s", search, [{"duration_min": 300}] * n),
        ("talk time ≥ 900 s (0.2 %)", search, [{"duration_min": 900}] * n),
        ("talk time ≥ 1800 s (0.01 %)", search, [{"duration_min": 1800}] * n),
        ("only calls with a recording", search, [{"recorded_only": True}] * n),
        (
            "inbound+answered+talk≥60 s+one month",
            search,
            [
                {
                    "direction": "inbound",
                    "outcome": "answered",
                    "duration_min": 60,
                    "started_from": t,
                    "started_to": t + timedelta(days=30),
                }
                for t in (moment() for _ in range(n))
            ],
        ),
        (
            "an agent's own calls (listen own)",
            lambda user: recording_search(user=user, filters={}, limit=50),
            [Listener(rng.choice(AGENTS), listen_all=False) for _ in range(n)],
        ),
        (
            "a page deep in the list (keyset cursor)",
            lambda t: search({}, after=Cursor(t, 0)),
            [moment() for _ in range(n)],
        ),
        (
            "newer page (before=cursor), agent ID",
            lambda a: search({"agent_id": a[0]}, before=Cursor(a[1], 0)),
            [(rng.choice(AGENTS), moment()) for _ in range(n)],
        ),
    ]
    worst = 0.0
    for label, fn, arguments in measurements:
        worst = max(worst, bench(label, fn, arguments))

    # the whole page: view, form, selector, template (50 rows with their players)
    role = Role.objects.filter(code="supervisor").first()
    user, _created = User.objects.get_or_create(agent_id="bench-rec", defaults={"name": "班长"})
    if role is not None:
        user.groups.add(role)
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)

    def page(agent_id: str) -> None:
        response = client.get("/callcenter/recordings/", {"agent_id": agent_id})
        if response.status_code != 200:
            raise SystemExit(f"the page answered {response.status_code}")

    bench(
        "(baseline: the home page GET /, not part of the goal)", lambda _: client.get("/"), [0] * n
    )
    worst = max(
        worst,
        bench(
            "whole page GET /callcenter/recordings/?agent_id=…",
            page,
            [rng.choice(AGENTS) for _ in range(n)],
        ),
    )

    started = time.perf_counter()
    exact = CallRecord.objects.filter(callee="96000").count()
    print(
        f"(for comparison: an exact COUNT(*) of callee=96000 = {exact:,d} rows took "
        f"{(time.perf_counter() - started) * 1000:.0f} ms; the page counts up to 1,001)"
    )
    if connection.vendor == "postgresql":
        plan("agent ID", {"agent_id": AGENTS[0]}, supervisor)
        plan("calling number", {"caller": sample_callers[0]}, supervisor)
        plan("called number 96000", {"callee": "96000"}, supervisor)
        plan("talk ≥ 1800 s", {"duration_min": 1800}, supervisor)
        plan("direction outbound", {"direction": "outbound"}, supervisor)
    print(f"worst p95 {worst:.1f} ms (goal {GOAL_MS:.0f}) · {load()}")


if __name__ == "__main__":
    main()
