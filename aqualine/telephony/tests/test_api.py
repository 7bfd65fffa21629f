"""The control API over real HTTP and WebSocket connections on loopback."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from aqualine.telephony.api.events import (
    CallEnded,
    CallStarted,
    ExtensionRegistered,
    event_from_dict,
)
from aqualine.telephony.api.server import ApiServer, CommandRefused
from aqualine.telephony.events import EventBus

TOKEN = "test-token-123"


class FakeSwitch:
    def status(self) -> dict[str, Any]:
        return {"uptime": 1.5, "registrations": 1, "calls": 0}

    def registrations(self) -> list[dict[str, Any]]:
        return [{"number": "8001", "contact": "sip:8001@127.0.0.1:5070", "expires": 300}]

    def calls(self) -> list[dict[str, Any]]:
        return []

    def agents(self) -> list[dict[str, Any]]:
        return []

    def queues(self) -> list[dict[str, Any]]:
        return []

    async def agent_command(
        self, command: str, agent_id: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        raise CommandRefused("not_running", "a fake switch")

    async def call_command(
        self, command: str, call_id: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        raise CommandRefused("not_running", "a fake switch")

    async def hang_up_call(self, call_id: str) -> bool:
        return False


async def _with_server(check: Any) -> None:
    bus = EventBus()
    server = ApiServer(FakeSwitch(), bus, host="127.0.0.1", port=0, token=TOKEN)
    await server.start()
    try:
        await check(f"http://127.0.0.1:{server.port}", bus)
    finally:
        await server.stop()


def test_it_refuses_requests_without_the_token() -> None:
    async def check(base: str, bus: EventBus) -> None:
        async with aiohttp.ClientSession() as session:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
                async with session.get(f"{base}/status", headers=headers) as response:
                    assert response.status == 401
                    assert (await response.json())["error"] == "unauthorized"

    asyncio.run(_with_server(check))


def test_it_answers_status_and_registrations() -> None:
    async def check(base: str, bus: EventBus) -> None:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with aiohttp.ClientSession(headers=headers) as session:
            async with session.get(f"{base}/status") as response:
                assert response.status == 200
                assert (await response.json())["registrations"] == 1
            async with session.get(f"{base}/registrations") as response:
                body = await response.json()
                assert body["registrations"][0]["number"] == "8001"
            async with session.get(f"{base}/nothing-here") as response:
                assert response.status == 404

    asyncio.run(_with_server(check))


def test_a_subscriber_receives_published_events_in_order() -> None:
    async def check(base: str, bus: EventBus) -> None:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with (
            aiohttp.ClientSession(headers=headers) as session,
            session.ws_connect(f"{base}/events") as ws,
        ):
            deadline = asyncio.get_running_loop().time() + 5
            while bus.subscriber_count == 0:
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.01)
            sent = [
                ExtensionRegistered(
                    number="8001",
                    contact="sip:8001@127.0.0.1",
                    source="127.0.0.1:5070",
                    expires=300,
                ),
                CallStarted(
                    call_id="c1", direction="inbound", caller="13800138000", callee="96000"
                ),
                CallEnded(call_id="c1", outcome="answered", cause="caller hung up", duration=3.2),
            ]
            for event in sent:
                bus.publish(event)
            received = [event_from_dict(await ws.receive_json(timeout=5)) for _ in sent]
            assert received == sent
        deadline = asyncio.get_running_loop().time() + 5
        while bus.subscriber_count:
            assert asyncio.get_running_loop().time() < deadline, "subscription not released"
            await asyncio.sleep(0.01)

    asyncio.run(_with_server(check))


def test_a_websocket_without_the_token_is_refused() -> None:
    async def check(base: str, bus: EventBus) -> None:
        async with aiohttp.ClientSession() as session:
            try:
                await session.ws_connect(f"{base}/events")
            except aiohttp.WSServerHandshakeError as error:
                assert error.status == 401
            else:
                raise AssertionError("connected without a token")

    asyncio.run(_with_server(check))


def test_event_schema_rejects_unknown_types_and_fields() -> None:
    import pytest

    with pytest.raises(ValueError):
        event_from_dict({"type": "call.teleported"})
    with pytest.raises(ValueError):
        event_from_dict({"type": "call.answered", "call_id": "x", "colour": "red"})
    event = CallStarted(call_id="c", direction="inbound", caller="1", callee="2")
    assert event.to_dict()["type"] == "call.started"


def test_agents_log_in_sign_on_and_are_refused_with_reasons_over_http() -> None:
    """The agent commands through the real API of a running switch (ACD behind it)."""
    from aqualine.telephony.testing.wait import run, wait_until
    from aqualine.telephony.tests.fakes import make_config, running_switch
    from aqualine.telephony.tests.uac import SipClient

    async def scenario() -> None:
        async with running_switch(make_config()) as running:
            server = ApiServer(running.switch, running.bus, host="127.0.0.1", port=0, token=TOKEN)
            await server.start()
            base = f"http://127.0.0.1:{server.port}"
            headers = {"Authorization": f"Bearer {TOKEN}"}
            try:
                async with aiohttp.ClientSession(headers=headers) as http:

                    async def post(path: str, body: Any = None) -> tuple[int, Any]:
                        async with http.post(base + path, json=body) as response:
                            return response.status, await response.json()

                    status, body = await post("/agents/1001/login", {"extension": "8001"})
                    assert (status, body["error"]) == (409, "extension_not_registered")
                    status, body = await post("/agents/9999/login", {"extension": "8001"})
                    assert (status, body["error"]) == (404, "unknown_agent")
                    async with SipClient(running.address) as phone:
                        assert (await phone.register("8001", "secret-8001")).status == 200
                        status, body = await post("/agents/1001/login", {"extension": "8001"})
                        assert status == 200 and body["state"] == "not_ready"
                        status, body = await post("/agents/1002/login", {"extension": "8001"})
                        assert (status, body["error"]) == (409, "extension_in_use")
                        status, body = await post("/agents/1001/sign_on")
                        assert status == 200 and body["state"] == "idle"
                        status, body = await post("/agents/1001/not_ready", {"reason": "打游戏"})
                        assert (status, body["error"]) == (409, "unknown_reason")
                        status, body = await post("/agents/1001/not_ready", {"reason": "休息"})
                        assert status == 200 and body["reason"] == "休息"
                        status, body = await post("/agents/1001/dance")
                        assert status == 400
                        async with http.get(base + "/agents") as response:
                            agents = (await response.json())["agents"]
                        assert [(a["agent_id"], a["state"]) for a in agents] == [
                            ("1001", "not_ready")
                        ]
                        async with http.get(base + "/queues") as response:
                            queues = (await response.json())["queues"]
                        assert queues[0]["name"] == "hotline" and queues[0]["callers"] == []
                        status, _ = await post("/calls/nope/hangup")
                        assert status == 404
                        # call control needs a call
                        status, body = await post("/agents/1001/hold")
                        assert (status, body["error"]) == (409, "no_call")
                        status, body = await post("/agents/1002/transfer", {"target": "1001"})
                        assert (status, body["error"]) == (404, "unknown_agent")
                        status, body = await post("/calls/nope/supervise", {"extension": "8002"})
                        assert (status, body["error"]) == (404, "unknown_call")
                        status, body = await post("/calls/nope/dance")
                        assert status == 400
                changes = running.records.agent_changes
                states = ["not_ready", "idle", "not_ready"]
                # The records are written off the loop (an executor), so the last may trail.
                assert await wait_until(lambda: len(changes) >= 3, timeout=5)
                assert [c.new_state.value for c in changes] == states
            finally:
                await server.stop()

    run(scenario())
