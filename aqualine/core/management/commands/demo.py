from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from aqualine.accounts.models import User
from aqualine.callcenter.models import Extension
from aqualine.demo import EXTENSIONS, USERS, load_demo


class Command(BaseCommand):
    help = "Load the demo data (departments, staff, extensions, ...); safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--show", action="store_true", help="only print the demo logins that exist"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["show"]:
            users = [
                (spec, False)
                for spec in USERS
                if User.objects.filter(agent_id=spec.agent_id).exists()
            ]
            if not users:
                return
        else:
            users = load_demo()
            created = sum(1 for _user, new in users if new)
            self.stdout.write(f"Demo data ready ({created} staff member(s) created now).")
        self.stdout.write("\nDemo logins (工号 / password):")
        for spec, _new in users:
            self.stdout.write(f"  {spec.agent_id:<6} {settings.DEMO_PASSWORD:<12} {spec.note}")
        self.stdout.write("  (passwords changed since are kept; reset them on the staff page)")
        self.stdout.write("\nDemo extensions (SIP user / password) for desk phones and softphones:")
        for ext in Extension.objects.filter(number__in=[n for n, _name in EXTENSIONS]):
            self.stdout.write(f"  {ext.number:<6} {ext.password}")
        self.stdout.write(
            f"  SIP server {settings.SIP_HOST}:{settings.SIP_PORT}; the hotline 96000 answers "
            "calls from the demo trunk peer 127.0.0.1 without credentials."
        )
