"""The live push of announcements to browsers, at `/ws/notices/`.

A signed-in recipient (active, holding `notices.view_notices`) joins the groups of
`events.groups_of` (everyone, their own, their department and the departments above it); anyone
else is refused. For each group message the consumer re-reads the session's user (logged out or
deactivated: disconnected; moved to another department: groups follow) and re-checks that the
announcement is for that user — a user out of scope hears nothing.

Messages sent to the browser (see `aqualine/static/aqualine/notices/live.js`):
    {"type": "notice.published" | "notice.updated" | "notice.withdrawn",
     "announcement": id, "current": whether it is in its validity period and not withdrawn,
     "title", "notice_type", "url" (empty unless current), "unread": the user's unread count}
    {"type": "notice.read", "announcement": id, "unread": n}  (read in another tab)
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from aqualine.notices import events, selectors
from aqualine.notices.models import Announcement

CLOSE_NOT_ALLOWED = 4403


@dataclass(frozen=True)
class Audience:
    user_pk: int
    groups: frozenset[str]


def audience_for(user: Any) -> Audience | None:
    if not selectors.is_recipient(user):
        return None
    return Audience(user.pk, events.groups_of(user))


def payload_for(user: Any, message: dict[str, Any]) -> dict[str, Any] | None:
    """What `user`'s browser is told about `message`; None when it is not for them."""
    pk = message.get("announcement")
    event = message.get("event")
    if not isinstance(pk, int):
        return None
    if event == events.READ:
        if message.get("key") != f"read:{pk}:{user.pk}":
            return None
        return {"type": "notice.read", "announcement": pk, "unread": selectors.unread_count(user)}
    announcement = Announcement.objects.select_related("type").filter(pk=pk).first()
    if announcement is None or not selectors.in_scope(user, announcement):
        return None
    current = selectors.is_current(announcement)
    return {
        "type": f"notice.{event}",
        "announcement": announcement.pk,
        "current": current,
        "title": announcement.title if current else "",
        "notice_type": announcement.type.name if current else "",
        "url": reverse("notices:detail", args=[announcement.pk]) if current else "",
        "unread": selectors.unread_count(user),
    }


async def _session_user(scope: dict[str, Any]) -> Any:
    """The user of the connection's session as it is now (logged out, password changed and
    deactivated users come back anonymous)."""
    key = getattr(scope.get("session"), "session_key", None)
    if not key:
        return AnonymousUser()
    store = import_module(settings.SESSION_ENGINE).SessionStore(key)
    return await get_user({"session": store})


class NoticeConsumer(AsyncJsonWebsocketConsumer):
    audience: Audience | None = None

    async def connect(self) -> None:
        self.joined: set[str] = set()
        self.seen: deque[str] = deque(maxlen=200)
        audience = await database_sync_to_async(audience_for)(self.scope.get("user"))
        if audience is None:
            await self.close(code=CLOSE_NOT_ALLOWED)
            return
        self.audience = audience
        await self._join(audience.groups)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self._join(frozenset())

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """The browser sends nothing that matters."""

    async def notice_event(self, message: dict[str, Any]) -> None:
        key = message.get("key")
        if self.audience is None or key in self.seen:  # the same event through two groups
            return
        self.seen.append(str(key))
        user = await _session_user(self.scope)
        audience = await database_sync_to_async(audience_for)(user)
        if audience is None or audience.user_pk != self.audience.user_pk:
            self.audience = None
            await self._join(frozenset())
            await self.close(code=CLOSE_NOT_ALLOWED)
            return
        self.audience = audience
        await self._join(audience.groups)
        payload = await database_sync_to_async(payload_for)(user, message)
        if payload is not None:
            await self.send_json(payload)

    async def _join(self, groups: frozenset[str]) -> None:
        """Be in exactly `groups`."""
        layer = self.channel_layer
        if layer is None:
            return
        for group in sorted(groups - self.joined):
            await layer.group_add(group, self.channel_name)
        for group in sorted(self.joined - groups):
            await layer.group_discard(group, self.channel_name)
        self.joined = set(groups)
