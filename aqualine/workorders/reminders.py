"""Deadline reminders (B1d, 超期提醒): once per department task, a "due soon" reminder when its
deadline is within the parameter `business.overdue_warning`, and an "overdue" reminder once the
deadline has passed.

`deadline_reminders_send` is run every minute by `aqualine remind_deadlines` (a job of
`aqualine worker`). Several workers may run it at once: each reminder is claimed with a
conditional UPDATE (`... SET <sent_at> = now WHERE <sent_at> IS NULL AND still open`) in the
transaction that records its OrderEvent, so exactly one runner records and pushes it; the push
goes out through `events.record_event` when that transaction commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from aqualine.core.parameters import param
from aqualine.workorders.events import record_event
from aqualine.workorders.models import DepartmentTask, OrderEvent
from aqualine.workorders.selectors import overdue_tasks, tasks_due_soon


@dataclass(frozen=True)
class Reminder:
    event_type: str
    sent_field: str

    def still_due(self, now: datetime, warning: timedelta) -> dict[str, Any]:
        """Filter for a task this reminder is (still) due for: re-checked when claiming."""
        if self.event_type == OrderEvent.Type.OVERDUE:
            return {"deadline__lt": now}
        return {"deadline__gte": now, "deadline__lte": now + warning}


DUE_SOON = Reminder(OrderEvent.Type.DUE_SOON, "due_soon_reminded_at")
OVERDUE = Reminder(OrderEvent.Type.OVERDUE, "overdue_reminded_at")


def _warning() -> timedelta:
    return timedelta(seconds=int(param("business.overdue_warning")))


def reminders_due(*, now: datetime) -> list[tuple[Reminder, DepartmentTask]]:
    """The reminders not sent yet: overdue tasks first, then tasks due within the warning time
    (none when the parameter is 0)."""
    due = [
        (OVERDUE, task) for task in overdue_tasks(now=now).filter(overdue_reminded_at__isnull=True)
    ]
    warning = _warning()
    if warning > timedelta(0):
        due += [
            (DUE_SOON, task)
            for task in tasks_due_soon(now=now, within=warning).filter(
                due_soon_reminded_at__isnull=True
            )
        ]
    return due


def reminder_send(*, reminder: Reminder, task: DepartmentTask, now: datetime) -> OrderEvent | None:
    """Claim `reminder` for `task` and record its event (pushed on commit); None when another
    runner claimed it first or the task is no longer open or no longer due."""
    with transaction.atomic():
        claimed = DepartmentTask.objects.filter(
            pk=task.pk,
            status__in=DepartmentTask.OPEN_STATUSES,
            **{f"{reminder.sent_field}__isnull": True},
            **reminder.still_due(now, _warning()),
        ).update(**{reminder.sent_field: now})
        if not claimed:
            return None
        setattr(task, reminder.sent_field, now)
        return record_event(
            order=task.order,
            type=reminder.event_type,
            actor=None,
            task=task,
            data={"deadline": task.deadline.isoformat()},
            at=now,
        )


def deadline_reminders_send(*, now: datetime | None = None) -> list[OrderEvent]:
    """Send every reminder that is due and not yet sent; returns the events recorded here."""
    now = now or timezone.now()
    sent = []
    for reminder, task in reminders_due(now=now):
        event = reminder_send(reminder=reminder, task=task, now=now)
        if event is not None:
            sent.append(event)
    return sent
