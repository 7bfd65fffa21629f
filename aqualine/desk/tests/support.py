"""A switch without SIP for the desk's tests: the real ACD (agent state machine, queues) behind
the real control API (HTTP commands, WebSocket events), on its own event loop in a thread.

Commands behave as the switch's (`CallCentre.command`); the tests add calls by driving the ACD
(`offer`, `answer`, `end`), and every ACD event is published on the API's event stream, with
`call.offered` as the switch's session publishes it. The end-to-end test with real phones is
`test_desk_browser.py`; this one is for the permission, bridge and page tests.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from aqualine.telephony.acd import Acd
from aqualine.telephony.acd.model import AcdConfig, Offer, Outcome, QueueConfig
from aqualine.telephony.acd.states import AcdError
from aqualine.telephony.api.events import CallEnded, CallOffered, Event
from aqualine.telephony.api.server import ApiServer, CommandRefused
from aqualine.telephony.centre import COMMANDS, agent_view
from aqualine.telephony.events import EventBus

T = TypeVar("T")
TOKEN = "desk-test-token"
BUSY_REASONS = ("休息", "开会", "就餐", "如厕", "接待客户", "培训")


def _now() -> datetime:
    return datetime.now(UTC)


class AcdSwitch:
    """What the control API needs of the switch (`SwitchControl`), with a real ACD."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self.acd = Acd(
            AcdConfig(busy_reasons=BUSY_REASONS, wrap_up_seconds=60),
            [QueueConfig("hotline", members=("1001", "1002", "1003"))],
        )
        self.registered = {"8001", "8002", "8003"}
        self.commands: list[tuple[str, str, dict[str, Any]]] = []
        self.hung_up: list[str] = []
        self.live_calls: dict[str, dict[str, Any]] = {}

    def status(self) -> dict[str, Any]:
        return {"calls": len(self.live_calls), "registrations": len(self.registered)}

    def registrations(self) -> list[dict[str, Any]]:
        return [{"number": n} for n in sorted(self.registered)]

    def calls(self) -> list[dict[str, Any]]:
        return list(self.live_calls.values())

    def agents(self) -> list[dict[str, Any]]:
        return [agent_view(v) for v in self.acd.agents(now=_now())]

    def queues(self) -> list[dict[str, Any]]:
        return [
            {
                "name": v.name,
                "members": list(v.members),
                "staffed": v.staffed,
                "idle": v.idle,
                "longest_wait": round(v.longest_wait, 1),
                "expected_wait": v.expected_wait,
                "callers": [{"call_id": c.call_id, "caller": c.caller} for c in v.callers],
            }
            for v in self.acd.queues(now=_now())
        ]

    def apply(self, outcome: Outcome) -> list[Offer]:
        for event in outcome.events:
            self.bus.publish(event)
        return [d for d in outcome.decisions if isinstance(d, Offer)]

    async def agent_command(
        self, command: str, agent_id: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        self.commands.append((command, agent_id, dict(params)))
        if command not in COMMANDS:
            raise ValueError(f"unknown command {command!r}")
        if command == "login" and str(params.get("extension")) not in self.registered:
            raise CommandRefused(
                "extension_not_registered", f"extension {params.get('extension')} is not registered"
            )
        acd, now = self.acd, _now()
        try:
            if command == "login":
                outcome = acd.login(agent_id, str(params["extension"]), now=now)
            elif command == "not_ready":
                outcome = acd.set_not_ready(agent_id, str(params.get("reason") or ""), now=now)
            elif command == "ready":
                outcome = acd.set_ready(agent_id, now=now)
            elif command.startswith("force_"):
                outcome = getattr(acd, command)(agent_id, by=str(params.get("by") or ""), now=now)
            else:
                outcome = getattr(acd, command)(agent_id, now=now)
        except AcdError as refused:
            raise CommandRefused(refused.code, refused.message) from None
        self.apply(outcome)
        view = acd.agent(agent_id, now=_now())
        return agent_view(view) if view is not None else {"agent_id": agent_id, "state": None}

    async def hang_up_call(self, call_id: str) -> bool:
        self.hung_up.append(call_id)
        if call_id not in self.live_calls:
            return False
        self.end(call_id)
        return True

    # --- calls, as the switch's sessions drive the ACD --------------------------------------------

    def offer(self, call_id: str, caller: str, *, ivr_path: str = "主菜单>人工服务") -> str:
        """A caller joins the queue; the agent it is offered to (call.offered published)."""
        self.live_calls[call_id] = {"call_id": call_id, "caller": caller, "callee": "96000"}
        offers = self.apply(self.acd.caller_joined(call_id, "hotline", caller=caller, now=_now()))
        assert offers, "no idle agent"
        offer = offers[0]
        self.bus.publish(
            CallOffered(
                call_id=call_id,
                caller=caller,
                callee="96000",
                agent_id=offer.agent_id,
                extension=offer.extension,
                queue="hotline",
                ivr_path=ivr_path,
                waited=0.0,
            )
        )
        return offer.agent_id

    def answer(self, call_id: str) -> None:
        self.apply(self.acd.offer_answered(call_id, now=_now()))

    def end(self, call_id: str, outcome: str = "answered") -> None:
        self.live_calls.pop(call_id, None)
        try:
            self.apply(self.acd.call_ended(call_id, now=_now()))
        except AcdError:
            self.apply(self.acd.caller_left(call_id, now=_now()))
        self.bus.publish(CallEnded(call_id=call_id, outcome=outcome, cause="test", duration=1.0))


class ServedSwitch:
    """`AcdSwitch` behind a real `ApiServer` on a free port, on an event loop of its own."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.bus = EventBus()
        self.switch = AcdSwitch(self.bus)
        self.api: ApiServer | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        assert self.api is not None
        return f"http://127.0.0.1:{self.api.port}"

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        """Run `function` on the switch's loop (the ACD and the bus are not thread-safe)."""

        async def call() -> Any:
            return function(*args, **kwargs)

        return self.run(call())

    def publish(self, event: Event) -> None:
        self.call(self.bus.publish, event)

    def start(self, port: int = 0) -> None:
        if not self._thread.is_alive():
            self._thread.start()
        self.api = ApiServer(self.switch, self.bus, host="127.0.0.1", port=port, token=TOKEN)
        self.run(self.api.start())

    def stop_api(self) -> None:
        """Stop the API as a restart would: the open event streams are cut (aiohttp would
        otherwise wait up to a minute for their handlers, which never end by themselves)."""
        if self.api is not None:
            runner = self.api._runner
            if runner is not None:
                runner._shutdown_timeout = 0.2
            self.run(self.api.stop())

    def close(self) -> None:
        self.stop_api()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


@contextmanager
def served_switch() -> Iterator[ServedSwitch]:
    served = ServedSwitch()
    served.start()
    try:
        yield served
    finally:
        served.close()
