"""API tokens and the idempotency keys of API writes.

A token is stored as its SHA-256 digest only: a copy of the database (a backup, the Django admin)
gives no usable credential. This is why the API has its own token model rather than DRF's
`authtoken`, which keeps the key itself.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """The API token of one staff member (at most one: issuing a new one replaces it)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        on_delete=models.CASCADE,
        related_name="api_token",
    )
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(_("token prefix"), max_length=12)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.prefix}…"


class IdempotencyKey(models.Model):
    """An `Idempotency-Key` a client sent with a write: a retry with the same key (same user,
    same kind of write, same body) gets the resource the first request made instead of a new
    one. Kept as long as the resource: there is one row per resource created through the API."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=50)
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)
    resource_id = models.BigIntegerField(null=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["user", "scope", "key"], name="api_idempotency_once")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"
