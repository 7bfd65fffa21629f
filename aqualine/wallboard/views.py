"""The wallboard page (/wallboard/): rendered once, then fed by its WebSocket (`consumers.py`).

A TV runs it unattended under a dedicated account (see README.md): when that account holds
`wallboard.kiosk_session`, opening the page keeps it signed in for `WALLBOARD_SESSION_DAYS`
days (setting, 30 by default) instead of the usual SESSION_COOKIE_AGE. The page reloads itself
once a day, so the sign-in lasts as long as the screen stays on and lapses N days after it is
switched off. Nobody else's session is touched.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from aqualine.core.auth import require_perm
from aqualine.reports.selectors.calls import service_level_threshold
from aqualine.wallboard.permissions import WallboardPerm

DEFAULT_SESSION_DAYS = 30


def kiosk_session_seconds() -> int:
    return int(getattr(settings, "WALLBOARD_SESSION_DAYS", DEFAULT_SESSION_DAYS)) * 86400


@require_GET
@require_perm(WallboardPerm.VIEW)
def wallboard(request: HttpRequest) -> HttpResponse:
    if request.user.has_perm(WallboardPerm.KIOSK_SESSION):
        request.session.set_expiry(kiosk_session_seconds())
    return render(
        request,
        "wallboard/wallboard.html",
        {"service_level_seconds": service_level_threshold()},
    )
