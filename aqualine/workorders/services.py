"""Writes of the work-order app. Each service checks its permission and the transition table,
runs in one transaction (the order row locked with select_for_update, a task's version claimed
where two people can edit one section), writes its OrderEvent rows and schedules their real-time
push with `transaction.on_commit`, so no client hears of a change that rolled back.

Views validate input and turn ValidationError (400), PermissionDenied (403) and ConflictError
(409, "reload and try again") into messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from aqualine.accounts.models import Department, User
from aqualine.core.concurrency import ConflictError, claim_version
from aqualine.core.parameters import param
from aqualine.customers.models import Account, Area, normalize_phone
from aqualine.workorders.events import record_event
from aqualine.workorders.models import (
    Attachment,
    Category,
    DepartmentTask,
    OrderCounter,
    OrderEvent,
    WorkOrder,
)
from aqualine.workorders.permissions import WorkordersPerm
from aqualine.workorders.selectors import user_belongs_to
from aqualine.workorders.transitions import (
    ORDER_TRANSITIONS,
    TASK_TRANSITIONS,
    check_permission,
    check_source,
)

Status = WorkOrder.Status
TaskStatus = DepartmentTask.Status
EventType = OrderEvent.Type

ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENT_TYPES = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
}


# --- helpers ----------------------------------------------------------------------------------


def _required(text: str, field: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({field: _("This field is required.")})
    return text


def _lock_order(order: WorkOrder, version: int | None = None) -> WorkOrder:
    """Lock the order row for the rest of the transaction and refresh `order` from it."""
    locked = WorkOrder.objects.select_for_update().get(pk=order.pk)
    if version is not None and locked.version != version:
        raise ConflictError(str(ConflictError.message))
    for field in locked._meta.concrete_fields:
        setattr(order, field.attname, getattr(locked, field.attname))
    return order


def _save_order(order: WorkOrder, fields: Iterable[str]) -> None:
    claim_version(order, order.version)  # the row is locked: this only bumps the version
    order.save(update_fields=[*fields])


def _lock_task(task: DepartmentTask, version: int) -> DepartmentTask:
    """Lock the task's order (order first, then task: one lock order everywhere), then claim the
    task version the editor saw: a second editor of the same section gets ConflictError."""
    _lock_order(task.order)
    claim_version(task, version)
    fresh = DepartmentTask.objects.get(pk=task.pk)
    for field in fresh._meta.concrete_fields:
        if field.attname != "order_id":
            setattr(task, field.attname, getattr(fresh, field.attname))
    return task


def _check_task_actor(actor: User, task: DepartmentTask, name: str) -> bool:
    """Raise PermissionDenied unless `actor` may do `name` to `task`; True when on behalf."""
    transition = TASK_TRANSITIONS[name]
    if actor.has_perm(transition.permission or "") and user_belongs_to(actor, task.department):
        return False
    if transition.on_behalf and actor.has_perm(WorkordersPerm.RECORD_FOR_DEPARTMENT):
        return True
    raise PermissionDenied


def category_time_limit(category: Category) -> timedelta:
    """The category's limit, else its parent's, else the system parameter (calendar hours)."""
    node: Category | None = category
    while node is not None:
        if node.time_limit_hours is not None:
            return timedelta(hours=node.time_limit_hours)
        node = node.parent
    return timedelta(seconds=int(param("business.default_time_limit")))


def category_default_department(category: Category) -> Department | None:
    """The department a category's orders go to by default (resolved from its code)."""
    node: Category | None = category
    while node is not None:
        if node.default_department_code:
            return Department.objects.filter(
                code=node.default_department_code, is_active=True
            ).first()
        node = node.parent
    return None


def _departments(departments: Sequence[Department]) -> list[Department]:
    unique = list({d.pk: d for d in departments}.values())
    if not unique:
        raise ValidationError({"departments": _("Choose at least one department.")})
    if any(not d.is_active for d in unique):
        raise ValidationError({"departments": _("This department is deactivated.")})
    return unique


def _new_task(
    *, actor: User, order: WorkOrder, department: Department, now: datetime
) -> DepartmentTask:
    task = DepartmentTask.objects.create(
        order=order,
        department=department,
        round=order.current_round,
        dispatched_at=now,
        dispatched_by=actor,
        deadline=now + category_time_limit(order.category),
    )
    return task


def _round_tasks(order: WorkOrder) -> list[DepartmentTask]:
    return list(DepartmentTask.objects.filter(order=order, round=order.current_round))


