"""The worker runs its jobs in lanes: a long job (an Excel export) never holds up another lane's
(the deadline reminders)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.core.management import call_command

from aqualine.core.management.commands import worker
from aqualine.jobs import JOBS, Job


def test_every_job_has_a_lane_and_exports_and_summaries_have_their_own() -> None:
    lanes = {job.command[0]: job.lane for job in JOBS}
    assert lanes["remind_deadlines"] == "main"
    assert lanes["run_report_exports"] not in ("main", lanes["refresh_report_summaries"])


def test_a_slow_lane_does_not_hold_up_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: dict[str, tuple[float, float, str]] = {}

    def fake(name: str, *args: Any, **options: Any) -> None:
        start = time.monotonic()
        if name == "slow":
            time.sleep(1.0)
        ran[name] = (start, time.monotonic(), threading.current_thread().name)

    monkeypatch.setattr(worker, "call_command", fake)
    monkeypatch.setattr(
        worker,
        "JOBS",
        (
            Job("slow export", 10, ("slow",), "exports"),
            Job("reminders", 10, ("fast",)),
            Job("sessions", 10, ("also",)),
        ),
    )
    call_command("worker", "--once")
    assert set(ran) == {"slow", "fast", "also"}
    assert ran["fast"][0] < ran["slow"][1], "the reminders did not wait for the export"
    assert ran["slow"][2] != ran["fast"][2] == ran["also"][2]  # one thread per lane
    assert ran["also"][0] >= ran["fast"][1]  # within a lane: one after another
