"""Business-hours calendars for the ``time_condition`` node: weekly hours, holidays, overrides.

A calendar answers one question for an aware moment: is the hotline ``open``, ``closed``, or
closed for a ``holiday``? The moment is taken in the calendar's own time zone, so the answer does
not depend on the server's zone. For a date D (local):

1. D is in ``overrides`` → open during those ranges (``[]``: closed all day, not a holiday);
   an override wins over a holiday (a holiday with shortened hours, a working weekend);
2. D is in ``holidays`` → ``holiday`` all day;
3. otherwise the weekday's ranges in ``weekly`` (a missing weekday is closed all day).

Ranges are ``"HH:MM-HH:MM"``, start included, end excluded, ``"24:00"`` allowed as an end; a
range cannot pass midnight (split it: ``"20:00-24:00"`` today, ``"00:00-08:00"`` tomorrow).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OPEN: Final = "open"
CLOSED: Final = "closed"
HOLIDAY: Final = "holiday"
_RANGE: Final = re.compile(r"(\d\d):(\d\d)-(\d\d):(\d\d)")


class CalendarError(ValueError):
    """One problem in a calendar's data; ``where`` is the field, e.g. ``weekly.mon[0]``."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


@dataclass(frozen=True)
class TimeRange:
    start: int  # minutes after midnight, included
    end: int  # minutes after midnight, excluded (1440 = 24:00)

    def __contains__(self, minute: object) -> bool:
        return isinstance(minute, int) and self.start <= minute < self.end

    def __str__(self) -> str:
        return (
            f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"
        )


@dataclass(frozen=True)
class Calendar:
    name: str
    timezone: str
    weekly: tuple[tuple[TimeRange, ...], ...]  # Monday first, 7 entries
    holidays: Mapping[date, str]  # date → the holiday's name
    overrides: Mapping[date, tuple[TimeRange, ...]]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def state_at(self, moment: datetime) -> str:
        """``open``, ``closed`` or ``holiday`` at an aware moment."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("the IVR clock must return aware datetimes")
        local = moment.astimezone(self.zone)
        day = local.date()
        minute = local.hour * 60 + local.minute
        if day in self.overrides:
            ranges = self.overrides[day]
        elif day in self.holidays:
            return HOLIDAY
        else:
            ranges = self.weekly[local.weekday()]
        return OPEN if any(minute in r for r in ranges) else CLOSED


def parse_range(text: object, where: str) -> TimeRange:
    if not isinstance(text, str) or not (match := _RANGE.fullmatch(text.strip())):
        raise CalendarError(where, f'{text!r} is not a range like "08:00-20:00"')
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
        raise CalendarError(where, f"{text!r} is not a time of day")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end <= start:
        raise CalendarError(where, f"{text!r} ends before it starts (split ranges at midnight)")
    return TimeRange(start, end)


def _ranges(value: object, where: str) -> tuple[TimeRange, ...]:
    if not isinstance(value, list):
        raise CalendarError(where, 'expected a list of ranges like ["08:00-20:00"]')
    return tuple(parse_range(item, f"{where}[{i}]") for i, item in enumerate(value))


def _date(text: object, where: str) -> date:
    try:
        if not isinstance(text, str):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise CalendarError(where, f"{text!r} is not a date like 2026-10-01") from None


def parse_calendar(name: str, data: object) -> tuple[Calendar | None, list[CalendarError]]:
    """The calendar, or None and every problem found (field paths relative to the calendar)."""
    errors: list[CalendarError] = []
    if not isinstance(data, dict):
        return None, [CalendarError("", "expected an object")]
    unknown = sorted(set(data) - {"timezone", "weekly", "holidays", "overrides", "ui"})
    if unknown:
        errors.append(CalendarError(unknown[0], "unknown field"))
    zone_name = data.get("timezone")
    if not isinstance(zone_name, str) or not zone_name:
        errors.append(CalendarError("timezone", 'required, e.g. "Asia/Shanghai"'))
    else:
        try:
            ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            errors.append(CalendarError("timezone", f"unknown time zone {zone_name!r}"))
    weekly: list[tuple[TimeRange, ...]] = []
    raw_weekly: Any = data.get("weekly", {})
    if not isinstance(raw_weekly, dict):
        errors.append(CalendarError("weekly", 'expected {"mon": ["08:00-20:00"], ...}'))
        raw_weekly = {}
    for day in sorted(set(raw_weekly) - set(WEEKDAYS)):
        errors.append(CalendarError(f"weekly.{day}", f"not a weekday ({', '.join(WEEKDAYS)})"))
    for day in WEEKDAYS:
        try:
            weekly.append(_ranges(raw_weekly.get(day, []), f"weekly.{day}"))
        except CalendarError as exc:
            errors.append(exc)
            weekly.append(())
    holidays: dict[date, str] = {}
    raw_holidays = data.get("holidays", {})
    if not isinstance(raw_holidays, dict):
        errors.append(CalendarError("holidays", 'expected {"2026-10-01": "国庆节", ...}'))
        raw_holidays = {}
    for key, value in raw_holidays.items():
        try:
            holidays[_date(key, f"holidays.{key}")] = value if isinstance(value, str) else ""
            if not isinstance(value, str):
                errors.append(CalendarError(f"holidays.{key}", "the name must be text"))
        except CalendarError as exc:
            errors.append(exc)
    overrides: dict[date, tuple[TimeRange, ...]] = {}
    raw_overrides = data.get("overrides", {})
    if not isinstance(raw_overrides, dict):
        errors.append(CalendarError("overrides", 'expected {"2026-09-27": ["08:00-20:00"]}'))
        raw_overrides = {}
    for key, value in raw_overrides.items():
        try:
            overrides[_date(key, f"overrides.{key}")] = _ranges(value, f"overrides.{key}")
        except CalendarError as exc:
            errors.append(exc)
    if errors:
        return None, errors
    assert isinstance(zone_name, str)
    return Calendar(name, zone_name, tuple(weekly), holidays, overrides), []
