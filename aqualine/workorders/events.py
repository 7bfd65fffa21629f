"""The order timeline rows and their real-time push.

`record_event` writes one OrderEvent and schedules `publish_order_event` with
`transaction.on_commit`, so no client hears of a change that rolled back. The consumers (later)
join the group `workorders` (the hotline) and `department_<id>` (a department's handlers).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from aqualine.accounts.models import User
from aqualine.workorders.models import DepartmentTask, OrderEvent, WorkOrder


def event_payload(event: OrderEvent) -> dict[str, Any]:
    """The message sent to the Channels groups: a plain dict with a `type`.

    `type` "workorder.event" (consumers handle it in `workorder_event`); `event` the OrderEvent
    type; `order`/`number`/`status` the order after the change; `task` and `department` ids or
    None; `at` ISO time.
    """
    order = event.order
    return {
        "type": "workorder.event",
        "event": event.type,
        "event_id": event.pk,
        "order": order.pk,
        "number": order.number,
        "status": order.status,
        "task": event.task_id,
        "department": event.department_id,
        "at": event.at.isoformat(),
    }


def _push_groups(event: OrderEvent) -> list[str]:
    groups = ["workorders"]
    if event.department_id is not None:
        department_ids = {event.department_id}
    else:  # an order-wide event (urge, close ...) concerns every department still working on it
        department_ids = set(
            DepartmentTask.objects.filter(
                order_id=event.order_id, status__in=DepartmentTask.OPEN_STATUSES
            ).values_list("department_id", flat=True)
        )
    groups += [f"department_{pk}" for pk in sorted(department_ids)]
    return groups


def publish_order_event(event: OrderEvent) -> None:
    """Send `event` to the groups `workorders` and `department_<id>`; a no-op without a layer."""
    layer = get_channel_layer()
    if layer is None:
        return
    payload = event_payload(event)
    for group in _push_groups(event):
        async_to_sync(layer.group_send)(group, payload)


def record_event(
    *,
    order: WorkOrder,
    type: str,
    actor: User | None,
    task: DepartmentTask | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> OrderEvent:
    event = OrderEvent.objects.create(
        order=order,
        task=task,
        type=type,
        actor=actor,
        actor_label=str(actor) if actor is not None else "",
        department=task.department if task is not None else None,
        data=data or {},
        at=at or timezone.now(),
    )
    # The module-level name is looked up when the callback runs (tests replace it).
    transaction.on_commit(lambda: publish_order_event(event), robust=True)
    return event
