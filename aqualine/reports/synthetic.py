"""Synthetic call records and agent-state history for the call reports' benchmark and demos.

Calls are spread over the last `days` local days, mostly in working hours with the usual
morning and afternoon peaks, and written in time order (as the switch writes them, so that a
period's rows lie together in the table); nine in ten are inbound. An inbound call ends in the
IVR, or is queued and then answered, abandoned or overflowed; an answered one is talked and
wrapped up by one of `agents`, whose state history gets the rows the switch writes for it
(idle → ringing → talking → after-call work → idle). Deterministic for a given seed and `now`.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from aqualine.callcenter.models import AgentStateChange, CallRecord

# Relative call volume by local hour of the day.
HOUR_WEIGHTS = [
    0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 5, 9, 10, 9,
    6, 6, 8, 9, 8, 6, 4, 3, 1.5, 1, 0.6, 0.3,
]  # fmt: skip
INBOUND_OUTCOMES = [("ivr_only", 25), ("answered", 58), ("abandoned", 13), ("missed", 4)]
DEFAULT_AGENTS = ("1001", "1002", "1003", "1004")
HOTLINE = "96000"


def _mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randint(0, 999_999_999):09d}"


def _call(
    rng: random.Random, started: datetime, agents: Sequence[str]
) -> tuple[CallRecord, list[AgentStateChange]]:
    call_id = uuid.UUID(int=rng.getrandbits(128), version=4).hex
    if rng.random() < 0.1:  # an agent calls a customer back
        agent = rng.choice(agents)
        connected = rng.random() < 0.75
        talk = rng.lognormvariate(4.6, 0.6) if connected else None
        answered = started + timedelta(seconds=rng.uniform(3, 20)) if connected else None
        ended = (answered + timedelta(seconds=talk)) if answered and talk else started
        return CallRecord(
            call_id=call_id,
            direction=CallRecord.Direction.OUTBOUND,
            caller=agent,
            callee=_mobile(rng),
            started_at=started,
            answered_at=answered,
            ended_at=ended + timedelta(seconds=0 if connected else 30),
            outcome="answered" if connected else "cancelled",
            agent_id=agent,
            talk_seconds=round(talk, 3) if talk else None,
        ), []
    outcome = rng.choices(
        [o for o, _w in INBOUND_OUTCOMES], weights=[w for _o, w in INBOUND_OUTCOMES]
    )[0]
    ivr = rng.uniform(8, 40)
    record = CallRecord(
        call_id=call_id,
        direction=CallRecord.Direction.INBOUND,
        caller=_mobile(rng),
        callee=HOTLINE,
        started_at=started,
        answered_at=started + timedelta(seconds=0.4),
        outcome=outcome,
        ivr_path="主菜单>人工服务" if outcome != "ivr_only" else "主菜单>停水信息查询",
    )
    if outcome == "ivr_only":
        record.ended_at = started + timedelta(seconds=ivr + rng.uniform(10, 60))
        return record, []
    queued = started + timedelta(seconds=ivr)
    record.queue = "hotline"
    record.queued_at = queued
    if outcome != "answered":
        wait = rng.uniform(3, 150) if outcome == "abandoned" else rng.uniform(120, 300)
        record.wait_seconds = round(wait, 3)
        record.ended_at = queued + timedelta(seconds=wait)
        return record, []
    wait = min(rng.expovariate(1 / 14), 280)
    talk = rng.lognormvariate(5.0, 0.55)
    acw = rng.uniform(3, 30)
    ring = rng.uniform(1.5, 6)
    idle = rng.uniform(10, 600)
    agent = rng.choice(agents)
    answered = queued + timedelta(seconds=wait)
    ended = answered + timedelta(seconds=talk)
    record.agent_id = agent
    record.agent_extension = f"800{agents.index(agent) % 10}"
    record.agent_answered_at = answered
    record.wait_seconds = round(wait, 3)
    record.talk_seconds = round(talk, 3)
    record.ended_at = ended

    def change(at: datetime, old: str, new: str, duration: float, name: str) -> AgentStateChange:
        return AgentStateChange(
            agent_id=agent,
            extension=record.agent_extension,
            old_state=old,
            new_state=new,
            old_duration_seconds=round(duration, 3),
            transition=name,
            at=at,
            call_id=call_id if old != "idle" else "",
            queue="hotline",
            by="system",
        )

    rang = answered - timedelta(seconds=ring)
    states = [
        change(rang, "idle", "ringing", idle, "offer"),
        change(answered, "ringing", "talking", ring, "answer"),
        change(ended, "talking", "after_call_work", talk, "call_ended"),
        change(ended + timedelta(seconds=acw), "after_call_work", "idle", acw, "wrap_up_done"),
    ]
    return record, states


def generate_calls(
    *,
    calls: int,
    days: int = 730,
    seed: int | None = None,
    agents: Sequence[str] = DEFAULT_AGENTS,
    now: datetime | None = None,
    batch: int = 10_000,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Add `calls` call records (and their agents' state history) over the last `days` days;
    returns (call records, state-history rows) written."""
    rng = random.Random(seed)  # noqa: S311  (synthetic data, not secrets)
    now = now or timezone.now()
    today = timezone.localdate(now)
    first = today - timedelta(days=days - 1)
    tz = timezone.get_current_timezone()
    hours = list(range(24))
    per_day = Counter(rng.randrange(days) for _ in range(calls))
    written_calls = written_states = 0
    records: list[CallRecord] = []
    states: list[AgentStateChange] = []

    def flush() -> None:
        nonlocal written_calls, written_states
        with transaction.atomic():
            CallRecord.objects.bulk_create(records, batch_size=2000)
            AgentStateChange.objects.bulk_create(states, batch_size=2000)
        written_calls += len(records)
        written_states += len(states)
        records.clear()
        states.clear()
        if progress is not None:
            progress(written_calls)

    # Day by day and in time order within a day, as a switch writes them.
    for index in range(days):
        day = first + timedelta(days=index)
        midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
        starts = []
        for _ in range(per_day[index]):
            if day == today:  # today: only up to now
                seconds = rng.uniform(0, max((now - midnight).total_seconds() - 3600, 1))
            else:
                seconds = rng.choices(hours, weights=HOUR_WEIGHTS)[0] * 3600 + rng.uniform(0, 3600)
            starts.append(midnight + timedelta(seconds=seconds))
        for started in sorted(starts):
            record, changes = _call(rng, started, agents)
            records.append(record)
            states.extend(changes)
            if len(records) >= batch:
                flush()
    if records:
        flush()
    return written_calls, written_states
