"""A real browser (Chromium) on the whole ASGI application: the order list refreshes itself when
an order is dispatched to the handler's department, and the handler hears a spoken reminder —
unless they turned voice reminders off."""

from __future__ import annotations

from typing import Any

import pytest

from aqualine.accounts.models import Department, User
from aqualine.conftest import PASSWORD, AsgiLiveServer, run_in_thread
from aqualine.workorders import services
from aqualine.workorders.models import Category, WorkOrder
from aqualine.workorders.tests.conftest import new_order

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    # WhiteNoise hands static files to Django's ASGI handler as a synchronous iterator.
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]

# Replaces speechSynthesis.speak before the page's scripts run; records what would be said.
SPY = """
window.__spoken = [];
if (window.speechSynthesis) {
  window.speechSynthesis.speak = function (utterance) {
    window.__spoken.push({text: utterance.text, lang: utterance.lang});
  };
}
"""


def _open_list_as(page: Any, base: str, agent_id: str) -> None:
    page.add_init_script(SPY)
    page.goto(f"{base}/login/")
    page.get_by_label("工号").fill(agent_id)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/workorders/")
    page.locator("#aq-live[data-state=open]").wait_for(state="attached")
    page.evaluate("window.__notReloaded = true")


def _dispatch(agent: User, order: WorkOrder, department: Department) -> None:
    run_in_thread(
        lambda: services.workorder_dispatch(actor=agent, order=order, departments=[department])
    )


def _row(page: Any, order: WorkOrder) -> Any:
    return page.locator("#order-list").get_by_role("link", name=order.number)


def test_a_dispatched_order_appears_on_the_handlers_list_and_is_announced(
    asgi_live_server: AsgiLiveServer,
    new_page: Any,
    agent: User,
    handler: User,
    repair: Department,
    leak: Category,
) -> None:
    order = run_in_thread(lambda: new_order(agent, leak))
    page = new_page()
    _open_list_as(page, asgi_live_server.url, handler.agent_id)
    assert _row(page, order).count() == 0  # not dispatched yet: not the handler's order

    _dispatch(agent, order, repair)

    _row(page, order).wait_for()
    assert page.evaluate("window.__notReloaded") is True
    page.wait_for_function("window.__spoken.length > 0")
    spoken = page.evaluate("window.__spoken")
    spaced = " ".join(order.number)
    assert spoken == [{"text": f"有新的工单，单号 {spaced}", "lang": "zh-CN"}]


def test_with_voice_reminders_off_the_list_refreshes_in_silence(
    asgi_live_server: AsgiLiveServer,
    new_page: Any,
    agent: User,
    handler: User,
    repair: Department,
    leak: Category,
) -> None:
    first = run_in_thread(lambda: new_order(agent, leak))
    second = run_in_thread(lambda: new_order(agent, leak))
    page = new_page()
    _open_list_as(page, asgi_live_server.url, handler.agent_id)

    # The handler turns voice reminders off with the switch in the top bar.
    page.get_by_role("button", name="语音提醒：开").click()
    page.get_by_role("button", name="语音提醒：关").wait_for()
    handler.refresh_from_db()
    assert handler.voice_reminders is False

    _dispatch(agent, first, repair)
    _row(page, first).wait_for()
    assert page.evaluate("window.__notReloaded") is True
    assert page.evaluate("window.__spoken") == []

    # The setting holds on the next page too.
    page.reload()
    page.locator("#aq-live[data-state=open]").wait_for(state="attached")
    assert page.get_by_role("button", name="语音提醒：关").is_visible()
    _dispatch(agent, second, repair)
    _row(page, second).wait_for()
    assert page.evaluate("window.__spoken") == []


def test_a_region_being_edited_is_not_swapped_but_offers_the_changes(
    asgi_live_server: AsgiLiveServer,
    new_page: Any,
    agent: User,
    handler: User,
    repair: Department,
    leak: Category,
) -> None:
    order = run_in_thread(lambda: new_order(agent, leak))
    page = new_page()
    _open_list_as(page, asgi_live_server.url, handler.agent_id)
    # A form inside the region, as on an order's detail page; the user starts typing.
    page.evaluate(
        """() => {
          const box = document.createElement('textarea');
          box.id = 'draft';
          document.getElementById('order-list').appendChild(box);
        }"""
    )
    page.locator("#draft").fill("已到现场，正在")

    _dispatch(agent, order, repair)

    notice = page.locator("#order-list .live-notice")
    notice.wait_for()
    assert "此工单刚被他人更新" in notice.inner_text()
    assert page.locator("#draft").input_value() == "已到现场，正在"
    assert _row(page, order).count() == 0

    notice.get_by_role("button", name="显示更新").click()
    _row(page, order).wait_for()
    assert page.locator("#draft").count() == 0  # the user chose to take the new version
    assert page.evaluate("window.__notReloaded") is True


def test_the_page_reconnects_after_a_server_restart_and_catches_up(
    asgi_live_server: AsgiLiveServer,
    new_page: Any,
    agent: User,
    handler: User,
    repair: Department,
    leak: Category,
) -> None:
    order = run_in_thread(lambda: new_order(agent, leak))
    page = new_page()
    _open_list_as(page, asgi_live_server.url, handler.agent_id)

    asgi_live_server.stop()
    page.locator("#aq-live[data-state=closed]").wait_for(state="attached")
    _dispatch(agent, order, repair)  # while the server is down: nobody is told
    asgi_live_server.start()

    page.locator("#aq-live[data-state=open]").wait_for(state="attached")
    _row(page, order).wait_for()  # refreshed on reconnecting
    assert page.evaluate("window.__notReloaded") is True
