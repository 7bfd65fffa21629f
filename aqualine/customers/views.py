from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aqualine.core.auth import require_perm
from aqualine.core.concurrency import ConflictError
from aqualine.core.forms import add_service_error
from aqualine.core.parameters import param
from aqualine.customers import selectors, services
from aqualine.customers.forms import ImportForm, LookupForm, OutageForm
from aqualine.customers.importing import (
    COLUMNS,
    KIND_LABELS,
    ImportKind,
    SourceError,
    import_records,
    source_for_upload,
)
from aqualine.customers.models import Account, Area, OutageNotice
from aqualine.customers.permissions import CustomersPerm

# --- lookup ----------------------------------------------------------------------------------


@require_perm(CustomersPerm.VIEW_CUSTOMERS)
def lookup(request: HttpRequest) -> HttpResponse:
    form = LookupForm(request.GET if "q" in request.GET else None)
    result = None
    if form.is_bound and form.is_valid():
        result = selectors.customer_search(query=form.cleaned_data["q"], by=form.cleaned_data["by"])
        if len(result.accounts) == 1 and not result.truncated:
            return redirect("customers:account_detail", pk=result.accounts[0].pk)
    rows = []
    if result is not None:
        rows = [(a, result.arrears.get(a.pk)) for a in result.accounts]
    return render(
        request,
        "customers/lookup.html",
        {"form": form, "result": result, "rows": rows, "limit": selectors.MAX_RESULTS},
    )


def _account_json(account: Account, arrears: Any, outage_texts: dict[int, str]) -> dict[str, Any]:
    area = account.area
    if area is not None and area.pk not in outage_texts:
        outage_texts[area.pk] = selectors.outage_text_for_area(area)
    return {
        "id": account.pk,
        "number": account.number,
        "name": account.name,
        "address": account.address,
        "area": {"code": area.code, "name": area.name} if area is not None else None,
        "phones": [p.number for p in account.phones.all()],
        "status": account.status,
        "status_label": account.get_status_display(),
        "arrears": str(arrears),
        "outage_text": outage_texts.get(area.pk, "") if area is not None else "",
        "url": reverse("customers:account_detail", args=[account.pk]),
    }


@require_GET
@require_perm(CustomersPerm.VIEW_CUSTOMERS)
def lookup_json(request: HttpRequest) -> JsonResponse:
    """Customer lookup for the intake page: ?q=...&by=auto|number|address|name|phone."""
    form = LookupForm(request.GET)
    if not form.is_valid():
        errors = {field: [str(e) for e in errs] for field, errs in form.errors.items()}
        first = next(iter(errors.values()))[0]
        return JsonResponse({"error": first, "errors": errors}, status=400)
    result = selectors.customer_search(query=form.cleaned_data["q"], by=form.cleaned_data["by"])
    outage_texts: dict[int, str] = {}
    return JsonResponse(
        {
            "query": form.cleaned_data["q"],
            "by": form.cleaned_data["by"],
            "count": len(result.accounts),
            "truncated": result.truncated,
            "results": [
                _account_json(a, result.arrears[a.pk], outage_texts) for a in result.accounts
            ],
        },
        json_dumps_params={"ensure_ascii": False},
    )


@require_perm(CustomersPerm.VIEW_CUSTOMERS)
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = selectors.account_get(pk=pk)
    if account is None:
        raise Http404
    return render(
        request,
        "customers/account_detail.html",
        {
            "account": account,
            "arrears": selectors.account_arrears(account=account),
            "bills": selectors.account_bills(account=account),
            "payments": selectors.account_payments(account=account),
            "outage_lines": selectors.outage_lines_for_account(account),
        },
    )


# --- import ----------------------------------------------------------------------------------


@require_perm(CustomersPerm.IMPORT_CUSTOMERS)
def import_view(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        kind = ImportKind(form.cleaned_data["kind"])
        try:
            source = source_for_upload(upload.name, upload.read())
        except SourceError as error:
            form.add_error("file", str(error))
        else:
            report = import_records(
                kind=kind,
                source=source,
                actor=request.user,
                dry_run=form.cleaned_data["check_only"],
                request=request,
            )
            if report.imported:
                messages.success(
                    request,
                    _(
                        "Imported %(rows)d rows of %(kind)s: %(created)d new, %(updated)d "
                        "updated, %(unchanged)d unchanged."
                    )
                    % {
                        "rows": report.rows,
                        "kind": KIND_LABELS[kind],
                        "created": report.created,
                        "updated": report.updated,
                        "unchanged": report.unchanged,
                    },
                )
    formats = [(KIND_LABELS[kind], COLUMNS[kind]) for kind in ImportKind]
    return render(
        request, "customers/import.html", {"form": form, "report": report, "formats": formats}
    )


# --- water-outage notices --------------------------------------------------------------------


@require_perm(CustomersPerm.VIEW_CUSTOMERS)
def outage_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    if status not in ("open", "restored", "all"):
        status = "open"
    page = Paginator(selectors.outage_list(status=status), param("basic.page_size")).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "customers/outage_list.html",
        {
            "page": page,
            "status": status,
            "can_manage": request.user.has_perm(CustomersPerm.MANAGE_OUTAGES),
        },
    )


@require_perm(CustomersPerm.MANAGE_OUTAGES)
def outage_create(request: HttpRequest) -> HttpResponse:
    form = OutageForm(request.POST or None, creating=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            notice = services.outage_create(
                actor=request.user,  # type: ignore[arg-type]
                areas=data["areas"],
                kind=data["kind"],
                reason=data["reason"],
                starts_at=data["starts_at"],
                expected_end_at=data["expected_end_at"],
                note=data["note"],
                form_token=data["form_token"],
                request=request,
            )
        except (ValidationError, ConflictError) as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Water-outage notice saved: %(n)s") % {"n": notice.reason})
            return redirect("customers:outage_list")
    return render(request, "customers/outage_form.html", {"form": form, "creating": True})


@require_perm(CustomersPerm.MANAGE_OUTAGES)
def outage_edit(request: HttpRequest, pk: int) -> HttpResponse:
    notice = get_object_or_404(OutageNotice, pk=pk)
    initial = {
        "version": notice.version,
        "areas": list(notice.areas.values_list("pk", flat=True)),
        "kind": notice.kind,
        "reason": notice.reason,
        "starts_at": notice.starts_at,
        "expected_end_at": notice.expected_end_at,
        "note": notice.note,
    }
    form = OutageForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.outage_update(
                actor=request.user,  # type: ignore[arg-type]
                notice=notice,
                version=data["version"],
                areas=Area.objects.filter(pk__in=[a.pk for a in data["areas"]]),
                kind=data["kind"],
                reason=data["reason"],
                starts_at=data["starts_at"],
                expected_end_at=data["expected_end_at"],
                note=data["note"],
                request=request,
            )
        except (ValidationError, ConflictError) as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Water-outage notice saved: %(n)s") % {"n": notice.reason})
            return redirect("customers:outage_list")
    return render(
        request,
        "customers/outage_form.html",
        {"form": form, "creating": False, "subject": notice},
    )


@require_POST
@require_perm(CustomersPerm.MANAGE_OUTAGES)
def outage_restore(request: HttpRequest, pk: int) -> HttpResponse:
    notice = get_object_or_404(OutageNotice, pk=pk)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = 0
    try:
        services.outage_restore(
            actor=request.user,  # type: ignore[arg-type]
            notice=notice,
            version=version,
            request=request,
        )
    except ConflictError as error:
        messages.error(request, str(error))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Water supply marked restored: %(n)s") % {"n": notice.reason})
    return redirect("customers:outage_list")
