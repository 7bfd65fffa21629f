"""The control API of the switch: HTTP commands and one WebSocket stream of events.

Every request carries `Authorization: Bearer <token>`; the API listens on loopback by default.

| method and path | answer |
|---|---|
| `GET /status` | uptime, SIP transports and ports, registrations and active calls (counts) |
| `GET /registrations` | every current contact of every extension |
| `GET /calls` | the calls in progress |
| `GET /events` (WebSocket) | one JSON text message per event (`aqualine.telephony.api.events`) |
| `GET /agents` | every logged-in agent: state, reason, time in state, call, today's counts |
| `GET /queues` | every queue: members, staffed/idle, waiting callers, longest wait |
| `POST /agents/{agent_id}/{command}` | an agent's command (below): the agent afterwards |
| `POST /calls/{call_id}/hangup` | hang up a call in progress (404 when there is none) |
| `POST /calls/{call_id}/supervise` | `{"extension", "mode": "listen"/"whisper"/"barge", "by"}` |
| `POST /calls/{call_id}/stop_supervising` | the supervisor's phone is hung up |

Agent commands: `login` (`{"extension": "8001"}`: refused unless the extension is registered),
`logout`, `sign_on`, `sign_off`, `not_ready` (`{"reason": "休息"}`), `ready`, `finish_wrap_up`,
the supervisor's `force_sign_off` / `force_ready` / `force_logout` (`{"by": "1001"}`), and call
control on the agent's current call (`aqualine.telephony.callcontrol`): `hold`, `unhold`,
`transfer` / `consult` (`{"target": "1002", "kind": "agent"|"extension"|"number"}`, the kind
guessed when left out), `complete_transfer`, `conference`, `cancel_consult`, and click-to-dial
`dial` (`{"number": "13900139000"}`, `aqualine.telephony.outbound`). A
refused command answers 409 `{"error": code, "reason": text}` (codes of
`aqualine.telephony.acd.states.Refusal`, or `unknown_agent` 404, `extension_not_registered`).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any, Protocol

from aiohttp import WSMsgType, web

from aqualine.telephony.events import EventBus

log = logging.getLogger("aqualine.switch.api")


class SwitchControl(Protocol):
    """What the API needs of the switch."""

    def status(self) -> dict[str, Any]: ...

    def registrations(self) -> list[dict[str, Any]]: ...

    def calls(self) -> list[dict[str, Any]]: ...

    def agents(self) -> list[dict[str, Any]]: ...

    def queues(self) -> list[dict[str, Any]]: ...

    async def agent_command(
        self, command: str, agent_id: str, params: dict[str, Any]
    ) -> dict[str, Any]: ...

    async def call_command(
        self, command: str, call_id: str, params: dict[str, Any]
    ) -> dict[str, Any]: ...

    async def hang_up_call(self, call_id: str) -> bool: ...


class CommandRefused(Exception):
    """A command the switch refuses: `code` (machine-readable) and the reason."""

    def __init__(self, code: str, reason: str, status: int = 409) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.status = status


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, default=str))


def build_app(switch: SwitchControl, bus: EventBus, *, token: str) -> web.Application:
    if not token:
        raise ValueError("the control API needs a token")

    @web.middleware
    async def authenticate(request: web.Request, handler: Any) -> web.StreamResponse:
        given = request.headers.get("Authorization", "")
        expected = f"Bearer {token}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return _json(
                {"error": "unauthorized", "reason": "missing or wrong bearer token"}, status=401
            )
        response: web.StreamResponse = await handler(request)
        return response

    async def status(request: web.Request) -> web.Response:
        return _json(switch.status())

    async def registrations(request: web.Request) -> web.Response:
        return _json({"registrations": switch.registrations()})

    async def calls(request: web.Request) -> web.Response:
        return _json({"calls": switch.calls()})

    async def agents(request: web.Request) -> web.Response:
        return _json({"agents": switch.agents()})

    async def queues(request: web.Request) -> web.Response:
        return _json({"queues": switch.queues()})

    async def body_of(request: web.Request) -> dict[str, Any] | web.Response:
        params: dict[str, Any] = {}
        if request.can_read_body:
            try:
                body = await request.json()
            except (ValueError, UnicodeDecodeError):
                return _json({"error": "bad_request", "reason": "the body is not JSON"}, 400)
            if not isinstance(body, dict):
                return _json({"error": "bad_request", "reason": "the body must be an object"}, 400)
            params = {str(k): v for k, v in body.items()}
        return params

    async def agent_command(request: web.Request) -> web.Response:
        params = await body_of(request)
        if isinstance(params, web.Response):
            return params
        agent_id = request.match_info["agent_id"][:20]
        command = request.match_info["command"]
        try:
            view = await switch.agent_command(command, agent_id, params)
        except CommandRefused as refused:
            return _json({"error": refused.code, "reason": refused.reason}, refused.status)
        except ValueError as exc:
            return _json({"error": "bad_request", "reason": str(exc)}, 400)
        return _json(view)

    async def call_command(request: web.Request) -> web.Response:
        params = await body_of(request)
        if isinstance(params, web.Response):
            return params
        call_id = request.match_info["call_id"][:64]
        try:
            result = await switch.call_command(request.match_info["command"], call_id, params)
        except CommandRefused as refused:
            return _json({"error": refused.code, "reason": refused.reason}, refused.status)
        except ValueError as exc:
            return _json({"error": "bad_request", "reason": str(exc)}, 400)
        return _json(result)

    async def hang_up_call(request: web.Request) -> web.Response:
        if await switch.hang_up_call(request.match_info["call_id"][:64]):
            return _json({"ok": True})
        return _json({"error": "not_found", "reason": "no such call in progress"}, 404)

    async def events(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=20)
        await ws.prepare(request)
        async with bus.subscribe() as queue:

            async def pump() -> None:
                while True:
                    event = await queue.get()
                    await ws.send_str(json.dumps(event.to_dict(), default=str))

            sender = asyncio.create_task(pump())
            try:
                async for message in ws:  # the client sends nothing; this notices it leaving
                    if message.type == WSMsgType.ERROR:
                        break
            finally:
                sender.cancel()
        return ws

    app = web.Application(middlewares=[authenticate])
    app.router.add_get("/status", status)
    app.router.add_get("/registrations", registrations)
    app.router.add_get("/calls", calls)
    app.router.add_get("/events", events)
    app.router.add_get("/agents", agents)
    app.router.add_get("/queues", queues)
    app.router.add_post("/agents/{agent_id}/{command}", agent_command)
    app.router.add_post("/calls/{call_id}/hangup", hang_up_call)
    app.router.add_post("/calls/{call_id}/{command}", call_command)
    return app


class ApiServer:
    """Runs the control API on the switch's event loop."""

    def __init__(
        self, switch: SwitchControl, bus: EventBus, *, host: str, port: int, token: str
    ) -> None:
        self._app = build_app(switch, bus, token=token)
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self.port = port

    async def start(self) -> None:
        self._runner = web.AppRunner(self._app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]
        log.info("control API listening on %s:%d", self._host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
