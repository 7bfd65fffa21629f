"""Work-order pages: intake (受理), order detail with dispatch and urge, the order list and the
lookup by order number. Views validate input and turn the services' errors into messages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from aqualine.core.auth import require_perm
from aqualine.core.concurrency import ConflictError
from aqualine.core.forms import add_service_error, safe_int
from aqualine.core.pagination import CappedPaginator
from aqualine.core.parameters import param
from aqualine.customers import selectors as customer_selectors
from aqualine.customers.permissions import CustomersPerm
from aqualine.workorders import selectors, services
from aqualine.workorders.forms import (
    AttachmentForm,
    CloseAtIntakeForm,
    CloseForm,
    DispatchForm,
    FollowUpForm,
    IntakeForm,
    LookupForm,
    OrderFilterForm,
    RedispatchForm,
    RedoForm,
    TaskTextForm,
    VersionedForm,
)
from aqualine.workorders.models import Attachment, DepartmentTask, OrderEvent, WorkOrder
from aqualine.workorders.permissions import WorkordersPerm as P
from aqualine.workorders.transitions import (
    available_order_transitions,
    available_task_transitions,
)

View = TypeVar("View", bound=Callable[..., HttpResponseBase])

VIEW_PERMS = (P.VIEW_ALL_ORDERS, P.VIEW_DEPARTMENT_ORDERS)
# A submitted intake form's token is remembered this long (a replay within it is refused).
TOKEN_TTL = 24 * 3600


def require_any_perm(*perms: str) -> Callable[[View], View]:
    """Like `require_perm`, but one of `perms` is enough."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not any(request.user.has_perm(p) for p in perms):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.required_perms = perms  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def _service_error_message(error: Exception) -> str:
    if isinstance(error, PermissionDenied):
        return _("You may not do this to this work order.")
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


