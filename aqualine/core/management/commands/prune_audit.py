from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from aqualine.core.models import AuditEvent

# Sign-in events pile up fastest (anyone can fail a login); changes to staff, roles,
# departments and parameters are kept for good.
PRUNABLE = ("auth.login", "auth.logout", "auth.login_failed", "auth.locked_out")


class Command(BaseCommand):
    help = "Delete sign-in audit events older than --days (changes are never deleted)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=180)

    def handle(self, *args: Any, **options: Any) -> None:
        cutoff = timezone.now() - timedelta(days=max(1, options["days"]))
        deleted, _details = AuditEvent.objects.filter(action__in=PRUNABLE, at__lt=cutoff).delete()
        self.stdout.write(f"deleted {deleted} sign-in audit event(s) older than {cutoff:%Y-%m-%d}")
