"""Order numbers (unique, sequential per day, also under a burst of concurrent intakes) and the
real-time push, scheduled only when the transaction commits."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, connections, transaction
from django.utils import timezone

from aqualine.accounts.models import Department, User
from aqualine.conftest import make_user
from aqualine.workorders import events, services
from aqualine.workorders.models import Category, OrderEvent, WorkOrder
from aqualine.workorders.tests.conftest import ensure_seeded_categories, new_order

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.django_db
def test_numbers_are_sequential_per_local_day(
    agent: User, leak: Category, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 23:30 in Shanghai on 1 July is still 1 July there (15:30 UTC).
    monkeypatch.setattr(timezone, "now", lambda: datetime(2025, 7, 1, 23, 30, tzinfo=SHANGHAI))
    numbers = [new_order(agent, leak).number for _ in range(3)]
    assert numbers == ["GD202507010001", "GD202507010002", "GD202507010003"]
    monkeypatch.setattr(timezone, "now", lambda: datetime(2025, 7, 2, 0, 5, tzinfo=SHANGHAI))
    assert new_order(agent, leak).number == "GD202507020001"


@pytest.mark.django_db
def test_a_burst_of_intakes_gets_unique_consecutive_numbers(agent: User, leak: Category) -> None:
    numbers = [new_order(agent, leak).number for _ in range(50)]
    assert len(set(numbers)) == 50
    assert [int(n[-4:]) for n in numbers] == list(range(1, 51))


@pytest.mark.django_db(transaction=True)
def test_concurrent_intakes_never_share_a_number() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("threads need a server database (an in-memory SQLite test DB is per thread)")
    from aqualine.conftest import ensure_seeded_roles

    ensure_seeded_roles()
    ensure_seeded_categories()
    hotline = Department.objects.create(name="热线中心", code="hotline")
    agent = make_user("1001", "agent", department=hotline)
    leak = Category.objects.get(code="leak-pipe")
    numbers: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def intake() -> None:
        try:
            start.wait(timeout=10)
            for _ in range(5):
                numbers.append(new_order(agent, leak).number)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=intake) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(numbers) == 40
    assert sorted(int(n[-4:]) for n in numbers) == list(range(1, 41))


# --- push on commit ---------------------------------------------------------------------------


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[OrderEvent]:
    sent: list[OrderEvent] = []
    monkeypatch.setattr(events, "publish_order_event", sent.append)
    return sent


@pytest.mark.django_db
def test_events_are_published_only_when_the_transaction_commits(
    agent: User,
    repair: Department,
    leak: Category,
    published: list[OrderEvent],
    django_capture_on_commit_callbacks: Callable,
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order = new_order(agent, leak)
        services.workorder_dispatch(actor=agent, order=order, departments=[repair])
    assert published == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert [e.type for e in published] == ["created", "dispatched"]


@pytest.mark.django_db
def test_nothing_is_published_when_the_transaction_rolls_back(
    agent: User,
    leak: Category,
    published: list[OrderEvent],
    django_capture_on_commit_callbacks: Callable,
) -> None:
    class Boom(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        new_order(agent, leak)
        raise Boom
    assert published == []
    assert not WorkOrder.objects.exists()


@pytest.mark.django_db
def test_publish_sends_to_the_hotline_and_the_department_groups(
    agent: User,
    repair: Department,
    leak: Category,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    layer = get_channel_layer()
    assert layer is not None
    hotline_channel = async_to_sync(layer.new_channel)()
    repair_channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("workorders", hotline_channel)
    async_to_sync(layer.group_add)(f"department_{repair.pk}", repair_channel)

    async def receive(channel: str) -> dict:
        return await asyncio.wait_for(layer.receive(channel), timeout=5)

    try:
        order = new_order(agent, leak)
        with django_capture_on_commit_callbacks(execute=True):
            services.workorder_dispatch(actor=agent, order=order, departments=[repair])
        for channel in (hotline_channel, repair_channel):
            message = async_to_sync(receive)(channel)
            assert message["type"] == "workorder.event"
            assert (message["event"], message["number"], message["status"]) == (
                "dispatched",
                order.number,
                "processing",
            )
            assert message["department"] == repair.pk
    finally:
        async_to_sync(layer.group_discard)("workorders", hotline_channel)
        async_to_sync(layer.group_discard)(f"department_{repair.pk}", repair_channel)


@pytest.mark.django_db
def test_publish_is_harmless_without_a_channel_layer(
    agent: User, leak: Category, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = new_order(agent, leak)
    monkeypatch.setattr(events, "get_channel_layer", lambda: None)
    events.publish_order_event(OrderEvent.objects.filter(order=order).get())
