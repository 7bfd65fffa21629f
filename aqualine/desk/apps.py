from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeskConfig(AppConfig):
    name = "aqualine.desk"
    label = "desk"
    verbose_name = _("Agent desktop")

    def ready(self) -> None:
        from aqualine.core.audit import ACTION_LABELS

        # The audit action of this app (the audit log refuses actions it has no label for).
        ACTION_LABELS.setdefault(
            "call.supervise", _("Listened in on, whispered to or barged into a call (supervisor)")
        )
