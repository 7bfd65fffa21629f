from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aqualine.reports.models import SummaryDay
from aqualine.reports.summaries import (
    BACKLOG_PER_RUN,
    report_summaries_refresh,
    summaries_delete,
)


class Command(BaseCommand):
    help = (
        "Refresh the daily summaries the reports read for past days: yesterday, the days with new "
        "call records, agent-state changes, orders or order events since the last run, and days "
        "never summarised (see aqualine/reports/summaries.py). Idempotent; `aqualine worker` "
        "runs it every 5 minutes, and daily with --days 92."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=int, default=0, help="also rebuild the last N days before today"
        )
        parser.add_argument("--all", action="store_true", help="rebuild every day")
        parser.add_argument(
            "--backlog",
            type=int,
            default=BACKLOG_PER_RUN,
            help=f"days never summarised to catch up on in this run ({BACKLOG_PER_RUN})",
        )
        parser.add_argument(
            "--only", choices=[k.value for k in SummaryDay.Kind], help="orders or calls only"
        )
        parser.add_argument(
            "--delete",
            action="store_true",
            help="delete the summaries instead (reports count from the live tables)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["days"] < 0 or options["backlog"] < 0:
            raise CommandError("--days and --backlog cannot be negative")
        kinds = [options["only"]] if options["only"] else [k.value for k in SummaryDay.Kind]
        if options["delete"]:
            summaries_delete(kinds=kinds)
            self.stdout.write(f"deleted the summaries of {', '.join(kinds)}")
            return
        result = report_summaries_refresh(
            days=options["days"],
            all_days=options["all"],
            backlog=options["backlog"],
            kinds=kinds,
        )
        for kind, days in result.days.items():
            span = f" ({days[-1]} – {days[0]})" if days else ""
            self.stdout.write(
                f"{kind}: refreshed {len(days)} day(s){span} in {result.seconds[kind]:.1f} s"
            )