def _visible_order(request: HttpRequest, pk: int) -> WorkOrder:
    order = selectors.workorders_visible_to(request.user).filter(pk=pk).first()
    if order is None:
        raise Http404
    return order


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def time_left_text(left: timedelta | None) -> str:
    """ "剩余 3 小时 20 分" / "超期 1 小时 5 分" for a task's time left; "" when it is done."""
    if left is None:
        return ""
    minutes = abs(int(left.total_seconds())) // 60
    parts = {"h": minutes // 60, "m": minutes % 60}
    if left < timedelta(0):
        return _("Overdue by %(h)d h %(m)d min") % parts
    return _("%(h)d h %(m)d min left") % parts


# --- intake ----------------------------------------------------------------------------------


def _token_key(token: object) -> str:
    return f"workorders:intake-token:{token}"


def _caller_context(request: HttpRequest, caller: str) -> dict[str, Any]:
    """What the intake page shows beside the form for a caller's number."""
    context: dict[str, Any] = {
        "caller": caller,
        "past_orders": [],
        "accounts": [],
        "outage_lines": [],
        "open_order": None,
    }
    if not caller:
        return context
    context["past_orders"] = selectors.orders_for_caller(phone=caller)
    context["open_order"] = selectors.open_order_for_caller(phone=caller)
    if request.user.has_perm(CustomersPerm.VIEW_CUSTOMERS):
        accounts = customer_selectors.customer_for_phone(caller)
        context["accounts"] = [(a, customer_selectors.account_arrears(account=a)) for a in accounts]
        if accounts:
            context["outage_lines"] = customer_selectors.outage_lines_for_account(accounts[0])
    return context


@require_perm(P.CREATE_ORDERS)
def intake(request: HttpRequest) -> HttpResponse:
    caller = (request.GET.get("caller") or "").strip()[:32]
    if request.method == "POST":
        form = IntakeForm(request.POST)
        caller = (request.POST.get("caller_number") or caller).strip()[:32]
        if form.is_valid():
            response = _intake_save(request, form)
            if response is not None:
                return response
    else:
        initial = {"caller_number": caller, "reporter_phone": caller}
        form = IntakeForm(initial={**initial, "call_id": request.GET.get("call_id", "")[:64]})
    context = _caller_context(request, caller)
    context.update(
        {
            "form": form,
            "can_urge": request.user.has_perm(P.URGE_ORDERS),
        }
    )
    return render(request, "workorders/intake.html", context)


def _intake_save(request: HttpRequest, form: IntakeForm) -> HttpResponse | None:
    """Create the order once per form token: a replayed POST goes to the order it created."""
    data = form.cleaned_data
    key = _token_key(data["form_token"])
    if not cache.add(key, 0, TOKEN_TTL):
        existing = safe_int(str(cache.get(key) or ""))
        if existing:
            messages.info(request, _("This form was already saved; here is its work order."))
            return redirect("workorders:detail", pk=existing)
        form.add_error(None, _("This form is being saved; wait a moment and reload."))
        return None
    try:
        order = services.workorder_create(
            actor=request.user,  # type: ignore[arg-type]
            source=data["source"],
            category=data["category"],
            description=data["description"],
            caller_number=data["caller_number"],
            reporter_name=data["reporter_name"],
            reporter_phone=data["reporter_phone"],
            account=data["account_number"],
            address=data["address"],
            urgency=data["urgency"],
            call_id=data["call_id"] or "",
        )
    except ValidationError as error:
        cache.delete(key)
        add_service_error(form, error)
        return None
    except BaseException:
        cache.delete(key)
        raise
    cache.set(key, order.pk, TOKEN_TTL)
    if request.POST.get("close"):
        try:
            services.workorder_close_at_intake(
                actor=request.user,  # type: ignore[arg-type]
                order=order,
                answer=data["answer"],
            )
        except (ValidationError, ConflictError, PermissionDenied) as error:
            messages.error(request, _service_error_message(error))
        else:
            messages.success(
                request, _("Work order %(number)s closed at intake.") % {"number": order.number}
            )
            return redirect("workorders:detail", pk=order.pk)
    messages.success(request, _("Work order %(number)s saved.") % {"number": order.number})
    return redirect("workorders:detail", pk=order.pk)


@require_GET
@require_any_perm(P.CREATE_ORDERS, *VIEW_PERMS)
def lookup(request: HttpRequest) -> HttpResponse:
    """B1c: go to an order by its number (only an order the user may see)."""
    form = LookupForm(request.GET)
    back = request.GET.get("back", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = ""
    if form.is_valid():
        order = selectors.workorder_by_number(user=request.user, number=form.cleaned_data["number"])
        if order is not None:
            return redirect("workorders:detail", pk=order.pk)
        messages.error(
            request,
            _("No work order %(number)s was found (or you may not see it).")
            % {"number": form.cleaned_data["number"]},
        )
    else:
        messages.error(request, _("Enter an order number."))
    if back:
        return redirect(back)
    if request.user.has_perm(P.CREATE_ORDERS):
        return redirect("workorders:intake")
    return redirect("workorders:list")


# --- detail ----------------------------------------------------------------------------------

CONFLICT_TEXT = gettext_lazy(
    "Someone else saved this after you opened the page. What they saved is shown now; "
    "your input is kept in the form below. Check it and save again if it should replace theirs."
)

# A bound form waiting to be shown again with its errors: (task pk or None for the order, kind).
FormKey = tuple[int | None, str]

# The task actions of the joint processing form and the form each one posts.
TASK_ACTION_FORMS = {
    "accept": "accept",
    "survey": "survey",
    "result": "result",
    "submit": "result",
    "return": "return",
    "cancel": "cancel",
    "redispatch": "redispatch",
}
TASK_ACTION_TRANSITION = {
    "accept": "accept",
    "survey": "record_survey",
    "result": "record_result",
    "submit": "submit",
    "return": "return",
    "cancel": "cancel",
    "redispatch": "redispatch",
}


def _task_form(kind: str, task: DepartmentTask, data: Any = None) -> forms.Form:
    """The form of one action of `task`'s section; field names carry the task's prefix, so
    every section's forms live side by side on the order page."""
    prefix = f"t{task.pk}-{kind}"
    initial: dict[str, Any] = {"version": task.version}
    if kind == "accept":
        return VersionedForm(data, initial=initial, prefix=prefix)
    if kind == "redispatch":
        initial["department"] = task.department_id
        return RedispatchForm(data, initial=initial, prefix=prefix)
    labels = {
        "survey": (_("Site survey"), task.survey),
        "result": (_("Result"), task.result),
        "return": (_("Reason for return"), ""),
        "cancel": (_("Reason for cancelling"), ""),
    }
    label, text = labels[kind]
    initial["text"] = text
    return TaskTextForm(data, initial=initial, prefix=prefix, label=str(label))


def _task_rows(
    request: HttpRequest, order: WorkOrder, bound: dict[FormKey, forms.Form]
) -> list[dict[str, Any]]:
    rows = []
    attachments: dict[int | None, list[Attachment]] = {}
    for attachment in order.attachments.select_related("uploaded_by"):
        attachments.setdefault(attachment.task_id, []).append(attachment)
    for task in selectors.workorder_tasks(order=order):
        task.order = order  # one order object for the whole page
        left = selectors.task_time_left(task)
        actions = set(available_task_transitions(request.user, task))
        if task.replaced_by_id is not None or task.round != order.current_round:
            actions -= {"redispatch", "cancel"}
        forms_by_kind: dict[str, forms.Form] = {}
        for action, transition in TASK_ACTION_TRANSITION.items():
            kind = TASK_ACTION_FORMS[action]
            if transition in actions and kind not in forms_by_kind:
                forms_by_kind[kind] = bound.get((task.pk, kind)) or _task_form(kind, task)
        rows.append(
            {
                "task": task,
                "time_left": time_left_text(left),
                "overdue": left is not None and left < timedelta(0),
                "actions": actions,
                "forms": forms_by_kind,
                "can_attach": bool(actions & {"record_survey", "record_result"}),
                "attachments": attachments.get(task.pk, []),
            }
        )
    return rows


def _event_details(event: OrderEvent) -> list[tuple[str, str]]:
    """An event's data as (label, value) pairs for the timeline, in the user's language."""
    labels = {
        "source": _("Source"),
        "category": _("Category"),
        "urgency": _("Urgency"),
        "deadline": _("Deadline"),
        "note": _("Note"),
        "reason": _("Reason"),
        "count": _("Urge count"),
        "round": _("Round"),
        "name": _("File name"),
        "outcome": _("Outcome"),
        "satisfaction": _("Satisfaction"),
        "survey": _("Site survey"),
        "result": _("Result"),
    }
    values = {
        "source": dict(WorkOrder.Source.choices),
        "urgency": dict(WorkOrder.Urgency.choices),
        "outcome": dict(WorkOrder.FollowUpOutcome.choices),
    }
    flags = {
        "on_behalf": _("Recorded on behalf of the department"),
        "at_intake": _("Closed at intake"),
        "late": _("After the deadline"),
    }
    details: list[tuple[str, str]] = []
    data = event.data if isinstance(event.data, dict) else {}
    for key, value in data.items():
        if key in flags:
            if value:
                details.append((str(flags[key]), ""))
        elif key == "deadline" and value:
            moment = parse_datetime(str(value))
            shown = date_format(timezone.localtime(moment), "Y-m-d H:i") if moment else value
            details.append((str(labels[key]), str(shown)))
        elif key in labels and value not in ("", None, [], {}):
            details.append((str(labels[key]), str(values.get(key, {}).get(value, value))))
    return details


def _order_forms(
    order: WorkOrder, transitions: list[str], bound: dict[FormKey, forms.Form]
) -> dict[str, forms.Form]:
    """The order-wide forms the user may use now (dispatch, follow-up, redo, close)."""
    version = {"version": order.version}
    made: dict[str, forms.Form] = {}

    def offer(kind: str, factory: Callable[[], forms.Form]) -> None:
        made[kind] = bound.get((None, kind)) or factory()

    if "dispatch" in transitions:
        default = services.category_default_department(order.category)
        initial = {**version, "departments": [default.pk] if default else []}
        offer("dispatch", lambda: DispatchForm(initial=initial))
    if "close_at_intake" in transitions:
        offer("close_at_intake", lambda: CloseAtIntakeForm(initial=version))
    if {"follow_up_satisfied", "follow_up_unsatisfied"} & set(transitions):
        offer("follow_up", lambda: FollowUpForm(initial=version))
    if {"redo", "redo_closed"} & set(transitions):
        departments = sorted(
            {t.department_id for t in order.tasks.all() if t.round == order.current_round}
        )
        offer("redo", lambda: RedoForm(initial={**version, "departments": departments}))
    if "close" in transitions:
        round_tasks = [t for t in order.tasks.all() if t.round == order.current_round]
        if round_tasks and all(t.status == DepartmentTask.Status.CANCELLED for t in round_tasks):
            offer("close", lambda: CloseForm(initial=version))
    return made


def _render_detail(
    request: HttpRequest,
    order: WorkOrder,
    bound: dict[FormKey, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    bound = bound or {}
    transitions = available_order_transitions(request.user, order)
    tasks = _task_rows(request, order, bound)
    events = selectors.workorder_timeline(order=order).select_related("task__department")
    order_attachments = [a for a in order.attachments.all() if a.task_id is None]
    return render(
        request,
        "workorders/detail.html",
        {
            "order": order,
            "tasks": tasks,
            "events": [(e, _event_details(e)) for e in events],
            "deadline": selectors.workorder_deadline(order),
            "overdue": any(r["overdue"] for r in tasks),
            "transitions": transitions,
            "order_forms": _order_forms(order, transitions, bound),
            "order_attachments": order_attachments,
            "can_attach": request.user.has_perm(P.CREATE_ORDERS)
            or request.user.has_perm(P.DISPATCH_ORDERS),
            "attachment_form": bound.get((None, "attachment")) or AttachmentForm(),
        },
        status=status,
    )


@require_any_perm(*VIEW_PERMS)
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _visible_order(request, pk))


@require_any_perm(*VIEW_PERMS)
def print_view(request: HttpRequest, pk: int) -> HttpResponse:
    """B3: the order as an A4 form: every section, the timeline, signature lines."""
    order = _visible_order(request, pk)
    tasks = [
        {"task": task, "attachments": list(task.attachments.all())}
        for task in selectors.workorder_tasks(order=order)
    ]
    events = selectors.workorder_timeline(order=order).select_related("task__department")
    return render(
        request,
        "workorders/print.html",
        {
            "order": order,
            "tasks": tasks,
            "events": [(e, _event_details(e)) for e in events],
            "deadline": selectors.workorder_deadline(order),
            "printed_at": timezone.now(),
        },
    )


# --- order actions ---------------------------------------------------------------------------


def _conflict_form(form: forms.Form, current_version: int) -> forms.Form:
    """The user's form again, their input kept, now based on the current version: the page
    shows what the other person saved; saving again replaces it knowingly."""
    data = form.data.copy() if isinstance(form.data, QueryDict) else QueryDict(mutable=True)
    data[form.add_prefix("version")] = str(current_version)
    again = type(form)(data, **_form_kwargs(form))
    again.is_valid()
    again.add_error(None, str(CONFLICT_TEXT))
    return again


def _form_kwargs(form: forms.Form) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"prefix": form.prefix, "initial": form.initial}
    if isinstance(form, TaskTextForm):
        kwargs["label"] = str(form.fields["text"].label)
    return kwargs


def _order_action(
    request: HttpRequest,
    pk: int,
    kind: str,
    form_class: type[forms.Form],
    run: Callable[[WorkOrder, dict[str, Any]], str],
) -> HttpResponse:
    """Validate `form_class`, call the service through `run` (which returns the success
    message), and show the page again with the form's errors when something is wrong."""
    order = _visible_order(request, pk)
    form = form_class(request.POST)
    status = 400
    if form.is_valid():
        try:
            done = run(order, form.cleaned_data)
        except ConflictError:
            order.refresh_from_db()
            form = _conflict_form(form, order.version)
            status = 409
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, done)
            return redirect("workorders:detail", pk=order.pk)
    order.refresh_from_db()
    if kind not in _order_forms(order, available_order_transitions(request.user, order), {}):
        # someone else acted meanwhile and the form is gone from the page: say why up top
        for errors in form.errors.values():
            for text in errors:
                messages.error(request, str(text))
        return redirect("workorders:detail", pk=order.pk)
    return _render_detail(request, order, {(None, kind): form}, status=status)


@require_POST
@require_perm(P.DISPATCH_ORDERS)
def dispatch(request: HttpRequest, pk: int) -> HttpResponse:
    def run(order: WorkOrder, data: dict[str, Any]) -> str:
        tasks = services.workorder_dispatch(
            actor=request.user,  # type: ignore[arg-type]
            order=order,
            departments=list(data["departments"]),
            note=data["note"],
            version=data["version"],
        )
        return _("Dispatched to %(departments)s.") % {
            "departments": "、".join(t.department.name for t in tasks)
        }

    return _order_action(request, pk, "dispatch", DispatchForm, run)


@require_POST
@require_perm(P.CREATE_ORDERS)
def close_at_intake(request: HttpRequest, pk: int) -> HttpResponse:
    def run(order: WorkOrder, data: dict[str, Any]) -> str:
        services.workorder_close_at_intake(
            actor=request.user,  # type: ignore[arg-type]
            order=order,
            answer=data["answer"],
            version=data["version"],
        )
        return _("Work order %(number)s closed at intake.") % {"number": order.number}

    return _order_action(request, pk, "close_at_intake", CloseAtIntakeForm, run)


@require_POST
@require_perm(P.FOLLOW_UP_ORDERS)
def follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    def run(order: WorkOrder, data: dict[str, Any]) -> str:
        services.workorder_follow_up(
            actor=request.user,  # type: ignore[arg-type]
            order=order,
            outcome=data["outcome"],
            satisfaction=data["satisfaction"],
            note=data["note"],
            version=data["version"],
        )
        if order.status == WorkOrder.Status.CLOSED:
            return _("Follow-up recorded; the work order is closed.")
        return _("Follow-up recorded; the work order waits for redo.")

    return _order_action(request, pk, "follow_up", FollowUpForm, run)


@require_POST
@require_any_perm(P.DISPATCH_ORDERS, P.REDO_CLOSED_ORDERS)
def redo(request: HttpRequest, pk: int) -> HttpResponse:
    def run(order: WorkOrder, data: dict[str, Any]) -> str:
        tasks = services.workorder_redo(
            actor=request.user,  # type: ignore[arg-type]
            order=order,
            departments=list(data["departments"]),
            note=data["note"],
            version=data["version"],
        )
        return _("Sent back for redo to %(departments)s.") % {
            "departments": "、".join(t.department.name for t in tasks)
        }

    return _order_action(request, pk, "redo", RedoForm, run)


@require_POST
@require_perm(P.DISPATCH_ORDERS)
def close(request: HttpRequest, pk: int) -> HttpResponse:
    def run(order: WorkOrder, data: dict[str, Any]) -> str:
        services.workorder_close(
            actor=request.user,  # type: ignore[arg-type]
            order=order,
            note=data["note"],
            version=data["version"],
        )
        return _("Work order %(number)s closed.") % {"number": order.number}

    return _order_action(request, pk, "close", CloseForm, run)


@require_POST
@require_perm(P.URGE_ORDERS)
def urge(request: HttpRequest, pk: int) -> HttpResponse:
    order = _visible_order(request, pk)
    try:
        services.workorder_urge(
            actor=request.user,  # type: ignore[arg-type]
            order=order,
            note=request.POST.get("note", "")[:500],
        )
    except (ValidationError, ConflictError, PermissionDenied) as error:
        messages.error(request, _service_error_message(error))
    else:
        messages.success(
            request,
            _("Work order %(number)s urged (%(count)d times so far).")
            % {"number": order.number, "count": order.urge_count},
        )
    return redirect(_safe_next(request, reverse("workorders:detail", args=[order.pk])))


# --- the joint processing form: one department's section ---------------------------------------


def _run_task_action(actor: Any, task: DepartmentTask, action: str, data: dict[str, Any]) -> str:
    version = data["version"]
    name = task.department.name
    if action == "accept":
        services.task_accept(actor=actor, task=task, version=version)
        return _("%(department)s signed for the order.") % {"department": name}
    if action == "survey":
        services.task_record_survey(actor=actor, task=task, version=version, survey=data["text"])
        return _("Site survey of %(department)s saved.") % {"department": name}
    if action == "result":
        services.task_record_result(actor=actor, task=task, version=version, result=data["text"])
        return _("Result of %(department)s saved.") % {"department": name}
    if action == "submit":
        services.task_submit(actor=actor, task=task, version=version, result=data["text"])
        return _("%(department)s submitted its result.") % {"department": name}
    if action == "return":
        services.task_return(actor=actor, task=task, version=version, reason=data["text"])
        return _("Returned to the hotline centre.")
    if action == "cancel":
        services.task_cancel(actor=actor, task=task, version=version, reason=data["text"])
        return _("The task of %(department)s is cancelled.") % {"department": name}
    new = services.task_redispatch(
        actor=actor, task=task, version=version, department=data["department"], note=data["note"]
    )
    return _("Re-dispatched to %(department)s.") % {"department": new.department.name}


@require_POST
@require_any_perm(P.HANDLE_TASKS, P.RECORD_FOR_DEPARTMENT, P.DISPATCH_ORDERS)
def task_action(request: HttpRequest, pk: int) -> HttpResponse:
    """One action on one department's section. Writing another department's section is
    refused by the services (403), whatever the page showed."""
    order = _visible_order(request, pk)
    action = request.POST.get("action", "")
    task_pk = safe_int(request.POST.get("task"))
    task = (
        DepartmentTask.objects.filter(order=order, pk=task_pk).select_related("department").first()
        if task_pk
        else None
    )
    if task is None or action not in TASK_ACTION_FORMS:
        messages.error(request, _("This action is not possible in the current status."))
        return redirect("workorders:detail", pk=order.pk)
    task.order = order
    kind = TASK_ACTION_FORMS[action]
    form = _task_form(kind, task, request.POST)
    if kind == "result" and action == "submit":
        form.fields["text"].required = False
    status = 400
    if form.is_valid():
        try:
            done = _run_task_action(request.user, task, action, form.cleaned_data)
        except ConflictError:
            task.refresh_from_db()
            form = _conflict_form(form, task.version)
            status = 409
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, done)
            return redirect(reverse("workorders:detail", args=[order.pk]) + f"#task-{task.pk}")
    order.refresh_from_db()
    task.refresh_from_db()
    transition = TASK_ACTION_TRANSITION[action]
    if transition not in available_task_transitions(request.user, task):
        for errors in form.errors.values():
            for text in errors:
                messages.error(request, str(text))
        return redirect(reverse("workorders:detail", args=[order.pk]) + f"#task-{task.pk}")
    return _render_detail(request, order, {(task.pk, kind): form}, status=status)


