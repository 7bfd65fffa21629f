from __future__ import annotations

import re
from datetime import date

import pytest
from django.core.management import call_command
from django.db.models import F

from aqualine.customers.demo import DEMO_PHONE, load_demo_customers
from aqualine.customers.models import Account, AccountPhone, Area, Bill, Meter, OutageNotice
from aqualine.customers.selectors import (
    account_arrears,
    active_outages_for_area,
    customer_for_phone,
    customer_search,
)
from aqualine.customers.synthetic import billing_periods, generate_customers

pytestmark = pytest.mark.django_db

ADDRESS = re.compile(r"^.+区.+(路|街|大道)\d+号.+\d+栋\d单元\d{3,4}室$")
MOBILE = re.compile(r"^1[358]\d{9}$")


def test_the_generator_makes_realistic_accounts_with_meters_and_a_year_of_bills(capsys) -> None:
    call_command("generate_customers", "--accounts", "300", "--seed", "7", "--batch", "120")
    assert "Generated 300 accounts (2000000001–2000000300)" in capsys.readouterr().out
    assert Account.objects.count() == 300
    assert Area.objects.count() == 6
    for account in Account.objects.all()[:50]:
        assert 2 <= len(account.name) <= 3, account.name
        assert ADDRESS.match(account.address), account.address
        assert account.area is not None and account.area.name[:2] == account.address[:2]
    assert all(MOBILE.match(n) for n in AccountPhone.objects.values_list("number", flat=True))
    assert Meter.objects.count() >= 300
    assert Bill.objects.count() == 300 * 12
    assert set(Bill.objects.values_list("period", flat=True)) == {
        p for p, _due in billing_periods(12, date.today())
    }
    unpaid = Bill.objects.filter(amount__gt=F("paid")).values("account").distinct().count()
    assert 5 <= unpaid <= 60  # some arrears, not many
    owing = Bill.objects.filter(amount__gt=F("paid"), due_date__lt=date.today()).first()
    assert owing is not None and account_arrears(account=owing.account).total > 0


def test_the_same_seed_gives_the_same_customers_and_a_second_run_continues(db: None) -> None:
    generate_customers(accounts=20, seed=3)
    first = list(Account.objects.order_by("number").values_list("name", "address"))
    Account.objects.all().delete()
    generate_customers(accounts=20, seed=3)
    assert list(Account.objects.order_by("number").values_list("name", "address")) == first
    more = generate_customers(accounts=5, seed=4)
    assert (more.first_number, more.last_number) == ("2000000021", "2000000025")
    assert Account.objects.count() == 25


def test_generated_customers_are_found_by_the_lookups(db: None) -> None:
    generate_customers(accounts=50, seed=11)
    account = Account.objects.order_by("number")[17]
    phone = account.phones.first()
    assert phone is not None
    assert account in customer_for_phone(phone.number)
    fragment = account.address[3:]
    assert account in customer_search(query=fragment).accounts


def test_the_demo_has_the_example_caller_and_an_outage_and_loads_twice(db: None) -> None:
    assert load_demo_customers() == 30
    assert load_demo_customers() == 0
    assert Account.objects.count() == 30
    assert set(Area.objects.values_list("name", flat=True)) == {"东城片区", "西城片区", "开发区"}
    [example] = customer_for_phone(DEMO_PHONE)
    assert example.number == "1000000001" and example.area is not None
    assert example.area.name == "东城片区"
    assert account_arrears(account=example).total > 0
    owing = [a for a in Account.objects.all() if account_arrears(account=a).total > 0]
    assert len(owing) >= 5
    assert OutageNotice.objects.count() == 1
    assert len(active_outages_for_area(example.area)) == 1
    assert all(a.meters.exists() and a.bills.count() == 12 for a in Account.objects.all())
