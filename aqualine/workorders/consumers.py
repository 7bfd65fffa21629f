"""The live push of work-order events to browsers (B1a live refresh and voice reminders, B1d
deadline reminders), at `/ws/workorders/`.

A signed-in user with `view_all_orders` joins the group `workorders` (every order event); one with
`view_department_orders` joins `department_<id>` for each department whose tasks
`selectors.workorders_visible_to` shows them (their own, those below it and those above it).
Anyone else is refused. The session is checked again at most every RECHECK_SECONDS while events
arrive: a user logged out, deactivated or stripped of the permission is disconnected, and a user
moved to another department changes groups.

Each message sent to the browser (see `aqualine/static/aqualine/live.js`):
    {"type": "order.event", "event": OrderEvent type, "event_id", "order", "number", "status",
     "department", "at", "speak": the event type when this user should hear a spoken reminder,
     else null}
A department's handlers hear dispatches, urges and deadline reminders of tasks they may act on;
the hotline (`view_all_orders`) hears returned tasks; nobody hears their own action, and nobody
hears anything while the parameter `business.voice_reminders` is off. Whether this browser speaks
is the user's own setting (`User.voice_reminders`), applied by the page.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Max

from aqualine.core.parameters import param
from aqualine.workorders import events
from aqualine.workorders.models import DepartmentTask, OrderEvent
from aqualine.workorders.permissions import WorkordersPerm
from aqualine.workorders.selectors import _visible_department_ids

log = logging.getLogger(__name__)

EventType = OrderEvent.Type
HANDLER_SPOKEN = frozenset(
    {
        EventType.DISPATCHED,
        EventType.REDISPATCHED,
        EventType.URGED,
        EventType.DUE_SOON,
        EventType.OVERDUE,
    }
)
HOTLINE_SPOKEN = frozenset({EventType.RETURNED})
RECHECK_SECONDS = 10.0
CLOSE_NOT_ALLOWED = 4403


@dataclass(frozen=True)
class Audience:
    """What one user may receive and hear."""

    user_pk: int
    groups: frozenset[str]
    # None: every department (the hotline); else the ids workorders_visible_to uses.
    visible_departments: frozenset[int] | None
    # Departments whose tasks the user may act on (their own and those above it): they hear
    # the reminders of these.
    acting_departments: frozenset[int]
    hotline: bool


def audience_for(user: Any) -> Audience | None:
    """The groups and reminders of `user`; None when they may see no work order."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    acting: frozenset[int] = frozenset()
    if user.department is not None and user.has_perm(WorkordersPerm.HANDLE_TASKS):
        acting = frozenset({user.department.pk, *(d.pk for d in user.department.ancestors())})
    if user.has_perm(WorkordersPerm.VIEW_ALL_ORDERS):
        return Audience(user.pk, frozenset({"workorders"}), None, acting, hotline=True)
    if user.has_perm(WorkordersPerm.VIEW_DEPARTMENT_ORDERS):
        # The same departments as selectors.workorders_visible_to, so no other department's
        # events reach this user.
        visible = frozenset(_visible_department_ids(user))
        if visible:
            groups = frozenset(f"department_{pk}" for pk in visible)
            return Audience(user.pk, groups, visible, acting, hotline=False)
    return None


def may_see(audience: Audience, message: dict[str, Any]) -> bool:
    """Re-checked for each message: a department event must be of a visible department (an
    order-wide one reaches a department group only while that department works on the order)."""
    if audience.visible_departments is None:
        return True
    department = message.get("department")
    return department is None or department in audience.visible_departments


def may_speak(audience: Audience, kind: Any) -> bool:
    """Whether an event of this type can be spoken to this user at all (no database needed)."""
    return (audience.hotline and kind in HOTLINE_SPOKEN) or (
        bool(audience.acting_departments) and kind in HANDLER_SPOKEN
    )


def spoken(audience: Audience, message: dict[str, Any]) -> bool:
    """Whether this user should hear a spoken reminder for `message`."""
    kind = message.get("event")
    if not may_speak(audience, kind) or not param("business.voice_reminders"):
        return False
    hotline = audience.hotline and kind in HOTLINE_SPOKEN
    event = (
        OrderEvent.objects.filter(pk=int(message.get("event_id") or 0))
        .values("actor_id", "department_id", "order_id")
        .first()
    )
    if event is None or event["actor_id"] == audience.user_pk:
        return False
    if hotline:
        return True
    if event["department_id"] is not None:
        return event["department_id"] in audience.acting_departments
    return DepartmentTask.objects.filter(  # an urge: does one of my departments work on it?
        order_id=event["order_id"],
        status__in=DepartmentTask.OPEN_STATUSES,
        department_id__in=audience.acting_departments,
    ).exists()


