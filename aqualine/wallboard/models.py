"""The wallboard reads the call and work-order tables and the switch; it has no table of its
own. `Wallboard` only carries its permissions (an unmanaged model: no table is created)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Wallboard(models.Model):
    class Meta:
        managed = False
        verbose_name = _("wallboard")
        verbose_name_plural = _("wallboards")
        default_permissions = ()
        permissions = [
            ("view_wallboard", _("View the wallboard")),
            ("kiosk_session", _("Stay signed in on a wallboard screen")),
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
