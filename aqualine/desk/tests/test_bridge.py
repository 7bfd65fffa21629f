"""The bridge from the switch's events to the browsers (`aqualine.callcenter.live`) and the
desk's WebSocket consumer: each event reaches the groups that need it and no other; the bridge
reconnects when the switch comes back; a consumer joins only what its user may see."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from aqualine.accounts.models import Role, User
from aqualine.callcenter import live
from aqualine.desk import consumers
from aqualine.desk.tests.support import ServedSwitch
from aqualine.routing import websocket_urlpatterns
from aqualine.telephony.api.events import (
    AgentStateChanged,
    CallAnswered,
    CallControl,
    CallEnded,
    CallOffered,
    CallStarted,
    Event,
    ExtensionRegistered,
    QueueCallerJoined,
    QueueCallerOffered,
)
from aqualine.telephony.testing.wait import run, wait_until


def _state(agent: str, old: str, new: str, call_id: str = "") -> AgentStateChanged:
    return AgentStateChanged(
        agent_id=agent,
        extension="8001",
        old_state=old,
        new_state=new,
        old_reason="",
        reason="",
        transition="test",
        duration=1.0,
        call_id=call_id,
    )


def _offered(call_id: str, agent: str) -> CallOffered:
    return CallOffered(
        call_id=call_id,
        caller="13800138000",
        callee="96000",
        agent_id=agent,
        extension="8001",
        queue="hotline",
        ivr_path="主菜单>人工服务",
        waited=3.0,
    )


# --- routing (pure) ---------------------------------------------------------------------------


def test_an_offer_goes_to_its_agent_and_the_supervisors_and_so_does_the_calls_end() -> None:
    calls: OrderedDict[str, str] = OrderedDict()
    assert live.route(_offered("c1", "1001"), calls) == ["agent_1001", "supervisors"]
    assert live.route(_state("1001", "ringing", "talking", "c1"), calls) == [
        "agent_1001",
        "supervisors",
    ]
    ended = CallEnded(call_id="c1", outcome="answered", cause="bye", duration=30.0)
    assert live.route(ended, calls) == ["agent_1001", "supervisors"]
    assert "c1" not in calls
    # a call that never reached an agent ends for the supervisors only
    lost = CallEnded(call_id="c2", outcome="abandoned", cause="bye", duration=9.0)
    assert live.route(lost, calls) == ["supervisors"]


def test_queue_and_call_events_without_an_agent_go_to_the_supervisors_only() -> None:
    calls: OrderedDict[str, str] = OrderedDict()
    events: list[Event] = [
        CallStarted(call_id="c3", direction="inbound", caller="1", callee="96000"),
        CallAnswered(call_id="c3"),
        QueueCallerJoined(queue="hotline", call_id="c3", caller="1", position=1),
        QueueCallerOffered(queue="hotline", call_id="c3", agent_id="1002", extension="8002"),
    ]
    for event in events:
        assert live.route(event, calls) == ["supervisors"], event.type
    assert calls["c3"] == "1002"  # the end of this call will reach 1002
    registered = ExtensionRegistered(number="8001", contact="sip:x", source="udp", expires=60)
    assert live.route(registered, calls) == []


def test_an_agent_id_that_is_no_group_name_reaches_only_the_supervisors() -> None:
    assert live.route(_state("bad id!", "idle", "ringing"), OrderedDict()) == ["supervisors"]


def test_call_control_reaches_its_agent_and_the_supervisors_but_supervision_only_these() -> None:
    calls: OrderedDict[str, str] = OrderedDict()
    live.route(_offered("c1", "1001"), calls)
    held = CallControl(call_id="c1", agent_id="1001", action="held")
    assert live.route(held, calls) == ["agent_1001", "supervisors"]
    for action in ("supervising", "supervision_ended"):
        watched = CallControl(call_id="c1", agent_id="1001", action=action, target="8009")
        assert live.route(watched, calls) == ["supervisors"], action


def test_the_end_of_a_dialled_call_reaches_the_agent_who_dialled() -> None:
    calls: OrderedDict[str, str] = OrderedDict()
    dialing = CallControl(call_id="o1", agent_id="1001", action="dialing", target="13900139000")
    assert live.route(dialing, calls) == ["agent_1001", "supervisors"]
    failed = CallControl(call_id="o1", agent_id="1001", action="dial_failed", detail="486 Busy")
    assert live.route(failed, calls) == ["agent_1001", "supervisors"]
    ended = CallEnded(call_id="o1", outcome="failed", cause="486 Busy Here", duration=4.0)
    assert live.route(ended, calls) == ["agent_1001", "supervisors"]


def test_the_bridge_forgets_the_oldest_calls_beyond_its_limit(monkeypatch: Any) -> None:
    monkeypatch.setattr(live, "MAX_TRACKED_CALLS", 3)
    calls: OrderedDict[str, str] = OrderedDict()
    for n in range(5):
        live.route(_offered(f"c{n}", "1001"), calls)
    assert list(calls) == ["c2", "c3", "c4"]


# --- forwarding through the channel layer ------------------------------------------------------


def test_forwarded_events_reach_the_right_groups_only() -> None:
    async def scenario() -> None:
        layer = get_channel_layer()
        assert layer is not None
        bridge = live.SwitchBridge()
        channels = {}
        for group in ("agent_1001", "agent_1002", "supervisors"):
            channels[group] = await layer.new_channel()
            await layer.group_add(live.local_group(group), channels[group])
        bridge.groups.update(channels)  # as the consumers attach
        try:
            await bridge.forward(_offered("c9", "1001"))
            await bridge.forward(_state("1002", "not_ready", "idle"))

            async def receive(group: str) -> dict[str, Any]:
                return await asyncio.wait_for(layer.receive(channels[group]), 5)

            first = await receive("agent_1001")
            assert first["type"] == "switch.event"
            assert first["event"]["type"] == "call.offered"
            assert first["event"]["caller"] == "13800138000"
            # 1002's first message is its own state change, not 1001's call
            second = await receive("agent_1002")
            assert (second["event"]["type"], second["event"]["agent_id"]) == (
                "agent.state_changed",
                "1002",
            )
            assert [(await receive("supervisors"))["event"]["type"] for _ in range(2)] == [
                "call.offered",
                "agent.state_changed",
            ]
        finally:
            for group, channel in channels.items():
                await layer.group_discard(live.local_group(group), channel)

    run(scenario(), timeout=20)


def test_a_group_nobody_in_this_process_listens_to_gets_nothing() -> None:
    async def scenario() -> None:
        layer = get_channel_layer()
        assert layer is not None
        bridge = live.SwitchBridge()
        channel = await layer.new_channel()
        await layer.group_add(live.local_group("agent_1001"), channel)
        try:
            await bridge.forward(_offered("c10", "1001"))  # no consumer attached
            assert bridge.forwarded == 0
            bridge.groups["agent_1001"] += 1
            await bridge.forward(_offered("c11", "1001"))
            message = await asyncio.wait_for(layer.receive(channel), 5)
            assert message["event"]["call_id"] == "c11"
        finally:
            await layer.group_discard(live.local_group("agent_1001"), channel)

    run(scenario(), timeout=20)


# --- the bridge on a real control API ---------------------------------------------------------


@pytest.mark.django_db
def test_the_bridge_follows_the_switch_and_reconnects_after_it_restarts(
    switch: ServedSwitch,
) -> None:
    async def scenario() -> None:
        layer = get_channel_layer()
        assert layer is not None
        bridge = live.SwitchBridge()
        bridge.min_backoff = 0.05
        channel = await layer.new_channel()
        await layer.group_add(live.local_group("supervisors"), channel)

        async def next_message() -> dict[str, Any]:
            return await asyncio.wait_for(layer.receive(channel), 10)

        try:
            bridge.attach(["supervisors"])
            assert await wait_until(lambda: switch.bus.subscriber_count == 1, timeout=10)
            switch.publish(_state("1001", "idle", "ringing", "c1"))
            assert (await next_message())["type"] == "switch.resync"
            assert (await next_message())["event"]["new_state"] == "ringing"
            assert bridge.connections == 1

            port = switch.api.port  # type: ignore[union-attr]
            await asyncio.to_thread(switch.stop_api)
            assert await next_message() == {"type": "switch.link", "up": False}
            await asyncio.to_thread(switch.start, port)
            assert await wait_until(lambda: switch.bus.subscriber_count == 1, timeout=10)
            switch.publish(_state("1001", "ringing", "talking", "c1"))
            assert (await next_message())["type"] == "switch.resync"
            assert (await next_message())["event"]["new_state"] == "talking"
            assert bridge.connections == 2
        finally:
            bridge.detach(["supervisors"])
            await bridge.stop()
            await layer.group_discard(live.local_group("supervisors"), channel)
        assert not bridge.running

    run(scenario(), timeout=60)


# --- the consumer ------------------------------------------------------------------------------


def _signed_in(*users: User) -> dict[str, str]:
    """A session of each user (made before the test's event loop runs): agent ID -> key."""
    keys = {}
    for user in users:
        client = Client()
        client.force_login(user)
        keys[user.agent_id] = str(client.session.session_key)
    return keys


def _communicator(user: User, view: str, sessions: dict[str, str]) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/desk/{view}/")
    communicator.scope["user"] = user
    communicator.scope["session"] = SessionStore(session_key=sessions[user.agent_id])
    return communicator


async def _event(communicator: WebsocketCommunicator) -> dict[str, Any]:
    """The next switch event sent to the browser (resync notices skipped)."""
    while True:
        message = await communicator.receive_json_from(timeout=10)
        if message["type"] == "event":
            event: dict[str, Any] = message["event"]
            return event


async def _until(
    communicator: WebsocketCommunicator, predicate: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    seen = []
    while True:
        event = await _event(communicator)
        seen.append(event)
        if predicate(event):
            return seen


@pytest.mark.django_db(transaction=True)
def test_each_desktop_hears_its_own_agent_and_the_monitor_hears_everything(
    switch: ServedSwitch, agent: User, agent2: User, supervisor: User
) -> None:
    acd = switch.switch
    for agent_id, extension in (("1001", "8001"), ("1002", "8002")):
        switch.run(acd.agent_command("login", agent_id, {"extension": extension}))
    switch.run(acd.agent_command("sign_on", "1001", {}))
    sessions = _signed_in(agent, agent2, supervisor)

    async def scenario() -> None:
        first = _communicator(agent, "agent", sessions)
        second = _communicator(agent2, "agent", sessions)
        monitor = _communicator(supervisor, "monitor", sessions)
        for communicator in (first, second, monitor):
            connected, _code = await communicator.connect()
            assert connected
        try:
            assert live.bridge.groups == {"agent_1001": 1, "agent_1002": 1, "supervisors": 1}
            assert await wait_until(lambda: switch.bus.subscriber_count == 1, timeout=10)
            assert switch.call(acd.offer, "c1", "13800138000") == "1001"
            switch.call(acd.answer, "c1")
            switch.call(acd.end, "c1")
            # 1002 goes busy: the marker that ends what 1002's desktop receives
            switch.run(acd.agent_command("not_ready", "1002", {"reason": "开会"}))

            mine = await _until(first, lambda e: e["type"] == "call.ended")
            assert [e["type"] for e in mine] == [
                "agent.state_changed",  # idle -> ringing
                "call.offered",
                "agent.state_changed",  # ringing -> talking
                "agent.state_changed",  # talking -> after-call work
                "call.ended",
            ]
            offered = mine[1]
            assert (offered["caller"], offered["call_id"], offered["agent_id"]) == (
                "13800138000",
                "c1",
                "1001",
            )
            assert mine[3]["new_state"] == "after_call_work"
            theirs = await _event(second)
            assert (theirs["agent_id"], theirs["new_state"]) == ("1002", "not_ready")

            everything = await _until(
                monitor, lambda e: e.get("agent_id") == "1002" and e["type"].startswith("agent")
            )
            kinds = {e["type"] for e in everything}
            assert {"queue.caller_joined", "queue.caller_offered", "call.offered"} <= kinds
            assert {"agent.state_changed", "queue.caller_left", "call.ended"} <= kinds
        finally:
            for communicator in (first, second, monitor):
                await communicator.disconnect()
        assert live.bridge.groups == {} and not live.bridge.running

    run(scenario(), timeout=60)


@pytest.mark.django_db(transaction=True)
def test_the_desktop_hears_its_call_control_but_not_that_a_supervisor_listens(
    switch: ServedSwitch, agent: User, supervisor: User
) -> None:
    acd = switch.switch
    switch.run(acd.agent_command("login", "1001", {"extension": "8001"}))
    switch.run(acd.agent_command("sign_on", "1001", {}))
    sessions = _signed_in(agent, supervisor)

    async def scenario() -> None:
        desktop = _communicator(agent, "agent", sessions)
        monitor = _communicator(supervisor, "monitor", sessions)
        for communicator in (desktop, monitor):
            assert (await communicator.connect())[0]
        try:
            assert await wait_until(lambda: switch.bus.subscriber_count == 1, timeout=10)
            switch.call(acd.offer, "c1", "13800138000")
            switch.call(acd.answer, "c1")
            await switch_command("supervise", "c1", {"extension": "8003", "mode": "listen"})
            await agent_command("hold")
            mine = await _until(desktop, lambda e: e["type"] == "call.control")
            assert [e.get("action") for e in mine if e["type"] == "call.control"] == ["held"]
            assert mine[-1]["call_id"] == "c1" and mine[-1]["agent_id"] == "1001"
            theirs = await _until(
                monitor, lambda e: e["type"] == "call.control" and e["action"] == "held"
            )
            watched = [e for e in theirs if e["type"] == "call.control"]
            assert [(e["action"], e["detail"]) for e in watched] == [
                ("supervising", "listen"),
                ("held", ""),
            ]
        finally:
            for communicator in (desktop, monitor):
                await communicator.disconnect()

    async def switch_command(command: str, call_id: str, params: dict[str, Any]) -> None:
        await asyncio.to_thread(switch.run, acd.call_command(command, call_id, params))

    async def agent_command(command: str) -> None:
        await asyncio.to_thread(switch.run, acd.agent_command(command, "1001", {}))

    run(scenario(), timeout=60)


@pytest.mark.django_db(transaction=True)
def test_the_monitor_refuses_an_agent_and_the_desktop_refuses_an_outsider(
    switch: ServedSwitch, agent: User, outsider: User
) -> None:
    sessions = _signed_in(agent, outsider)

    async def refused(user: User, view: str) -> None:
        communicator = _communicator(user, view, sessions)
        connected, code = await communicator.connect()
        assert (connected, code) == (False, consumers.CLOSE_NOT_ALLOWED), (user, view)
        await communicator.disconnect()

    async def scenario() -> None:
        await refused(agent, "monitor")
        await refused(outsider, "agent")
        await refused(agent, "elsewhere")
        assert not live.bridge.running

    run(scenario(), timeout=30)


@pytest.mark.django_db(transaction=True)
def test_a_supervisor_stripped_of_the_permission_is_disconnected(
    switch: ServedSwitch, supervisor: User, monkeypatch: Any
) -> None:
    monkeypatch.setattr(consumers, "RECHECK_SECONDS", 0.0)
    sessions = _signed_in(supervisor)

    async def scenario(strip: Callable[[], Awaitable[None]]) -> None:
        monitor = _communicator(supervisor, "monitor", sessions)
        assert (await monitor.connect())[0]
        try:
            assert await wait_until(lambda: switch.bus.subscriber_count == 1, timeout=10)
            switch.publish(_state("1001", "idle", "ringing"))
            assert (await _event(monitor))["new_state"] == "ringing"
            await strip()
            switch.publish(_state("1001", "ringing", "idle"))
            output = await monitor.receive_output(timeout=10)
            while output["type"] == "websocket.send":  # a resync may come first
                assert "ringing" not in output.get("text", "")
                output = await monitor.receive_output(timeout=10)
            assert output == {"type": "websocket.close", "code": consumers.CLOSE_NOT_ALLOWED}
        finally:
            await monitor.disconnect()

    async def strip() -> None:
        def remove() -> None:
            supervisor.groups.remove(Role.objects.get(code="supervisor"))

        await asyncio.to_thread(remove)

    run(scenario(strip), timeout=30)
