"""Customers of the utility as the billing system (营业收费系统) knows them: accounts, their phones,
water meters, bills and payments; service areas (片区) and the water-outage notices (停水通知)
that concern them.

The billing system stays the source of truth; these tables are a copy kept fresh by imports
(`aqualine.customers.importing`). Arrears are computed from bills by a selector, never stored.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

account_number_validator = RegexValidator(
    r"^[0-9A-Za-z-]{4,30}$",
    _("An account number has 4 to 30 letters, digits or dashes."),
)
period_validator = RegexValidator(
    r"^[0-9]{4}-(0[1-9]|1[0-2])$", _("Enter the billing period as YYYY-MM, e.g. 2025-03.")
)
ZERO = Decimal("0.00")


def normalize_phone(raw: str) -> str:
    """The digits of a phone number as stored and matched: '+86 138-0013-8000' → '13800138000'.

    Mobile numbers lose a country prefix (86, 0086) or a trunk prefix 0 that caller IDs from other
    cities carry; landlines keep their area code ('0571-8888 6666' → '057188886666').
    """
    digits = re.sub(r"\D", "", raw or "")
    if digits.startswith("0086"):
        digits = digits[4:]
    elif len(digits) == 13 and digits.startswith("861"):
        digits = digits[2:]
    if len(digits) == 12 and digits.startswith("01"):
        digits = digits[1:]
    return digits


class Area(models.Model):
    """A service area (片区): accounts lie in one; an outage notice names the areas it affects."""

    code = models.SlugField(
        _("code"),
        max_length=50,
        unique=True,
        error_messages={"unique": _("Another area already uses this code.")},
    )
    name = models.CharField(
        _("name"),
        max_length=100,
        unique=True,
        error_messages={"unique": _("An area with this name already exists.")},
    )
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["sort_order", "name"]
        default_permissions = ()

    def __str__(self) -> str:
        return self.name


class Account(models.Model):
    """A utility account (用户号/缴费号) at one service address (发生地址)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("In service")
        SUSPENDED = "suspended", _("Suspended")
        CLOSED = "closed", pgettext_lazy("account status", "Closed")

    number = models.CharField(
        _("account number"),
        max_length=30,
        unique=True,
        validators=[account_number_validator],
        error_messages={"unique": _("An account with this number already exists.")},
    )
    name = models.CharField(_("account holder"), max_length=100, db_index=True)
    address = models.CharField(_("service address"), max_length=200)
    area = models.ForeignKey(
        Area,
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # The address and name fragment searches use `__icontains`. On PostgreSQL migration 0002
    # adds pg_trgm GIN indexes on UPPER(address) and UPPER(name) (the expression Django's
    # icontains compiles to), so "幸福小区" finds its rows among 200,000 accounts through the
    # index. SQLite has no trigram index; there a LIKE scan of the demo/embedded sizes is fast
    # enough and keeps the embedded mode free of extensions.
    class Meta:
        verbose_name = _("customer account")
        verbose_name_plural = _("customer accounts")
        ordering = ["number"]
        default_permissions = ()
        permissions = [
            ("view_customers", _("Look up customers, meters, bills and arrears")),
            ("import_customers", _("Import customer data")),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class AccountPhone(models.Model):
    """One phone number of an account, stored as normalised digits so that lookups are exact."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="phones"
    )
    number = models.CharField(_("phone"), max_length=20, db_index=True)

    class Meta:
        verbose_name = _("account phone")
        verbose_name_plural = _("account phones")
        ordering = ["id"]
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["account", "number"], name="customers_phone_once")
        ]

    def __str__(self) -> str:
        return self.number


class Meter(models.Model):
    """A water meter (水表) installed for an account."""

    class Kind(models.TextChoices):
        MECHANICAL = "mechanical", _("Mechanical")
        SMART = "smart", _("Smart")
        PREPAID = "prepaid", _("IC card (prepaid)")
        REMOTE = "remote", _("Remote reading")

    class Status(models.TextChoices):
        IN_SERVICE = "in_service", _("In service")
        FAULTY = "faulty", _("Faulty")
        REMOVED = "removed", _("Removed")

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="meters"
    )
    number = models.CharField(
        _("meter number"),
        max_length=30,
        unique=True,
        error_messages={"unique": _("A meter with this number already exists.")},
    )
    caliber_mm = models.PositiveSmallIntegerField(_("caliber (mm)"), default=20)
    kind = models.CharField(
        _("meter type"), max_length=20, choices=Kind.choices, default=Kind.MECHANICAL
    )
    installed_on = models.DateField(_("installed on"), null=True, blank=True)
    last_reading = models.DecimalField(
        _("last reading (m³)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    last_read_on = models.DateField(_("last read on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.IN_SERVICE
    )

    class Meta:
        verbose_name = _("water meter")
        verbose_name_plural = _("water meters")
        ordering = ["number"]
        default_permissions = ()

    def __str__(self) -> str:
        return self.number


class Bill(models.Model):
    """A water bill of one account for one month (账期). Arrears are computed from these."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="bills"
    )
    period = models.CharField(_("billing period"), max_length=7, validators=[period_validator])
    usage_m3 = models.DecimalField(
        _("usage (m³)"),
        max_digits=12,
        decimal_places=2,
        default=ZERO,
        validators=[MinValueValidator(ZERO)],
    )
    amount = models.DecimalField(
        _("amount (yuan)"), max_digits=12, decimal_places=2, validators=[MinValueValidator(ZERO)]
    )
    paid = models.DecimalField(
        _("paid (yuan)"),
        max_digits=12,
        decimal_places=2,
        default=ZERO,
        validators=[MinValueValidator(ZERO)],
    )
    due_date = models.DateField(_("due date"))

    class Meta:
        verbose_name = _("bill")
        verbose_name_plural = _("bills")
        ordering = ["-period"]
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["account", "period"], name="customers_bill_period"),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0, paid__gte=0), name="customers_bill_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.period}"

    @property
    def unpaid(self) -> Decimal:
        return max(self.amount - self.paid, ZERO)

    @property
    def is_paid(self) -> bool:
        return self.paid >= self.amount


