"""System parameters (系统参数): typed definitions in code, values in the database, cached.

Read a value anywhere with `param("communication.wrapup_seconds")`. Values change without a
restart: a write clears the shared cache after commit, and every process reads through it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from aqualine.core.audit import audit_record
from aqualine.core.concurrency import ConflictError, claim_version
from aqualine.core.models import Parameter

CACHE_KEY = "aqualine:parameters:v1"
CACHE_SECONDS = 30


class Group(StrEnum):
    BASIC = "basic"
    BUSINESS = "business"
    COMMUNICATION = "communication"


GROUP_LABELS: dict[Group, Promise] = {
    Group.BASIC: _("Basic"),
    Group.BUSINESS: _("Business"),
    Group.COMMUNICATION: _("Communication"),
}


class Kind(StrEnum):
    INT = "int"
    BOOL = "bool"
    TEXT = "text"
    DURATION = "duration"
    CHOICE = "choice"


_DURATION_PART = re.compile(r"(\d+)\s*([dhms])")
_DURATION_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(raw: str) -> int:
    """'90' (seconds), '30s', '15m', '4h', '5d' or combinations like '1h30m' → seconds."""
    text = raw.strip().lower().replace(" ", "")
    if len(text) > 20:
        raise ValidationError(_("Enter a duration such as 30s, 15m, 4h, 5d or 1h30m."))
    if re.fullmatch(r"[0-9]+", text):
        return int(text)
    if not text or _DURATION_PART.sub("", text):
        raise ValidationError(
            _("Enter a duration such as 30s, 15m, 4h, 5d or 1h30m."), code="invalid"
        )
    return sum(int(n) * _DURATION_UNITS[u] for n, u in _DURATION_PART.findall(text))


def format_duration(seconds: int) -> str:
    if seconds == 0:
        return "0s"
    parts = []
    for unit, size in _DURATION_UNITS.items():
        if seconds >= size:
            count, seconds = divmod(seconds, size)
            parts.append(f"{count}{unit}")
    return "".join(parts)


def _validate_hours_range(value: str) -> None:
    match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)", value)
    if not match or (match.group(3) == "24" and match.group(4) != "00"):
        raise ValidationError(_("Enter working hours as HH:MM-HH:MM, e.g. 08:00-20:00."))
    if value[:5] >= value[6:]:
        raise ValidationError(_("The end of the working hours must be after the start."))


def _validate_phone_number(value: str) -> None:
    if value and not re.fullmatch(r"[0-9*#+]{2,32}", value):
        raise ValidationError(_("Enter a number made of digits (and * # +)."))


@dataclass(frozen=True)
class ParamDef:
    key: str
    group: Group
    kind: Kind
    default: Any
    label: Promise
    help_text: Promise | str = ""
    min_value: int | None = None
    max_value: int | None = None
    max_length: int = 200
    required: bool = True
    choices: tuple[tuple[str, Promise], ...] = ()
    validators: tuple[Callable[[Any], None], ...] = field(default=())

    def clean(self, raw: Any) -> Any:
        """Turn form input (a string, or a bool for BOOL) into a typed value, or raise."""
        if self.kind is Kind.BOOL:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "on", "yes"}:
                return True
            if text in {"0", "false", "off", "no", ""}:
                return False
            raise ValidationError(_("Enter yes or no."))
        text = "" if raw is None else str(raw).strip()
        if not text and self.required:
            raise ValidationError(_("This parameter cannot be empty."), code="required")
        value: Any
        if self.kind is Kind.INT:
            if not re.fullmatch(r"-?[0-9]{1,12}", text):
                raise ValidationError(_("Enter a whole number."))
            value = int(text)
        elif self.kind is Kind.DURATION:
            value = parse_duration(text)
        elif self.kind is Kind.CHOICE:
            if text not in {c for c, _label in self.choices}:
                raise ValidationError(_("Choose one of the offered values."))
            value = text
        else:
            if len(text) > self.max_length:
                raise ValidationError(_("Enter at most %(n)d characters.") % {"n": self.max_length})
            value = text
        if self.kind in (Kind.INT, Kind.DURATION):
            if self.min_value is not None and value < self.min_value:
                raise ValidationError(
                    _("The value must be at least %(n)s.") % {"n": self.display(self.min_value)}
                )
            if self.max_value is not None and value > self.max_value:
                raise ValidationError(
                    _("The value must be at most %(n)s.") % {"n": self.display(self.max_value)}
                )
        for validator in self.validators:
            validator(value)
        return value

    def display(self, value: Any) -> str:
        if self.kind is Kind.DURATION:
            return format_duration(int(value))
        if self.kind is Kind.BOOL:
            return str(_("Yes") if value else _("No"))
        if self.kind is Kind.CHOICE:
            return str(dict(self.choices).get(value, value))
        return str(value)


DEFINITIONS: tuple[ParamDef, ...] = (
    ParamDef(
        "basic.site_name",
        Group.BASIC,
        Kind.TEXT,
        "Aqualine",
        _("System name"),
        _("Shown in the page header and on printed forms."),
        max_length=60,
    ),
    ParamDef(
        "basic.utility_name",
        Group.BASIC,
        Kind.TEXT,
        "",
        _("Utility name"),
        _("The water company's name on printed forms."),
        max_length=100,
        required=False,
    ),
    ParamDef(
        "basic.hotline_number",
        Group.BASIC,
        Kind.TEXT,
        "96000",
        _("Hotline number"),
        validators=(_validate_phone_number,),
        max_length=32,
    ),
    ParamDef(
        "basic.page_size",
        Group.BASIC,
        Kind.INT,
        50,
        _("Rows per page in lists"),
        min_value=10,
        max_value=500,
    ),
    ParamDef(
        "business.default_time_limit",
        Group.BUSINESS,
        Kind.DURATION,
        24 * 3600,
        _("Default time limit of a work order"),
        _("Used when a category has no time limit of its own."),
        min_value=600,
        max_value=90 * 86400,
    ),
    ParamDef(
        "business.overdue_warning",
        Group.BUSINESS,
        Kind.DURATION,
        3600,
        _("Warn before the deadline"),
        _("Departments and the hotline are reminded this long before an order is due."),
        min_value=0,
        max_value=7 * 86400,
    ),
    ParamDef(
        "business.follow_up_required",
        Group.BUSINESS,
        Kind.BOOL,
        True,
        _("Follow-up call required before closing"),
    ),
    ParamDef(
        "business.follow_up_within",
        Group.BUSINESS,
        Kind.DURATION,
        72 * 3600,
        _("Follow-up call due within"),
        min_value=3600,
        max_value=30 * 86400,
    ),
    ParamDef(
        "business.voice_reminders",
        Group.BUSINESS,
        Kind.BOOL,
        True,
        _("Voice reminders for new orders"),
        _("Handlers hear a short spoken reminder; each user can still turn it off."),
    ),
    ParamDef(
        "communication.wrapup_seconds",
        Group.COMMUNICATION,
        Kind.INT,
        30,
        _("After-call work limit (seconds)"),
        _(
            "An agent in after-call work becomes idle again after this long; "
            "a queue may override it."
        ),
        min_value=0,
        max_value=600,
    ),
    ParamDef(
        "communication.ring_timeout_seconds",
        Group.COMMUNICATION,
        Kind.INT,
        20,
        _("Agent ring timeout (seconds)"),
        _("An unanswered call moves on to the next agent after this long."),
        min_value=5,
        max_value=120,
    ),
    ParamDef(
        "communication.service_level_seconds",
        Group.COMMUNICATION,
        Kind.INT,
        20,
        _("Service-level threshold (seconds)"),
        _(
            "Calls answered within this many seconds count as answered in time, in the call "
            "reports and on the wallboard. Past days' summaries are recounted with a new value "
            "within minutes (a report counts those days from the call records until then)."
        ),
        min_value=1,
        max_value=600,
    ),
    ParamDef(
        "communication.queue_max_wait",
        Group.COMMUNICATION,
        Kind.DURATION,
        300,
        _("Longest wait in the queue"),
        min_value=30,
        max_value=3600,
    ),
    ParamDef(
        "communication.working_hours",
        Group.COMMUNICATION,
        Kind.TEXT,
        "08:00-20:00",
        _("Working hours of the hotline"),
        _("Outside them the IVR plays the night message."),
        validators=(_validate_hours_range,),
        max_length=11,
    ),
    ParamDef(
        "communication.on_duty_number",
        Group.COMMUNICATION,
        Kind.TEXT,
        "",
        _("On-duty number outside working hours"),
        required=False,
        validators=(_validate_phone_number,),
        max_length=32,
    ),
    ParamDef(
        "communication.recording_channels",
        Group.COMMUNICATION,
        Kind.CHOICE,
        "mono",
        _("Recording format"),
        choices=(
            ("mono", _("Mono mix of both parties")),
            ("stereo", _("Stereo: caller left, agent right")),
        ),
    ),
    ParamDef(
        "communication.recording_retention_days",
        Group.COMMUNICATION,
        Kind.INT,
        730,
        _("Keep recordings for (days)"),
        _("0 keeps recordings forever."),
        min_value=0,
        max_value=3650,
    ),
)
BY_KEY: dict[str, ParamDef] = {d.key: d for d in DEFINITIONS}


def _load() -> dict[str, Any]:
    values = {d.key: d.default for d in DEFINITIONS}
    for key, value in Parameter.objects.filter(key__in=BY_KEY).values_list("key", "value"):
        values[key] = value
    return values


def all_values() -> dict[str, Any]:
    values = cache.get(CACHE_KEY)
    if values is None:
        values = _load()
        # A finite lifetime bounds how long a value read just before a change commits can
        # linger in the cache; a change also clears the cache when it commits.
        cache.set(CACHE_KEY, values, timeout=CACHE_SECONDS)
    return values


def param(key: str) -> Any:
    """The current typed value of a parameter."""
    if key not in BY_KEY:
        raise KeyError(f"unknown parameter {key!r}")
    values = all_values()
    return values.get(key, BY_KEY[key].default)


def invalidate_cache() -> None:
    cache.delete(CACHE_KEY)


def stored_values_and_versions() -> tuple[dict[str, Any], dict[str, int]]:
    """Values and versions read together from the database (never from the cache), for an
    editor: a version must belong to the value the editor sees."""
    values = {d.key: d.default for d in DEFINITIONS}
    versions: dict[str, int] = {}
    for key, value, version in Parameter.objects.filter(key__in=BY_KEY).values_list(
        "key", "value", "version"
    ):
        values[key] = value
        versions[key] = version
    return values, versions


def parameters_update(
    *, actor: Any, changes: dict[str, Any], versions: dict[str, int], request: Any = None
) -> list[str]:
    """Store new values (already cleaned) for several parameters; audit each real change.

    `versions` holds the version of each parameter the editor saw (0: it had no row). Saving a
    value that differs from the stored one after someone else changed it raises ConflictError,
    and nothing is saved. Values equal to the stored ones are left alone.
    """
    changed: list[str] = []
    with transaction.atomic():
        rows = {row.key: row for row in Parameter.objects.filter(key__in=list(changes))}
        for key, new in changes.items():
            definition = BY_KEY[key]
            row = rows.get(key)
            old = row.value if row is not None else definition.default
            if new == old:
                continue
            seen = versions.get(key, 0)
            if row is None:
                if seen != 0:
                    raise ConflictError(str(ConflictError.message))
                try:
                    with transaction.atomic():
                        row = Parameter.objects.create(key=key, value=new, updated_by=actor)
                except IntegrityError:  # another editor created it a moment ago
                    raise ConflictError(str(ConflictError.message)) from None
            else:
                claim_version(row, seen)
                row.value = new
                row.updated_by = actor
                row.save(update_fields=["value", "updated_by", "updated_at"])
            audit_record(
                actor=actor,
                action="parameter.change",
                target=row,
                target_label=f"{definition.label} ({key})",
                data={"changes": {key: [definition.display(old), definition.display(new)]}},
                request=request,
            )
            changed.append(key)
        transaction.on_commit(invalidate_cache)
    return changed
