from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from aqualine.callcenter.recordings import recording_prune
from aqualine.core.parameters import param


class Command(BaseCommand):
    help = (
        "Delete the recordings older than the system parameter "
        "communication.recording_retention_days (0 keeps them); the call records stay."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count the recordings that are due."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = int(param("communication.recording_retention_days"))
        if days <= 0:
            self.stdout.write("recordings are kept for ever (retention 0 days): nothing to do")
            return
        count = recording_prune(now=timezone.now(), dry_run=options["dry_run"])
        verb = "would delete" if options["dry_run"] else "deleted"
        self.stdout.write(f"{verb} {count} recording(s) older than {days} days")
