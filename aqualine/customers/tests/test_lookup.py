from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client

from aqualine.accounts.models import User
from aqualine.conftest import client_for
from aqualine.customers.models import Account, normalize_phone
from aqualine.customers.selectors import SearchBy, customer_for_phone, customer_search

from .conftest import bill

pytestmark = pytest.mark.django_db


def _numbers(accounts: list[Account]) -> list[str]:
    return [a.number for a in accounts]


def test_it_finds_an_account_by_its_exact_number(customers: dict[str, Account]) -> None:
    assert _numbers(customer_search(query="1000000001", by=SearchBy.NUMBER).accounts) == [
        "1000000001"
    ]
    assert customer_search(query="100000000", by=SearchBy.NUMBER).accounts == []
    assert _numbers(customer_search(query=" 1000000004 ").accounts) == ["1000000004"]


def test_it_finds_accounts_by_a_chinese_address_fragment(customers: dict[str, Account]) -> None:
    found = customer_search(query="幸福小区", by=SearchBy.ADDRESS).accounts
    assert _numbers(found) == ["1000000001", "1000000002"]
    assert _numbers(customer_search(query="幸福小区3栋2单元", by=SearchBy.ADDRESS).accounts) == [
        "1000000001"
    ]
    assert _numbers(customer_search(query="蓝湾小区").accounts) == ["1000000004"]
    assert customer_search(query="不存在的小区", by=SearchBy.ADDRESS).accounts == []


def test_it_finds_accounts_by_the_holders_name(customers: dict[str, Account]) -> None:
    assert _numbers(customer_search(query="张建国", by=SearchBy.NAME).accounts) == ["1000000001"]
    assert _numbers(customer_search(query="王建华").accounts) == ["1000000003"]
    # Short fragments match the start of the name (surname, or surname and first character).
    assert _numbers(customer_search(query="张建", by=SearchBy.NAME).accounts) == ["1000000001"]
    assert _numbers(customer_search(query="赵", by=SearchBy.NAME).accounts) == ["1000000004"]
    assert customer_search(query="建国", by=SearchBy.NAME).accounts == []


def test_it_finds_accounts_by_phone_however_the_number_is_written(
    customers: dict[str, Account],
) -> None:
    for written in ("13800138000", "+86 138-0013-8000", "008613800138000", "013800138000"):
        assert _numbers(customer_search(query=written, by=SearchBy.PHONE).accounts) == [
            "1000000001",
            "1000000003",
        ], written
    assert _numbers(customer_search(query="0571-8888 6666").accounts) == ["1000000001"]


def test_phone_numbers_are_normalised_to_their_digits() -> None:
    assert normalize_phone("+86 138-0013-8000") == "13800138000"
    assert normalize_phone("(0571) 8888-6666") == "057188886666"
    assert normalize_phone("86 0571 88886666") == "86057188886666"  # not a mobile: kept
    assert normalize_phone("") == ""


def test_customer_for_phone_puts_accounts_in_service_first(customers: dict[str, Account]) -> None:
    assert _numbers(customer_for_phone("13800138000")) == ["1000000001", "1000000003"]
    customers["zhang"].status = Account.Status.SUSPENDED
    customers["zhang"].save()
    assert _numbers(customer_for_phone("+8613800138000")) == ["1000000001", "1000000003"]
    customers["wang"].status = Account.Status.ACTIVE
    customers["wang"].save()
    assert _numbers(customer_for_phone("13800138000")) == ["1000000003", "1000000001"]
    assert customer_for_phone("10086") == []
    assert customer_for_phone("") == []


def test_a_long_result_is_cut_and_says_so(customers: dict[str, Account]) -> None:
    result = customer_search(query="小区", by=SearchBy.ADDRESS, limit=2)
    assert len(result.accounts) == 2 and result.truncated


def test_the_lookup_page_lists_matches_with_their_arrears(
    customers: dict[str, Account], agent: User
) -> None:
    today = date.today()
    bill(customers["li"], "2024-01", "80.00", "0", today - timedelta(days=10))
    page = client_for(agent).get("/customers/", {"q": "幸福小区"}).content.decode()
    assert "张建国" in page and "李秀英" in page and "王建华" not in page
    assert "80.00" in page


def test_one_match_opens_the_account(customers: dict[str, Account], agent: User) -> None:
    response = client_for(agent).get("/customers/", {"q": "1000000004"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/customers/{customers['zhao'].pk}/"


def test_too_short_a_fragment_is_refused_in_chinese(
    customers: dict[str, Account], agent: User
) -> None:
    page = client_for(agent).get("/customers/", {"q": "幸", "by": "address"}).content.decode()
    assert "请至少输入 2 个字符" in page


def test_the_json_lookup_returns_accounts_for_the_intake_page(
    customers: dict[str, Account], agent: User
) -> None:
    body = client_for(agent).get("/customers/lookup.json", {"q": "13800138000"}).json()
    assert body["count"] == 2 and body["truncated"] is False
    first = body["results"][0]
    assert first["number"] == "1000000001"
    assert first["name"] == "张建国"
    assert first["area"] == {"code": "dongcheng", "name": "东城片区"}
    assert first["phones"] == ["13800138000", "057188886666"]
    assert first["arrears"] == "0.00"
    assert first["url"] == f"/customers/{customers['zhang'].pk}/"


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({}, "这个字段是必填项"),
        ({"q": ""}, "这个字段是必填项"),
        ({"q": "幸"}, "请至少输入 2 个字符"),
        ({"q": "12", "by": "phone"}, "请输入至少 5 位数字的电话号码"),
        ({"q": "张三", "by": "bogus"}, "不在可用的选项中"),
        ({"q": "x" * 101}, "不超过 100 字符"),
    ],
)
def test_the_json_lookup_answers_bad_input_with_400_and_a_reason(
    agent: User, params: dict[str, str], reason: str
) -> None:
    response = client_for(agent).get("/customers/lookup.json", params)
    assert response.status_code == 400
    assert reason in response.json()["error"]


def test_the_json_lookup_needs_the_permission(outsider: User) -> None:
    assert Client().get("/customers/lookup.json", {"q": "13800138000"}).status_code == 302
    assert client_for(outsider).get("/customers/lookup.json", {"q": "1"}).status_code == 403
