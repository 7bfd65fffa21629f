"""Reads of the customers app: customer lookup, arrears, and the water-outage notices that the
intake page (banner) and the switch's IVR (spoken text) use."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from django.conf import settings
from django.db.models import F, Prefetch, Q, QuerySet, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aqualine.customers.models import (
    ZERO,
    Account,
    AccountPhone,
    Area,
    Bill,
    OutageNotice,
    Payment,
    normalize_phone,
)

MAX_RESULTS = 50
UPCOMING_WINDOW = timedelta(hours=48)


class SearchBy(StrEnum):
    AUTO = "auto"
    NUMBER = "number"
    ADDRESS = "address"
    NAME = "name"
    PHONE = "phone"


@dataclass(frozen=True)
class SearchResult:
    accounts: list[Account]
    truncated: bool
    arrears: dict[int, Decimal] = field(default_factory=dict)


def _looks_like_number(query: str) -> bool:
    return bool(normalize_phone(query)) and not any(
        ch not in "0123456789+-() " for ch in query.strip()
    )


def _accounts() -> QuerySet[Account]:
    return Account.objects.select_related("area").prefetch_related(
        Prefetch("phones", queryset=AccountPhone.objects.order_by("id"))
    )


def _phone_matches(query: str) -> list[int]:
    digits = normalize_phone(query)
    if not digits:
        return []
    return list(AccountPhone.objects.filter(number=digits).values_list("account_id", flat=True))


def _name_condition(query: str) -> Q:
    # Chinese names are two or three characters. A fragment of three or more is searched
    # anywhere in the name (pg_trgm index on PostgreSQL); a shorter one matches the start of
    # the name ("张建" finds 张建国), which a B-tree index answers on every database, where a
    # two-character "anywhere" search would scan the table.
    if len(query) >= 3:
        return Q(name__icontains=query)
    return Q(name__startswith=query)


def customer_search(
    *, query: str, by: SearchBy = SearchBy.AUTO, limit: int = MAX_RESULTS, today: date | None = None
) -> SearchResult:
    """Accounts matching `query`: account number (exact), service address (fragment, e.g.
    "幸福小区3栋"), account holder's name (see `_name_condition`), or phone (exact, normalised).
    AUTO tries number and phone for digits, number, name and address otherwise. At most
    `limit` accounts, ordered by number, with their arrears."""
    query = query.strip()
    if not query:
        return SearchResult([], False)
    if by == SearchBy.NUMBER:
        condition = Q(number=query)
    elif by == SearchBy.ADDRESS:
        condition = Q(address__icontains=query)
    elif by == SearchBy.NAME:
        condition = _name_condition(query)
    elif by == SearchBy.PHONE:
        condition = Q(pk__in=_phone_matches(query))
    elif _looks_like_number(query):
        # Two indexed look-ups; an OR with a sub-query would make PostgreSQL scan the table.
        ids = list(Account.objects.filter(number=query).values_list("pk", flat=True))
        condition = Q(pk__in=ids + _phone_matches(query))
    else:
        condition = Q(number=query) | _name_condition(query) | Q(address__icontains=query)
    rows = list(_accounts().filter(condition).order_by("number")[: limit + 1])
    accounts = rows[:limit]
    return SearchResult(
        accounts, len(rows) > limit, arrears_by_account(accounts=accounts, today=today)
    )


def customer_for_phone(phone: str) -> list[Account]:
    """The accounts a caller's number belongs to (screen pop, IVR), accounts in service first."""
    digits = normalize_phone(phone)
    if not digits:
        return []
    accounts = _accounts().filter(phones__number=digits).distinct()
    order = {Account.Status.ACTIVE: 0, Account.Status.SUSPENDED: 1, Account.Status.CLOSED: 2}
    return sorted(accounts, key=lambda a: (order.get(a.status, 3), a.number))  # type: ignore[call-overload]


def account_get(*, pk: int) -> Account | None:
    return _accounts().prefetch_related("meters").filter(pk=pk).first()


# --- arrears (欠费) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Arrears:
    """Money owed on an account as of `today`.

    `total` is the unpaid part of every bill whose due date has passed (欠费); `overdue_bills`
    are those bills, oldest first. `not_yet_due` is the unpaid part of bills still within their
    payment term: owed but not in arrears.
    """

    today: date
    total: Decimal
    overdue_bills: list[Bill]
    not_yet_due: Decimal

    @property
    def months(self) -> int:
        return len(self.overdue_bills)

    @property
    def oldest_due_date(self) -> date | None:
        return self.overdue_bills[0].due_date if self.overdue_bills else None


def _unpaid(bills: QuerySet[Bill]) -> QuerySet[Bill]:
    return bills.filter(amount__gt=F("paid"))


def account_arrears(*, account: Account, today: date | None = None) -> Arrears:
    today = today or timezone.localdate()
    unpaid = list(_unpaid(Bill.objects.filter(account=account)).order_by("due_date", "period"))
    overdue = [b for b in unpaid if b.due_date < today]
    pending = [b for b in unpaid if b.due_date >= today]
    return Arrears(
        today=today,
        total=sum((b.unpaid for b in overdue), ZERO),
        overdue_bills=overdue,
        not_yet_due=sum((b.unpaid for b in pending), ZERO),
    )


