"""Report pages (业务分析): three ready reports with filters, a chart, tables and an Excel download,
and the custom query with saved queries. Every work-order figure is within the viewer's data
scope (the selectors start from `workorders_visible_to`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aqualine.core.auth import require_perm
from aqualine.core.parameters import param
from aqualine.reports import services
from aqualine.reports.charts import Series, column_chart, hbar_chart
from aqualine.reports.export_jobs import (
    DIRECT_EXPORT_ROWS,
    EXPORT_KEEP_DAYS,
    export_download_name,
    export_file,
    export_job_create,
    exports_visible_to,
)
from aqualine.reports.exports import (
    MAX_EXPORT_ROWS,
    XLSX_TYPE,
    Sheet,
    export_filename,
    xlsx_response,
)
from aqualine.reports.forms import CallReportForm, OrderReportForm, QueryForm, SaveQueryForm
from aqualine.reports.models import ExportJob
from aqualine.reports.permissions import ReportsPerm
from aqualine.reports.selectors.calls import call_report
from aqualine.reports.selectors.orders import SCORES, intake_report, timeliness_report
from aqualine.reports.selectors.query import (
    COLUMNS,
    query_orders,
    query_rows,
    saved_queries_of,
    saved_query_get,
    values_for_page,
)
from aqualine.reports.tables import Table, call_tables, intake_tables, timeliness_tables

P = ReportsPerm


def _sheets(tables: list[Table]) -> list[Sheet]:
    return [Sheet(t.title, t.header, t.all_rows) for t in tables]


def _chart(draw: Callable[..., SafeString], *args: Any, **kwargs: Any) -> tuple[str, SafeString]:
    """(caption, SVG) of a chart for the page."""
    return kwargs["title"], draw(*args, **kwargs)


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    query = request.GET.urlencode()
    context.setdefault("export_query", query)
    context["can_export"] = request.user.has_perm(P.EXPORT)
    return render(request, template, context)


# --- 1. intake and handling ------------------------------------------------------------------


def _intake(request: HttpRequest) -> tuple[OrderReportForm, Any]:
    form = OrderReportForm(request.GET or None)
    return form, intake_report(user=request.user, **form.filters())


@require_GET
@require_perm(P.VIEW_REPORTS)
def intake(request: HttpRequest) -> HttpResponse:
    form, report = _intake(request)
    charts = [
        _chart(
            hbar_chart,
            [(r.label, r.total) for r in report.by_category],
            title=_("Orders taken by category"),
        ),
        _chart(
            hbar_chart,
            [(r.label, r.tasks) for r in report.by_department],
            title=_("Department tasks by department"),
        ),
    ]
    return _page(
        request,
        "reports/intake.html",
        {"form": form, "report": report, "tables": intake_tables(report), "charts": charts},
    )


@require_GET
@require_perm(P.VIEW_REPORTS, P.EXPORT)
def intake_export(request: HttpRequest) -> HttpResponse:
    _form, report = _intake(request)
    return xlsx_response(export_filename("intake"), _sheets(intake_tables(report)))  # type: ignore[return-value]


# --- 2. timeliness and satisfaction ------------------------------------------------------------


def _timeliness(request: HttpRequest) -> tuple[OrderReportForm, Any]:
    form = OrderReportForm(request.GET or None)
    return form, timeliness_report(user=request.user, **form.filters())


@require_GET
@require_perm(P.VIEW_REPORTS)
def timeliness(request: HttpRequest) -> HttpResponse:
    form, report = _timeliness(request)
    charts = [
        _chart(
            hbar_chart,
            [(r.label, r.on_time_rate or 0.0) for r in report.by_department if r.due],
            title=_("On-time completion rate by department"),
            value_text=lambda v: f"{v * 100:.1f}%",
            scale_max=1.0,
        ),
        _chart(
            hbar_chart,
            [
                (_("Score %(score)s") % {"score": s}, n)
                for s, n in zip(SCORES, report.total.satisfaction, strict=True)
            ],
            title=_("Satisfaction scores of the orders"),
        ),
    ]
    return _page(
        request,
        "reports/timeliness.html",
        {"form": form, "report": report, "tables": timeliness_tables(report), "charts": charts},
    )


@require_GET
@require_perm(P.VIEW_REPORTS, P.EXPORT)
def timeliness_export(request: HttpRequest) -> HttpResponse:
    _form, report = _timeliness(request)
    response = xlsx_response(export_filename("timeliness"), _sheets(timeliness_tables(report)))
    return response  # type: ignore[return-value]


# --- 3. calls --------------------------------------------------------------------------------


def _calls(request: HttpRequest) -> tuple[CallReportForm, Any]:
    form = CallReportForm(request.GET or None)
    return form, call_report(**form.filters())


@require_GET
@require_perm(P.VIEW_CALL_REPORTS)
def calls(request: HttpRequest) -> HttpResponse:
    form, report = _calls(request)
    hours = report.by_hour
    charts = [
        _chart(
            column_chart,
            [f"{h.hour:02d}" for h in hours],
            [
                Series(_("Answered"), [h.answered for h in hours]),
                Series(_("Abandoned"), [h.abandoned for h in hours]),
                Series(_("Overflowed"), [h.missed for h in hours]),
            ],
            title=_("Calls offered to agents by hour of the day"),
        ),
        _chart(
            hbar_chart,
            [(f"{a.agent_id} {a.name}".strip(), a.answered) for a in report.by_agent],
            title=_("Calls answered by agent"),
        ),
    ]
    return _page(
        request,
        "reports/calls.html",
        {"form": form, "report": report, "tables": call_tables(report), "charts": charts},
    )


@require_GET
@require_perm(P.VIEW_CALL_REPORTS, P.EXPORT)
def calls_export(request: HttpRequest) -> HttpResponse:
    _form, report = _calls(request)
    return xlsx_response(export_filename("calls"), _sheets(call_tables(report)))  # type: ignore[return-value]


# --- custom query ----------------------------------------------------------------------------


@require_GET
@require_perm(P.VIEW_REPORTS)
def query(request: HttpRequest) -> HttpResponse:
    """Conditions and columns in the query string; the count and a page of detail rows."""
    form = QueryForm(request.GET or None)
    page = rows = None
    columns: list[Any] = []
    if form.is_bound and form.is_valid():
        chosen = form.chosen_columns()
        columns = [COLUMNS[key] for key in chosen]
        now = timezone.now()
        orders = query_orders(user=request.user, conditions=form.conditions(), now=now)
        page = Paginator(values_for_page(orders, chosen), param("basic.page_size")).get_page(
            request.GET.get("page")
        )
        rows = list(query_rows(list(page.object_list), chosen, now=now))
    return _page(
        request,
        "reports/query.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "columns": columns,
            "saved": saved_queries_of(request.user),
            "save_form": SaveQueryForm(initial={"query": request.GET.urlencode()}),
            "direct_rows": DIRECT_EXPORT_ROWS,
            "exports_url": reverse("reports:exports"),
        },
    )


@require_POST
@require_perm(P.VIEW_REPORTS, P.EXPORT)
def query_export(request: HttpRequest) -> HttpResponse:
    """The query's rows as Excel: written now when there are few, else queued for the worker
    (我的导出). The query string comes in the form's hidden `query` field."""
    query = str(request.POST.get("query", ""))[:4000]
    back = f"{reverse('reports:query')}?{query}"
    form = QueryForm(QueryDict(query))
    if not form.is_valid():
        messages.error(request, _("Correct the query's conditions first."))
        return redirect(back)
    chosen = form.chosen_columns()
    now = timezone.now()
    orders = query_orders(user=request.user, conditions=form.conditions(), now=now)
    count = orders.count()
    if count > MAX_EXPORT_ROWS:
        messages.error(
            request,
            _("%(count)s orders match; narrow the query to at most %(max)s to export it.")
            % {"count": count, "max": MAX_EXPORT_ROWS},
        )
        return redirect(back)
    if count > DIRECT_EXPORT_ROWS:
        export_job_create(owner=request.user, kind=ExportJob.Kind.QUERY, query=query, rows=count)
        messages.success(
            request,
            _(
                "%(count)s orders match: the export is being written. Download it from "
                "My exports when it is ready."
            )
            % {"count": count},
        )
        return redirect("reports:exports")
    rows = (row.cells for row in query_rows(orders, chosen, now=now))
    header = [str(COLUMNS[key].label) for key in chosen]
    response = xlsx_response(export_filename("query"), [Sheet(_("Custom query"), header, rows)])
    return response  # type: ignore[return-value]


