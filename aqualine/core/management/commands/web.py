from __future__ import annotations

from typing import Any

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve the web application (HTTP and WebSockets) with uvicorn."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.WEB_HOST)
        parser.add_argument("--port", type=int, default=settings.WEB_PORT)
        parser.add_argument("--workers", type=int, default=settings.WEB_WORKERS)

    def handle(self, *args: Any, **options: Any) -> None:
        uvicorn.run(
            "aqualine.asgi:application",
            host=options["host"],
            port=options["port"],
            workers=options["workers"],
            lifespan="off",
            # X-Forwarded-For is believed only from configured proxies (nginx); otherwise a
            # client could pick its own address and dodge the login throttling.
            proxy_headers=bool(settings.TRUSTED_PROXIES),
            forwarded_allow_ips=",".join(settings.TRUSTED_PROXIES) or None,
            log_level="info",
            access_log=True,
        )
