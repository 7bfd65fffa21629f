from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import LoginView, redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aqualine.accounts import services
from aqualine.accounts.forms import (
    DepartmentEditForm,
    DepartmentForm,
    LoginForm,
    PasswordResetForm,
    RoleEditForm,
    RoleForm,
    StaffCreateForm,
    StaffEditForm,
    department_choices,
)
from aqualine.accounts.models import Department, Role, User
from aqualine.accounts.permissions import AccountsPerm
from aqualine.accounts.selectors import (
    department_tree,
    permissions_by_area,
    role_list,
    staff_list,
)
from aqualine.core.auth import require_login, require_perm
from aqualine.core.concurrency import ConflictError
from aqualine.core.forms import add_service_error, clean_query, safe_int
from aqualine.core.parameters import param
from aqualine.workorders.permissions import WorkordersPerm


class AqualineLoginView(LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


login_view = AqualineLoginView.as_view()


@require_login
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        services.own_password_changed(user=user, request=request)
        messages.success(request, _("Your password has been changed."))
        return redirect("core:home")
    return render(request, "accounts/password_change.html", {"form": form})


# --- own settings ----------------------------------------------------------------------------

View = TypeVar("View", bound=Callable[..., HttpResponse])


def _require_any_perm(*perms: str) -> Callable[[View], View]:
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


@require_POST
@_require_any_perm(WorkordersPerm.VIEW_ALL_ORDERS, WorkordersPerm.VIEW_DEPARTMENT_ORDERS)
def voice_reminders_view(request: HttpRequest) -> HttpResponse:
    """Turn one's own spoken work-order reminders on (`enabled=1`) or off (`enabled=0`).

    Only users who receive work-order events may: for anyone else there is nothing to hear.
    Answers JSON to the page's script, else goes back to `next`."""
    enabled = request.POST.get("enabled") == "1"
    User.objects.filter(pk=cast(User, request.user).pk).update(voice_reminders=enabled)
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"voice_reminders": enabled})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    return redirect(target)


# --- staff -----------------------------------------------------------------------------------


@require_perm(AccountsPerm.MANAGE_STAFF)
def staff_list_view(request: HttpRequest) -> HttpResponse:
    search = clean_query(request.GET.get("q", ""))
    department_pk, role_pk = (
        safe_int(request.GET.get("department")),
        safe_int(request.GET.get("role")),
    )
    department = Department.objects.filter(pk=department_pk).first() if department_pk else None
    role = Role.objects.filter(pk=role_pk).first() if role_pk else None
    status = request.GET.get("status", "active")
    active = {"active": True, "inactive": False}.get(status)
    users = staff_list(search=search, department=department, role=role, active=active)
    page = Paginator(users, param("basic.page_size")).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/staff_list.html",
        {
            "page": page,
            "q": search,
            "department_choices": department_choices(active_only=False),
            "selected_department": department.pk if department else None,
            "roles": Role.objects.all(),
            "selected_role": role.pk if role else None,
            "status": status,
        },
    )