# --- my exports (我的导出) ----------------------------------------------------------------------


@require_GET
@require_perm(P.EXPORT)
def exports(request: HttpRequest) -> HttpResponse:
    """The exports the user asked for, newest first; with `view_all_exports` and ?all=1,
    everyone's."""
    everyone = request.GET.get("all") == "1" and request.user.has_perm(P.VIEW_ALL_EXPORTS)
    jobs = exports_visible_to(request.user)
    if not everyone:
        jobs = jobs.filter(owner_id=request.user.pk)
    page = Paginator(jobs, param("basic.page_size")).get_page(request.GET.get("page"))
    waiting = any(
        job.status in (ExportJob.Status.PENDING, ExportJob.Status.RUNNING) for job in page
    )
    return render(
        request,
        "reports/exports.html",
        {
            "page": page,
            "everyone": everyone,
            "can_see_all": request.user.has_perm(P.VIEW_ALL_EXPORTS),
            "waiting": waiting,
            "keep_days": EXPORT_KEEP_DAYS,
        },
    )


@require_GET
@require_perm(P.EXPORT)
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    job = exports_visible_to(request.user).filter(pk=pk).first()
    path = export_file(job) if job is not None else None
    if job is None or path is None:
        raise Http404
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=export_download_name(job),
        content_type=XLSX_TYPE,
    )  # type: ignore[return-value]


