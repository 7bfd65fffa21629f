"""Announcements (公告): types that administrators define, the announcement with its validity
period and publication scope, read receipts, and the append-only history of each announcement.

Scope: `to_everyone`, or the chosen `departments` — each *with every department below it* — and
the chosen `people`. Who is in scope is decided by `aqualine.notices.selectors`; writes go
through `aqualine.notices.services`; nothing here has side effects in `save()`.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class NoticeType(models.Model):
    """A kind of announcement (通知, 制度, 停水公告 ...), defined by administrators."""

    name = models.CharField(
        _("type name"),
        max_length=50,
        unique=True,
        error_messages={"unique": _("An announcement type with this name already exists.")},
    )
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(
        _("in use"), default=True, help_text=_("Types not in use are not offered to publishers.")
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("announcement type")
        verbose_name_plural = _("announcement types")
        ordering = ["sort_order", "name"]
        default_permissions = ()
        permissions = [("manage_notice_types", _("Manage announcement types"))]

    def __str__(self) -> str:
        return self.name


class Announcement(models.Model):
    class Status(models.TextChoices):
        PUBLISHED = "published", _("Published")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    type = models.ForeignKey(
        NoticeType,
        verbose_name=_("type"),
        on_delete=models.PROTECT,
        related_name="announcements",
    )
    title = models.CharField(_("title"), max_length=200)
    # `body` is what the publisher typed (plain text, or simple HTML); `body_html` is what pages
    # show: the plain text with its line breaks, or the HTML cleaned by nh3 (services.py).
    body = models.TextField(_("text"))
    body_html = models.TextField(editable=False)
    valid_from = models.DateTimeField(_("valid from"), db_index=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    to_everyone = models.BooleanField(_("everyone"), default=False)
    departments = models.ManyToManyField(
        "accounts.Department",
        verbose_name=_("departments (sub-departments included)"),
        blank=True,
        related_name="+",
    )
    people = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("people"), blank=True, related_name="+"
    )
    outage = models.ForeignKey(
        "customers.OutageNotice",
        verbose_name=_("water-outage notice"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PUBLISHED
    )
    publisher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published"), auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    # A fresh token in each "new announcement" form: a second submission of the same form
    # (double click, browser retry) is refused instead of publishing twice.
    form_token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        ordering = ["-valid_from", "-id"]
        default_permissions = ()
        permissions = [
            ("view_notices", _("Read the announcements meant for oneself")),
            ("publish_notices", _("Publish announcements; edit and withdraw one's own")),
            ("manage_notices", _("Edit and withdraw anyone's announcements; see read receipts")),
        ]
        indexes = [models.Index(fields=["status", "valid_from"], name="notices_current")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_until__gt=models.F("valid_from")),
                name="notices_valid_until_after_from",
            )
        ]

    def __str__(self) -> str:
        return self.title


class AnnouncementRead(models.Model):
    """A read receipt: who opened the announcement, and when (first time)."""

    announcement = models.ForeignKey(Announcement, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(_("read at"))

    class Meta:
        verbose_name = _("read receipt")
        verbose_name_plural = _("read receipts")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["announcement", "user"], name="notices_read_once")
        ]

    def __str__(self) -> str:
        return f"{self.announcement_id} {self.user_id}"


class AnnouncementEvent(models.Model):
    """The history of one announcement (published, edited, withdrawn): append-only."""

    class Type(models.TextChoices):
        PUBLISHED = "published", _("Published")
        EDITED = "edited", _("Edited")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    announcement = models.ForeignKey(Announcement, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=20, choices=Type.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=100, blank=True)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()

    class Meta:
        default_permissions = ()
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.announcement_id} {self.type}"
