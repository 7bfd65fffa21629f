"""`{% notices_badge %}`: the top bar's link to "My announcements" with the unread count, and the
live push that keeps it current (`aqualine/static/aqualine/notices/live.js`)."""

from __future__ import annotations

from typing import Any

from django import template

from aqualine.notices import selectors

register = template.Library()

WS_PATH = "/ws/notices/"


@register.inclusion_tag("notices/_badge.html", takes_context=True)
def notices_badge(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if not selectors.is_recipient(user):
        return {"show": False}
    return {"show": True, "unread": selectors.unread_count(user), "ws_path": WS_PATH}