def _settle_round(*, actor: User, order: WorkOrder, now: datetime) -> None:
    """processing → pending follow-up when every task of the round that counts (not cancelled,
    not returned and re-dispatched) is submitted, and at least one is."""
    if order.status != Status.PROCESSING:
        return
    counting = [
        t
        for t in _round_tasks(order)
        if t.status != TaskStatus.CANCELLED
        and not (t.status == TaskStatus.RETURNED and t.replaced_by_id is not None)
    ]
    if counting and all(t.status == TaskStatus.SUBMITTED for t in counting):
        order.status = ORDER_TRANSITIONS["all_submitted"].target or order.status
        _save_order(order, ["status"])


# --- order numbers ----------------------------------------------------------------------------


def next_order_number(now: datetime | None = None) -> str:
    """`GD` + local date + a 4-digit daily sequence (more digits after 9999), unique under
    concurrency: the day's counter row is bumped with an UPDATE, which locks it until commit.
    Call it inside the transaction that saves the order, so that a rollback returns the number."""
    day = timezone.localdate(now or timezone.now())
    with transaction.atomic():
        if not OrderCounter.objects.filter(day=day).exists():
            try:
                with transaction.atomic():
                    OrderCounter.objects.create(day=day, last=0)
            except IntegrityError:  # another intake created today's row a moment ago
                pass
        OrderCounter.objects.filter(day=day).update(last=F("last") + 1)
        last = OrderCounter.objects.filter(day=day).values_list("last", flat=True).get()
    return f"GD{day:%Y%m%d}{last:04d}"


# --- order services ---------------------------------------------------------------------------


def workorder_create(
    *,
    actor: User | None,
    source: str,
    category: Category,
    description: str,
    caller_number: str = "",
    reporter_name: str = "",
    reporter_phone: str = "",
    account: Account | None = None,
    address: str = "",
    area: Area | None = None,
    urgency: str = WorkOrder.Urgency.NORMAL,
    call_id: str = "",
) -> WorkOrder:
    """Intake (受理): a new order in pending dispatch. The deadline starts at dispatch.

    `actor` None is the IVR itself (a repair message left by a caller): allowed only for the
    source IVR; the timeline shows the system as the actor."""
    if actor is None:
        if source != WorkOrder.Source.IVR:
            raise PermissionDenied
    else:
        check_permission(actor, ORDER_TRANSITIONS["create"])
    description = _required(description, "description")
    if source not in WorkOrder.Source.values:
        raise ValidationError({"source": _("Choose one of the offered values.")})
    if urgency not in WorkOrder.Urgency.values:
        raise ValidationError({"urgency": _("Choose one of the offered values.")})
    if not category.is_active or category.children.filter(is_active=True).exists():
        raise ValidationError({"category": _("Choose a specific, active category.")})
    if account is not None:
        address = address or account.address
        area = area or account.area
    now = timezone.now()
    with transaction.atomic():
        order = WorkOrder.objects.create(
            number=next_order_number(now),
            source=source,
            caller_number=normalize_phone(caller_number),
            reporter_name=reporter_name.strip(),
            reporter_phone=normalize_phone(reporter_phone),
            account=account,
            address=address.strip(),
            area=area,
            category=category,
            description=description,
            urgency=urgency,
            call_id=call_id,
            created_by=actor,
            created_at=now,
        )
        record_event(
            order=order,
            type=EventType.CREATED,
            actor=actor,
            data={"source": source, "category": str(category), "urgency": urgency},
            at=now,
        )
    return order


def workorder_close_at_intake(
    *, actor: User, order: WorkOrder, answer: str, version: int | None = None
) -> WorkOrder:
    """直接办结: the call itself answered it (e.g. a consultation)."""
    transition = ORDER_TRANSITIONS["close_at_intake"]
    check_permission(actor, transition)
    answer = _required(answer, "answer")
    with transaction.atomic():
        _lock_order(order, version)
        check_source(transition, order.status)
        now = timezone.now()
        order.status = Status.CLOSED
        order.closed_at = now
        _save_order(order, ["status", "closed_at"])
        record_event(
            order=order,
            type=EventType.CLOSED,
            actor=actor,
            data={"at_intake": True, "note": answer},
            at=now,
        )
    return order


def workorder_dispatch(
    *,
    actor: User,
    order: WorkOrder,
    departments: Sequence[Department],
    note: str = "",
    version: int | None = None,
) -> list[DepartmentTask]:
    """派单: one task per department, each with deadline = now + the category's limit."""
    transition = ORDER_TRANSITIONS["dispatch"]
    check_permission(actor, transition)
    chosen = _departments(departments)
    with transaction.atomic():
        _lock_order(order, version)
        check_source(transition, order.status)
        now = timezone.now()
        tasks = [_new_task(actor=actor, order=order, department=d, now=now) for d in chosen]
        order.status = Status.PROCESSING
        _save_order(order, ["status"])
        for task in tasks:
            record_event(
                order=order,
                type=EventType.DISPATCHED,
                actor=actor,
                task=task,
                data={"deadline": task.deadline.isoformat(), "note": note},
                at=now,
            )
    return tasks