async def _session_user(scope: dict[str, Any]) -> Any:
    """The user of the connection's session as it is now (logged out, password changed and
    deactivated users come back anonymous)."""
    key = getattr(scope.get("session"), "session_key", None)
    if not key:
        return AnonymousUser()
    store = import_module(settings.SESSION_ENGINE).SessionStore(key)
    return await get_user({"session": store})


class WorkOrderConsumer(AsyncJsonWebsocketConsumer):
    audience: Audience | None = None

    async def connect(self) -> None:
        self.joined: set[str] = set()
        self.seen: deque[int] = deque(maxlen=500)
        self.checked_at = time.monotonic()
        self.relayed = False
        audience = await database_sync_to_async(audience_for)(self.scope.get("user"))
        if audience is None:
            await self.close(code=CLOSE_NOT_ALLOWED)
            return
        self.audience = audience
        await self._join(audience.groups)
        await self.accept()
        self.relayed = relay.attach()

    async def disconnect(self, code: int) -> None:
        await self._join(frozenset())
        if getattr(self, "relayed", False):
            relay.detach()
            self.relayed = False

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """The browser sends nothing that matters."""

    async def workorder_event(self, message: dict[str, Any]) -> None:
        event_id = message.get("event_id")
        if event_id in self.seen:  # the same event through two groups or the relay
            return
        if not await self._still_allowed():
            return
        audience = self.audience
        if audience is None or not may_see(audience, message):
            return
        self.seen.append(event_id)  # type: ignore[arg-type]
        speak = may_speak(audience, message.get("event")) and await database_sync_to_async(spoken)(
            audience, message
        )
        await self.send_json(
            {
                "type": "order.event",
                "event": message.get("event"),
                "event_id": event_id,
                "order": message.get("order"),
                "number": message.get("number"),
                "status": message.get("status"),
                "department": message.get("department"),
                "at": message.get("at"),
                "speak": message.get("event") if speak else None,
            }
        )

    async def _still_allowed(self) -> bool:
        if self.audience is None:
            return False
        if time.monotonic() - self.checked_at < RECHECK_SECONDS:
            return True
        self.checked_at = time.monotonic()
        user = await _session_user(self.scope)
        audience = await database_sync_to_async(audience_for)(user)
        if audience is None or audience.user_pk != self.audience.user_pk:
            self.audience = None
            await self._join(frozenset())
            await self.close(code=CLOSE_NOT_ALLOWED)
            return False
        await self._join(audience.groups)
        self.audience = audience
        return True

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


class EventRelay:
    """Embedded mode: with the in-memory channel layer, events recorded by another process (the
    worker's deadline reminders, an order taken by the switch) never reach this web process's
    layer. While a browser is connected, tail the OrderEvent table every `interval` seconds and
    publish what is new; consumers drop what they already had (by event id). With Redis every
    process publishes to the shared layer and the relay stays off."""

    interval = 2.0
    lookback = 100  # ids re-read each time, for rows that commit out of id order

    def __init__(self) -> None:
        self._clients = 0
        self._task: asyncio.Task[None] | None = None
        self._floor = 0
        self._last = 0
        self._done: set[int] = set()

    @property
    def started(self) -> bool:
        """It has read where the event table ends (what comes after is relayed)."""
        return self._task is not None and self._floor >= 0

    @staticmethod
    def wanted() -> bool:
        return isinstance(get_channel_layer(), InMemoryChannelLayer)

    def attach(self) -> bool:
        """Count one more connected browser; True when the relay runs for it."""
        if not self.wanted():
            return False
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._clients = 0
            self._floor = self._last = -1
            self._done.clear()
            self._task = loop.create_task(self._run())
        self._clients += 1
        return True

    def detach(self) -> None:
        self._clients -= 1
        if self._clients <= 0 and self._task is not None:
            self._task.cancel()
            self._task = None
            self._clients = 0

    async def _run(self) -> None:
        while True:
            try:
                await database_sync_to_async(self.relay_new_events)()
            except Exception:
                log.exception("relaying work-order events failed")
            await asyncio.sleep(self.interval)

    def relay_new_events(self) -> int:
        if self._floor < 0:  # start: what exists now is already on the pages
            self._floor = self._last = OrderEvent.objects.aggregate(m=Max("pk"))["m"] or 0
            return 0
        start = max(self._floor, self._last - self.lookback)
        rows = OrderEvent.objects.filter(pk__gt=start).select_related("order").order_by("pk")
        count = 0
        for event in rows[:500]:
            if event.pk in self._done:
                continue
            events.publish_order_event(event)
            self._done.add(event.pk)
            self._last = max(self._last, event.pk)
            count += 1
        self._done = {pk for pk in self._done if pk > self._last - self.lookback}
        return count


relay = EventRelay()
