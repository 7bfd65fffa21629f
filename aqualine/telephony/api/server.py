"""The control API of the switch: HTTP commands and one WebSocket stream of events.

Every request carries `Authorization: Bearer <token>`; the API listens on loopback by default.

| method and path | answer |
|---|---|
| `GET /status` | uptime, SIP transports and ports, registrations and active calls (counts) |
| `GET /registrations` | every current contact of every extension |
| `GET /calls` | the calls in progress |
| `GET /events` (WebSocket) | one JSON text message per event (`aqualine.telephony.api.events`) |
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
