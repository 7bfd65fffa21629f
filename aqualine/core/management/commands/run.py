from __future__ import annotations

import os
import socket
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from aqualine.core.supervisor import Child, Supervisor


class Command(BaseCommand):
    help = (
        "Run the whole system on one machine: migrate, load demo data, then start and supervise "
        "the web server, the switch and the worker as separate processes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.WEB_HOST)
        parser.add_argument("--port", type=int, default=settings.WEB_PORT)
        parser.add_argument(
            "--no-demo",
            action="store_true",
            help="do not load demo data into a new database (it is loaded only when the "
            "database has no staff yet; `aqualine demo` loads it any time)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = options["host"], options["port"]
        _check_port_free(host, port)
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database ready: " + str(settings.DATABASES["default"]["NAME"]))
        from aqualine.accounts.models import User

        if not options["no_demo"] and not User.objects.exists():
            call_command("demo", stdout=self.stdout)
        else:
            call_command("demo", "--show", stdout=self.stdout)
        env = dict(os.environ)
        # The embedded web server speaks plain HTTP on loopback: cookies cannot be "Secure".
        env.setdefault("AQUALINE_SECURE_COOKIES", "false")
        env.setdefault("PYTHONUNBUFFERED", "1")
        python = sys.executable
        children = [
            Child(
                "web",
                [python, "-m", "aqualine", "web", "--host", host, "--port", str(port)],
                env=env,
            ),
            Child("switch", [python, "-m", "aqualine", "switch"], env=env),
            Child("worker", [python, "-m", "aqualine", "worker"], env=env),
        ]
        shown_host = f"[{host}]" if ":" in host else host
        self.stdout.write(
            self.style.SUCCESS(
                f"\nAqualine is starting at http://{shown_host}:{port}/"
                "  (Ctrl-C stops everything)\n"
            )
        )
        Supervisor(children).run()


def _check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise CommandError(
                f"Cannot listen on {host}:{port} ({error.strerror}). Is Aqualine already "
                "running? Choose another port with --port or AQUALINE_WEB_PORT."
            ) from None
