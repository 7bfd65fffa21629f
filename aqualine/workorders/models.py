"""Work orders (工单): the category tree, the order, one task per dispatched department (部门处理单,
one section of the joint processing form each), the append-only event timeline and attachments.

State changes are declared once in `aqualine.workorders.transitions` and carried out by the
services in `aqualine.workorders.services`; nothing here has side effects in `save()`.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    """A node of the two-level category tree: 反映类别 (parent) → 反映内容 (leaf).

    The default department is kept as a department *code* (`hotline`, `repair`, ...), resolved
    when an order is dispatched: categories are seeded by a migration, when the departments may
    not exist yet, and a code survives a department being renamed or re-created.
    """

    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    name = models.CharField(_("name"), max_length=100)
    code = models.SlugField(_("code"), max_length=50, unique=True)
    default_department_code = models.SlugField(
        _("default department code"),
        max_length=50,
        blank=True,
        help_text=_("Code of the department orders of this category go to; empty: the parent's."),
    )
    time_limit_hours = models.PositiveIntegerField(
        _("time limit (hours)"),
        null=True,
        blank=True,
        help_text=_("Empty: the parent's limit, else the system's default time limit."),
    )
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["sort_order", "name"]
        default_permissions = ()

    def __str__(self) -> str:
        if self.parent_id is not None:
            return f"{self.parent} / {self.name}"
        return self.name


class OrderCounter(models.Model):
    """The last order number handed out on one (local) day; rows are updated, never deleted."""

    day = models.DateField(unique=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class WorkOrder(models.Model):
    class Source(models.TextChoices):
        PHONE = "phone", _("Phone")
        IVR = "ivr", _("IVR")
        WECHAT = "wechat", _("WeChat")
        WEB = "web", _("Web form")
        WALK_IN = "walk_in", _("Walk-in")
        CITY_12345 = "city_12345", _("12345 city platform")

    class Urgency(models.TextChoices):
        NORMAL = "normal", _("Normal")
        URGENT = "urgent", _("Urgent")
        CRITICAL = "critical", _("Critical")

    class Status(models.TextChoices):
        PENDING_DISPATCH = "pending_dispatch", _("Pending dispatch")
        PROCESSING = "processing", _("Processing")
        PENDING_FOLLOW_UP = "pending_follow_up", _("Pending follow-up")
        REDO = "redo", _("Redo")
        CLOSED = "closed", _("Closed")

    class FollowUpOutcome(models.TextChoices):
        SATISFIED = "satisfied", _("Satisfied")
        UNSATISFIED = "unsatisfied", _("Unsatisfied")

    OPEN_STATUSES = frozenset(
        {Status.PENDING_DISPATCH, Status.PROCESSING, Status.PENDING_FOLLOW_UP, Status.REDO}
    )

    number = models.CharField(_("order number"), max_length=20, unique=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    caller_number = models.CharField(_("caller number"), max_length=32, blank=True, db_index=True)
    reporter_name = models.CharField(_("reporter"), max_length=50, blank=True)
    reporter_phone = models.CharField(_("reporter phone"), max_length=32, blank=True, db_index=True)
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="work_orders",
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    area = models.ForeignKey(
        "customers.Area",
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="work_orders",
    )
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="orders"
    )
    description = models.TextField(_("description"))
    urgency = models.CharField(
        _("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING_DISPATCH
    )
    redo_count = models.PositiveIntegerField(_("redo count"), default=0)
    urge_count = models.PositiveIntegerField(_("urge count"), default=0)
    satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    call_id = models.CharField(_("call ID"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        ordering = ["-created_at", "-id"]
        default_permissions = ()
        permissions = [
            ("create_orders", _("Create work orders (intake)")),
            ("dispatch_orders", _("Dispatch work orders")),
            ("follow_up_orders", _("Follow up work orders")),
            ("urge_orders", _("Urge work orders")),
            ("handle_tasks", _("Handle department tasks")),
            ("record_for_department", _("Record for a department on its behalf")),
            ("redo_closed_orders", _("Redo a closed work order")),
            ("view_all_orders", _("View all work orders")),
            ("view_department_orders", _("View own department's work orders")),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="wo_status_created")]

    def __str__(self) -> str:
        return self.number

    @property
    def current_round(self) -> int:
        return self.redo_count + 1


class DepartmentTask(models.Model):
    """One department's part of an order (部门处理单): its section of the joint processing form."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting to be signed for")
        ACCEPTED = "accepted", _("Signed for")
        SUBMITTED = "submitted", _("Submitted")
        RETURNED = "returned", _("Returned")
        CANCELLED = "cancelled", _("Cancelled")

    # The department is working on these; the deadline runs for them.
    OPEN_STATUSES = frozenset({Status.WAITING, Status.ACCEPTED})

    order = models.ForeignKey(
        WorkOrder, verbose_name=_("work order"), on_delete=models.CASCADE, related_name="tasks"
    )
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="work_order_tasks",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.WAITING
    )
    round = models.PositiveIntegerField(_("round"), default=1)
    dispatched_at = models.DateTimeField(_("dispatched at"))
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    deadline = models.DateTimeField(_("deadline"))
    accepted_at = models.DateTimeField(_("signed for at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    survey = models.TextField(_("site survey"), blank=True)
    surveyed_at = models.DateTimeField(_("surveyed at"), null=True, blank=True)
    surveyed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    result = models.TextField(_("result"), blank=True)
    result_at = models.DateTimeField(_("result recorded at"), null=True, blank=True)
    result_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    return_reason = models.TextField(_("reason for return"), blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    recorded_on_behalf_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded on behalf by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    replaced_by = models.OneToOneField(
        "self",
        verbose_name=_("re-dispatched as"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replaces",
    )
    urge_count = models.PositiveIntegerField(_("urge count"), default=0)
    # When the "due soon" and "overdue" reminders went out (each once per task); set by
    # `aqualine remind_deadlines` with a conditional UPDATE, so two workers never both send one.
    due_soon_reminded_at = models.DateTimeField(
        _("due-soon reminder sent at"), null=True, blank=True
    )
    overdue_reminded_at = models.DateTimeField(_("overdue reminder sent at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("department task")
        verbose_name_plural = _("department tasks")
        ordering = ["round", "dispatched_at", "id"]
        default_permissions = ()
        indexes = [
            models.Index(fields=["department", "status"], name="wo_task_dept_status"),
            models.Index(fields=["status", "deadline"], name="wo_task_status_deadline"),
            # The order lists' "has a task of department X" and "has an overdue task" tests,
            # probed once per order, answered from the index alone (bench/workorders.py).
            models.Index(
                fields=["order", "department", "status", "deadline"], name="wo_task_order_dept"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.department_id}/{self.round}"


class OrderEvent(models.Model):
    """The append-only timeline of an order: at once its history, audit trail and report source."""

    class Type(models.TextChoices):
        CREATED = "created", _("Created")
        DISPATCHED = "dispatched", _("Dispatched")
        ACCEPTED = "accepted", _("Signed for")
        SURVEYED = "surveyed", _("Site survey recorded")
        RESULT_RECORDED = "result_recorded", _("Result recorded")
        SUBMITTED = "submitted", _("Submitted")
        RETURNED = "returned", _("Returned to the hotline")
        REDISPATCHED = "redispatched", _("Re-dispatched")
        TASK_CANCELLED = "task_cancelled", _("Department task cancelled")
        FOLLOW_UP = "follow_up", _("Follow-up call")
        CLOSED = "closed", _("Closed")
        REDO = "redo", _("Redo")
        URGED = "urged", _("Urged")
        NOTE = "note", _("Note")
        DUE_SOON = "due_soon", _("Reminder: deadline approaching")
        OVERDUE = "overdue", _("Reminder: overdue")

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="events")
    task = models.ForeignKey(
        DepartmentTask, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    type = models.CharField(_("type"), max_length=20, choices=Type.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(_("actor"), max_length=100, blank=True)
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("work-order event")
        verbose_name_plural = _("work-order events")
        ordering = ["at", "id"]
        default_permissions = ()
        indexes = [models.Index(fields=["order", "at"], name="wo_event_order_at")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.type}"


class Attachment(models.Model):
    """A photo or document attached to an order, or to one department's section of it."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="attachments")
    task = models.ForeignKey(
        DepartmentTask,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    file = models.FileField(_("file"), upload_to="workorders/%Y/%m/")
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "id"]
        default_permissions = ()

    def __str__(self) -> str:
        return self.name
