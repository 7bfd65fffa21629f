"""Demo customers (called by `aqualine.demo.load_demo`): three areas, 30 accounts with meters,
12 months of bills (some in arrears) and payments, the account of 13800138000 that the examples
use, and one water-outage notice in effect in 东城片区.

Idempotent: existing accounts and notices are left as they are.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from aqualine.customers.models import (
    ZERO,
    Account,
    AccountPhone,
    Bill,
    Meter,
    OutageNotice,
    Payment,
)
from aqualine.customers.synthetic import (
    DEMO_AREA_CODES,
    ESTATES,
    address,
    billing_periods,
    bills_for,
    ensure_areas,
    meters_for,
    mobile,
    person_name,
)

DEMO_ACCOUNTS = 30
DEMO_PHONE = "13800138000"
DEMO_FIRST_NUMBER = 1000000001
# The account of the examples: phone 13800138000, two months in arrears.
EXAMPLE = {
    "number": "1000000001",
    "name": "张建国",
    "address": "东城区幸福路8号幸福小区3栋2单元301室",
    "area": "dongcheng",
    "phones": [DEMO_PHONE, "057188886666"],
}
CHANNELS = (Payment.Channel.WECHAT, Payment.Channel.ALIPAY, Payment.Channel.COUNTER)


def _payments(rng: random.Random, account: Account, bills: list[Bill]) -> list[Payment]:
    payments = []
    for bill in bills:
        if bill.paid <= 0:
            continue
        day = bill.due_date - timedelta(days=rng.randint(1, 20))
        paid_at = timezone.make_aware(datetime.combine(day, time(rng.randint(8, 20), 30)))
        payments.append(
            Payment(
                account=account,
                amount=bill.paid,
                paid_at=paid_at,
                channel=rng.choice(CHANNELS),
                reference=f"DEMO-{account.number}-{bill.period}",
            )
        )
    return payments


def _demo_outage(now: datetime) -> dict[str, object]:
    local = timezone.localtime(now)
    end = local.replace(hour=18, minute=0, second=0, microsecond=0)
    if end - local < timedelta(hours=2):
        end = (local + timedelta(hours=4)).replace(minute=0, second=0, microsecond=0)
    return {
        "kind": OutageNotice.Kind.EMERGENCY,
        "status": OutageNotice.Status.ACTIVE,
        "reason": "管道抢修",
        "starts_at": now - timedelta(hours=1),
        "expected_end_at": end,
        "note": "幸福路DN300主管爆管，维修队已到场。",
    }


def load_demo_customers() -> int:
    """Create what is missing; return how many accounts were created now."""
    rng = random.Random(96000)  # noqa: S311  (demo data, not secrets)
    today = timezone.localdate()
    periods = billing_periods(12, today)
    estates = [e for e in ESTATES if e.area_code in DEMO_AREA_CODES]
    created = 0
    with transaction.atomic():
        areas = ensure_areas(DEMO_AREA_CODES)
        for index in range(DEMO_ACCOUNTS):
            number = f"{DEMO_FIRST_NUMBER + index:010d}"
            # Draw the same numbers whether or not the account exists, so the set is stable.
            estate = rng.choice(estates)
            values: dict[str, Any] = {
                "name": person_name(rng),
                "address": address(rng, estate),
                "area": estate.area_code,
                "phones": [mobile(rng)],
            }
            if number == EXAMPLE["number"]:
                values = {k: v for k, v in EXAMPLE.items() if k != "number"}
            if Account.objects.filter(number=number).exists():
                continue
            account = Account.objects.create(
                number=number,
                name=values["name"],
                address=values["address"],
                area=areas[str(values["area"])],
            )
            AccountPhone.objects.bulk_create(
                [AccountPhone(account=account, number=n) for n in values["phones"]]
            )
            Meter.objects.bulk_create(meters_for(rng, account, today))
            bills = bills_for(rng, account.pk, periods)
            if number == EXAMPLE["number"]:
                unpaid = bills[-3:]  # the last three bills: at least two of them overdue
            elif index % 6 == 3:
                unpaid = bills[-4:-1]  # a few more accounts owe three months
            else:
                unpaid = []
            for bill in unpaid:
                bill.paid = ZERO
            Bill.objects.bulk_create(bills)
            Payment.objects.bulk_create(_payments(rng, account, bills))
            created += 1
        if not OutageNotice.objects.exists():
            notice = OutageNotice.objects.create(**_demo_outage(timezone.now()))
            notice.areas.set([areas["dongcheng"]])
    return created
