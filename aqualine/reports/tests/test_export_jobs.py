"""Large Excel exports are written by the worker (我的导出): queued by the export button, claimed
by one worker only, downloaded by their owner, deleted after the keep period."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from aqualine.accounts.models import User
from aqualine.conftest import client_for
from aqualine.jobs import JOBS
from aqualine.reports.export_jobs import (
    export_job_claim,
    export_job_create,
    export_jobs_prune,
    export_jobs_run_pending,
)
from aqualine.reports.models import ExportJob
from aqualine.reports.tests.conftest import Orders

pytestmark = pytest.mark.django_db

Status = ExportJob.Status
CLOSED = urlencode({"status": "closed", "columns": ["number", "status"]}, doseq=True)


@pytest.fixture(autouse=True)
def exports_dir(settings: Any, tmp_path: Path) -> Path:
    settings.REPORT_EXPORTS_DIR = tmp_path / "exports"
    return settings.REPORT_EXPORTS_DIR


@pytest.fixture
def small_direct_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Exports of more than two rows go to the worker."""
    monkeypatch.setattr("aqualine.reports.views.DIRECT_EXPORT_ROWS", 2)


def press_export(user: User, query: str = CLOSED) -> Any:
    return client_for(user).post(reverse("reports:query_export"), {"query": query})


def test_a_large_export_is_queued_and_listed(
    orders: Orders, viewer: User, small_direct_limit: None
) -> None:
    response = press_export(viewer)  # O1 O4 O5 O6 are closed: four rows
    assert response.status_code == 302 and response["Location"] == reverse("reports:exports")
    job = ExportJob.objects.get()
    assert (job.owner, job.status, job.rows, job.query) == (viewer, Status.PENDING, 4, CLOSED)
    page = client_for(viewer).get(reverse("reports:exports"))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-export="{job.pk}" data-status="pending"' in html
    assert 'http-equiv="refresh"' in html  # the page reloads itself until the job is done


def test_the_worker_writes_it_and_the_owner_downloads_it(
    orders: Orders, viewer: User, small_direct_limit: None, exports_dir: Path
) -> None:
    press_export(viewer)
    out = io.StringIO()
    call_command("run_report_exports", stdout=out)
    job = ExportJob.objects.get()
    assert (job.status, job.rows, job.error) == (Status.DONE, 4, "")
    assert job.started_at is not None and job.finished_at is not None
    assert (exports_dir / job.file_name).is_file() and job.size
    assert not list(exports_dir.glob("*.part"))
    page = client_for(viewer).get(reverse("reports:exports")).content.decode()
    url = reverse("reports:export_download", args=[job.pk])
    assert url in page and 'http-equiv="refresh"' not in page
    response = client_for(viewer).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))  # type: ignore[attr-defined]
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    assert [r[0] for r in rows[1:]] == ["GD5", "GD4", "GD1", "GD6"]
    assert {r[1] for r in rows[1:]} == {"已办结"}


def test_only_the_owner_or_an_administrator_may_download(
    orders: Orders,
    viewer: User,
    supervisor: User,
    admin_user: User,
    agent: User,
    small_direct_limit: None,
) -> None:
    press_export(viewer)
    export_jobs_run_pending()
    job = ExportJob.objects.get()
    url = reverse("reports:export_download", args=[job.pk])
    # another person with the export permission: not theirs
    assert client_for(supervisor).get(url).status_code == 404
    mine = client_for(supervisor).get(reverse("reports:exports")).content.decode()
    assert f'data-export="{job.pk}"' not in mine
    assert client_for(agent).get(url).status_code == 403  # no export permission
    # administrators hold reports.view_all_exports
    assert client_for(admin_user).get(url).status_code == 200
    everyone = client_for(admin_user).get(reverse("reports:exports"), {"all": "1"})
    assert f'data-export="{job.pk}"' in everyone.content.decode()
    # and the owner
    assert client_for(viewer).get(url).status_code == 200


def test_small_exports_download_at_once(orders: Orders, viewer: User) -> None:
    response = press_export(viewer)
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attach")
    assert not ExportJob.objects.exists()


def test_two_workers_never_run_the_same_export(orders: Orders, viewer: User) -> None:
    job = export_job_create(owner=viewer, kind=ExportJob.Kind.QUERY, query=CLOSED)
    first = ExportJob.objects.get(pk=job.pk)
    second = ExportJob.objects.get(pk=job.pk)
    now = timezone.now()
    assert export_job_claim(job=first, now=now) is True
    assert export_job_claim(job=second, now=now) is False
    # a job another worker is running is left alone
    assert export_jobs_run_pending() == []
    assert ExportJob.objects.get(pk=job.pk).status == Status.RUNNING


def test_a_job_left_running_by_a_dead_worker_fails(orders: Orders, viewer: User) -> None:
    job = export_job_create(owner=viewer, kind=ExportJob.Kind.QUERY, query=CLOSED)
    export_job_claim(job=job, now=timezone.now() - timedelta(hours=4))
    export_jobs_run_pending()
    job.refresh_from_db()
    assert job.status == Status.FAILED and job.error


def test_a_bad_query_fails_with_its_reason(viewer: User) -> None:
    job = export_job_create(
        owner=viewer, kind=ExportJob.Kind.QUERY, query="date_from=2026-03-09&date_to=2026-03-01"
    )
    export_jobs_run_pending()
    job.refresh_from_db()
    assert job.status == Status.FAILED and job.error and not job.file_name


def test_the_export_runs_in_its_owners_data_scope(orders: Orders, billing_handler: User) -> None:
    # (handlers may not export; a job of theirs, say from before a role change, still only
    # holds what they may see: O4, the only order with a billing task)
    job = export_job_create(owner=billing_handler, kind=ExportJob.Kind.QUERY, query=CLOSED)
    export_jobs_run_pending()
    job.refresh_from_db()
    assert (job.status, job.rows) == (Status.DONE, 1)


def test_old_exports_are_deleted_with_their_files(
    orders: Orders, viewer: User, exports_dir: Path
) -> None:
    old = export_job_create(owner=viewer, kind=ExportJob.Kind.QUERY, query=CLOSED)
    export_jobs_run_pending()
    old.refresh_from_db()
    path = exports_dir / old.file_name
    assert path.is_file()
    ExportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    recent = export_job_create(owner=viewer, kind=ExportJob.Kind.QUERY, query=CLOSED)
    assert export_jobs_prune() == 1
    assert not path.exists()
    assert list(ExportJob.objects.values_list("pk", flat=True)) == [recent.pk]


def test_the_worker_runs_the_export_job() -> None:
    commands = {job.command[0]: job.every_seconds for job in JOBS}
    assert commands["run_report_exports"] <= 10
    call_command("run_report_exports", stdout=io.StringIO())
