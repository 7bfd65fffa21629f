"""Filters for figures on the report pages: rates as percentages, seconds and mean scores."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone

from aqualine.reports.tables import Average, Rate, Seconds

register = template.Library()


@register.filter
def rate(value: float | None) -> str:
    return str(Rate(value))


@register.filter
def seconds(value: float | None) -> str:
    return str(Seconds(value))


@register.filter
def score(value: float | None) -> str:
    return str(Average(value))


@register.filter
def cell(value: Any) -> Any:
    """A cell of a detail row: times in local time to the minute, nothing as "—"."""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if value is None or value == "":
        return "—"
    return value
