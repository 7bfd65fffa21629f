"""The WebSocket at /ws/wallboard/: who may connect, the snapshot on connect, one producer for
every screen of the process, a prompt recomputation after a work-order event, and the page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.backends.db import SessionStore

from aqualine.accounts.models import Role, User
from aqualine.asgi import application
from aqualine.conftest import client_for, make_user
from aqualine.wallboard import consumers, live
from aqualine.wallboard.tests.conftest import FakeSwitch
from aqualine.workorders.models import Category
from aqualine.workorders.tests.conftest import new_order

pytestmark = pytest.mark.django_db

SWITCH = FakeSwitch(
    [{"agent_id": "1001", "state": "idle"}, {"agent_id": "1002", "state": "talking"}],
    [{"name": "hotline", "longest_wait": 12.0, "callers": [{"call_id": "c1"}]}],
)


@pytest.fixture(autouse=True)
def producer(monkeypatch: pytest.MonkeyPatch) -> Iterator[live.SnapshotProducer]:
    """A fresh producer on a clean in-memory layer, reading a stand-in switch. Its interval is
    an hour: any snapshot after the first is due to an order event."""
    monkeypatch.setattr("channels.db.close_old_connections", lambda: None)
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        layer.channels.clear()
        layer.groups.clear()
    fresh = live.SnapshotProducer(client_factory=lambda: SWITCH)
    fresh.interval = 3600.0
    monkeypatch.setattr(live, "producer", fresh)
    yield fresh


def _communicator(user: User | None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if user is not None:
        session = client_for(user).cookies["sessionid"].value
        headers.append((b"cookie", f"sessionid={session}".encode()))
    return WebsocketCommunicator(application, "/ws/wallboard/", headers=headers)


async def _connect(user: User) -> WebsocketCommunicator:
    communicator = await sync_to_async(_communicator)(user)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def _snapshot(communicator: WebsocketCommunicator) -> dict[str, Any]:
    message = await communicator.receive_json_from(timeout=5)
    assert message["type"] == "snapshot"
    return message


async def _order_event() -> None:
    layer = get_channel_layer()
    assert layer is not None
    await layer.group_send("workorders", {"type": "workorder.event", "event": "created"})


def test_anonymous_connections_are_refused() -> None:
    async def scenario() -> None:
        connected, code = await _communicator(None).connect(timeout=5)
        assert (connected, code) == (False, consumers.CLOSE_NOT_ALLOWED)

    async_to_sync(scenario)()


def test_a_user_without_the_permission_is_refused(agent: User, producer: Any) -> None:
    async def scenario() -> None:
        communicator = await sync_to_async(_communicator)(agent)
        connected, code = await communicator.connect(timeout=5)
        assert (connected, code) == (False, consumers.CLOSE_NOT_ALLOWED)

    async_to_sync(scenario)()
    assert not producer.running and producer.computed == 0


def test_a_screen_gets_the_snapshot_on_connect(
    supervisor: User, leak: Category, producer: live.SnapshotProducer
) -> None:
    new_order(supervisor, leak)

    async def scenario() -> None:
        screen = await _connect(supervisor)
        snapshot = await _snapshot(screen)
        assert snapshot["orders"]["new"] == 1
        assert snapshot["orders"]["pending_dispatch"] == 1
        assert snapshot["switch"] == {
            "up": True,
            "logged_in": 2,
            "talking": 1,
            "idle": 1,
            "not_ready": 0,
            "after_call_work": 0,
            "waiting": 1,
            "longest_wait": 12.0,
        }
        await screen.disconnect()

    async_to_sync(scenario)()


def test_every_screen_shares_one_producer_which_stops_with_the_last(
    supervisor: User, leader: User, producer: live.SnapshotProducer
) -> None:
    async def scenario() -> None:
        first = await _connect(supervisor)
        snapshot = await _snapshot(first)
        second = await _connect(leader)  # a leader (viewer) may watch too
        assert await _snapshot(second) == snapshot  # the latest, at once, not recomputed
        assert producer.computed == 1 and producer.running
        await first.disconnect()
        assert producer.running
        await second.disconnect()
        assert not producer.running and producer.latest is None

    async_to_sync(scenario)()


def test_an_order_event_is_followed_by_one_fresh_snapshot_per_burst(
    supervisor: User, leak: Category, producer: live.SnapshotProducer
) -> None:
    producer.debounce = 1.0

    async def scenario() -> None:
        screen = await _connect(supervisor)
        assert (await _snapshot(screen))["orders"]["new"] == 0
        await sync_to_async(new_order)(supervisor, leak)
        for _ in range(5):  # a burst: created, dispatched, ...
            await _order_event()
        assert (await _snapshot(screen))["orders"]["new"] == 1
        await _order_event()
        await _snapshot(screen)
        assert producer.computed == 3  # the first, one for the burst, one for the last event
        await screen.disconnect()

    async_to_sync(scenario)()


def test_a_switch_that_is_down_still_gives_the_database_figures(
    supervisor: User, producer: live.SnapshotProducer
) -> None:
    producer.client_factory = lambda: FakeSwitch(up=False)

    async def scenario() -> None:
        screen = await _connect(supervisor)
        snapshot = await _snapshot(screen)
        assert snapshot["switch"] == {"up": False}
        assert snapshot["calls"]["inbound"] == 0
        await screen.disconnect()

    async_to_sync(scenario)()


def test_a_screen_that_loses_the_permission_is_closed(
    supervisor: User, producer: live.SnapshotProducer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consumers, "RECHECK_SECONDS", 0.0)

    async def scenario() -> None:
        screen = await _connect(supervisor)
        await _snapshot(screen)
        await sync_to_async(supervisor.groups.clear)()
        await _order_event()
        assert (await screen.receive_output(timeout=5))["code"] == consumers.CLOSE_NOT_ALLOWED
        await screen.wait()

    async_to_sync(scenario)()
    assert not producer.running


# --- the page ---------------------------------------------------------------------------------


def test_the_page_needs_the_permission(supervisor: User, agent: User, leader: User) -> None:
    assert client_for(agent).get("/wallboard/").status_code == 403
    page = client_for(leader).get("/wallboard/")
    assert page.status_code == 200
    assert 'data-ws="/ws/wallboard/"' in page.content.decode()
    assert client_for(supervisor).get("/wallboard/").status_code == 200


def test_only_a_wallboard_account_keeps_a_long_session(
    supervisor: User, hotline: Any, settings: Any
) -> None:
    from django.contrib.auth.models import Permission

    settings.WALLBOARD_SESSION_DAYS = 30
    screen_role = Role.objects.create(name="大屏终端")
    screen_role.permissions.add(
        Permission.objects.get(content_type__app_label="wallboard", codename="view_wallboard"),
        Permission.objects.get(content_type__app_label="wallboard", codename="kiosk_session"),
    )
    tv = make_user("tv01", department=hotline, name="大屏")
    tv.groups.add(screen_role)

    tv_client = client_for(tv)
    assert tv_client.get("/wallboard/").status_code == 200
    tv_session = SessionStore(tv_client.cookies["sessionid"].value)
    assert tv_session.get_expiry_age() == 30 * 86400
    assert tv_client.cookies["sessionid"]["max-age"] == 30 * 86400

    person = client_for(supervisor)
    assert person.get("/wallboard/").status_code == 200
    session = SessionStore(person.cookies["sessionid"].value)
    assert session.get_expiry_age() == settings.SESSION_COOKIE_AGE  # the usual one


def test_wallboard_role_grants() -> None:
    granted = {
        role.code
        for role in Role.objects.filter(
            permissions__content_type__app_label="wallboard",
            permissions__codename="view_wallboard",
        )
    }
    assert granted == {"admin", "supervisor", "viewer"}
    assert not Role.objects.filter(permissions__codename="kiosk_session").exists()