class Payment(models.Model):
    """A payment received for an account (from the billing system)."""

    class Channel(models.TextChoices):
        COUNTER = "counter", _("Service counter")
        WECHAT = "wechat", _("WeChat Pay")
        ALIPAY = "alipay", _("Alipay")
        BANK = "bank", _("Bank transfer or direct debit")
        OTHER = "other", _("Other")

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="payments"
    )
    amount = models.DecimalField(_("amount (yuan)"), max_digits=12, decimal_places=2)
    paid_at = models.DateTimeField(_("paid at"))
    channel = models.CharField(
        _("channel"), max_length=20, choices=Channel.choices, default=Channel.COUNTER
    )
    reference = models.CharField(
        _("reference"),
        max_length=64,
        unique=True,
        error_messages={"unique": _("A payment with this reference already exists.")},
    )

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-paid_at"]
        default_permissions = ()
        indexes = [models.Index(fields=["account", "paid_at"], name="customers_payment_acct")]

    def __str__(self) -> str:
        return self.reference


class OutageNotice(models.Model):
    """A water-outage notice (停水通知) for one or more areas.

    It is in effect from `starts_at` until it is marked restored; `expected_end_at` is what
    callers are told. `status` as stored is what staff last set; `status_at()` is what holds at a
    given moment (a planned notice whose start has come is in effect).
    """

    class Kind(models.TextChoices):
        PLANNED = "planned", _("Planned")
        EMERGENCY = "emergency", _("Emergency")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Upcoming")
        ACTIVE = "active", _("In effect")
        RESTORED = "restored", _("Supply restored")

    OPEN = frozenset({Status.PLANNED, Status.ACTIVE})

    areas = models.ManyToManyField(Area, verbose_name=_("areas affected"), related_name="outages")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.PLANNED)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PLANNED
    )
    reason = models.CharField(
        _("reason"), max_length=200, help_text=_("Read to callers, e.g. “pipe repair”.")
    )
    starts_at = models.DateTimeField(_("start"), db_index=True)
    expected_end_at = models.DateTimeField(_("expected end"))
    restored_at = models.DateTimeField(_("supply restored at"), null=True, blank=True)
    note = models.TextField(_("internal note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # A fresh token is put in each "new notice" form: a second submission of the same form
    # (double click, browser retry) is refused instead of creating the notice twice.
    form_token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("water-outage notice")
        verbose_name_plural = _("water-outage notices")
        ordering = ["-starts_at", "-id"]
        default_permissions = ()
        permissions = [("manage_outages", _("Manage water-outage notices"))]
        indexes = [models.Index(fields=["status", "starts_at"], name="customers_outage_open")]

    def __str__(self) -> str:
        return f"{self.reason} ({self.starts_at:%Y-%m-%d %H:%M})"

    def status_at(self, at: datetime | None = None) -> str:
        if self.status == self.Status.RESTORED:
            return self.Status.RESTORED
        at = at or timezone.now()
        return self.Status.ACTIVE if self.starts_at <= at else self.Status.PLANNED

    @property
    def current_status(self) -> str:
        return self.status_at()

    def get_current_status_display(self) -> str:
        return str(self.Status(self.current_status).label)
