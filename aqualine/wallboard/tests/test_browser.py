"""A real browser (Chromium) on the whole ASGI application, at the TV's size: the wallboard
fits 1920×1080 without scrolling, its figures move without a reload when an order is taken,
and it comes back by itself after the server restarts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from aqualine.accounts.models import Department, User
from aqualine.conftest import PASSWORD, AsgiLiveServer, run_in_thread
from aqualine.wallboard import live, selectors
from aqualine.wallboard.tests.conftest import FakeSwitch
from aqualine.workorders.models import Category, DepartmentTask, WorkOrder
from aqualine.workorders.tests.conftest import new_order

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    # WhiteNoise hands static files to Django's ASGI handler as a synchronous iterator.
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]

TV = {"width": 1920, "height": 1080}
NEW_ORDERS = '[data-figure="orders.new"]'


@pytest.fixture(autouse=True)
def producer(monkeypatch: pytest.MonkeyPatch) -> live.SnapshotProducer:
    """The switch is down in these tests (nothing listens on its address)."""
    fresh = live.SnapshotProducer(client_factory=lambda: FakeSwitch(up=False))
    monkeypatch.setattr(live, "producer", fresh)
    return fresh


def _open_wallboard(page: Any, base: str, user: User) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("工号").fill(user.agent_id)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/wallboard/")
    page.locator("#wallboard[data-state=open][data-switch=down]").wait_for(state="attached")
    page.wait_for_function(f"document.querySelector('{NEW_ORDERS}').textContent !== '—'")
    page.evaluate("window.__notReloaded = true")


def _new_orders(page: Any) -> int:
    return int(page.locator(NEW_ORDERS).inner_text())


def _wait_new_orders(page: Any, count: int) -> None:
    page.wait_for_function(f"document.querySelector('{NEW_ORDERS}').textContent === '{count}'")


def test_a_new_order_shows_on_the_wallboard_without_a_reload(
    asgi_live_server: AsgiLiveServer,
    new_page: Any,
    supervisor: User,
    agent: User,
    leak: Category,
) -> None:
    page = new_page(viewport=TV)
    _open_wallboard(page, asgi_live_server.url, supervisor)
    before = _new_orders(page)
    assert before == 0

    run_in_thread(lambda: new_order(agent, leak))

    _wait_new_orders(page, before + 1)
    assert page.evaluate("window.__notReloaded") is True
    assert page.locator('[data-marker="switch-down"]').is_visible()
    assert not page.locator('[data-marker="reconnecting"]').is_visible()


def test_the_wallboard_fits_a_1080p_screen_without_scrollbars(
    asgi_live_server: AsgiLiveServer,
    new_page: Any,
    supervisor: User,
    agent: User,
    leak: Category,
) -> None:
    # A full department table: more departments than it shows, each with orders.
    now = timezone.now()
    for n in range(11):
        department = Department.objects.create(name=f"第{n + 1}供水管理所", code=f"plant{n}")
        for _ in range(n % 3 + 1):
            order = run_in_thread(lambda: new_order(agent, leak))
            WorkOrder.objects.filter(pk=order.pk).update(status=WorkOrder.Status.PROCESSING)
            DepartmentTask.objects.create(
                order=order,
                department=department,
                dispatched_at=now,
                deadline=now - timedelta(hours=n % 2),
            )
    page = new_page(viewport=TV)
    _open_wallboard(page, asgi_live_server.url, supervisor)
    page.locator("[data-departments] tr").nth(selectors.MAX_DEPARTMENTS).wait_for()

    size = page.evaluate(
        """() => ({
          scrollWidth: document.documentElement.scrollWidth,
          scrollHeight: document.documentElement.scrollHeight,
          bodyWidth: document.body.scrollWidth,
          bodyHeight: document.body.scrollHeight,
          innerWidth: window.innerWidth,
          innerHeight: window.innerHeight,
        })"""
    )
    assert (size["innerWidth"], size["innerHeight"]) == (1920, 1080)
    assert size["scrollWidth"] <= 1920 and size["bodyWidth"] <= 1920, size
    assert size["scrollHeight"] <= 1080 and size["bodyHeight"] <= 1080, size
    # Every figure and the last department row are on the screen, and the figures are big.
    outside = page.evaluate(
        """() => [...document.querySelectorAll('[data-figure], [data-departments] tr')]
          .map((el) => [el.dataset.figure || el.textContent, el.getBoundingClientRect()])
          .filter(([, r]) => r.left < 0 || r.top < 0 || r.right > 1920 || r.bottom > 1080)
          .map(([name]) => name)"""
    )
    assert outside == []
    smallest = page.evaluate(
        """() => Math.min(...[...document.querySelectorAll('[data-figure]')]
          .map((el) => parseFloat(getComputedStyle(el).fontSize)))"""
    )
    assert smallest >= 100  # px: a digit about 7 cm tall on a 55-inch TV
    # the busiest departments and one row for the rest
    assert page.locator("[data-departments] tr").count() == selectors.MAX_DEPARTMENTS + 1


def test_the_wallboard_reconnects_after_a_server_restart(
    asgi_live_server: AsgiLiveServer,
    new_page: Any,
    supervisor: User,
    agent: User,
    leak: Category,
) -> None:
    page = new_page(viewport=TV)
    _open_wallboard(page, asgi_live_server.url, supervisor)
    marker = page.locator('[data-marker="reconnecting"]')

    asgi_live_server.stop()
    page.locator("#wallboard[data-state=reconnecting]").wait_for(state="attached")
    assert marker.is_visible()

    run_in_thread(lambda: new_order(agent, leak))  # taken while the server was away
    asgi_live_server.start()

    page.locator("#wallboard[data-state=open]").wait_for(state="attached", timeout=30_000)
    _wait_new_orders(page, 1)
    assert not marker.is_visible()
    assert page.evaluate("window.__notReloaded") is True
