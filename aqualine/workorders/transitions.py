"""The work-order life cycle, declared once (domain.md, "Work-order life cycle").

Each row names a transition, the statuses it starts from, the status it leads to, the permission
it needs and who does it. The services carry them out (`check_transition`); the pages will ask
`available_order_transitions(user, order)` which buttons to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from aqualine.workorders.models import DepartmentTask, WorkOrder
from aqualine.workorders.permissions import WorkordersPerm as P

OS = WorkOrder.Status
TS = DepartmentTask.Status


@dataclass(frozen=True)
class Transition:
    name: str
    source: frozenset[str]
    target: str | None  # None: the status does not change (or a rule decides, see `note`)
    permission: P | None  # None: automatic, a consequence of another transition
    who: str
    on_behalf: bool = False  # task transitions: hotline staff may do it for the department
    note: str = ""


ORDER_TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition("create", frozenset(), OS.PENDING_DISPATCH, P.CREATE_ORDERS, "agent"),
        Transition(
            "close_at_intake",
            frozenset({OS.PENDING_DISPATCH}),
            OS.CLOSED,
            P.CREATE_ORDERS,
            "agent",
            note="直接办结: the call itself answered it",
        ),
        Transition(
            "dispatch",
            frozenset({OS.PENDING_DISPATCH}),
            OS.PROCESSING,
            P.DISPATCH_ORDERS,
            "agent, dispatcher",
        ),
        Transition(
            "all_submitted",
            frozenset({OS.PROCESSING}),
            OS.PENDING_FOLLOW_UP,
            None,
            "automatic",
            note="every task of the round that counts is submitted, at least one",
        ),
        Transition(
            "follow_up_satisfied",
            frozenset({OS.PENDING_FOLLOW_UP}),
            OS.CLOSED,
            P.FOLLOW_UP_ORDERS,
            "dispatcher",
        ),
        Transition(
            "follow_up_unsatisfied",
            frozenset({OS.PENDING_FOLLOW_UP}),
            OS.REDO,
            P.FOLLOW_UP_ORDERS,
            "dispatcher",
        ),
        Transition(
            "redo",
            frozenset({OS.REDO, OS.PENDING_FOLLOW_UP}),
            OS.PROCESSING,
            P.DISPATCH_ORDERS,
            "agent, dispatcher",
            note="new round of tasks; from pending follow-up when the customer calls back",
        ),
        Transition(
            "redo_closed",
            frozenset({OS.CLOSED}),
            OS.PROCESSING,
            P.REDO_CLOSED_ORDERS,
            "supervisor",
            note="a later complaint about a closed order",
        ),
        Transition(
            "close",
            frozenset({OS.PROCESSING}),
            OS.CLOSED,
            P.DISPATCH_ORDERS,
            "agent, dispatcher",
            note="only when every task of the current round is cancelled",
        ),
        Transition(
            "urge",
            frozenset({OS.PENDING_DISPATCH, OS.PROCESSING, OS.PENDING_FOLLOW_UP, OS.REDO}),
            None,
            P.URGE_ORDERS,
            "agent",
        ),
    )
}

TASK_TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition(
            "accept",
            frozenset({TS.WAITING}),
            TS.ACCEPTED,
            P.HANDLE_TASKS,
            "department handler",
            on_behalf=True,
        ),
        Transition(
            "record_survey",
            frozenset({TS.ACCEPTED}),
            None,
            P.HANDLE_TASKS,
            "department handler",
            on_behalf=True,
            note="may repeat; each survey is an event, the latest is on the task",
        ),
        Transition(
            "record_result",
            frozenset({TS.ACCEPTED}),
            None,
            P.HANDLE_TASKS,
            "department handler",
            on_behalf=True,
        ),
        Transition(
            "submit",
            frozenset({TS.ACCEPTED}),
            TS.SUBMITTED,
            P.HANDLE_TASKS,
            "department handler",
            on_behalf=True,
            note="needs a result",
        ),
        Transition(
            "return",
            frozenset({TS.WAITING, TS.ACCEPTED}),
            TS.RETURNED,
            P.HANDLE_TASKS,
            "department handler",
            note="reason required; the order stays processing",
        ),
        Transition(
            "redispatch",
            frozenset({TS.RETURNED}),
            None,
            P.DISPATCH_ORDERS,
            "agent, dispatcher",
            note="a new task in the same round; the returned one stays as history",
        ),
        Transition(
            "cancel",
            frozenset({TS.WAITING, TS.ACCEPTED, TS.RETURNED}),
            TS.CANCELLED,
            P.DISPATCH_ORDERS,
            "agent, dispatcher",
            note="reason required",
        ),
    )
}


class TransitionNotAllowed(ValidationError):
    """The record is not in a status the transition starts from (often: someone else acted)."""


NOT_ALLOWED = _("This action is not possible in the current status of the work order.")


def check_permission(user: Any, transition: Transition) -> None:
    if transition.permission is not None and not user.has_perm(transition.permission):
        raise PermissionDenied


def check_source(transition: Transition, status: str) -> None:
    if status not in transition.source:
        raise TransitionNotAllowed(NOT_ALLOWED, code="transition")


def available_order_transitions(user: Any, order: WorkOrder) -> list[str]:
    """Names of the order transitions `user` may start now (for the buttons of a page)."""
    return [
        t.name
        for t in ORDER_TRANSITIONS.values()
        if t.permission is not None and order.status in t.source and user.has_perm(t.permission)
    ]


def available_task_transitions(user: Any, task: DepartmentTask) -> list[str]:
    """Names of the task transitions `user` may start on `task` now (the section's buttons):
    the same rule the services enforce (own department, or the hotline on its behalf)."""
    from aqualine.workorders.selectors import user_belongs_to

    own = user_belongs_to(user, task.department)
    names = []
    for t in TASK_TRANSITIONS.values():
        if task.status not in t.source or t.permission is None:
            continue
        if t.permission == P.HANDLE_TASKS:
            allowed = (own and user.has_perm(t.permission)) or (
                t.on_behalf and user.has_perm(P.RECORD_FOR_DEPARTMENT)
            )
        else:
            allowed = user.has_perm(t.permission)
        if allowed:
            names.append(t.name)
    return names