def workorder_follow_up(
    *,
    actor: User,
    order: WorkOrder,
    outcome: str,
    satisfaction: int,
    note: str = "",
    version: int | None = None,
) -> WorkOrder:
    """回访: satisfied → closed; unsatisfied → redo (the hotline then calls `workorder_redo`)."""
    if outcome not in WorkOrder.FollowUpOutcome.values:
        raise ValidationError({"outcome": _("Choose one of the offered values.")})
    satisfied = outcome == WorkOrder.FollowUpOutcome.SATISFIED
    transition = ORDER_TRANSITIONS[f"follow_up_{outcome}"]
    check_permission(actor, transition)
    if not 1 <= satisfaction <= 5:
        raise ValidationError({"satisfaction": _("Choose a satisfaction from 1 to 5.")})
    with transaction.atomic():
        _lock_order(order, version)
        check_source(transition, order.status)
        now = timezone.now()
        order.status = transition.target or order.status
        order.satisfaction = satisfaction
        fields = ["status", "satisfaction"]
        if satisfied:
            order.closed_at = now
            fields.append("closed_at")
        _save_order(order, fields)
        data = {"outcome": outcome, "satisfaction": satisfaction, "note": note.strip()}
        record_event(order=order, type=EventType.FOLLOW_UP, actor=actor, data=data, at=now)
        if satisfied:
            record_event(order=order, type=EventType.CLOSED, actor=actor, data={}, at=now)
    return order


def workorder_redo(
    *,
    actor: User,
    order: WorkOrder,
    departments: Sequence[Department],
    note: str = "",
    version: int | None = None,
) -> list[DepartmentTask]:
    """重办: a new round (redo count + 1) with new tasks; earlier sections stay as history.
    On a closed order (a later complaint) it needs the supervisor's permission."""
    chosen = _departments(departments)
    with transaction.atomic():
        _lock_order(order, version)
        name = "redo_closed" if order.status == Status.CLOSED else "redo"
        transition = ORDER_TRANSITIONS[name]
        check_permission(actor, transition)
        check_source(transition, order.status)
        now = timezone.now()
        order.redo_count += 1
        order.status = Status.PROCESSING
        order.closed_at = None
        _save_order(order, ["redo_count", "status", "closed_at"])
        tasks = [_new_task(actor=actor, order=order, department=d, now=now) for d in chosen]
        record_event(
            order=order,
            type=EventType.REDO,
            actor=actor,
            data={
                "round": order.current_round,
                "departments": [d.pk for d in chosen],
                "note": note.strip(),
            },
            at=now,
        )
        for task in tasks:
            record_event(
                order=order,
                type=EventType.DISPATCHED,
                actor=actor,
                task=task,
                data={"deadline": task.deadline.isoformat(), "round": task.round},
                at=now,
            )
    return tasks


def workorder_urge(*, actor: User, order: WorkOrder, note: str = "") -> WorkOrder:
    """催办: counted on the order and on every open task, noted, pushed to the departments."""
    transition = ORDER_TRANSITIONS["urge"]
    check_permission(actor, transition)
    with transaction.atomic():
        _lock_order(order)
        check_source(transition, order.status)
        order.urge_count += 1
        _save_order(order, ["urge_count"])
        open_tasks = DepartmentTask.objects.filter(
            order=order, status__in=DepartmentTask.OPEN_STATUSES
        )
        task_ids = list(open_tasks.values_list("pk", flat=True))
        open_tasks.update(urge_count=F("urge_count") + 1)
        record_event(
            order=order,
            type=EventType.URGED,
            actor=actor,
            data={"count": order.urge_count, "note": note.strip(), "tasks": task_ids},
        )
    return order


def workorder_close(
    *, actor: User, order: WorkOrder, note: str = "", version: int | None = None
) -> WorkOrder:
    """The hotline closes an order whose tasks of the current round are all cancelled."""
    transition = ORDER_TRANSITIONS["close"]
    check_permission(actor, transition)
    with transaction.atomic():
        _lock_order(order, version)
        check_source(transition, order.status)
        tasks = _round_tasks(order)
        if not tasks or any(t.status != TaskStatus.CANCELLED for t in tasks):
            raise ValidationError(
                _("An order can be closed here only when all its department tasks are cancelled.")
            )
        now = timezone.now()
        order.status = Status.CLOSED
        order.closed_at = now
        _save_order(order, ["status", "closed_at"])
        record_event(order=order, type=EventType.CLOSED, actor=actor, data={"note": note}, at=now)
    return order


