from __future__ import annotations

import secrets
import string

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, validate_ipv46_address
from django.db import models
from django.utils.translation import gettext_lazy as _

extension_number_validator = RegexValidator(
    r"^[0-9]{2,10}$", _("An extension number has 2 to 10 digits.")
)
_PASSWORD_ALPHABET = string.ascii_letters + string.digits


def generate_sip_password(length: int = 12) -> str:
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))


def split_list(value: str) -> list[str]:
    return [item.strip() for item in value.replace("\n", ",").split(",") if item.strip()]


def validate_host_list(value: str) -> None:
    hosts = split_list(value)
    if not hosts:
        raise ValidationError(_("Enter at least one IP address."))
    for host in hosts:
        try:
            validate_ipv46_address(host)
        except ValidationError:
            raise ValidationError(_("%(host)s is not an IP address.") % {"host": host}) from None


def validate_number_list(value: str) -> None:
    numbers = split_list(value)
    if not numbers:
        raise ValidationError(_("Enter at least one number."))
    for number in numbers:
        if not number.isdigit() or len(number) > 20:
            raise ValidationError(_("%(n)s is not a phone number.") % {"n": number})


class Extension(models.Model):
    """A SIP extension (分机) that a desk phone or softphone registers as."""

    number = models.CharField(
        _("extension number"),
        max_length=10,
        unique=True,
        validators=[extension_number_validator],
        error_messages={"unique": _("This extension number is already in use.")},
    )
    display_name = models.CharField(_("display name"), max_length=50, blank=True)
    # Phones need the digest secret in clear to be configured, as with any PBX.
    password = models.CharField(_("SIP password"), max_length=64, default=generate_sip_password)
    enabled = models.BooleanField(_("enabled"), default=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("extension")
        verbose_name_plural = _("extensions")
        ordering = ["number"]
        default_permissions = ()
        permissions = [
            ("manage_telephony", _("Manage extensions and trunks")),
            ("view_switch", _("View the switch and phone registrations")),
        ]

    def __str__(self) -> str:
        return self.number


class Trunk(models.Model):
    """A carrier trunk peer that delivers hotline calls (and later carries outbound calls)."""

    name = models.CharField(
        _("name"),
        max_length=100,
        unique=True,
        error_messages={"unique": _("A trunk with this name already exists.")},
    )
    hosts = models.CharField(
        _("peer IP addresses"),
        max_length=500,
        validators=[validate_host_list],
        help_text=_("Calls are accepted from these addresses only; separate them with commas."),
    )
    numbers = models.CharField(
        _("hotline numbers"),
        max_length=500,
        validators=[validate_number_list],
        help_text=_("Numbers this trunk delivers to the hotline, e.g. 96000."),
    )
    username = models.CharField(
        _("digest user name"),
        max_length=100,
        blank=True,
        help_text=_("When set, calls from the trunk must also authenticate."),
    )
    password = models.CharField(_("digest password"), max_length=100, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("trunk")
        verbose_name_plural = _("trunks")
        ordering = ["name"]
        default_permissions = ()

    def __str__(self) -> str:
        return self.name

    @property
    def host_list(self) -> list[str]:
        return split_list(self.hosts)

    @property
    def number_list(self) -> list[str]:
        return split_list(self.numbers)


class CallRecord(models.Model):
    """A call detail record, written by the switch."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")
        INTERNAL = "internal", _("Internal")

    call_id = models.CharField(_("call ID"), max_length=64, unique=True)
    sip_call_id = models.CharField(_("SIP Call-ID"), max_length=255, blank=True)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    caller = models.CharField(_("calling number"), max_length=64, db_index=True)
    callee = models.CharField(_("called number"), max_length=64, db_index=True)
    source = models.CharField(_("source address"), max_length=64, blank=True)
    trunk = models.CharField(_("trunk"), max_length=100, blank=True)
    started_at = models.DateTimeField(_("started"), db_index=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, blank=True)
    end_cause = models.CharField(_("end cause"), max_length=200, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("call record")
        verbose_name_plural = _("call records")
        ordering = ["-started_at"]
        default_permissions = ()
        permissions = [("view_call_records", _("View call records"))]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M:%S} {self.caller} → {self.callee}"

    @property
    def duration(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()
