"""Report periods in local time (Asia/Shanghai): today, this week (from Monday), this month, or
a custom range of whole days. A period is half-open, [start, end): a row belongs to it when
start <= its time < end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PeriodKind(StrEnum):
    TODAY = "today"
    WEEK = "week"
    MONTH = "month"
    CUSTOM = "custom"


PERIOD_CHOICES = [
    (PeriodKind.TODAY, _("Today")),
    (PeriodKind.WEEK, _("This week")),
    (PeriodKind.MONTH, _("This month")),
    (PeriodKind.CUSTOM, _("Custom range")),
]


@dataclass(frozen=True)
class Period:
    start: datetime  # aware, inclusive
    end: datetime  # aware, exclusive
    first_day: date  # local, for display
    last_day: date  # local, inclusive

    @property
    def label(self) -> str:
        if self.first_day == self.last_day:
            return self.first_day.isoformat()
        return f"{self.first_day.isoformat()} – {self.last_day.isoformat()}"


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time()), timezone.get_current_timezone())


def days_period(first: date, last: date) -> Period:
    """Whole local days `first` to `last`, both included."""
    if last < first:
        first, last = last, first
    return Period(local_midnight(first), local_midnight(last + timedelta(days=1)), first, last)


def resolve_period(
    kind: str,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    now: datetime | None = None,
) -> Period:
    """The period `kind` names, as of `now`. A custom range with a missing end runs to today;
    with a missing start, from the end's first day of the month."""
    today = timezone.localdate(now or timezone.now())
    if kind == PeriodKind.TODAY:
        return days_period(today, today)
    if kind == PeriodKind.WEEK:
        monday = today - timedelta(days=today.weekday())
        return days_period(monday, monday + timedelta(days=6))
    if kind == PeriodKind.CUSTOM and (date_from or date_to):
        last = date_to or today
        return days_period(date_from or last.replace(day=1), last)
    first = today.replace(day=1)
    next_month = (first + timedelta(days=32)).replace(day=1)
    return days_period(first, next_month - timedelta(days=1))
