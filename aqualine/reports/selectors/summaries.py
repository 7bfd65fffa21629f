"""Which days of a report's period the summary tables answer, and which the live tables.

A report asks `period_split` for its period: the whole past local days (before today) that have
been summarised — for calls, with the service-level threshold the report uses — come from the
summaries; today, days not summarised yet and future days of the period come from the live
tables. Both parts are counted with the same definitions (the tests compute every ready report
both ways and compare), so a report reads the same whichever part a day falls in, as of the
day's last refresh (`aqualine.reports.summaries` says when that is).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from aqualine.reports.models import SummaryDay
from aqualine.reports.periods import Period, local_midnight

ONE_DAY = timedelta(days=1)
Kind = SummaryDay.Kind


@dataclass(frozen=True)
class DayRange:
    """Local days `first` to `last`, both included."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return local_midnight(self.first)

    @property
    def end(self) -> datetime:
        return local_midnight(self.last + ONE_DAY)

    @property
    def period(self) -> Period:
        return Period(self.start, self.end, self.first, self.last)


def day_ranges(days: Iterable[date]) -> list[DayRange]:
    """Runs of consecutive days, in order."""
    ranges: list[DayRange] = []
    for day in sorted(set(days)):
        if ranges and ranges[-1].last + ONE_DAY == day:
            ranges[-1] = DayRange(ranges[-1].first, day)
        else:
            ranges.append(DayRange(day, day))
    return ranges


@dataclass(frozen=True)
class PeriodSplit:
    summary: list[DayRange] = field(default_factory=list)
    live: list[DayRange] = field(default_factory=list)
    # the oldest refresh of the summarised days (what the page says the figures are as of)
    refreshed_at: datetime | None = None

    def summary_q(self) -> Q:
        """The summarised days, on a summary table's `day`."""
        q = Q()
        for r in self.summary:
            q |= Q(day__gte=r.first, day__lte=r.last)
        return q

    def live_q(self, name: str) -> Q:
        """The other days, on a live table's time column `name`."""
        q = Q()
        for r in self.live:
            q |= Q(**{f"{name}__gte": r.start, f"{name}__lt": r.end})
        return q


def period_split(
    *,
    kind: str,
    period: Period,
    now: datetime | None = None,
    threshold: int | None = None,
    use_summaries: bool = True,
) -> PeriodSplit:
    """Split `period` (whole local days) into summarised days and live days (see the module)."""
    everything = [DayRange(period.first_day, period.last_day)]
    if not use_summaries:
        return PeriodSplit(live=everything)
    today = timezone.localdate(now or timezone.now())
    last = min(period.last_day, today - ONE_DAY)
    if last < period.first_day:
        return PeriodSplit(live=everything)
    ready = SummaryDay.objects.filter(
        kind=kind, day__gte=period.first_day, day__lte=last, refreshed_at__isnull=False
    )
    if kind == Kind.CALLS:
        ready = ready.filter(threshold=threshold)
    refreshed = dict(ready.values_list("day", "refreshed_at"))
    if not refreshed:
        return PeriodSplit(live=everything)
    summarised = set(refreshed)
    every_day = {
        period.first_day + timedelta(days=i)
        for i in range((period.last_day - period.first_day).days + 1)
    }
    return PeriodSplit(
        summary=day_ranges(summarised),
        live=day_ranges(every_day - summarised),
        refreshed_at=min(at for at in refreshed.values() if at is not None),
    )
