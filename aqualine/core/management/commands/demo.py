from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from aqualine.demo import load_demo


class Command(BaseCommand):
    help = "Load the demo data (departments, staff, roles); safe to run again."

    def handle(self, *args: Any, **options: Any) -> None:
        users = load_demo()
        created = sum(1 for _user, new in users if new)
        self.stdout.write(f"Demo data ready ({created} staff member(s) created now).")
        self.stdout.write("\nDemo logins (工号 / password):")
        for spec, _new in users:
            self.stdout.write(f"  {spec.agent_id:<6} {settings.DEMO_PASSWORD:<12} {spec.note}")
        self.stdout.write("  (passwords changed since are kept; reset them on the staff page)")
