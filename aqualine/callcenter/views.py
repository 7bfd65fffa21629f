from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from aqualine.callcenter import services
from aqualine.callcenter.client import SwitchClient, SwitchUnavailable
from aqualine.callcenter.forms import ExtensionCreateForm, ExtensionEditForm, TrunkForm
from aqualine.callcenter.models import Extension, Trunk
from aqualine.callcenter.permissions import CallcenterPerm
from aqualine.core.auth import require_perm
from aqualine.core.concurrency import ConflictError
from aqualine.core.forms import add_service_error


def _switch_state() -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    client = SwitchClient(timeout=1.5)
    try:
        return client.status(), client.registrations()
    except SwitchUnavailable:
        return None, []


@require_perm(CallcenterPerm.VIEW_SWITCH)
def extension_list(request: HttpRequest) -> HttpResponse:
    status, registrations = _switch_state()
    by_number: dict[str, list[dict[str, Any]]] = {}
    for reg in registrations:
        by_number.setdefault(str(reg.get("number")), []).append(reg)
    rows = [(ext, by_number.get(ext.number, [])) for ext in Extension.objects.all()]
    if status is not None:
        ports = status.get("transports") or {}
        status["sip_port"] = ports.get("udp") or ports.get("tcp")
    return render(
        request,
        "callcenter/extension_list.html",
        {
            "rows": rows,
            "switch": status,
            "trunks": Trunk.objects.all(),
            "can_manage": request.user.has_perm(CallcenterPerm.MANAGE_TELEPHONY),
        },
    )


@require_perm(CallcenterPerm.MANAGE_TELEPHONY)
def extension_create(request: HttpRequest) -> HttpResponse:
    form = ExtensionCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ext = services.extension_create(
                actor=request.user,  # type: ignore[arg-type]
                number=data["number"],
                display_name=data["display_name"],
                enabled=data["enabled"],
                request=request,
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Extension %(n)s created.") % {"n": ext.number})
            return redirect("callcenter:extension_edit", pk=ext.pk)
    return render(request, "callcenter/extension_form.html", {"form": form, "creating": True})


@require_perm(CallcenterPerm.MANAGE_TELEPHONY)
def extension_edit(request: HttpRequest, pk: int) -> HttpResponse:
    ext = get_object_or_404(Extension, pk=pk)
    initial = {"version": ext.version, "display_name": ext.display_name, "enabled": ext.enabled}
    form = ExtensionEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.extension_update(
                actor=request.user,  # type: ignore[arg-type]
                extension=ext,
                version=data["version"],
                display_name=data["display_name"],
                enabled=data["enabled"],
                new_password=data["new_password"],
                request=request,
            )
        except ConflictError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Extension %(n)s saved.") % {"n": ext.number})
            return redirect("callcenter:extension_edit", pk=ext.pk)
    return render(
        request,
        "callcenter/extension_form.html",
        {
            "form": form,
            "creating": False,
            "subject": ext,
            "sip_server": f"{settings.SIP_HOST}:{settings.SIP_PORT}",
        },
    )


@require_perm(CallcenterPerm.MANAGE_TELEPHONY)
def trunk_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    trunk = get_object_or_404(Trunk, pk=pk) if pk is not None else None
    initial = {}
    if trunk is not None:
        initial = {
            "version": trunk.version,
            "name": trunk.name,
            "hosts": trunk.hosts,
            "numbers": trunk.numbers,
            "username": trunk.username,
            "outbound_address": trunk.outbound_address,
            "caller_id": trunk.caller_id,
            "outbound_username": trunk.outbound_username,
            "enabled": trunk.enabled,
        }
    form = TrunkForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = services.trunk_save(
                actor=request.user,  # type: ignore[arg-type]
                trunk=trunk,
                version=data["version"],
                name=data["name"],
                hosts=data["hosts"],
                numbers=data["numbers"],
                username=data["username"],
                password=data["password"],
                enabled=data["enabled"],
                outbound_address=data["outbound_address"].strip(),
                caller_id=data["caller_id"],
                outbound_username=data["outbound_username"],
                outbound_password=data["outbound_password"],
                request=request,
            )
        except (ValidationError, ConflictError) as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Trunk %(n)s saved.") % {"n": saved.name})
            return redirect("callcenter:extension_list")
    return render(
        request,
        "callcenter/trunk_form.html",
        {"form": form, "creating": trunk is None, "subject": trunk},
    )
