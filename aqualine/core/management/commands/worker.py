from __future__ import annotations

import io
import logging
import signal
import time
from types import FrameType
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from aqualine.jobs import JOBS

log = logging.getLogger("aqualine.worker")


class Command(BaseCommand):
    help = "Run the periodic jobs (sessions clean-up, reminders, retention) in a loop."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run every job once and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        next_run = {job.name: 0.0 for job in JOBS}
        while not stopping:
            now = time.monotonic()
            for job in JOBS:
                if now < next_run[job.name]:
                    continue
                next_run[job.name] = now + job.every_seconds
                close_old_connections()
                try:
                    call_command(*job.command, verbosity=0, stdout=io.StringIO())
                    log.info("job %s done", job.name)
                except Exception:
                    log.exception("job %s failed", job.name)
            if options["once"]:
                return
            time.sleep(1.0)
