"""Filters for the call-centre pages: durations as people say them ("1分20秒")."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def minutes_seconds(value: float | None) -> str:
    """Seconds as "20 s", "1 min 20 s" or "1 h 2 min 5 s" (translated); nothing as ""."""
    if value is None:
        return ""
    total = max(0, round(float(value)))
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return _("%(hours)d h %(minutes)d min %(seconds)d s") % {
            "hours": hours,
            "minutes": minutes,
            "seconds": seconds,
        }
    if minutes:
        return _("%(minutes)d min %(seconds)d s") % {"minutes": minutes, "seconds": seconds}
    return _("%(seconds)d s") % {"seconds": seconds}
