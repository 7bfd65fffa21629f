"""A switch without SIP for the desk's tests: the real ACD (agent state machine, queues) behind
the real control API (HTTP commands, WebSocket events), on its own event loop in a thread.

Commands behave as the switch's (`CallCentre.command`); the tests add calls by driving the ACD
(`offer`, `answer`, `end`), and every ACD event is published on the API's event stream, with
`call.offered` as the switch's session publishes it. Call control (hold, transfer, consult,
conference, dial, supervise) is a stand-in with the contract's refusals and `call.control`
events, the transfers and own calls through the real ACD, no media: it shows what the web
sends and how it tells the refusals, never that the switch does it. The end-to-end test with
real phones is `test_desk_browser.py`; this one is for the permission, bridge and page tests.
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
from aqualine.telephony.api.events import CallControl, CallEnded, CallOffered, Event
from aqualine.telephony.api.server import ApiServer, CommandRefused
from aqualine.telephony.centre import COMMANDS, agent_view
from aqualine.telephony.events import EventBus

T = TypeVar("T")
TOKEN = "desk-test-token"
BUSY_REASONS = ("休息", "开会", "就餐", "如厕", "接待客户", "培训")
AGENTS = ("1001", "1002", "1003")
CONTROL_COMMANDS = {
    "hold",
    "unhold",
    "transfer",
    "consult",
    "complete_transfer",
    "conference",
    "cancel_consult",
    "dial",
}


def _now() -> datetime:
    return datetime.now(UTC)


class AcdSwitch:
    """What the control API needs of the switch (`SwitchControl`), with a real ACD."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self.acd = Acd(
            AcdConfig(busy_reasons=BUSY_REASONS, wrap_up_seconds=60),
            [QueueConfig("hotline", members=AGENTS)],
        )
        self.registered = {"8001", "8002", "8003"}
        self.commands: list[tuple[str, str, dict[str, Any]]] = []
        self.hung_up: list[str] = []
        self.live_calls: dict[str, dict[str, Any]] = {}
        self.call_commands: list[tuple[str, str, dict[str, Any]]] = []
        self.held: set[str] = set()
        self.consults: dict[str, dict[str, Any]] = {}  # call ID -> {"target", "answered"}
        self.conferences: set[str] = set()
        self.supervised: dict[str, str] = {}  # call ID -> mode
        self.outbound_trunk = True

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
        if command in CONTROL_COMMANDS:
            return self._control(command, agent_id, params)
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

    def _control(self, command: str, agent_id: str, params: dict[str, Any]) -> dict[str, Any]:
        acd, now = self.acd, _now()
        view = acd.agent(agent_id, now=now)
        if view is None or view.state.value == "logged_out":
            raise CommandRefused("unknown_agent", f"agent {agent_id} is not logged in")
        try:
            if command == "dial":
                return self._dial(agent_id, str(params.get("number") or ""))
            call_id = view.call_id if view.state.value == "talking" else ""
            if not call_id:
                raise CommandRefused("no_call", f"agent {agent_id} is on no call")
            consult = self.consults.get(call_id)
            if consult is not None and command in ("hold", "unhold", "transfer", "consult"):
                raise CommandRefused("consult_pending", "a consultation is in progress")
            if command == "hold":
                if call_id in self.held:
                    raise CommandRefused("already_held", "the call is on hold")
                self.held.add(call_id)
                self._control_event(call_id, agent_id, "held")
            elif command == "unhold":
                if call_id not in self.held:
                    raise CommandRefused("not_held", "the call is not on hold")
                self.held.discard(call_id)
                self._control_event(call_id, agent_id, "unheld")
            elif command in ("transfer", "consult"):
                target, kind = str(params.get("target") or ""), str(params.get("kind") or "")
                logged_in = acd.agent(target, now=now)
                if logged_in is not None and logged_in.state.value != "logged_out":
                    kind = kind or "agent"
                elif target in AGENTS and kind in ("", "agent"):
                    raise CommandRefused("target_logged_out", f"agent {target} is logged out")
                kind = kind or "extension"
                if kind == "extension" and target not in self.registered:
                    raise CommandRefused("unknown_target", f"{target} is not registered")
                if command == "transfer":
                    if kind == "agent":
                        self.apply(acd.transfer_to_agent(call_id, target, now=now))
                    self._control_event(call_id, agent_id, "transferring", target)
                else:
                    self.consults[call_id] = {"target": target, "answered": False}
                    self.held.add(call_id)
                    self._control_event(call_id, agent_id, "consulting", target)
            elif consult is None:
                raise CommandRefused("no_consult", "no consultation on this call")
            elif command == "cancel_consult":  # ringing or answered
                del self.consults[call_id]
                self.conferences.discard(call_id)
                self.held.discard(call_id)
                self._control_event(call_id, agent_id, "consult_ended", consult["target"])
            elif not consult["answered"]:
                raise CommandRefused("consult_pending", "the consulted party has not answered")
            elif command == "conference":
                self.conferences.add(call_id)
                self.held.discard(call_id)
                self._control_event(call_id, agent_id, "conference", consult["target"])
            else:  # complete_transfer
                del self.consults[call_id]
                self.apply(acd.call_ended(call_id, now=now))
                self._control_event(call_id, agent_id, "transferred", consult["target"])
        except AcdError as refused:
            raise CommandRefused(refused.code, refused.message) from None
        view = acd.agent(agent_id, now=_now())
        answer = agent_view(view) if view is not None else {"agent_id": agent_id}
        consult = self.consults.get(call_id)
        call = {
            **self.live_calls.get(call_id, {}),
            "held": call_id in self.held,
            "conference": call_id in self.conferences,
            "consult": {
                "target": consult["target"],
                "state": "talking" if consult["answered"] else "ringing",
            }
            if consult
            else None,
        }
        return {**answer, "call_id": call_id, "call": call}

    def _dial(self, agent_id: str, number: str) -> dict[str, Any]:
        if not self.outbound_trunk:
            raise CommandRefused("no_trunk", "no trunk carries outbound calls")
        call_id = f"o{len(self.commands)}"
        self.apply(self.acd.agent_call_started(agent_id, call_id, now=_now()))
        self.live_calls[call_id] = {
            "call_id": call_id,
            "direction": "outbound",
            "caller": "96000",
            "callee": number,
        }
        self._control_event(call_id, agent_id, "dialing", number)
        return {"call_id": call_id}

    def _control_event(
        self, call_id: str, agent_id: str, action: str, target: str = "", detail: str = ""
    ) -> None:
        self.bus.publish(
            CallControl(
                call_id=call_id, agent_id=agent_id, action=action, target=target, detail=detail
            )
        )

    def consult_answered(self, call_id: str) -> None:
        consult = self.consults[call_id]
        consult["answered"] = True
        agent_id = self.acd_agent_of(call_id)
        self._control_event(call_id, agent_id, "consult_answered", consult["target"])

    def transfer_answered(self, call_id: str) -> None:
        """The agent a call was transferred to answers it."""
        self.apply(self.acd.transfer_answered(call_id, now=_now()))

    def dial_failed(self, call_id: str, detail: str) -> None:
        """The number an agent dialled does not answer: the agent is back where it was."""
        agent_id = self.acd_agent_of(call_id)
        self.live_calls.pop(call_id, None)
        self.apply(self.acd.agent_call_failed(call_id, now=_now()))
        self._control_event(call_id, agent_id, "dial_failed", detail=detail)
        self.bus.publish(CallEnded(call_id=call_id, outcome="failed", cause=detail, duration=4.0))

    def acd_agent_of(self, call_id: str) -> str:
        return next((a.agent_id for a in self.acd.agents(now=_now()) if a.call_id == call_id), "")

    async def call_command(
        self, command: str, call_id: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        self.call_commands.append((command, call_id, dict(params)))
        if call_id not in self.live_calls:
            raise CommandRefused("unknown_call", f"no call {call_id}", status=404)
        agent_id = self.acd_agent_of(call_id)
        if command == "supervise":
            extension, mode = str(params.get("extension")), str(params.get("mode"))
            if extension not in self.registered:
                raise CommandRefused("not_registered", f"extension {extension} is not registered")
            if mode not in ("listen", "whisper", "barge"):
                raise ValueError(f"unknown mode {mode!r}")
            self.supervised[call_id] = mode
            self._control_event(call_id, agent_id, "supervising", extension, mode)
        elif command == "stop_supervising":
            self.supervised.pop(call_id, None)
            self._control_event(call_id, agent_id, "supervision_ended")
        else:
            raise ValueError(f"unknown command {command!r}")
        return {"call_id": call_id, "supervised": self.supervised.get(call_id, "")}

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
