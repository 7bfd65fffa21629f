"""Excel exports written by the worker (我的导出).

An export of up to `DIRECT_EXPORT_ROWS` rows is written while the browser waits (a second or
two). A larger one becomes an `ExportJob`: `aqualine run_report_exports` (a job of `aqualine
worker`, every 10 s) claims it with a conditional UPDATE — `status` from pending to running —
so that two workers never both write one, runs the query as its owner (their data scope as it is
then), writes the workbook under the exports directory (a ".part" file renamed when complete),
and records the rows, the size or the error. The owner downloads it from "我的导出" through a
permission-checked view; people with `reports.view_all_exports` may download anyone's. The
same job deletes exports (row and file) `EXPORT_KEEP_DAYS` days old, and marks failed a job left
running by a worker that died.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aqualine.reports.exports import MAX_EXPORT_ROWS, Sheet, write_xlsx
from aqualine.reports.models import ExportJob
from aqualine.reports.permissions import ReportsPerm

log = logging.getLogger(__name__)

Status = ExportJob.Status
# Exports of at most this many rows are written while the browser waits.
DIRECT_EXPORT_ROWS = 5_000
EXPORT_KEEP_DAYS = 7
# A job still running this long after it started died with its worker.
STALE_AFTER = timedelta(hours=3)


class ExportError(Exception):
    """An export that cannot be written (shown to its owner as the job's error)."""


def exports_dir() -> Path:
    return Path(getattr(settings, "REPORT_EXPORTS_DIR", Path(settings.VAR_DIR) / "exports"))


# --- selectors --------------------------------------------------------------------------------


def exports_visible_to(user: Any) -> QuerySet[ExportJob]:
    """Everyone's exports with `view_all_exports`; one's own with `export`; else none."""
    jobs = ExportJob.objects.select_related("owner")
    if not user.is_authenticated or not user.is_active:
        return jobs.none()
    if user.has_perm(ReportsPerm.VIEW_ALL_EXPORTS):
        return jobs
    if user.has_perm(ReportsPerm.EXPORT):
        return jobs.filter(owner=user)
    return jobs.none()


def export_file(job: ExportJob) -> Path | None:
    """The finished workbook of `job`, if it is there."""
    if job.status != Status.DONE or not job.file_name:
        return None
    path = exports_dir() / job.file_name
    return path if path.is_file() else None


def export_download_name(job: ExportJob) -> str:
    return f"{job.kind}-{timezone.localtime(job.created_at):%Y%m%d-%H%M}.xlsx"


# --- services ---------------------------------------------------------------------------------


def export_job_create(*, owner: Any, kind: str, query: str, rows: int | None = None) -> ExportJob:
    """Queue an export of `kind` with the page's query string `query` for the worker."""
    return ExportJob.objects.create(owner=owner, kind=kind, query=query, rows=rows)


def query_export_sheets(*, user: Any, query: str, now: datetime) -> tuple[int, Iterable[Sheet]]:
    """(matching orders, the sheet) of a custom query export: conditions and columns from the
    query string, within `user`'s data scope."""
    from aqualine.reports.forms import QueryForm
    from aqualine.reports.selectors.query import COLUMNS, query_orders, query_rows

    form = QueryForm(QueryDict(query))
    if not form.is_valid():
        raise ExportError(_("Correct the query's conditions first."))
    chosen = form.chosen_columns()
    orders = query_orders(user=user, conditions=form.conditions(), now=now)
    count = orders.count()
    rows = (row.cells for row in query_rows(orders, chosen, now=now))
    header = [str(COLUMNS[key].label) for key in chosen]
    return count, [Sheet(_("Custom query"), header, rows)]


SHEETS = {ExportJob.Kind.QUERY: query_export_sheets}


def export_job_claim(*, job: ExportJob, now: datetime) -> bool:
    """Take `job` for this worker; False when another one took it first."""
    claimed = ExportJob.objects.filter(pk=job.pk, status=Status.PENDING).update(
        status=Status.RUNNING, started_at=now
    )
    if claimed:
        job.status, job.started_at = Status.RUNNING, now
    return bool(claimed)


def _finish(job: ExportJob, **values: Any) -> None:
    values["finished_at"] = timezone.now()
    for name, value in values.items():
        setattr(job, name, value)
    ExportJob.objects.filter(pk=job.pk).update(**values)


def export_job_run(*, job: ExportJob) -> ExportJob:
    """Write the workbook of a claimed `job` and record the outcome."""
    folder = exports_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"export-{job.pk}-{secrets.token_hex(8)}.xlsx"
    partial = folder / f"{name}.part"
    try:
        with translation.override(settings.LANGUAGE_CODE):
            count, sheets = SHEETS[ExportJob.Kind(job.kind)](
                user=job.owner, query=job.query, now=job.started_at or timezone.now()
            )
            if count > MAX_EXPORT_ROWS:
                raise ExportError(
                    _("%(count)s orders match; narrow the query to at most %(max)s to export it.")
                    % {"count": count, "max": MAX_EXPORT_ROWS}
                )
            ExportJob.objects.filter(pk=job.pk).update(rows=count)
            written = write_xlsx(str(partial), sheets)
        os.replace(partial, folder / name)
    except Exception as error:
        partial.unlink(missing_ok=True)
        if not isinstance(error, ExportError):
            log.exception("export %s failed", job.pk)
        message = str(error) if isinstance(error, ExportError) else _("The export failed.")
        _finish(job, status=Status.FAILED, error=message)
        return job
    _finish(
        job,
        status=Status.DONE,
        rows=written,
        file_name=name,
        size=(folder / name).stat().st_size,
    )
    return job


def export_jobs_run_pending(
    *, budget_seconds: float = 60.0, now: datetime | None = None
) -> list[ExportJob]:
    """Run waiting exports, oldest first, until `budget_seconds` have gone by (one export at
    least: an export is never cut short); returns those this call ran."""
    started = time.monotonic()
    now = now or timezone.now()
    ExportJob.objects.filter(status=Status.RUNNING, started_at__lt=now - STALE_AFTER).update(
        status=Status.FAILED, error=_("The export was interrupted."), finished_at=now
    )
    ran: list[ExportJob] = []
    while time.monotonic() - started < budget_seconds:
        job = (
            ExportJob.objects.select_related("owner")
            .filter(status=Status.PENDING)
            .order_by("created_at", "id")
            .first()
        )
        if job is None:
            break
        if export_job_claim(job=job, now=timezone.now()):
            ran.append(export_job_run(job=job))
    return ran


def export_jobs_prune(*, now: datetime | None = None, keep_days: int = EXPORT_KEEP_DAYS) -> int:
    """Delete the exports (rows and files) created more than `keep_days` days ago, except those
    still running; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=keep_days)
    old = list(
        ExportJob.objects.filter(created_at__lt=cutoff)
        .exclude(status=Status.RUNNING)
        .values_list("pk", "file_name")
    )
    folder = exports_dir()
    for _pk, name in old:
        if name:
            (folder / name).unlink(missing_ok=True)
    with transaction.atomic():
        ExportJob.objects.filter(pk__in=[pk for pk, _name in old]).delete()
    return len(old)