def arrears_by_account(
    *, accounts: Iterable[Account], today: date | None = None
) -> dict[int, Decimal]:
    """Total arrears of several accounts in one query (accounts without arrears map to 0)."""
    today = today or timezone.localdate()
    ids = [a.pk for a in accounts]
    result = dict.fromkeys(ids, ZERO)
    if not ids:
        return result
    rows = (
        _unpaid(Bill.objects.filter(account_id__in=ids, due_date__lt=today))
        .values("account_id")
        .annotate(owed=Sum(F("amount") - F("paid")))
    )
    for row in rows:
        result[row["account_id"]] = Decimal(row["owed"]).quantize(Decimal("0.01"))
    return result


def account_bills(*, account: Account, limit: int = 24) -> list[Bill]:
    return list(Bill.objects.filter(account=account).order_by("-period")[:limit])


def account_payments(*, account: Account, limit: int = 20) -> list[Payment]:
    return list(Payment.objects.filter(account=account).order_by("-paid_at")[:limit])


# --- water-outage notices (停水通知) ----------------------------------------------------------


def _open_notices() -> QuerySet[OutageNotice]:
    return OutageNotice.objects.filter(status__in=OutageNotice.OPEN).prefetch_related("areas")


def active_outages_for_area(area: Area | None, at: datetime | None = None) -> list[OutageNotice]:
    """Notices in effect for `area` at `at` (now): started and not yet marked restored."""
    if area is None:
        return []
    at = at or timezone.now()
    return list(_open_notices().filter(areas=area, starts_at__lte=at).order_by("starts_at", "id"))


def upcoming_outages_for_area(
    area: Area | None, at: datetime | None = None, within: timedelta = UPCOMING_WINDOW
) -> list[OutageNotice]:
    """Notices for `area` that start within `within` after `at` (planned work announced)."""
    if area is None:
        return []
    at = at or timezone.now()
    return list(
        _open_notices()
        .filter(areas=area, starts_at__gt=at, starts_at__lte=at + within)
        .order_by("starts_at", "id")
    )


def outages_for_account(account: Account, at: datetime | None = None) -> list[OutageNotice]:
    """Notices in effect, then upcoming ones, for the account's area (for the intake banner)."""
    return active_outages_for_area(account.area, at) + upcoming_outages_for_area(account.area, at)


def active_outages(at: datetime | None = None) -> list[OutageNotice]:
    at = at or timezone.now()
    return list(_open_notices().filter(starts_at__lte=at).order_by("starts_at", "id"))


def outage_list(*, status: str = "open", at: datetime | None = None) -> QuerySet[OutageNotice]:
    """Notices for the management page: "open" (in effect or upcoming), "restored" or "all"."""
    notices = OutageNotice.objects.prefetch_related("areas").select_related("created_by")
    if status == "open":
        return notices.filter(status__in=OutageNotice.OPEN).order_by("starts_at", "id")
    if status == "restored":
        return notices.filter(status=OutageNotice.Status.RESTORED).order_by("-restored_at")
    return notices.order_by("-starts_at", "-id")


def _when(moment: datetime, at: datetime) -> str:
    local, now = timezone.localtime(moment), timezone.localtime(at)
    clock = local.strftime("%H:%M")
    days = (local.date() - now.date()).days
    if days == 0:
        return _("today at %(time)s") % {"time": clock}
    if days == 1:
        return _("tomorrow at %(time)s") % {"time": clock}
    return _("on %(month)d/%(day)d at %(time)s") % {
        "month": local.month,
        "day": local.day,
        "time": clock,
    }


def _until(start: datetime, end: datetime, at: datetime) -> str:
    """The end of a period: only the clock time when it ends on the day it starts."""
    if timezone.localtime(start).date() == timezone.localtime(end).date():
        return timezone.localtime(end).strftime("%H:%M")
    return _when(end, at)


def outage_sentence(notice: OutageNotice, area_name: str, at: datetime | None = None) -> str:
    """One sentence about one notice, in the current language."""
    at = at or timezone.now()
    values = {"area": area_name, "reason": notice.reason}
    if notice.starts_at > at:
        return _(
            "Water supply in %(area)s will be interrupted %(start)s until %(end)s: %(reason)s."
        ) % {
            **values,
            "start": _when(notice.starts_at, at),
            "end": _until(notice.starts_at, notice.expected_end_at, at),
        }
    if notice.expected_end_at > at:
        return _(
            "%(area)s has no water because of %(reason)s; supply is expected back %(when)s."
        ) % {
            **values,
            "when": _when(notice.expected_end_at, at),
        }
    return _("%(area)s has no water because of %(reason)s; supply will be restored soon.") % values


@dataclass(frozen=True)
class OutageLine:
    """A notice as the banner shows it: the notice, its sentence, and whether it is in effect."""

    notice: OutageNotice
    text: str
    in_effect: bool


def outage_lines_for_account(account: Account, at: datetime | None = None) -> list[OutageLine]:
    """What `customers/_outage_banner.html` shows for a caller's account (current language)."""
    at = at or timezone.now()
    if account.area is None:
        return []
    return [
        OutageLine(n, outage_sentence(n, account.area.name, at), n.starts_at <= at)
        for n in outages_for_account(account, at)
    ]


def outage_text_for_area(area: Area | None, at: datetime | None = None) -> str:
    """What the IVR reads to a caller of `area`: one Chinese sentence per notice in effect or
    starting within 48 hours, e.g. "东城片区因管道抢修停水，预计今天18:00恢复供水。";
    "" when there is none. Always in the site language (Mandarin), whatever the caller."""
    at = at or timezone.now()
    if area is None:
        return ""
    notices = active_outages_for_area(area, at) + upcoming_outages_for_area(area, at)
    with translation.override(settings.LANGUAGE_CODE):
        return "".join(outage_sentence(n, area.name, at) for n in notices)
