"""Business-hours calendars and prompt templates."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aqualine.telephony.ivr.calendar import CLOSED, HOLIDAY, OPEN, Calendar, parse_calendar
from aqualine.telephony.ivr.templates import placeholders, render, spoken_money

SHANGHAI = ZoneInfo("Asia/Shanghai")


def calendar(**changes: Any) -> Calendar:
    data: dict[str, Any] = {
        "timezone": "Asia/Shanghai",
        "weekly": {
            "mon": ["08:00-12:00", "13:00-20:00"],
            "tue": ["08:00-20:00"],
            "sat": ["20:00-24:00"],
        },
        "holidays": {"2026-10-01": "国庆节"},
        "overrides": {"2026-10-02": ["09:00-12:00"], "2026-11-24": []},
    }
    data.update(changes)
    parsed, problems = parse_calendar("test", data)
    assert problems == [] and parsed is not None
    return parsed


def shanghai(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("moment", "state"),
    [
        (shanghai(2026, 11, 23, 7, 59), CLOSED),  # Monday
        (shanghai(2026, 11, 23, 8, 0), OPEN),
        (shanghai(2026, 11, 23, 12, 30), CLOSED),  # lunch break
        (shanghai(2026, 11, 23, 19, 59), OPEN),
        (shanghai(2026, 11, 23, 20, 0), CLOSED),
        (shanghai(2026, 11, 25, 10, 0), CLOSED),  # Wednesday: no hours
        (shanghai(2026, 11, 28, 23, 59), OPEN),  # Saturday until midnight
        (shanghai(2026, 11, 24, 10, 0), CLOSED),  # a Tuesday closed by an override
        (shanghai(2026, 10, 1, 10, 0), HOLIDAY),
        (shanghai(2026, 10, 2, 10, 0), OPEN),  # override: open a few hours on a Friday
        (shanghai(2026, 10, 2, 14, 0), CLOSED),
    ],
)
def test_the_state_at_a_moment(moment: datetime, state: str) -> None:
    assert calendar().state_at(moment) == state


def test_an_override_wins_over_a_holiday() -> None:
    cal = calendar(overrides={"2026-10-01": ["08:00-10:00"]})
    assert cal.state_at(shanghai(2026, 10, 1, 9, 0)) == OPEN
    assert cal.state_at(shanghai(2026, 10, 1, 11, 0)) == CLOSED


def test_the_calendars_time_zone_decides_not_the_moments() -> None:
    cal = calendar()
    # Tuesday 2026-12-01: 00:30 UTC is 08:30 in Shanghai, 12:30 UTC is 20:30 there
    assert cal.state_at(datetime(2026, 12, 1, 0, 30, tzinfo=UTC)) == OPEN
    assert cal.state_at(datetime(2026, 12, 1, 12, 30, tzinfo=UTC)) == CLOSED
    # 2026-09-30 16:30 UTC is already National Day in Shanghai
    assert cal.state_at(datetime(2026, 9, 30, 16, 30, tzinfo=UTC)) == HOLIDAY


def test_a_naive_clock_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        calendar().state_at(datetime(2026, 11, 23, 10, 0))


def test_every_calendar_problem_is_reported() -> None:
    parsed, problems = parse_calendar(
        "bad",
        {"timezone": "", "weekly": {"mon": ["25:00-26:00"]}, "holidays": {"soon": "x"}},
    )
    assert parsed is None
    assert [p.where for p in problems] == ["timezone", "weekly.mon[0]", "holidays.soon"]


@pytest.mark.parametrize(
    ("amount", "spoken"),
    [
        ("45.60", "45元6角"),
        ("45.06", "45元零6分"),
        ("45.66", "45元6角6分"),
        ("45", "45元"),
        ("0.50", "5角"),
        ("0", "0元"),
        ("1200.00", "1200元"),
        ("-3.5", "负3元5角"),
        ("n/a", "n/a"),
    ],
)
def test_money_is_spoken_in_yuan_jiao_fen(amount: str, spoken: str) -> None:
    assert spoken_money(amount) == spoken


def test_templates_fill_in_and_format_variables() -> None:
    variables = {"account_number": "100234", "arrears": "45.60", "caller": "13800138000"}
    assert render("用户号{account_number:digits}欠费{arrears:money}", variables) == (
        "用户号一 零 零 二 三 四欠费45元6角"
    )
    assert render("{{literal}} {caller} {unset}.", variables) == "{literal} 13800138000 ."


def test_placeholders_lists_names_and_formats() -> None:
    assert placeholders("{a}{{b}}{c:digits}") == [("a", ""), ("c", "digits")]
