"""A real browser (Chromium) on the whole ASGI application: a supervisor publishes an announcement
to a department in their browser; the open page of a member of a sub-department shows it at once
with the unread badge one higher, without a reload; a colleague in another department sees
nothing of it.

Needs the notices route in `aqualine/routing.py` and `{% notices_badge %}` in `base.html`."""

from __future__ import annotations

from importlib import import_module
from typing import Any

import pytest
from django.apps import apps

from aqualine.accounts.models import Department, User
from aqualine.conftest import PASSWORD, AsgiLiveServer, ensure_seeded_roles, run_in_thread
from aqualine.notices.models import NoticeType

from .conftest import publish

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _types_after_flush(db: None) -> None:
    """A transactional test starts from empty tables: roles, grants and types again."""
    ensure_seeded_roles()
    migration = import_module("aqualine.notices.migrations.0002_grant_roles_and_types")
    migration.grant(apps, None)
    migration.seed_types(apps, None)


def _log_in(page: Any, base: str, agent_id: str) -> None:
    page.goto(f"{base}/login/")
    page.locator("input[name=username]").fill(agent_id)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"{base}/")


def _open_home(page: Any, base: str, agent_id: str) -> None:
    _log_in(page, base, agent_id)
    assert page.locator("#aq-notices-live").count() == 1, "base.html lacks {% notices_badge %}"
    page.locator("#aq-notices-live[data-state=open]").wait_for(state="attached")
    page.evaluate("window.__notReloaded = true")


def _badge(page: Any) -> str | None:
    count = page.locator("#aq-notices-count")
    return None if count.get_attribute("hidden") is not None else count.inner_text()


def test_a_published_announcement_appears_live_with_the_badge_incremented(
    asgi_live_server: AsgiLiveServer,
    new_page: Any,
    supervisor: User,
    east_handler: User,
    billing_clerk: User,
    repair: Department,
) -> None:
    from aqualine.routing import websocket_urlpatterns

    routes = [str(p.pattern) for p in websocket_urlpatterns]
    assert "ws/notices/" in routes, "aqualine/routing.py lacks the notices route"
    base = asgi_live_server.url
    notice_type = NoticeType.objects.get(name="通知")
    run_in_thread(lambda: publish(supervisor, notice_type, people=[east_handler], title="旧公告"))

    member = new_page()  # in 东区维修班, below 管网维修部
    _open_home(member, base, east_handler.agent_id)
    assert _badge(member) == "1"
    colleague = new_page()  # in 营业收费部
    _open_home(colleague, base, billing_clerk.agent_id)
    assert _badge(colleague) is None

    publisher = new_page()
    _log_in(publisher, base, supervisor.agent_id)
    publisher.goto(f"{base}/notices/new/")
    publisher.locator("select[name=notice_type]").select_option(label="通知")
    publisher.locator("input[name=title]").fill("今晚22点起东区管网检修")
    publisher.locator("textarea[name=body]").fill("请各班组做好应急准备。\n检修期间注意接听来电。")
    publisher.locator(f"input[name=departments][value='{repair.pk}']").check()
    publisher.locator("form.notices-form button[type=submit]").click()
    publisher.wait_for_url(f"{base}/notices/*/receipts/")

    toast = member.locator("#aq-notices-toasts .notices-toast")
    toast.wait_for()
    assert toast.get_by_role("link").inner_text() == "今晚22点起东区管网检修"
    member.wait_for_function(
        "document.getElementById('aq-notices-count').textContent === '2'", timeout=15_000
    )
    assert _badge(member) == "2"
    assert member.evaluate("window.__notReloaded") is True

    # The colleague in another department heard nothing: the next thing their page gets is an
    # announcement meant for someone there by name.
    run_in_thread(
        lambda: publish(supervisor, notice_type, people=[billing_clerk], title="收费通知")
    )
    colleague.locator("#aq-notices-toasts .notices-toast").wait_for()
    assert colleague.locator("#aq-notices-toasts .notices-toast").count() == 1
    assert "收费通知" in colleague.locator("#aq-notices-toasts").inner_text()
    assert "检修" not in colleague.locator("#aq-notices-toasts").inner_text()
    assert _badge(colleague) == "1"

    # Reading it: the page opens, the receipt is recorded, the badge goes down.
    toast.get_by_role("link").click()
    member.wait_for_url(f"{base}/notices/*/")
    assert "检修期间注意接听来电" in member.locator("#notice-body").inner_text()
    assert _badge(member) == "1"
    publisher.reload()
    assert east_handler.agent_id in publisher.locator("#receipts-read").inner_text()
