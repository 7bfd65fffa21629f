from __future__ import annotations

import io
import logging
import signal
import threading
import time
from types import FrameType
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connections

from aqualine.jobs import JOBS, Job

log = logging.getLogger("aqualine.worker")


class Command(BaseCommand):
    help = "Run the periodic jobs (sessions clean-up, reminders, retention) in a loop."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run every job once and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        stopping = threading.Event()

        def stop(signum: int, frame: FrameType | None) -> None:
            stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        lanes: dict[str, list[Job]] = {}
        for job in JOBS:
            lanes.setdefault(job.lane, []).append(job)
        threads = [
            threading.Thread(
                target=run_lane,
                args=(jobs, stopping, bool(options["once"])),
                name=f"worker-{lane}",
                daemon=True,
            )
            for lane, jobs in lanes.items()
        ]
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            for thread in threads:
                thread.join(0.5)  # the main thread stays free for the signals


def run_lane(jobs: list[Job], stopping: threading.Event, once: bool) -> None:
    """Run ``jobs`` when due, one after another, until ``stopping`` (or once each)."""
    next_run = {job.name: 0.0 for job in jobs}
    try:
        while not stopping.is_set():
            now = time.monotonic()
            for job in jobs:
                if now < next_run[job.name] or stopping.is_set():
                    continue
                next_run[job.name] = now + job.every_seconds
                close_old_connections()
                try:
                    call_command(*job.command, verbosity=0, stdout=io.StringIO())
                    log.info("job %s done", job.name)
                except Exception:
                    log.exception("job %s failed", job.name)
            if once:
                return
            stopping.wait(1.0)
    finally:
        connections.close_all()
