"""The wallboard's live figures, at `/ws/wallboard/`.

On connect the user must be signed in, active and hold `wallboard.view_wallboard`; anyone else
is closed with CLOSE_NOT_ALLOWED (the page then reloads, which leads to the login page). The
consumer joins this process's group `wallboard`, sends the latest snapshot at once (when the
producer has one) and attaches to the producer (`live.producer`), which starts it if it is the
first screen. The permission is checked again at most every RECHECK_SECONDS as snapshots arrive.

Messages to the browser: the snapshot itself (`selectors.wallboard_snapshot`, "type":
"snapshot").
"""

from __future__ import annotations

import time
from importlib import import_module
from typing import Any

from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from aqualine.wallboard import live
from aqualine.wallboard.permissions import WallboardPerm

RECHECK_SECONDS = 10.0
CLOSE_NOT_ALLOWED = 4403


def may_view(user: Any) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.has_perm(WallboardPerm.VIEW)
    )


async def _session_user(scope: dict[str, Any]) -> Any:
    """The user of the connection's session as it is now (logged out comes back anonymous)."""
    key = getattr(scope.get("session"), "session_key", None)
    if not key:
        return AnonymousUser()
    store = import_module(settings.SESSION_ENGINE).SessionStore(key)
    return await get_user({"session": store})


class WallboardConsumer(AsyncJsonWebsocketConsumer):
    attached = False

    async def connect(self) -> None:
        self.user = self.scope.get("user")
        self.checked_at = time.monotonic()
        if self.channel_layer is None or not await database_sync_to_async(may_view)(self.user):
            await self.close(code=CLOSE_NOT_ALLOWED)
            return
        await self.channel_layer.group_add(live.wallboard_group(), self.channel_name)
        await self.accept()
        if live.producer.latest is not None:
            await self.send_json(live.producer.latest)
        live.producer.attach()
        self.attached = True

    async def disconnect(self, code: int) -> None:
        if not self.attached:
            return
        self.attached = False
        live.producer.detach()
        if self.channel_layer is not None:
            await self.channel_layer.group_discard(live.wallboard_group(), self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """The browser sends nothing that matters."""

    async def wallboard_snapshot(self, message: dict[str, Any]) -> None:
        if await self._still_allowed():
            await self.send_json(message["snapshot"])

    async def _still_allowed(self) -> bool:
        if not self.attached:
            return False
        if time.monotonic() - self.checked_at < RECHECK_SECONDS:
            return True
        self.checked_at = time.monotonic()
        user = await _session_user(self.scope)
        if user.pk == getattr(self.user, "pk", None) and await database_sync_to_async(may_view)(
            user
        ):
            return True
        await self.disconnect(CLOSE_NOT_ALLOWED)
        await self.close(code=CLOSE_NOT_ALLOWED)
        return False
