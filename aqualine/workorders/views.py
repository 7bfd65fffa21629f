"""Work-order pages: intake (受理), order detail with dispatch and urge, the order list and the
lookup by order number. Views validate input and turn the services' errors into messages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aqualine.core.auth import require_perm
from aqualine.core.concurrency import ConflictError
from aqualine.core.forms import add_service_error, safe_int
from aqualine.core.parameters import param
from aqualine.customers import selectors as customer_selectors
from aqualine.customers.permissions import CustomersPerm
from aqualine.workorders import selectors, services
from aqualine.workorders.forms import DispatchForm, IntakeForm, LookupForm, OrderFilterForm
from aqualine.workorders.models import OrderEvent, WorkOrder
from aqualine.workorders.permissions import WorkordersPerm as P
from aqualine.workorders.transitions import available_order_transitions

View = TypeVar("View", bound=Callable[..., HttpResponse])

VIEW_PERMS = (P.VIEW_ALL_ORDERS, P.VIEW_DEPARTMENT_ORDERS)
# A submitted intake form's token is remembered this long (a replay within it is refused).
TOKEN_TTL = 24 * 3600


def require_any_perm(*perms: str) -> Callable[[View], View]:
    """Like `require_perm`, but one of `perms` is enough."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
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
        form = IntakeForm(initial={"caller_number": caller, "reporter_phone": caller})
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
        )
    except ValidationError as error:
        cache.delete(key)
        add_service_error(form, error)
        return None
    except BaseException:
        cache.delete(key)
        raise
    cache.set(key, order.pk, TOKEN_TTL)
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


# --- detail, dispatch, urge ------------------------------------------------------------------


def _task_rows(order: WorkOrder) -> list[dict[str, Any]]:
    rows = []
    for task in selectors.workorder_tasks(order=order):
        left = selectors.task_time_left(task)
        rows.append(
            {
                "task": task,
                "time_left": time_left_text(left),
                "overdue": left is not None and left < timedelta(0),
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
    }
    values = {
        "source": dict(WorkOrder.Source.choices),
        "urgency": dict(WorkOrder.Urgency.choices),
        "outcome": dict(WorkOrder.FollowUpOutcome.choices),
    }
    details: list[tuple[str, str]] = []
    data = event.data if isinstance(event.data, dict) else {}
    for key, value in data.items():
        if key == "on_behalf" and value:
            details.append((_("Recorded on behalf of the department"), ""))
        elif key == "at_intake" and value:
            details.append((_("Closed at intake"), ""))
        elif key == "deadline" and value:
            moment = parse_datetime(str(value))
            shown = date_format(timezone.localtime(moment), "Y-m-d H:i") if moment else value
            details.append((str(labels[key]), str(shown)))
        elif key in labels and value not in ("", None, [], {}):
            details.append((str(labels[key]), str(values.get(key, {}).get(value, value))))
    return details


def _dispatch_initial(order: WorkOrder) -> dict[str, Any]:
    default = services.category_default_department(order.category)
    return {"version": order.version, "departments": [default.pk] if default else []}


def _render_detail(
    request: HttpRequest, order: WorkOrder, dispatch_form: DispatchForm | None = None
) -> HttpResponse:
    transitions = available_order_transitions(request.user, order)
    if "dispatch" in transitions and dispatch_form is None:
        dispatch_form = DispatchForm(initial=_dispatch_initial(order))
    deadline = selectors.workorder_deadline(order)
    tasks = _task_rows(order)
    events = selectors.workorder_timeline(order=order).select_related("task__department")
    return render(
        request,
        "workorders/detail.html",
        {
            "order": order,
            "tasks": tasks,
            "events": [(e, _event_details(e)) for e in events],
            "deadline": deadline,
            "overdue": any(r["overdue"] for r in tasks),
            "transitions": transitions,
            "dispatch_form": dispatch_form if "dispatch" in transitions else None,
        },
    )


@require_any_perm(*VIEW_PERMS)
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _visible_order(request, pk))


@require_POST
@require_perm(P.DISPATCH_ORDERS)
def dispatch(request: HttpRequest, pk: int) -> HttpResponse:
    order = _visible_order(request, pk)
    form = DispatchForm(request.POST)
    if form.is_valid():
        try:
            tasks = services.workorder_dispatch(
                actor=request.user,  # type: ignore[arg-type]
                order=order,
                departments=list(form.cleaned_data["departments"]),
                note=form.cleaned_data["note"],
                version=form.cleaned_data["version"],
            )
        except (ValidationError, ConflictError) as error:
            add_service_error(form, error)
        except PermissionDenied as error:
            form.add_error(None, _service_error_message(error))
        else:
            messages.success(
                request,
                _("Dispatched to %(departments)s.")
                % {"departments": "、".join(t.department.name for t in tasks)},
            )
            return redirect("workorders:detail", pk=order.pk)
    order.refresh_from_db()
    if "dispatch" not in available_order_transitions(request.user, order):
        # someone else acted meanwhile: the page will not show the form, so say why here
        for errors in form.errors.values():
            for text in errors:
                messages.error(request, str(text))
        return redirect("workorders:detail", pk=order.pk)
    return _render_detail(request, order, form)


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
    page = Paginator(orders, param("basic.page_size")).get_page(request.GET.get("page"))
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
