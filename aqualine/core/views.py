from __future__ import annotations

import time
from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from aqualine import __version__
from aqualine.callcenter.selectors import switch_health
from aqualine.core.audit import ACTION_LABELS
from aqualine.core.auth import require_login, require_perm
from aqualine.core.concurrency import ConflictError
from aqualine.core.forms import clean_query
from aqualine.core.models import AuditEvent
from aqualine.core.parameters import (
    DEFINITIONS,
    GROUP_LABELS,
    Group,
    Kind,
    ParamDef,
    parameters_update,
    stored_values_and_versions,
)
from aqualine.core.permissions import CorePerm


@require_login
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "core/home.html",
        {
            "roles": request.user.groups.order_by("name"),
        },
    )


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness of the parts this process depends on; 503 when one is down."""
    started = time.perf_counter()
    database: dict[str, Any] = {"vendor": connection.vendor}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        database["ok"] = True
    except Exception as error:  # any driver error means "down"
        database.update(ok=False, error=error.__class__.__name__)
    database["ms"] = round((time.perf_counter() - started) * 1000, 1)
    switch = switch_health()
    ok = bool(database["ok"])
    state = "error" if not ok else ("ok" if switch["ok"] else "degraded")
    return JsonResponse(
        {"status": state, "version": __version__, "database": database, "switch": switch},
        status=200 if ok else 503,
    )


def _field_name(key: str) -> str:
    return key.replace(".", "__")


def _form_field(definition: ParamDef, value: Any) -> forms.Field:
    common: dict[str, Any] = {
        "label": definition.label,
        "help_text": definition.help_text,
        "required": False,
    }
    if definition.kind is Kind.BOOL:
        return forms.BooleanField(**common)
    if definition.kind is Kind.CHOICE:
        return forms.ChoiceField(choices=definition.choices, **common)
    return forms.CharField(**common)


class ParameterGroupForm(forms.Form):
    def __init__(
        self,
        group: Group,
        values: dict[str, Any],
        versions: dict[str, int],
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.group = group
        self.definitions = [d for d in DEFINITIONS if d.group is group]
        for definition in self.definitions:
            name = _field_name(definition.key)
            value = values[definition.key]
            self.fields[name] = _form_field(definition, value)
            self.initial[name] = (
                value
                if definition.kind in (Kind.BOOL, Kind.CHOICE)
                else definition.display(value)
                if definition.kind is Kind.DURATION
                else value
            )
            self.fields["v__" + name] = forms.IntegerField(
                widget=forms.HiddenInput, required=False, min_value=0
            )
            self.initial["v__" + name] = versions.get(definition.key, 0)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self.values: dict[str, Any] = {}
        self.seen_versions: dict[str, int] = {}
        for definition in self.definitions:
            name = _field_name(definition.key)
            if name not in cleaned:
                continue
            try:
                self.values[definition.key] = definition.clean(cleaned[name])
            except ValidationError as error:
                self.add_error(name, error)
            self.seen_versions[definition.key] = cleaned.get("v__" + name) or 0
        return cleaned

    def visible_rows(self) -> list[tuple[forms.BoundField, ParamDef]]:
        return [(self[_field_name(d.key)], d) for d in self.definitions]


@require_perm(CorePerm.MANAGE_PARAMETERS)
def parameters(request: HttpRequest) -> HttpResponse:
    values, versions = stored_values_and_versions()
    posted_group = request.POST.get("group") if request.method == "POST" else None
    if posted_group is not None and posted_group not in Group.__members__.values():
        raise Http404
    forms_by_group = []
    for group in Group:
        bound = posted_group == group.value
        form = ParameterGroupForm(
            group, values, versions, request.POST if bound else None, prefix=group.value
        )
        if bound and form.is_valid():
            try:
                changed = parameters_update(
                    actor=request.user,
                    changes=form.values,
                    versions=form.seen_versions,
                    request=request,
                )
            except ConflictError as error:
                form.add_error(None, str(error))
            else:
                if changed:
                    messages.success(request, _("%(n)d parameter(s) saved.") % {"n": len(changed)})
                else:
                    messages.info(request, _("Nothing was changed."))
                return redirect(f"{request.path}#{group.value}")
        forms_by_group.append((group, GROUP_LABELS[group], form))
    return render(request, "core/parameters.html", {"groups": forms_by_group})


@require_perm(CorePerm.VIEW_AUDIT_LOG)
def audit_log(request: HttpRequest) -> HttpResponse:
    events = AuditEvent.objects.all()
    action = request.GET.get("action", "")
    if action in ACTION_LABELS:
        events = events.filter(action=action)
    actor = clean_query(request.GET.get("actor", ""))
    if actor:
        events = events.filter(actor_label__icontains=actor)
    target = clean_query(request.GET.get("target", ""))
    if target:
        events = events.filter(target_label__icontains=target)
    since = _date(request.GET.get("since", ""))
    until = _date(request.GET.get("until", ""))
    if since:
        events = events.filter(at__date__gte=since)
    if until:
        events = events.filter(at__date__lte=until)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "core/audit_log.html",
        {
            "page": page,
            "actions": sorted(ACTION_LABELS.items()),
            "filters": {
                "action": action,
                "actor": actor,
                "target": target,
                "since": request.GET.get("since", ""),
                "until": request.GET.get("until", ""),
            },
        },
    )


def _date(value: str) -> date | None:
    try:
        return parse_date(value.strip()) if value else None
    except ValueError:  # a well-formed but impossible date, e.g. 2024-02-30
        return None
