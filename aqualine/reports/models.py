"""Reports (业务分析) read the work-order and call tables; the only table of their own holds the
custom queries people save (自定义查询) so that they can run them again."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SavedQuery(models.Model):
    """A named custom query of one person: its conditions and chosen columns, as the query form
    takes them (`aqualine.reports.forms.QueryForm`), so that running it again is filling the
    form with them. Names are unique per person; saving under a name in use replaces it."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="saved_queries",
    )
    name = models.CharField(_("query name"), max_length=100)
    # {"field": "value" | ["value", ...]}: the form's fields except the columns.
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    columns = models.JSONField(_("columns"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("saved query")
        verbose_name_plural = _("saved queries")
        ordering = ["name", "id"]
        default_permissions = ()
        permissions = [
            ("view_reports", _("View work-order reports and run custom queries")),
            ("view_call_reports", _("View call-centre reports")),
            ("export", _("Export reports to Excel")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="reports_query_owner_name")
        ]

    def __str__(self) -> str:
        return self.name
