"""The WebSocket push at /ws/workorders/: who may connect, who gets which order's events (the same
orders the list shows them), when (only after the commit), and who is told to speak.

A message that must *not* arrive is checked without waiting for time to pass: a marker sent
after it through the same group has to be the next thing the browser gets."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import transaction

from aqualine.accounts.models import Department, User
from aqualine.asgi import application
from aqualine.conftest import client_for, make_user
from aqualine.core.models import Parameter
from aqualine.core.parameters import invalidate_cache
from aqualine.workorders import consumers, events, reminders, selectors, services
from aqualine.workorders.models import Category, DepartmentTask, OrderEvent, WorkOrder
from aqualine.workorders.tests.conftest import dispatched, new_order

pytestmark = pytest.mark.django_db

_markers = itertools.count(1)


@pytest.fixture(autouse=True)
def _layer(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A clean in-memory layer for each test; the relay (embedded mode) only where tested.

    Channels closes "old" database connections around each message; inside a test's transaction
    that would close the test's own connection (PostgreSQL), so it is a no-op here, as in
    channels' communicator while it waits."""
    monkeypatch.setattr("channels.db.close_old_connections", lambda: None)
    monkeypatch.setattr(consumers.EventRelay, "wanted", staticmethod(lambda: False))
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        layer.channels.clear()
        layer.groups.clear()
    yield


