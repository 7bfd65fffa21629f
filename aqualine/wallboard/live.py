"""The one producer of wallboard snapshots in a web process.

The first wallboard WebSocket of the process starts it (:meth:`SnapshotProducer.attach`), the
last one to leave stops it (``aqualine web`` runs uvicorn without the ASGI lifespan, so a lazy
start works in every deployment shape; a process with no wallboard open does no work). While it
runs it:

- computes a snapshot (`selectors`: database figures through `database_sync_to_async`, the
  switch's through `SwitchClient` in a worker thread, both at once) every `interval` seconds
  and sends it to the group ``wallboard`` (`local_group`: this process's browsers only, as with
  Redis every process has its own producer), and keeps it as `latest` for screens that connect;
- listens to the group ``workorders`` that `aqualine.workorders.events` publishes every order
  event to, and then computes again promptly — after `debounce` seconds, so that a burst of
  events (an order created and dispatched at once) costs one computation.

However many screens are open, the database and the switch are read once per interval.

Message to the group (the consumers' `wallboard_snapshot`):
    {"type": "wallboard.snapshot", "snapshot": selectors.wallboard_snapshot(...)}
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.utils import timezone

from aqualine.callcenter.client import SwitchClient
from aqualine.callcenter.live import local_group
from aqualine.wallboard import selectors

log = logging.getLogger(__name__)

GROUP = "wallboard"
ORDER_EVENTS_GROUP = "workorders"
# Group memberships expire in Redis (a day by default): join again now and then.
REJOIN_SECONDS = 600.0


def wallboard_group() -> str:
    return local_group(GROUP)


class SnapshotProducer:
    interval = 2.0
    debounce = 0.3
    switch_timeout = 1.5

    def __init__(self, client_factory: Callable[[], selectors.SwitchReader] | None = None) -> None:
        self.client_factory = client_factory or (lambda: SwitchClient(timeout=self.switch_timeout))
        self.latest: dict[str, Any] | None = None
        self.computed = 0
        self._clients = 0
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def attach(self) -> None:
        """One more screen in this process: run the producer (on this event loop)."""
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._clients = 0
            self.latest = None
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._run(), name="wallboard-producer")
        self._clients += 1

    def detach(self) -> None:
        """One screen fewer; the last one stops the producer."""
        self._clients -= 1
        if self._clients <= 0:
            self._clients = 0
            if self._task is not None:
                self._task.cancel()
            self._task = None
            self.latest = None

    def poke(self) -> None:
        """Compute again soon (an order changed)."""
        if self._wake is not None:
            self._wake.set()

    async def compute(self) -> dict[str, Any]:
        now = timezone.now()
        database, switch = await asyncio.gather(
            database_sync_to_async(selectors.database_figures)(now=now),
            asyncio.to_thread(lambda: selectors.switch_figures(client=self.client_factory())),
        )
        return selectors.wallboard_snapshot(now=now, database=database, switch=switch)

    async def _run(self) -> None:
        layer = get_channel_layer()
        channel = await layer.new_channel() if layer is not None else ""
        listener: asyncio.Task[None] | None = None
        if layer is not None:
            listener = asyncio.get_running_loop().create_task(self._listen(layer, channel))
        joined_at = -REJOIN_SECONDS
        try:
            while True:
                try:
                    if layer is not None and time.monotonic() - joined_at >= REJOIN_SECONDS:
                        await layer.group_add(ORDER_EVENTS_GROUP, channel)
                        joined_at = time.monotonic()
                    await self._produce(layer)
                except Exception:
                    log.exception("the wallboard snapshot failed")
                await self._wait()
        finally:
            if listener is not None:
                listener.cancel()
            if layer is not None:
                with contextlib.suppress(Exception):
                    await layer.group_discard(ORDER_EVENTS_GROUP, channel)

    async def _produce(self, layer: Any) -> None:
        snapshot = await self.compute()
        self.latest = snapshot
        self.computed += 1
        if layer is not None:
            message = {"type": "wallboard.snapshot", "snapshot": snapshot}
            await layer.group_send(wallboard_group(), message)

    async def _wait(self) -> None:
        """Until the next interval, or shortly after an order event."""
        wake = self._wake
        assert wake is not None
        try:
            await asyncio.wait_for(wake.wait(), self.interval)
        except TimeoutError:
            return
        await asyncio.sleep(self.debounce)  # let the rest of a burst arrive
        wake.clear()

    async def _listen(self, layer: Any, channel: str) -> None:
        while True:
            try:
                message = await layer.receive(channel)
            except Exception:  # the layer is down (Redis): the interval still runs
                log.warning("the wallboard missed work-order events", exc_info=True)
                await asyncio.sleep(self.interval)
                continue
            if message.get("type") == "workorder.event":
                self.poke()


producer = SnapshotProducer()
