"""Arrears (欠费) are the unpaid part of the bills whose due date has passed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from aqualine.accounts.models import User
from aqualine.conftest import client_for
from aqualine.customers.models import Account
from aqualine.customers.selectors import account_arrears, arrears_by_account

from .conftest import bill

pytestmark = pytest.mark.django_db

TODAY = date(2025, 4, 1)


@pytest.fixture
def zhang_bills(customers: dict[str, Account]) -> Account:
    zhang = customers["zhang"]
    bill(zhang, "2024-10", "20.00", "30.00", date(2024, 11, 25))  # overpaid: owes nothing
    bill(zhang, "2024-11", "10.00", "0", date(2025, 4, 1))  # due today: not yet in arrears
    bill(zhang, "2024-12", "60.00", "25.50", date(2025, 1, 25))  # part paid: owes 34.50
    bill(zhang, "2025-01", "41.40", "41.40", date(2025, 2, 25))  # paid
    bill(zhang, "2025-02", "53.48", "0", date(2025, 3, 25))  # unpaid: owes 53.48
    bill(zhang, "2025-03", "34.50", "0", date(2025, 4, 25))  # not yet due
    return zhang


def test_arrears_add_up_the_unpaid_part_of_overdue_bills(zhang_bills: Account) -> None:
    arrears = account_arrears(account=zhang_bills, today=TODAY)
    assert arrears.total == Decimal("87.98")  # 34.50 + 53.48
    assert [b.period for b in arrears.overdue_bills] == ["2024-12", "2025-02"]
    assert arrears.months == 2
    assert arrears.oldest_due_date == date(2025, 1, 25)
    assert arrears.not_yet_due == Decimal("44.50")  # 10.00 + 34.50


def test_a_bill_falls_into_arrears_the_day_after_its_due_date(zhang_bills: Account) -> None:
    assert account_arrears(account=zhang_bills, today=date(2025, 4, 2)).total == Decimal("97.98")
    assert account_arrears(account=zhang_bills, today=date(2025, 1, 25)).total == Decimal("0.00")
    assert account_arrears(account=zhang_bills, today=date(2025, 1, 26)).total == Decimal("34.50")


def test_an_account_without_bills_owes_nothing(customers: dict[str, Account]) -> None:
    arrears = account_arrears(account=customers["li"], today=TODAY)
    assert arrears.total == Decimal("0.00") and arrears.overdue_bills == []
    assert arrears.oldest_due_date is None


def test_arrears_of_several_accounts_come_from_one_query(
    zhang_bills: Account, customers: dict[str, Account], django_assert_num_queries
) -> None:
    bill(customers["li"], "2025-01", "12.34", "0", date(2025, 2, 25))
    accounts = [zhang_bills, customers["li"], customers["zhao"]]
    with django_assert_num_queries(1):
        totals = arrears_by_account(accounts=accounts, today=TODAY)
    assert totals == {
        zhang_bills.pk: Decimal("87.98"),
        customers["li"].pk: Decimal("12.34"),
        customers["zhao"].pk: Decimal("0.00"),
    }


def test_the_account_page_shows_meters_bills_and_arrears(zhang_bills: Account, agent: User) -> None:
    page = client_for(agent).get(f"/customers/{zhang_bills.pk}/").content.decode()
    assert "张建国" in page and "东城区幸福路8号幸福小区3栋2单元301室" in page
    assert "13800138000" in page and "东城片区" in page
    assert "100000000101" in page and "1234.50" in page and "机械表" in page
    # Today is later than every due date of the fixture: all four unpaid bills are overdue.
    assert "¥132.48" in page  # 10.00 + 34.50 + 53.48 + 34.50
    assert "共 4 笔欠费账单，最早一笔的缴费截止日为 2025-01-25。" in page
    assert "已缴清" in page and "逾期未缴" in page


def test_an_unknown_account_is_404(agent: User, db: None) -> None:
    assert client_for(agent).get("/customers/999999/").status_code == 404
