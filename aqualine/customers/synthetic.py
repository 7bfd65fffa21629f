"""Realistic synthetic customers for the demo and for benchmarks: Chinese names, addresses in a
few districts, streets and housing estates (小区) with building-unit-room, mobile phones, meters
and monthly bills with some arrears. Deterministic for a given seed.

The Chinese words here are data (what a utility's records look like), not interface text.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from aqualine.customers.models import Account, AccountPhone, Area, Bill, Meter

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强海燕玉兰红梅文博子涵浩然宇轩"
    "欣怡梓萱俊杰思远晓东春花秋菊国庆立新振华淑珍凤英德明永刚丽华金凤桂芳晓燕佳琪雨萱"
)
MOBILE_PREFIXES = (
    *(f"13{d}" for d in range(10)),
    *(f"15{d}" for d in (0, 1, 2, 3, 5, 6, 7, 8, 9)),
    *(f"18{d}" for d in range(10)),
)

# area code, area name, district, streets, housing estates
DISTRICTS: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "dongcheng",
        "东城片区",
        "东城区",
        ("幸福路", "人民路", "建设路", "和平街"),
        (
            "幸福小区",
            "阳光花园",
            "翠苑新村",
            "和平里",
            "锦绣家园",
            "东湖雅苑",
            "春晖小区",
            "金桥公寓",
        ),
    ),
    (
        "xicheng",
        "西城片区",
        "西城区",
        ("解放路", "文化路", "西环路", "中山街"),
        (
            "西湖春天",
            "文苑小区",
            "梧桐苑",
            "中山花园",
            "丽景湾",
            "枫林小区",
            "水岸名都",
            "颐和家园",
        ),
    ),
    (
        "kaifaqu",
        "开发区",
        "开发区",
        ("经一路", "纬二路", "创业大道", "科技路"),
        (
            "创业公寓",
            "科技新城",
            "蓝湾小区",
            "滨江花园",
            "未来城",
            "工业园宿舍",
            "紫荆苑",
            "天成家园",
        ),
    ),
    (
        "nanhu",
        "南湖片区",
        "南湖区",
        ("南湖大道", "湖滨路", "青年路", "长江路"),
        ("南湖人家", "湖畔花园", "青年公寓", "长江小区", "碧水苑", "荷花里", "观澜苑", "清河小区"),
    ),
    (
        "beishan",
        "北山片区",
        "北山区",
        ("北山路", "松林路", "矿区路", "胜利街"),
        (
            "北山新村",
            "松林小区",
            "矿工新村",
            "胜利花园",
            "云顶苑",
            "山水家园",
            "向阳小区",
            "红旗新村",
        ),
    ),
    (
        "gaoxin",
        "高新片区",
        "高新区",
        ("高新大道", "软件路", "智慧路", "光谷街"),
        (
            "软件园公寓",
            "智慧城",
            "光谷花园",
            "高新名苑",
            "硅谷小区",
            "星河湾",
            "数码港",
            "创新家园",
        ),
    ),
)
DEMO_AREA_CODES = ("dongcheng", "xicheng", "kaifaqu")
PRICE_PER_M3 = Decimal("3.45")
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Estate:
    area_code: str
    prefix: str  # e.g. 东城区幸福路12号幸福小区


def _estates() -> list[Estate]:
    estates = []
    for code, _name, district, streets, names in DISTRICTS:
        for index, estate in enumerate(names):
            street = streets[index % len(streets)]
            estates.append(Estate(code, f"{district}{street}{index * 17 % 190 + 8}号{estate}"))
    return estates


ESTATES = _estates()


def ensure_areas(codes: tuple[str, ...] | None = None) -> dict[str, Area]:
    """The areas of DISTRICTS (or those with `codes`), created when missing."""
    areas = {}
    for order, (code, name, *_rest) in enumerate(DISTRICTS):
        if codes is not None and code not in codes:
            continue
        areas[code], _created = Area.objects.get_or_create(
            code=code, defaults={"name": name, "sort_order": order}
        )
    return areas


def person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
    return rng.choice(SURNAMES) + given


def mobile(rng: random.Random) -> str:
    return f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"


def address(rng: random.Random, estate: Estate) -> str:
    floor = rng.randint(1, 18)
    return (
        f"{estate.prefix}{rng.randint(1, 24)}栋{rng.randint(1, 4)}单元"
        f"{floor}{rng.randint(1, 4):02d}室"
    )


def billing_periods(months: int, today: date) -> list[tuple[str, date]]:
    """The last `months` whole months before `today`, oldest first, with their due dates (the
    25th of the following month)."""
    periods = []
    year, month = today.year, today.month
    for _i in range(months):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        due_year, due_month = (year + 1, 1) if month == 12 else (year, month + 1)
        periods.append((f"{year:04d}-{month:02d}", date(due_year, due_month, 25)))
    return periods[::-1]


BillRow = tuple[str, Decimal, Decimal, Decimal, date]  # period, usage, amount, paid, due date
MeterRow = tuple[
    str, int, str, date, Decimal, date
]  # number, caliber, kind, installed, reading, read on
METER_KINDS = (
    Meter.Kind.MECHANICAL,
    Meter.Kind.MECHANICAL,
    Meter.Kind.SMART,
    Meter.Kind.REMOTE,
    Meter.Kind.PREPAID,
)


def bill_rows(rng: random.Random, periods: list[tuple[str, date]]) -> list[BillRow]:
    """Monthly bills; most accounts pay everything, some owe their last months, a few paid
    part of the last bill."""
    luck = rng.random()
    unpaid_months = rng.randint(1, 4) if luck < 0.07 else 0
    partial = 0.07 <= luck < 0.09
    rows = []
    for index, (period, due) in enumerate(periods):
        usage = Decimal(rng.randint(300, 2800)) / 100
        amount = (usage * PRICE_PER_M3).quantize(CENT)
        from_end = len(periods) - index
        if from_end <= unpaid_months:
            paid = ZERO
        elif partial and from_end == 1:
            paid = (amount / 2).quantize(CENT)
        else:
            paid = amount
        rows.append((period, usage, amount, paid, due))
    return rows


def bills_for(rng: random.Random, account_id: int, periods: list[tuple[str, date]]) -> list[Bill]:
    return [
        Bill(account_id=account_id, period=p, usage_m3=u, amount=a, paid=pd, due_date=d)
        for p, u, a, pd, d in bill_rows(rng, periods)
    ]


def meter_rows(rng: random.Random, account_number: str, today: date) -> list[MeterRow]:
    count = 2 if rng.random() < 0.03 else 1
    return [
        (
            f"{account_number}{index:02d}",
            rng.choice((15, 15, 20, 20, 20, 25, 40)),
            rng.choice(METER_KINDS),
            today - timedelta(days=rng.randint(200, 5000)),
            Decimal(rng.randint(20000, 900099)) / 100,
            today - timedelta(days=rng.randint(1, 31)),
        )
        for index in range(1, count + 1)
    ]


def meters_for(rng: random.Random, account: Account, today: date) -> list[Meter]:
    return [
        Meter(
            account_id=account.pk,
            number=number,
            caliber_mm=caliber,
            kind=kind,
            installed_on=installed,
            last_reading=reading,
            last_read_on=read_on,
        )
        for number, caliber, kind, installed, reading, read_on in meter_rows(
            rng, account.number, today
        )
    ]


def _insert(model: type[models.Model], names: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """A plain multi-row INSERT. For millions of synthetic rows Django's bulk_create spends
    ~90% of its time preparing each value of each row; the values here are already what the
    database stores (Django's SQLite adapters handle Decimal and date; psycopg does natively)."""
    if not rows:
        return
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(n) for n in names]
    columns = ", ".join(quote(f.column) for f in fields if isinstance(f, models.Field))
    values = ", ".join(["%s"] * len(names))
    table = quote(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY is ~10x faster than INSERT there; psycopg writes Decimal and date itself.
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            sql = f"INSERT INTO {table} ({columns}) VALUES ({values})"  # noqa: S608
            cursor.executemany(sql, rows)


@dataclass(frozen=True)
class Generated:
    accounts: int
    meters: int
    bills: int
    phones: int
    first_number: str
    last_number: str


def next_generated_number(prefix: str = "2") -> int:
    """The first free number of the 10-digit series `prefix`000000001... ."""
    base = int(prefix) * 10**9
    numbers = Account.objects.filter(
        number__gte=f"{base:010d}", number__lte=f"{base + 10**9 - 1:010d}"
    ).values_list("number", flat=True)
    last = numbers.order_by("-number").first()
    return int(last) + 1 if last and last.isdigit() and len(last) == 10 else base + 1


def generate_customers(
    *,
    accounts: int,
    seed: int | None = None,
    months: int = 12,
    batch: int = 2000,
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> Generated:
    """Add `accounts` synthetic accounts (numbers 2000000001... after the last one generated)
    with phones, meters and bills, in batches, each batch in its own transaction."""
    rng = random.Random(seed)  # noqa: S311  (synthetic data, not secrets)
    today = today or timezone.localdate()
    areas = ensure_areas()
    periods = billing_periods(months, today)
    first = next_generated_number()
    stamp = connection.ops.adapt_datetimefield_value(timezone.now())
    active = Account.Status.ACTIVE.value
    other_statuses = (Account.Status.SUSPENDED.value, Account.Status.CLOSED.value)
    totals = {"meters": 0, "bills": 0, "phones": 0}
    done = 0
    while done < accounts:
        size = min(batch, accounts - done)
        numbers = [f"{first + done + offset:010d}" for offset in range(size)]
        account_rows = []
        for number in numbers:
            estate = rng.choice(ESTATES)
            status = active if rng.random() < 0.97 else rng.choice(other_statuses)
            account_rows.append(
                (
                    number,
                    person_name(rng),
                    address(rng, estate),
                    areas[estate.area_code].pk,
                    status,
                    stamp,
                    stamp,
                )
            )
        with transaction.atomic():
            _insert(
                Account,
                ("number", "name", "address", "area", "status", "created_at", "updated_at"),
                account_rows,
            )
            ids = dict(
                Account.objects.filter(number__gte=numbers[0], number__lte=numbers[-1]).values_list(
                    "number", "id"
                )
            )
            phone_rows: list[tuple[Any, ...]] = []
            meter_data: list[tuple[Any, ...]] = []
            bill_data: list[tuple[Any, ...]] = []
            for number in numbers:
                account_id = ids[number]
                phone_rows.append((account_id, mobile(rng)))
                if rng.random() < 0.3:
                    second = mobile(rng)
                    if second != phone_rows[-1][1]:
                        phone_rows.append((account_id, second))
                meter_data.extend(
                    (account_id, *row, Meter.Status.IN_SERVICE.value)
                    for row in meter_rows(rng, number, today)
                )
                bill_data.extend((account_id, *row) for row in bill_rows(rng, periods))
            _insert(AccountPhone, ("account", "number"), phone_rows)
            _insert(
                Meter,
                (
                    "account",
                    "number",
                    "caliber_mm",
                    "kind",
                    "installed_on",
                    "last_reading",
                    "last_read_on",
                    "status",
                ),
                meter_data,
            )
            _insert(
                Bill, ("account", "period", "usage_m3", "amount", "paid", "due_date"), bill_data
            )
        totals["phones"] += len(phone_rows)
        totals["meters"] += len(meter_data)
        totals["bills"] += len(bill_data)
        done += size
        if progress is not None:
            progress(done)
    return Generated(
        accounts=accounts,
        meters=totals["meters"],
        bills=totals["bills"],
        phones=totals["phones"],
        first_number=f"{first:010d}",
        last_number=f"{first + accounts - 1:010d}",
    )
