"""A real browser: an agent looks a caller up by a fragment of the address and sees the arrears."""

from __future__ import annotations

from datetime import date, timedelta
from importlib import import_module
from typing import Any

import pytest
from django.apps import apps

from aqualine.conftest import PASSWORD, ensure_seeded_roles, make_user
from aqualine.customers.models import Account, Area

from .conftest import bill

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def agent_with_lookup(db: None) -> Any:
    # A live-server test may run after another one flushed the tables: seed the roles again
    # with this app's grants.
    ensure_seeded_roles()
    import_module("aqualine.customers.migrations.0003_grant_roles").grant(apps, None)
    return make_user("1002", "agent", name="李娜")


def test_an_agent_finds_a_customer_by_address_fragment_and_sees_the_arrears(
    live_server: Any,
    new_page: Any,
    agent_with_lookup: Any,
    customers: dict[str, Account],
    areas: dict[str, Area],
) -> None:
    today = date.today()
    zhang = customers["zhang"]
    bill(zhang, "2025-01", "41.40", "41.40", today - timedelta(days=60))
    bill(zhang, "2025-02", "53.48", "0", today - timedelta(days=30))
    bill(zhang, "2025-03", "34.50", "10.00", today - timedelta(days=1))
    bill(zhang, "2025-04", "20.00", "0", today + timedelta(days=20))  # not yet due

    page = new_page()
    base = live_server.url
    page.goto(f"{base}/login/")
    page.get_by_label("工号").fill("1002")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")

    page.locator("nav.sidebar").get_by_role("link", name="客户查询").click()
    page.get_by_role("searchbox", name="查询").fill("幸福小区")
    page.get_by_role("button", name="查询").click()
    results = page.locator("table.list tbody tr")
    results.first.wait_for()
    assert results.count() == 2
    assert page.get_by_role("cell", name="李秀英").is_visible()

    page.get_by_role("link", name="1000000001").click()
    page.get_by_role("heading", name="欠费").wait_for()
    assert page.locator("#arrears-total").inner_text() == "¥77.98"  # 53.48 + 24.50
    assert page.get_by_text("共 2 笔欠费账单").is_visible()
    assert page.get_by_role("cell", name="东城区幸福路8号幸福小区3栋2单元301室").is_visible()
    assert page.get_by_text("100000000101").is_visible()