# --- attachments -----------------------------------------------------------------------------


@require_POST
@require_any_perm(P.CREATE_ORDERS, P.DISPATCH_ORDERS, P.HANDLE_TASKS, P.RECORD_FOR_DEPARTMENT)
def attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    order = _visible_order(request, pk)
    form = AttachmentForm(request.POST, request.FILES)
    task = None
    anchor = ""
    if form.is_valid():
        task_pk = form.cleaned_data["task"]
        if task_pk is not None:
            task = DepartmentTask.objects.filter(order=order, pk=task_pk).first()
            if task is None:
                raise Http404
            anchor = f"#task-{task.pk}"
        try:
            attachment = services.attachment_add(
                actor=request.user,  # type: ignore[arg-type]
                order=order,
                file=form.cleaned_data["file"],
                task=task,
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("%(name)s attached.") % {"name": attachment.name})
            return redirect(reverse("workorders:detail", args=[order.pk]) + anchor)
    for errors in form.errors.values():
        for text in errors:
            messages.error(request, str(text))
    return redirect(reverse("workorders:detail", args=[order.pk]) + anchor)


@require_GET
@require_any_perm(*VIEW_PERMS)
def attachment_file(request: HttpRequest, pk: int) -> HttpResponseBase:
    """An attachment, only for those who may see its order."""
    attachment = Attachment.objects.filter(
        pk=pk, order__in=selectors.workorders_visible_to(request.user)
    ).first()
    if attachment is None:
        raise Http404
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as error:
        raise Http404 from error
    inline = attachment.content_type in services.ATTACHMENT_TYPES
    response = FileResponse(
        handle,
        as_attachment=not inline or "download" in request.GET,
        filename=attachment.name,
        content_type=attachment.content_type if inline else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- list ------------------------------------------------------------------------------------


@require_any_perm(*VIEW_PERMS)
def order_list(request: HttpRequest) -> HttpResponse:
    form = OrderFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {
            "status": data["status"] or None,
            "department": data["department"],
            "overdue": True if data["overdue"] else None,
        }
    orders = selectors.workorder_list(user=request.user, **filters).prefetch_related("tasks")
    page = CappedPaginator(orders, param("basic.page_size")).get_page(request.GET.get("page"))
    rows = []
    for order in page:
        deadline = selectors.workorder_deadline(order)
        late = any(selectors.task_is_overdue(t) for t in order.tasks.all())
        rows.append({"order": order, "deadline": deadline, "overdue": late})
    query = {k: v for k, v in request.GET.items() if k != "page"}
    return render(
        request,
        "workorders/list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": urlencode(query),
            "can_create": request.user.has_perm(P.CREATE_ORDERS),
        },
    )