@require_perm(AccountsPerm.MANAGE_STAFF)
def staff_create_view(request: HttpRequest) -> HttpResponse:
    form = StaffCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.staff_create(
                actor=request.user,  # type: ignore[arg-type]
                agent_id=data["agent_id"],
                name=data["name"],
                password=data["password1"],
                phone=data["phone"],
                department=data["department"],
                roles=data["roles"],
                request=request,
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Staff member %(user)s created.") % {"user": user})
            return redirect("accounts:staff_list")
    return render(request, "accounts/staff_form.html", {"form": form, "creating": True})


@require_perm(AccountsPerm.MANAGE_STAFF)
def staff_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    initial = {
        "version": user.version,
        "name": user.name,
        "phone": user.phone,
        "department": user.department_id,
        "roles": list(user.groups.values_list("pk", flat=True)),
    }
    form = StaffEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.staff_update(
                actor=request.user,  # type: ignore[arg-type]
                user=user,
                version=data["version"],
                name=data["name"],
                phone=data["phone"],
                department=data["department"],
                roles=Role.objects.filter(pk__in=[r.pk for r in data["roles"]]),
                request=request,
            )
        except (ValidationError, ConflictError) as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Staff member %(user)s saved.") % {"user": user})
            return redirect("accounts:staff_list")
    return render(
        request, "accounts/staff_form.html", {"form": form, "creating": False, "subject": user}
    )


@require_perm(AccountsPerm.MANAGE_STAFF)
def staff_password_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    form = PasswordResetForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_set_password(
                actor=request.user,  # type: ignore[arg-type]
                user=user,
                password=form.cleaned_data["password1"],
                request=request,
            )
        except ValidationError as error:
            messages.error(request, _message(error))
            return redirect("accounts:staff_list")
        messages.success(request, _("The password of %(user)s has been reset.") % {"user": user})
        return redirect("accounts:staff_list")
    return render(request, "accounts/staff_password.html", {"form": form, "subject": user})


@require_POST
@require_perm(AccountsPerm.MANAGE_STAFF)
def staff_toggle_active_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    activate = request.POST.get("active") == "1"
    try:
        services.staff_set_active(
            actor=request.user,  # type: ignore[arg-type]
            user=user,
            active=activate,
            version=safe_int(request.POST.get("version")) or 0,
            request=request,
        )
    except (ValidationError, ConflictError) as error:
        messages.error(request, _message(error))
    else:
        text = _("%(user)s reactivated.") if activate else _("%(user)s deactivated.")
        messages.success(request, text % {"user": user})
    return redirect("accounts:staff_list")


# --- departments -----------------------------------------------------------------------------


@require_perm(AccountsPerm.MANAGE_DEPARTMENTS)
def department_list_view(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/department_list.html", {"rows": department_tree()})


@require_perm(AccountsPerm.MANAGE_DEPARTMENTS)
def department_create_view(request: HttpRequest) -> HttpResponse:
    initial = {"parent": safe_int(request.GET.get("parent"))}
    form = DepartmentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            department = services.department_create(
                actor=request.user,  # type: ignore[arg-type]
                name=data["name"],
                code=data["code"],
                parent=data["parent"],
                phone=data["phone"],
                sort_order=data["sort_order"] or 0,
                request=request,
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Department %(d)s created.") % {"d": department})
            return redirect("accounts:department_list")
    return render(request, "accounts/department_form.html", {"form": form, "creating": True})


@require_perm(AccountsPerm.MANAGE_DEPARTMENTS)
def department_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    department = get_object_or_404(Department, pk=pk)
    initial = {
        "version": department.version,
        "name": department.name,
        "code": department.code,
        "parent": department.parent_id,
        "phone": department.phone,
        "sort_order": department.sort_order,
    }
    form = DepartmentEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.department_update(
                actor=request.user,  # type: ignore[arg-type]
                department=department,
                version=data["version"],
                name=data["name"],
                code=data["code"],
                parent=data["parent"],
                phone=data["phone"],
                sort_order=data["sort_order"] or 0,
                request=request,
            )
        except (ValidationError, ConflictError) as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Department %(d)s saved.") % {"d": department})
            return redirect("accounts:department_list")
    members = department.members.order_by("-is_active", "agent_id")
    return render(
        request,
        "accounts/department_form.html",
        {
            "form": form,
            "creating": False,
            "subject": department,
            "members": members,
        },
    )


@require_POST
@require_perm(AccountsPerm.MANAGE_DEPARTMENTS)
def department_toggle_active_view(request: HttpRequest, pk: int) -> HttpResponse:
    department = get_object_or_404(Department, pk=pk)
    activate = request.POST.get("active") == "1"
    try:
        services.department_set_active(
            actor=request.user,  # type: ignore[arg-type]
            department=department,
            active=activate,
            version=safe_int(request.POST.get("version")) or 0,
            request=request,
        )
    except (ValidationError, ConflictError) as error:
        messages.error(request, _message(error))
    else:
        text = _("%(d)s reactivated.") if activate else _("%(d)s deactivated.")
        messages.success(request, text % {"d": department})
    return redirect("accounts:department_list")


# --- roles -----------------------------------------------------------------------------------


@require_perm(AccountsPerm.MANAGE_ROLES)
def role_list_view(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/role_list.html", {"roles": role_list()})


def _role_page(request: HttpRequest, form: RoleForm, **extra: Any) -> HttpResponse:
    selected = {int(v) for v in (form["permissions"].value() or []) if str(v).isdigit()}
    return render(
        request,
        "accounts/role_form.html",
        {
            "form": form,
            "areas": permissions_by_area(),
            "selected": selected,
            **extra,
        },
    )


@require_perm(AccountsPerm.MANAGE_ROLES)
def role_create_view(request: HttpRequest) -> HttpResponse:
    form = RoleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            role = services.role_create(
                actor=request.user,  # type: ignore[arg-type]
                name=data["name"],
                description=data["description"],
                permissions=data["permissions"],
                request=request,
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Role %(r)s created.") % {"r": role})
            return redirect("accounts:role_list")
    return _role_page(request, form, creating=True)


@require_perm(AccountsPerm.MANAGE_ROLES)
def role_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    role = get_object_or_404(Role, pk=pk)
    initial = {
        "version": role.version,
        "name": role.name,
        "description": role.description,
        "permissions": list(role.permissions.values_list("pk", flat=True)),
    }
    form = RoleEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.role_update(
                actor=request.user,  # type: ignore[arg-type]
                role=role,
                version=data["version"],
                name=data["name"],
                description=data["description"],
                permissions=data["permissions"],
                request=request,
            )
        except (ValidationError, ConflictError) as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Role %(r)s saved.") % {"r": role})
            return redirect("accounts:role_list")
    holders = role.user_set.filter(is_active=True).order_by("agent_id")
    return _role_page(request, form, creating=False, subject=role, holders=holders)


@require_POST
@require_perm(AccountsPerm.MANAGE_ROLES)
def role_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    role = get_object_or_404(Role, pk=pk)
    try:
        services.role_delete(actor=request.user, role=role, request=request)  # type: ignore[arg-type]
    except ValidationError as error:
        messages.error(request, _message(error))
        return redirect("accounts:role_edit", pk=role.pk)
    messages.success(request, _("Role %(r)s deleted.") % {"r": role.name})
    return redirect("accounts:role_list")


def _message(error: ValidationError | ConflictError) -> str:
    if isinstance(error, ConflictError):
        return str(error)
    return " ".join(error.messages)
