"""The bridge from the switch's event stream to this web process's browsers.

Each web process runs at most one :class:`SwitchBridge` task: the first WebSocket consumer that
needs switch events starts it (:meth:`SwitchBridge.attach`), the last one to leave stops it
(``aqualine web`` runs uvicorn without the ASGI lifespan, so a lazy start is what works in every
deployment shape; a process with no desk or monitor open holds no connection to the switch). The
task reads :meth:`SwitchClient.events` and reconnects with a growing, jittered backoff (0.5 s to
30 s) when the switch is down or restarts.

Each event goes to the Channels groups that need it (:func:`route`):

- ``agent_<agent_id>``: ``call.offered`` to that agent, its ``agent.state_changed``,
  ``call.ended`` of a call that was offered to it (or that it dialled), and ``call.control``
  on its calls (held, transferred, consulting, dialing, ...) except supervision, which the
  agent is not told of;
- ``supervisors``: every ``agent.*``, ``queue.*`` and ``call.*`` event.

Group names are local to the process (:func:`local_group`): with the in-memory channel layer
(one web process) they are exactly the names above; with Redis, which several web processes
share, they carry this process's tag, so that each browser hears each event once, from the
process its WebSocket is connected to (every process has its own subscription to the switch).

Messages sent to the groups (the consumers' handlers):
    {"type": "switch.event", "event": the event's JSON (``Event.to_dict``)}
    {"type": "switch.resync"}   before the first event after a (re)connection: events may have
                                been missed meanwhile, pages read the state again
    {"type": "switch.link", "up": false}   the event stream broke (the switch is down)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import secrets
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any

from channels.layers import InMemoryChannelLayer, get_channel_layer

from aqualine.callcenter.client import SwitchClient
from aqualine.telephony.api.events import (
    AgentStateChanged,
    CallControl,
    CallEnded,
    CallOffered,
    Event,
    QueueCallerOffered,
)

log = logging.getLogger("aqualine.callcenter.live")

SUPERVISORS = "supervisors"
SUPERVISED_KINDS = frozenset({"agent", "queue", "call"})
PROCESS_TAG = secrets.token_hex(6)
_GROUP_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")
MAX_TRACKED_CALLS = 5000
# call.control actions only the supervisors hear (a supervisor listening in is not announced).
SUPERVISION_ACTIONS = frozenset({"supervising", "supervision_ended"})


def agent_group(agent_id: str) -> str:
    return f"agent_{agent_id}"


def local_group(name: str) -> str:
    """The channel-layer name of a logical group in this process (see the module's notes)."""
    if isinstance(get_channel_layer(), InMemoryChannelLayer):
        return name
    return f"{name}.{PROCESS_TAG}"


def route(event: Event, calls: MutableMapping[str, str]) -> list[str]:
    """The logical groups `event` goes to. `calls` (call ID -> agent ID of the agent the call
    was offered to) is kept up to date, so that a call's end reaches its agent."""
    agent = ""
    if isinstance(event, CallOffered):
        calls[event.call_id] = agent = event.agent_id
    elif isinstance(event, QueueCallerOffered):
        calls[event.call_id] = event.agent_id  # the agent hears of it through call.offered
    elif isinstance(event, AgentStateChanged):
        agent = event.agent_id
        if event.call_id and event.new_state in ("ringing", "talking"):
            calls[event.call_id] = agent
    elif isinstance(event, CallControl):
        if event.action not in SUPERVISION_ACTIONS:
            agent = event.agent_id
            if event.action == "dialing" and event.call_id:
                calls[event.call_id] = agent  # its end reaches the agent who dialled
    elif isinstance(event, CallEnded):
        agent = calls.pop(event.call_id, "")
    while len(calls) > MAX_TRACKED_CALLS:
        calls.pop(next(iter(calls)))
    groups = []
    if agent and _GROUP_NAME.match(agent):
        groups.append(agent_group(agent))
    if event.type.split(".", 1)[0] in SUPERVISED_KINDS:
        groups.append(SUPERVISORS)
    return groups


class SwitchBridge:
    """One subscription to the switch's events per web process, shared by its consumers."""

    min_backoff = 0.5
    max_backoff = 30.0

    def __init__(self, client_factory: Callable[[], SwitchClient] = SwitchClient) -> None:
        self.client_factory = client_factory
        self.calls: OrderedDict[str, str] = OrderedDict()
        self.groups: Counter[str] = Counter()  # logical group -> consumers of this process
        self.connections = 0  # subscriptions that delivered at least one event
        self.forwarded = 0
        self.up: bool | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def attach(self, groups: Iterable[str]) -> None:
        """A consumer of this process listens to `groups`: run the bridge (on this loop)."""
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self.groups.clear()
            self.calls.clear()
            self.up = None
            self._task = loop.create_task(self._run(), name="switch-bridge")
        self.groups.update(groups)

    def detach(self, groups: Iterable[str]) -> None:
        """The consumer left; the last one stops the bridge."""
        self.groups.subtract(groups)
        self.groups = +self.groups  # drop the groups nobody listens to
        if not self.groups and self._task is not None:
            self._task.cancel()
            self._task = None

    async def stop(self) -> None:
        task, self._task = self._task, None
        self.groups.clear()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        backoff = self.min_backoff
        while True:
            first = True
            try:
                async for event in self.client_factory().events():
                    if first:
                        first = False
                        backoff = self.min_backoff
                        self.connections += 1
                        self.up = True
                        await self._broadcast({"type": "switch.resync"})
                    await self.forward(event)
                reason = "the switch closed the event stream"
            except asyncio.CancelledError:
                raise
            except Exception as error:  # SwitchUnavailable, a malformed event, the layer
                reason = str(error) or type(error).__name__
            if self.up is not False:
                log.warning("switch events: %s; reconnecting", reason)
                self.up = False
                with contextlib.suppress(Exception):
                    await self._broadcast({"type": "switch.link", "up": False})
            await asyncio.sleep(backoff * random.uniform(0.75, 1.25))  # noqa: S311 (jitter)
            backoff = min(self.max_backoff, backoff * 2)

    async def forward(self, event: Event) -> None:
        """Send one event to the groups of this process that need it."""
        layer = get_channel_layer()
        groups = [g for g in route(event, self.calls) if g in self.groups]
        if layer is None or not groups:
            return
        message: dict[str, Any] = {"type": "switch.event", "event": event.to_dict()}
        for group in groups:
            await layer.group_send(local_group(group), message)
        self.forwarded += 1

    async def _broadcast(self, message: dict[str, Any]) -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        for group in list(self.groups):
            await layer.group_send(local_group(group), message)


bridge = SwitchBridge()
