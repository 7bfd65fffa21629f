"""Customers shared by the tests of this app."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from aqualine.accounts.models import User
from aqualine.conftest import make_user
from aqualine.customers.models import Account, AccountPhone, Area, Bill, Meter


@pytest.fixture
def areas(db: None) -> dict[str, Area]:
    return {
        "east": Area.objects.create(code="dongcheng", name="东城片区", sort_order=0),
        "west": Area.objects.create(code="xicheng", name="西城片区", sort_order=1),
        "dev": Area.objects.create(code="kaifaqu", name="开发区", sort_order=2),
    }


def make_account(
    number: str,
    name: str,
    address: str,
    area: Area | None,
    phones: tuple[str, ...] = (),
    status: str = Account.Status.ACTIVE,
) -> Account:
    account = Account.objects.create(
        number=number, name=name, address=address, area=area, status=status
    )
    for phone in phones:
        AccountPhone.objects.create(account=account, number=phone)
    return account


def bill(account: Account, period: str, amount: str, paid: str, due: date) -> Bill:
    return Bill.objects.create(
        account=account,
        period=period,
        usage_m3=Decimal(amount) / Decimal("3.45"),
        amount=Decimal(amount),
        paid=Decimal(paid),
        due_date=due,
    )


@pytest.fixture
def customers(areas: dict[str, Area]) -> dict[str, Account]:
    zhang = make_account(
        "1000000001",
        "张建国",
        "东城区幸福路8号幸福小区3栋2单元301室",
        areas["east"],
        ("13800138000", "057188886666"),
    )
    Meter.objects.create(
        account=zhang,
        number="100000000101",
        caliber_mm=20,
        kind=Meter.Kind.MECHANICAL,
        installed_on=date(2019, 5, 12),
        last_reading=Decimal("1234.50"),
        last_read_on=date(2025, 3, 28),
    )
    li = make_account(
        "1000000002",
        "李秀英",
        "东城区幸福路8号幸福小区5栋1单元102室",
        areas["east"],
        ("13912345678",),
    )
    wang = make_account(
        "1000000003",
        "王建华",
        "西城区文化路9号文苑小区2栋1单元301室",
        areas["west"],
        ("13800138000",),
        status=Account.Status.CLOSED,
    )
    zhao = make_account(
        "1000000004",
        "赵志强",
        "开发区创业大道42号蓝湾小区7栋2单元1101室",
        areas["dev"],
        ("18611112222",),
    )
    return {"zhang": zhang, "li": li, "wang": wang, "zhao": zhao}


@pytest.fixture
def supervisor(db: None) -> User:
    return make_user("1009", "supervisor", name="班长")


@pytest.fixture
def dispatcher(db: None) -> User:
    return make_user("2001", "dispatcher", name="陈静")