# --- department task services (the joint processing form) ------------------------------------


def _on_behalf_data(on_behalf: bool, data: dict[str, Any]) -> dict[str, Any]:
    if on_behalf:
        data["on_behalf"] = True
    return data


def task_accept(*, actor: User, task: DepartmentTask, version: int) -> DepartmentTask:
    """签收."""
    transition = TASK_TRANSITIONS["accept"]
    on_behalf = _check_task_actor(actor, task, "accept")
    with transaction.atomic():
        _lock_task(task, version)
        check_source(transition, task.status)
        now = timezone.now()
        task.status = TaskStatus.ACCEPTED
        task.accepted_at = now
        task.accepted_by = actor
        fields = ["status", "accepted_at", "accepted_by"]
        if on_behalf:
            task.recorded_on_behalf_by = actor
            fields.append("recorded_on_behalf_by")
        task.save(update_fields=fields)
        record_event(
            order=task.order,
            type=EventType.ACCEPTED,
            actor=actor,
            task=task,
            data=_on_behalf_data(on_behalf, {}),
            at=now,
        )
    return task


def task_record_survey(
    *, actor: User, task: DepartmentTask, version: int, survey: str
) -> DepartmentTask:
    """现场勘查: may be recorded several times; each is an event, the latest stays on the task."""
    transition = TASK_TRANSITIONS["record_survey"]
    on_behalf = _check_task_actor(actor, task, "record_survey")
    survey = _required(survey, "survey")
    with transaction.atomic():
        _lock_task(task, version)
        check_source(transition, task.status)
        _write_section(task, actor, "survey", survey, on_behalf)
    return task


# A department's section of the joint form: (text field, time field, operator field, event).
_SECTIONS = {
    "survey": ("survey", "surveyed_at", "surveyed_by", EventType.SURVEYED),
    "result": ("result", "result_at", "result_by", EventType.RESULT_RECORDED),
}


def _write_section(
    task: DepartmentTask, actor: User, kind: str, text: str, on_behalf: bool
) -> None:
    """Write the survey or the result with its operator and time, and its timeline event."""
    text_field, at_field, by_field, event_type = _SECTIONS[kind]
    now = timezone.now()
    setattr(task, text_field, text)
    setattr(task, at_field, now)
    setattr(task, by_field, actor)
    task.recorded_on_behalf_by = actor if on_behalf else None
    task.save(update_fields=[text_field, at_field, by_field, "recorded_on_behalf_by"])
    record_event(
        order=task.order,
        type=event_type,
        actor=actor,
        task=task,
        data=_on_behalf_data(on_behalf, {text_field: text}),
        at=now,
    )


def task_record_result(
    *, actor: User, task: DepartmentTask, version: int, result: str
) -> DepartmentTask:
    """处理结果 (saved without submitting)."""
    transition = TASK_TRANSITIONS["record_result"]
    on_behalf = _check_task_actor(actor, task, "record_result")
    result = _required(result, "result")
    with transaction.atomic():
        _lock_task(task, version)
        check_source(transition, task.status)
        _write_section(task, actor, "result", result, on_behalf)
    return task


def task_submit(
    *, actor: User, task: DepartmentTask, version: int, result: str = ""
) -> DepartmentTask:
    """提交 (with the result, or the one recorded before). When every task of the round that
    counts is submitted, the order goes to pending follow-up."""
    transition = TASK_TRANSITIONS["submit"]
    on_behalf = _check_task_actor(actor, task, "submit")
    with transaction.atomic():
        _lock_task(task, version)
        check_source(transition, task.status)
        if result.strip():
            _write_section(task, actor, "result", result.strip(), on_behalf)
        if not task.result:
            raise ValidationError({"result": _("Record the result before submitting.")})
        now = timezone.now()
        task.status = TaskStatus.SUBMITTED
        task.submitted_at = now
        task.submitted_by = actor
        task.save(update_fields=["status", "submitted_at", "submitted_by"])
        record_event(
            order=task.order,
            type=EventType.SUBMITTED,
            actor=actor,
            task=task,
            data=_on_behalf_data(on_behalf, {"late": now > task.deadline}),
            at=now,
        )
        _settle_round(actor=actor, order=task.order, now=now)
    return task


