"""The switch's events, live, to the agent desktop and the monitor: `/ws/desk/agent/` and
`/ws/desk/monitor/`.

On connect the consumer checks the user: the desktop needs `desk.use_desktop` and joins the
group of the user's own agent ID; the monitor needs `desk.supervise` and joins `supervisors`.
Then it attaches to this process's switch bridge (`aqualine.callcenter.live`), which starts it
if it is the first. The permission is checked again at most every RECHECK_SECONDS while events
arrive: a user logged out, deactivated or stripped of it is disconnected (and, with Redis, whose
group memberships expire, the groups are joined again every REJOIN_SECONDS).

Messages to the browser:
    {"type": "event", "event": the switch event's JSON, "now": server time}
    {"type": "resync", "now": ...}    read the state again (events may have been missed)
    {"type": "link", "up": false}     the switch's event stream is down
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
from django.utils import timezone

from aqualine.callcenter import live
from aqualine.desk.permissions import DeskPerm

RECHECK_SECONDS = 10.0
REJOIN_SECONDS = 600.0  # group memberships expire in Redis (a day by default): join again
CLOSE_NOT_ALLOWED = 4403
VIEWS = {"agent": DeskPerm.USE_DESKTOP, "monitor": DeskPerm.SUPERVISE}


def groups_for(user: Any, view: str) -> list[str] | None:
    """The logical groups `user` may join for `view`; None when they may not."""
    perm = VIEWS.get(view)
    if perm is None or user is None or not user.is_authenticated or not user.is_active:
        return None
    if not user.has_perm(perm):
        return None
    if view == "agent":
        return [live.agent_group(user.agent_id)]
    return [live.SUPERVISORS]


async def _session_user(scope: dict[str, Any]) -> Any:
    """The user of the connection's session as it is now (logged out comes back anonymous)."""
    key = getattr(scope.get("session"), "session_key", None)
    if not key:
        return AnonymousUser()
    store = import_module(settings.SESSION_ENGINE).SessionStore(key)
    return await get_user({"session": store})


class DeskConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.view = str(self.scope.get("url_route", {}).get("kwargs", {}).get("view", ""))
        self.user = self.scope.get("user")
        self.groups_joined: list[str] = []
        self.checked_at = self.joined_at = time.monotonic()
        groups = await database_sync_to_async(groups_for)(self.user, self.view)
        if groups is None or self.channel_layer is None:
            await self.close(code=CLOSE_NOT_ALLOWED)
            return
        for group in groups:
            await self.channel_layer.group_add(live.local_group(group), self.channel_name)
        self.groups_joined = groups
        await self.accept()
        live.bridge.attach(groups)

    async def disconnect(self, code: int) -> None:
        groups, self.groups_joined = getattr(self, "groups_joined", []), []
        if not groups:
            return
        live.bridge.detach(groups)
        if self.channel_layer is not None:
            for group in groups:
                await self.channel_layer.group_discard(live.local_group(group), self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """The browser sends nothing that matters."""

    async def switch_event(self, message: dict[str, Any]) -> None:
        event = message.get("event") or {}
        if self.view == "agent" and event.get("agent_id", self.user.agent_id) != self.user.agent_id:
            return  # another agent's (never routed here; checked all the same)
        if await self._still_allowed():
            await self.send_json({"type": "event", "event": event, "now": _now()})

    async def switch_resync(self, message: dict[str, Any]) -> None:
        if await self._still_allowed():
            await self.send_json({"type": "resync", "now": _now()})

    async def switch_link(self, message: dict[str, Any]) -> None:
        if await self._still_allowed():
            await self.send_json({"type": "link", "up": bool(message.get("up")), "now": _now()})

    async def _still_allowed(self) -> bool:
        if not self.groups_joined:
            return False
        if time.monotonic() - self.checked_at < RECHECK_SECONDS:
            return True
        self.checked_at = time.monotonic()
        user = await _session_user(self.scope)
        groups = await database_sync_to_async(groups_for)(user, self.view)
        if groups != self.groups_joined or user.pk != getattr(self.user, "pk", None):
            await self.disconnect(CLOSE_NOT_ALLOWED)
            await self.close(code=CLOSE_NOT_ALLOWED)
            return False
        if time.monotonic() - self.joined_at > REJOIN_SECONDS and self.channel_layer is not None:
            self.joined_at = time.monotonic()
            for group in groups:
                await self.channel_layer.group_add(live.local_group(group), self.channel_name)
        return True


def _now() -> str:
    return timezone.now().isoformat()
