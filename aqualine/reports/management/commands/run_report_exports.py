from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from aqualine.reports.export_jobs import (
    EXPORT_KEEP_DAYS,
    export_jobs_prune,
    export_jobs_run_pending,
)


class Command(BaseCommand):
    help = (
        "Write the Excel exports people asked for (我的导出), each claimed by one worker only, "
        "and delete exports older than the keep period; `aqualine worker` runs it every 10 s."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--budget",
            type=float,
            default=60.0,
            help="start no further export after this many seconds (60)",
        )
        parser.add_argument(
            "--keep-days",
            type=int,
            default=EXPORT_KEEP_DAYS,
            help=f"delete exports older than this ({EXPORT_KEEP_DAYS} days)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        pruned = export_jobs_prune(keep_days=options["keep_days"])
        ran = export_jobs_run_pending(budget_seconds=options["budget"])
        for job in ran:
            self.stdout.write(f"export {job.pk}: {job.status}, {job.rows or 0} rows {job.error}")
        if pruned:
            self.stdout.write(f"deleted {pruned} old export(s)")