@require_POST
@require_perm(P.VIEW_REPORTS)
def query_save(request: HttpRequest) -> HttpResponse:
    save_form = SaveQueryForm(request.POST)
    if not save_form.is_valid():
        messages.error(request, _("Give the query a name."))
        return redirect("reports:query")
    data = QueryDict(save_form.cleaned_data["query"])
    form = QueryForm(data)
    back = f"{reverse('reports:query')}?{data.urlencode()}"
    if not form.is_valid():
        messages.error(request, _("Correct the query's conditions first."))
        return redirect(back)
    try:
        saved = services.saved_query_save(
            owner=request.user,
            name=save_form.cleaned_data["name"],
            conditions=form.raw_conditions(),
            columns=form.chosen_columns(),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    messages.success(request, _("Query “%(name)s” saved.") % {"name": saved.name})
    return redirect(back)


def _saved_or_404(request: HttpRequest, pk: int) -> Any:
    saved = saved_query_get(user=request.user, pk=pk)
    if saved is None:
        raise Http404
    return saved


@require_GET
@require_perm(P.VIEW_REPORTS)
def saved_query_run(request: HttpRequest, pk: int) -> HttpResponse:
    """Run a saved query again: the query page with its conditions and columns."""
    saved = _saved_or_404(request, pk)
    params: list[tuple[str, str]] = list(saved.conditions.items())
    params += [("columns", key) for key in saved.columns if key in COLUMNS]
    return redirect(f"{reverse('reports:query')}?{urlencode(params)}")


@require_POST
@require_perm(P.VIEW_REPORTS)
def saved_query_delete(request: HttpRequest, pk: int) -> HttpResponse:
    saved = _saved_or_404(request, pk)
    services.saved_query_delete(owner=request.user, query=saved)
    messages.success(request, _("Query “%(name)s” deleted.") % {"name": saved.name})
    return redirect("reports:query")
