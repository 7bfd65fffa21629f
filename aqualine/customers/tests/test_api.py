"""Customer lookup through the JSON API: the page's rules, with meters and arrears."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from rest_framework.test import APIClient

from aqualine.accounts.models import User
from aqualine.api.testing import api_client_for
from aqualine.conftest import make_user
from aqualine.customers.models import Account, Area, OutageNotice

from .conftest import bill

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/customers/"


@pytest.fixture
def agent(db: None) -> User:
    return make_user("1001", "agent", name="张敏")


def zh(message: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(message)


def found(response: object) -> list[str]:
    assert response.status_code == 200, response.content  # type: ignore[attr-defined]
    return [row["number"] for row in response.json()["results"]]  # type: ignore[attr-defined]


def test_it_finds_accounts_by_number_phone_address_and_name(
    customers: dict[str, Account], agent: User
) -> None:
    client = api_client_for(agent)
    assert found(client.get(SEARCH, {"q": "1000000004"})) == ["1000000004"]
    assert found(client.get(SEARCH, {"q": "+86 138-0013-8000", "by": "phone"})) == [
        "1000000001",
        "1000000003",
    ]
    assert found(client.get(SEARCH, {"q": "幸福小区", "by": "address"})) == [
        "1000000001",
        "1000000002",
    ]
    assert found(client.get(SEARCH, {"q": "张建", "by": "name"})) == ["1000000001"]
    assert found(client.get(SEARCH, {"q": "不存在的小区"})) == []


def test_each_result_has_its_phones_meters_and_arrears(
    customers: dict[str, Account], agent: User
) -> None:
    today = timezone.localdate()
    zhang = customers["zhang"]
    bill(zhang, "2025-01", "86.50", "0", today - timedelta(days=40))
    bill(zhang, "2025-02", "40.00", "10.00", today - timedelta(days=10))
    bill(zhang, "2025-03", "55.00", "0", today + timedelta(days=20))  # not yet due
    body = api_client_for(agent).get(SEARCH, {"q": "1000000001"}).json()
    assert body["count"] == 1 and body["truncated"] is False and body["by"] == "auto"
    (row,) = body["results"]
    assert row["name"] == "张建国" and row["area"]["name"] == "东城片区"
    assert row["phones"] == ["13800138000", "057188886666"]
    assert row["arrears"] == "116.50"
    (meter,) = row["meters"]
    assert meter["number"] == "100000000101" and meter["last_reading"] == "1234.50"
    assert meter["kind"] == "mechanical" and meter["kind_label"] == zh("Mechanical")
    assert row["url"] == f"/api/v1/customers/{zhang.pk}/"


def test_an_account_with_its_overdue_bills_and_outages(
    customers: dict[str, Account], agent: User, areas: dict[str, Area]
) -> None:
    today = timezone.localdate()
    zhang = customers["zhang"]
    bill(zhang, "2025-01", "86.50", "0", today - timedelta(days=40))
    bill(zhang, "2025-03", "55.00", "0", today + timedelta(days=20))
    now = timezone.now()
    notice = OutageNotice.objects.create(
        reason="管道抢修",
        starts_at=now - timedelta(hours=1),
        expected_end_at=now + timedelta(hours=5),
        status=OutageNotice.Status.ACTIVE,
    )
    notice.areas.add(areas["east"])
    response = api_client_for(agent).get(f"/api/v1/customers/{zhang.pk}/")
    assert "no-store" in response.headers["Cache-Control"]  # personal data: never cached
    body = response.json()
    assert body["arrears"] == "86.50"
    detail = body["arrears_detail"]
    assert detail["total"] == "86.50" and detail["months"] == 1
    assert detail["not_yet_due"] == "55.00"
    assert [b["period"] for b in detail["overdue_bills"]] == ["2025-01"]
    (outage,) = body["outages"]
    assert outage["in_effect"] is True and "管道抢修" in outage["text"]
    assert api_client_for(agent).get("/api/v1/customers/999999/").status_code == 404


def test_a_query_the_page_would_refuse_gets_400_in_chinese(
    customers: dict[str, Account], agent: User
) -> None:
    client = api_client_for(agent, language="zh-hans")
    short = client.get(SEARCH, {"q": "张"})
    assert short.status_code == 400
    assert short.json() == {"q": [zh("Enter at least 2 characters.")]}
    assert re.search(r"[\u4e00-\u9fff]", short.json()["q"][0])
    phone = client.get(SEARCH, {"q": "123", "by": "phone"})
    assert phone.json() == {"q": [zh("Enter a phone number of at least 5 digits.")]}
    assert client.get(SEARCH).status_code == 400
    assert set(client.get(SEARCH, {"q": "幸福", "by": "nonsense"}).json()) == {"by"}
    english = api_client_for(agent, language="en").get(SEARCH, {"q": "张"}).json()
    assert english == {"q": ["Enter at least 2 characters."]}


def test_lookup_needs_a_token_and_the_permission(
    customers: dict[str, Account], outsider: User
) -> None:
    assert APIClient().get(SEARCH, {"q": "1000000001"}).status_code == 401
    assert api_client_for(outsider).get(SEARCH, {"q": "1000000001"}).status_code == 403
    account = customers["zhang"]
    assert api_client_for(outsider).get(f"/api/v1/customers/{account.pk}/").status_code == 403
