from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from aqualine.workorders.reminders import deadline_reminders_send


class Command(BaseCommand):
    help = (
        "Send the due-soon and overdue reminders of department tasks that are due (each once per "
        "task, even with several workers); `aqualine worker` runs it every minute."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        events = deadline_reminders_send()
        self.stdout.write(f"sent {len(events)} deadline reminder(s)")
