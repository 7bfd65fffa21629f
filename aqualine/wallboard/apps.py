from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WallboardConfig(AppConfig):
    name = "aqualine.wallboard"
    label = "wallboard"
    verbose_name = _("Wallboard")
