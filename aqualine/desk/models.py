from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MissedCallHandled(models.Model):
    """A missed or abandoned call (未接来电) that a supervisor marked as handled (called back,
    or nothing to do). The call itself is the switch's `callcenter.CallRecord`, by call ID."""

    call_id = models.CharField(_("call ID"), max_length=64, unique=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    handled_at = models.DateTimeField(_("handled"))

    class Meta:
        verbose_name = _("handled missed call")
        verbose_name_plural = _("handled missed calls")
        ordering = ["-handled_at"]
        default_permissions = ()
        permissions = [
            ("use_desktop", _("Use the agent desktop")),
            ("supervise", _("Monitor agents and queues, force agents' states")),
            ("control_calls", _("Hold, transfer and conference own calls, place outbound calls")),
            ("supervise_calls", _("Listen in on, whisper to and barge into agents' calls")),
        ]

    def __str__(self) -> str:
        return self.call_id