def _communicator(user: User | None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if user is not None:
        session = client_for(user).cookies["sessionid"].value
        headers.append((b"cookie", f"sessionid={session}".encode()))
    return WebsocketCommunicator(application, "/ws/workorders/", headers=headers)


async def _connect(user: User | None) -> WebsocketCommunicator:
    communicator = await sync_to_async(_communicator)(user)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def _receive(communicator: WebsocketCommunicator) -> dict[str, Any]:
    return await communicator.receive_json_from(timeout=5)


async def _marker(*groups: str) -> int:
    """Send one marker down `groups`; the browser gets it (once) as an event of type "marker"."""
    number = -next(_markers)
    layer = get_channel_layer()
    assert layer is not None
    for group in groups:
        await layer.group_send(
            group,
            {"type": "workorder.event", "event": "marker", "event_id": number, "department": None},
        )
    return number


async def _next_is_marker(communicator: WebsocketCommunicator, *groups: str) -> None:
    """The next thing to arrive (other markers aside) is this marker: nothing else was due."""
    number = await _marker(*groups)
    while True:
        message = await _receive(communicator)
        if message["event"] != "marker" or message["event_id"] == number:
            break
    assert (message["event"], message["event_id"]) == ("marker", number), message


def _dispatch(actor: User, order: WorkOrder, department: Department) -> list[DepartmentTask]:
    return services.workorder_dispatch(actor=actor, order=order, departments=[department])


def _committed(capture: Callable) -> Callable[[Callable[[], Any]], Any]:
    """Run a service and its on-commit pushes (the test runs inside one transaction)."""

    def run(action: Callable[[], Any]) -> Any:
        with capture(execute=True):
            return action()

    return sync_to_async(run)


# --- who may connect --------------------------------------------------------------------------


def test_an_anonymous_connection_is_refused() -> None:
    async def scenario() -> None:
        connected, code = await _communicator(None).connect(timeout=5)
        assert (connected, code) == (False, consumers.CLOSE_NOT_ALLOWED)

    async_to_sync(scenario)()


def test_a_user_who_may_see_no_work_order_is_refused(outsider: User, db: None) -> None:
    nowhere = make_user("3999", "handler", name="无部门处理人")  # may see own department: none

    async def scenario() -> None:
        for user in (outsider, nowhere):
            communicator = await sync_to_async(_communicator)(user)
            connected, code = await communicator.connect(timeout=5)
            assert (connected, code) == (False, consumers.CLOSE_NOT_ALLOWED)

    async_to_sync(scenario)()


# --- who gets what ----------------------------------------------------------------------------


def test_a_handler_gets_their_departments_events_and_not_another_departments(
    agent: User,
    handler: User,
    quality_handler: User,
    repair: Department,
    quality: Department,
    leak: Category,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    act = _committed(django_capture_on_commit_callbacks)
    to_repair, to_quality = new_order(agent, leak), new_order(agent, leak)

    async def scenario() -> None:
        repair_ws, quality_ws = await _connect(handler), await _connect(quality_handler)
        await act(
            lambda: services.workorder_dispatch(actor=agent, order=to_repair, departments=[repair])
        )
        message = await _receive(repair_ws)
        assert {k: message[k] for k in ("type", "event", "order", "number", "department")} == {
            "type": "order.event",
            "event": "dispatched",
            "order": to_repair.pk,
            "number": to_repair.number,
            "department": repair.pk,
        }
        await _next_is_marker(quality_ws, f"department_{quality.pk}")

        await act(
            lambda: services.workorder_dispatch(
                actor=agent, order=to_quality, departments=[quality]
            )
        )
        assert (await _receive(quality_ws))["order"] == to_quality.pk
        await _next_is_marker(repair_ws, f"department_{repair.pk}")
        await repair_ws.disconnect()
        await quality_ws.disconnect()

    async_to_sync(scenario)()


def test_the_hotline_gets_every_orders_events(
    agent: User,
    handler: User,
    repair: Department,
    quality: Department,
    leak: Category,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    act = _committed(django_capture_on_commit_callbacks)

    async def scenario() -> None:
        hotline_ws = await _connect(agent)
        order = await act(lambda: new_order(agent, leak))
        assert (await _receive(hotline_ws))["event"] == "created"
        await act(
            lambda: services.workorder_dispatch(
                actor=agent, order=order, departments=[repair, quality]
            )
        )
        got = [await _receive(hotline_ws), await _receive(hotline_ws)]
        assert sorted((m["event"], m["department"]) for m in got) == sorted(
            [("dispatched", repair.pk), ("dispatched", quality.pk)]
        )
        assert {m["speak"] for m in got} == {None}  # the hotline hears returns, not dispatches
        await hotline_ws.disconnect()

    async_to_sync(scenario)()


def test_a_handler_gets_the_events_of_exactly_the_orders_their_list_shows(
    agent: User, leak: Category, django_capture_on_commit_callbacks: Callable
) -> None:
    """Departments above and below count, as in selectors.workorders_visible_to; siblings don't."""
    act = _committed(django_capture_on_commit_callbacks)
    company = Department.objects.create(name="供水公司", code="company")
    network = Department.objects.create(name="管网所", code="network", parent=company)
    east = Department.objects.create(name="东区班组", code="east", parent=network)
    west = Department.objects.create(name="西区班组", code="west", parent=network)
    meters = Department.objects.create(name="表务所", code="meters", parent=company)
    departments = [company, network, east, west, meters]
    people = {
        d.code: make_user(f"5{i:03d}", "handler", department=d) for i, d in enumerate(departments)
    }
    orders = {d.code: new_order(agent, leak) for d in departments}

    async def scenario() -> None:
        sockets = {code: await _connect(user) for code, user in people.items()}
        for department in departments:
            await act(partial(_dispatch, agent, orders[department.code], department))
        for code, user in people.items():
            visible = await sync_to_async(
                lambda u=user: set(
                    selectors.workorders_visible_to(u).values_list("number", flat=True)
                )
            )()
            assert visible  # every handler sees some
            received = set()
            for _ in visible:
                received.add((await _receive(sockets[code]))["number"])
            assert received == visible, code
            group = f"department_{people[code].department_id}"
            await _next_is_marker(sockets[code], group)  # and nothing more
        for socket in sockets.values():
            await socket.disconnect()

    async_to_sync(scenario)()
    # The groups checked: east sees network and company (above) but not west (a sibling).
    east_audience = consumers.audience_for(User.objects.get(pk=people["east"].pk))
    assert east_audience is not None
    assert east_audience.groups == {f"department_{d.pk}" for d in (east, network, company)}


@pytest.mark.django_db(transaction=True)
def test_pushes_arrive_only_after_the_transaction_commits() -> None:
    from aqualine.workorders.tests.conftest import ensure_seeded_categories

    ensure_seeded_categories()
    repair = Department.objects.create(name="管网维修部", code="repair")
    hotline = Department.objects.create(name="热线中心", code="hotline")
    agent = make_user("1001", "agent", department=hotline)
    handler = make_user("3001", "handler", department=repair)
    order = new_order(agent, Category.objects.get(code="leak-pipe"))
    group = f"department_{repair.pk}"

    # One transaction over several steps (all in this thread, where sync_to_async runs them).
    block = transaction.atomic()

    def dispatch() -> None:
        block.__enter__()
        services.workorder_dispatch(actor=agent, order=order, departments=[repair])

    async def scenario() -> None:
        handler_ws = await _connect(handler)
        await sync_to_async(dispatch)()
        try:
            # Not committed yet: the handler gets the marker sent after it, nothing else.
            await _next_is_marker(handler_ws, group)
        except BaseException:
            await sync_to_async(block.__exit__)(RuntimeError, RuntimeError(), None)
            raise
        await sync_to_async(block.__exit__)(None, None, None)  # commit
        message = await _receive(handler_ws)
        assert (message["event"], message["order"]) == ("dispatched", order.pk)
        await handler_ws.disconnect()

    async_to_sync(scenario)()


def test_the_same_event_is_delivered_once(
    agent: User, handler: User, repair: Department, leak: Category
) -> None:
    order, _tasks = dispatched(agent, leak, repair)
    event = OrderEvent.objects.get(order=order, type=OrderEvent.Type.DISPATCHED)

    async def scenario() -> None:
        handler_ws = await _connect(handler)
        for _ in range(2):  # e.g. pushed on commit and again by the relay
            await sync_to_async(events.publish_order_event)(event)
        assert (await _receive(handler_ws))["event_id"] == event.pk
        await _next_is_marker(handler_ws, f"department_{repair.pk}")
        await handler_ws.disconnect()

    async_to_sync(scenario)()


# --- who hears a spoken reminder --------------------------------------------------------------


def test_handlers_hear_dispatches_and_urges_and_the_hotline_hears_returns(
    agent: User,
    handler: User,
    repair: Department,
    leak: Category,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    act = _committed(django_capture_on_commit_callbacks)
    order = new_order(agent, leak)

    async def scenario() -> None:
        hotline_ws, handler_ws = await _connect(agent), await _connect(handler)
        (task,) = await act(
            lambda: services.workorder_dispatch(actor=agent, order=order, departments=[repair])
        )
        assert (await _receive(handler_ws))["speak"] == "dispatched"
        assert (await _receive(hotline_ws))["speak"] is None

        await act(lambda: services.workorder_urge(actor=agent, order=order))
        assert (await _receive(handler_ws))["speak"] == "urged"
        assert (await _receive(hotline_ws))["speak"] is None

        await act(
            lambda: services.task_return(
                actor=handler, task=task, version=task.version, reason="不属于本部门"
            )
        )
        assert (await _receive(hotline_ws))["speak"] == "returned"
        mine = await _receive(handler_ws)
        assert (mine["event"], mine["speak"]) == ("returned", None)
        await hotline_ws.disconnect()
        await handler_ws.disconnect()

    async_to_sync(scenario)()


def test_handlers_hear_the_deadline_reminders_of_their_tasks(
    agent: User,
    handler: User,
    repair: Department,
    leak: Category,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    act = _committed(django_capture_on_commit_callbacks)
    _order, (task,) = dispatched(agent, leak, repair)

    async def scenario() -> None:
        hotline_ws, handler_ws = await _connect(agent), await _connect(handler)
        for when, kind in ((timedelta(minutes=-30), "due_soon"), (timedelta(minutes=1), "overdue")):
            await act(partial(reminders.deadline_reminders_send, now=task.deadline + when))
            mine = await _receive(handler_ws)
            assert (mine["event"], mine["speak"]) == (kind, kind)
            hotline = await _receive(hotline_ws)
            assert (hotline["event"], hotline["speak"]) == (kind, None)
        await hotline_ws.disconnect()
        await handler_ws.disconnect()

    async_to_sync(scenario)()


def test_nobody_hears_their_own_action(
    supervisor: User,
    hotline: Department,
    leak: Category,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    """A supervisor may handle the hotline centre's own tasks: they hear a colleague dispatch
    one to it, not their own dispatch."""
    act = _committed(django_capture_on_commit_callbacks)
    colleague = make_user("2002", "dispatcher", department=hotline)
    first, second = new_order(supervisor, leak), new_order(supervisor, leak)

    async def scenario() -> None:
        ws = await _connect(supervisor)
        await act(
            lambda: services.workorder_dispatch(
                actor=supervisor, order=first, departments=[hotline]
            )
        )
        own = await _receive(ws)
        assert (own["order"], own["speak"]) == (first.pk, None)
        await act(
            lambda: services.workorder_dispatch(
                actor=colleague, order=second, departments=[hotline]
            )
        )
        theirs = await _receive(ws)
        assert (theirs["order"], theirs["speak"]) == (second.pk, "dispatched")
        await ws.disconnect()

    async_to_sync(scenario)()


def test_nobody_hears_anything_while_the_system_parameter_is_off(
    agent: User,
    handler: User,
    repair: Department,
    leak: Category,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    act = _committed(django_capture_on_commit_callbacks)
    Parameter.objects.create(key="business.voice_reminders", value=False)
    invalidate_cache()
    order = new_order(agent, leak)

    async def scenario() -> None:
        handler_ws = await _connect(handler)
        await act(
            lambda: services.workorder_dispatch(actor=agent, order=order, departments=[repair])
        )
        message = await _receive(handler_ws)
        assert (message["event"], message["speak"]) == ("dispatched", None)
        await handler_ws.disconnect()

    async_to_sync(scenario)()


# --- permission re-checked while connected ----------------------------------------------------


@pytest.fixture
def recheck_always(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(consumers, "RECHECK_SECONDS", 0.0)


@pytest.mark.parametrize("change", ["deactivated", "logged_out", "permission_removed"])
def test_a_user_who_lost_access_is_disconnected(
    change: str,
    recheck_always: None,
    agent: User,
    handler: User,
    repair: Department,
    leak: Category,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    from django.contrib.sessions.models import Session

    act = _committed(django_capture_on_commit_callbacks)
    order = new_order(agent, leak)

    def take_access_away() -> None:
        if change == "deactivated":
            User.objects.filter(pk=handler.pk).update(is_active=False)
        elif change == "logged_out":
            Session.objects.all().delete()
        else:
            User.objects.get(pk=handler.pk).groups.clear()

    async def scenario() -> None:
        handler_ws = await _connect(handler)
        await sync_to_async(take_access_away)()
        await act(
            lambda: services.workorder_dispatch(actor=agent, order=order, departments=[repair])
        )
        output = await handler_ws.receive_output(timeout=5)
        assert output == {"type": "websocket.close", "code": consumers.CLOSE_NOT_ALLOWED}

    async_to_sync(scenario)()


def test_a_handler_moved_to_another_department_no_longer_gets_the_old_ones_events(
    recheck_always: None,
    agent: User,
    handler: User,
    repair: Department,
    quality: Department,
    leak: Category,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    act = _committed(django_capture_on_commit_callbacks)
    old, new = new_order(agent, leak), new_order(agent, leak)

    async def scenario() -> None:
        handler_ws = await _connect(handler)
        await sync_to_async(lambda: User.objects.filter(pk=handler.pk).update(department=quality))()
        await act(lambda: services.workorder_dispatch(actor=agent, order=old, departments=[repair]))
        # Down both groups: it comes through whichever the handler is in at that moment.
        await _next_is_marker(handler_ws, f"department_{repair.pk}", f"department_{quality.pk}")
        # The repair event (before the marker) made the consumer change groups.
        await act(
            lambda: services.workorder_dispatch(actor=agent, order=new, departments=[quality])
        )
        assert (await _receive(handler_ws))["order"] == new.pk
        await handler_ws.disconnect()

    async_to_sync(scenario)()


# --- embedded mode: events recorded by another process ----------------------------------------


def test_the_relay_pushes_events_that_another_process_recorded(
    monkeypatch: pytest.MonkeyPatch,
    agent: User,
    handler: User,
    quality_handler: User,
    repair: Department,
    quality: Department,
    leak: Category,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    monkeypatch.setattr(consumers.EventRelay, "wanted", staticmethod(lambda: True))
    monkeypatch.setattr(consumers.relay, "interval", 0.02)
    order = new_order(agent, leak)

    def dispatch_without_push() -> None:
        # As in the worker process: recorded here, but its push never reaches this process.
        with django_capture_on_commit_callbacks(execute=False):
            services.workorder_dispatch(actor=agent, order=order, departments=[repair])

    async def scenario() -> None:
        handler_ws, quality_ws = await _connect(handler), await _connect(quality_handler)
        deadline = asyncio.get_running_loop().time() + 5
        while not consumers.relay.started:
            assert asyncio.get_running_loop().time() < deadline, "the relay did not start"
            await asyncio.sleep(0.01)
        await sync_to_async(dispatch_without_push)()
        message = await _receive(handler_ws)
        assert (message["event"], message["order"]) == ("dispatched", order.pk)
        await _next_is_marker(quality_ws, f"department_{quality.pk}")
        await handler_ws.disconnect()
        await quality_ws.disconnect()
        assert not consumers.relay.started  # stopped with the last browser

    async_to_sync(scenario)()
    assert DepartmentTask.objects.filter(order=order).count() == 1
    assert WorkOrder.objects.get(pk=order.pk).status == WorkOrder.Status.PROCESSING