def task_return(*, actor: User, task: DepartmentTask, version: int, reason: str) -> DepartmentTask:
    """退单: back to the hotline with a reason; the order stays processing."""
    transition = TASK_TRANSITIONS["return"]
    _check_task_actor(actor, task, "return")
    reason = _required(reason, "reason")
    with transaction.atomic():
        _lock_task(task, version)
        check_source(transition, task.status)
        now = timezone.now()
        task.status = TaskStatus.RETURNED
        task.returned_at = now
        task.returned_by = actor
        task.return_reason = reason
        task.save(update_fields=["status", "returned_at", "returned_by", "return_reason"])
        record_event(
            order=task.order,
            type=EventType.RETURNED,
            actor=actor,
            task=task,
            data={"reason": reason},
            at=now,
        )
    return task


def task_redispatch(
    *, actor: User, task: DepartmentTask, version: int, department: Department, note: str = ""
) -> DepartmentTask:
    """转派 a returned task: a new task (same round) to the same or another department."""
    transition = TASK_TRANSITIONS["redispatch"]
    check_permission(actor, transition)
    (department,) = _departments([department])
    with transaction.atomic():
        _lock_task(task, version)
        check_source(transition, task.status)
        if task.replaced_by_id is not None or task.round != task.order.current_round:
            raise ValidationError(
                _("This action is not possible in the current status of the work order.")
            )
        now = timezone.now()
        order = task.order
        new = DepartmentTask.objects.create(
            order=order,
            department=department,
            round=task.round,
            dispatched_at=now,
            dispatched_by=actor,
            deadline=now + category_time_limit(order.category),
        )
        task.replaced_by = new
        task.save(update_fields=["replaced_by"])
        record_event(
            order=order,
            type=EventType.REDISPATCHED,
            actor=actor,
            task=new,
            data={"from_task": task.pk, "deadline": new.deadline.isoformat(), "note": note},
            at=now,
        )
    return new


def task_cancel(*, actor: User, task: DepartmentTask, version: int, reason: str) -> DepartmentTask:
    """The hotline cancels a task with a reason. If the rest of the round is submitted, the order
    goes to pending follow-up; if everything is cancelled, the hotline closes the order."""
    transition = TASK_TRANSITIONS["cancel"]
    check_permission(actor, transition)
    reason = _required(reason, "reason")
    with transaction.atomic():
        _lock_task(task, version)
        check_source(transition, task.status)
        if task.replaced_by_id is not None:
            raise ValidationError(
                _("This action is not possible in the current status of the work order.")
            )
        now = timezone.now()
        task.status = TaskStatus.CANCELLED
        task.cancelled_at = now
        task.cancelled_by = actor
        task.cancel_reason = reason
        task.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason"])
        record_event(
            order=task.order,
            type=EventType.TASK_CANCELLED,
            actor=actor,
            task=task,
            data={"reason": reason},
            at=now,
        )
        _settle_round(actor=actor, order=task.order, now=now)
    return task


# --- attachments ------------------------------------------------------------------------------


def attachment_add(
    *, actor: User, order: WorkOrder, file: UploadedFile, task: DepartmentTask | None = None
) -> Attachment:
    """Attach a photo (JPEG, PNG, GIF, WebP) or a PDF of at most 10 MB to an order, or to one
    department's section (then only that department, or the hotline on its behalf, may)."""
    if task is not None:
        if task.order_id != order.pk:
            raise PermissionDenied
        _check_task_actor(actor, task, "record_survey")
    elif not (
        actor.has_perm(WorkordersPerm.CREATE_ORDERS)
        or actor.has_perm(WorkordersPerm.DISPATCH_ORDERS)
    ):
        raise PermissionDenied
    size = file.size or 0
    if size > ATTACHMENT_MAX_BYTES:
        raise ValidationError({"file": _("A file may be at most 10 MB.")})
    content_type = (file.content_type or "").split(";")[0].strip().lower()
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    magic = ATTACHMENT_TYPES.get(content_type, ())
    if not size or not any(head.startswith(m) for m in magic):
        raise ValidationError({"file": _("Attach a photo (JPEG, PNG, GIF, WebP) or a PDF.")})
    with transaction.atomic():
        attachment = Attachment.objects.create(
            order=order,
            task=task,
            file=file,
            name=(file.name or "file")[:200],
            content_type=content_type,
            size=size,
            uploaded_by=actor,
        )
        record_event(
            order=order,
            type=EventType.NOTE,
            actor=actor,
            task=task,
            data={"attachment": attachment.pk, "name": attachment.name},
        )
    return attachment
