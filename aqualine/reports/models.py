"""Reports (业务分析) read the work-order and call tables. Tables of their own: the custom queries
people save (自定义查询), daily summaries of orders and calls that the worker refreshes (so that a
year's report does not count a million rows, see `aqualine.reports.summaries`), and the Excel
exports the worker writes (我的导出)."""

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


# --- summaries (refreshed by `aqualine refresh_report_summaries`, see reports/summaries.py) -----


class SummaryDay(models.Model):
    """One local day of one kind of summary (orders or calls): the rows of the summary tables for
    that day were all written at `refreshed_at` (None: the day is being summarised for the first
    time, not ready to read). Also the lock that serialises two refreshes of the same day."""

    class Kind(models.TextChoices):
        ORDERS = "orders", _("Work orders")
        CALLS = "calls", _("Calls")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    day = models.DateField()
    refreshed_at = models.DateTimeField(null=True, blank=True)
    # calls: the service-level threshold (seconds) the in-time counts were made with
    threshold = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["kind", "day"], name="reports_summary_day_kind_day")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.day}"


class SummaryMark(models.Model):
    """The highest id of a source table (call records, agent-state history, work orders, order
    events) that a refresh has looked at, so that the next one finds the days with new rows."""

    key = models.CharField(max_length=40, unique=True)
    last_id = models.BigIntegerField(default=0)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.key}: {self.last_id}"


class OrderSummary(models.Model):
    """Orders taken on `day`, grouped by content (the leaf category), accepting unit, status now
    and the set of departments that had a task on them (`departments`: ",3,7," — the data scope
    and the department filter of the reports test it; "" for none)."""

    day = models.DateField()
    content_id = models.IntegerField()
    unit_id = models.IntegerField(null=True)
    status = models.CharField(max_length=20)
    departments = models.TextField(blank=True)
    orders = models.IntegerField(default=0)
    urged_orders = models.IntegerField(default=0)
    urges = models.IntegerField(default=0)
    s1 = models.IntegerField(default=0)
    s2 = models.IntegerField(default=0)
    s3 = models.IntegerField(default=0)
    s4 = models.IntegerField(default=0)
    s5 = models.IntegerField(default=0)

    class Meta:
        default_permissions = ()
        indexes = [models.Index(fields=["day"], name="reports_ordersum_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.content_id} {self.status}"


class TaskSummary(models.Model):
    """Department tasks of the orders taken on `day`, grouped by the order's content and set of
    departments (as in OrderSummary) and the task's department. `orders` and `s1`–`s5` count
    each order once per department; the open-task split (`open_overdue` / `open_in_time`) is
    as of `SummaryDay.refreshed_at`."""

    day = models.DateField()
    content_id = models.IntegerField()
    departments = models.TextField(blank=True)
    department_id = models.IntegerField()
    tasks = models.IntegerField(default=0)
    orders = models.IntegerField(default=0)
    waiting = models.IntegerField(default=0)
    accepted = models.IntegerField(default=0)
    submitted = models.IntegerField(default=0)
    returned = models.IntegerField(default=0)
    cancelled = models.IntegerField(default=0)
    open_overdue = models.IntegerField(default=0)
    open_in_time = models.IntegerField(default=0)
    on_time = models.IntegerField(default=0)
    late = models.IntegerField(default=0)
    task_urges = models.IntegerField(default=0)
    s1 = models.IntegerField(default=0)
    s2 = models.IntegerField(default=0)
    s3 = models.IntegerField(default=0)
    s4 = models.IntegerField(default=0)
    s5 = models.IntegerField(default=0)

    class Meta:
        default_permissions = ()
        indexes = [models.Index(fields=["day"], name="reports_tasksum_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.content_id} {self.department_id}"


class CallSummary(models.Model):
    """Call records that started on `day` in local hour `hour`, by queue and agent, with the
    counts and sums of `aqualine.reports.selectors.calls.CallFigures` (the in-time counts for
    `SummaryDay.threshold`)."""

    day = models.DateField()
    hour = models.PositiveSmallIntegerField()
    queue = models.CharField(max_length=40, blank=True)
    agent_id = models.CharField(max_length=20, blank=True)
    inbound = models.IntegerField(default=0)
    outbound = models.IntegerField(default=0)
    outbound_connected = models.IntegerField(default=0)
    offered = models.IntegerField(default=0)
    answered = models.IntegerField(default=0)
    answered_in_time = models.IntegerField(default=0)
    abandoned = models.IntegerField(default=0)
    short_abandoned = models.IntegerField(default=0)
    missed = models.IntegerField(default=0)
    ivr_only = models.IntegerField(default=0)
    wait_seconds = models.FloatField(default=0)
    talk_seconds = models.FloatField(default=0)
    longest_wait = models.FloatField(null=True)

    class Meta:
        default_permissions = ()
        indexes = [models.Index(fields=["day"], name="reports_callsum_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.hour:02d} {self.queue} {self.agent_id}"


class CallAcwSummary(models.Model):
    """After-call work done for the answered inbound calls that started on `day` in local hour
    `hour`: by the call's queue and agent (the report's filters) and the agent who did it."""

    day = models.DateField()
    hour = models.PositiveSmallIntegerField()
    queue = models.CharField(max_length=40, blank=True)
    call_agent_id = models.CharField(max_length=20, blank=True)
    agent_id = models.CharField(max_length=20)
    seconds = models.FloatField(default=0)

    class Meta:
        default_permissions = ()
        indexes = [models.Index(fields=["day"], name="reports_acwsum_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.hour:02d} {self.agent_id}"


class AgentStateSummary(models.Model):
    """Time agents spent in each signed-on state, by the local day the stretch ended."""

    day = models.DateField()
    agent_id = models.CharField(max_length=20)
    state = models.CharField(max_length=20)
    seconds = models.FloatField(default=0)

    class Meta:
        default_permissions = ()
        indexes = [models.Index(fields=["day"], name="reports_statesum_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.agent_id} {self.state}"


# --- Excel exports run by the worker ----------------------------------------------------------


class ExportJob(models.Model):
    """A long Excel export (我的导出): asked for on a report page, written by
    `aqualine run_report_exports` (a worker job) under the exports directory, downloaded by its
    owner through a permission-checked view, deleted after `EXPORT_KEEP_DAYS`."""

    class Kind(models.TextChoices):
        QUERY = "query", _("Custom query")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Being written")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="report_exports",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # the report's query string (conditions and columns), as the page had it
    query = models.TextField(_("query"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    size = models.BigIntegerField(_("size (bytes)"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-id"]
        default_permissions = ()
        permissions = [("view_all_exports", _("Download everyone's report exports"))]
        indexes = [
            models.Index(fields=["status", "created_at"], name="reports_export_status"),
            models.Index(fields=["owner", "created_at"], name="reports_export_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"
