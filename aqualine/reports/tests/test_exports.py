"""Excel downloads open with openpyxl and hold the rows the pages show."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlencode

import pytest
from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from aqualine.accounts.models import Department, User
from aqualine.conftest import client_for
from aqualine.reports.exports import Sheet, write_xlsx
from aqualine.reports.tables import Rate
from aqualine.reports.tests.conftest import MARCH, Orders

pytestmark = pytest.mark.django_db


def workbook(response: Any) -> Any:
    assert response.status_code == 200
    assert isinstance(response, FileResponse)
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Content-Disposition"].startswith("attachment;")
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))  # type: ignore[arg-type]


def values(sheet: Any) -> list[list[Any]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def export_query(user: User, params: dict[str, Any]) -> Any:
    """Press the query page's export button (a POST of the page's query string)."""
    query = urlencode(params, doseq=True)
    return client_for(user).post(reverse("reports:query_export"), {"query": query})


def test_the_custom_query_exports_its_rows_and_columns(
    orders: Orders, viewer: User, repair: Department
) -> None:
    params: dict[str, Any] = {
        "date_from": "2026-03-01",
        "date_to": "2026-03-31",
        "department": repair.pk,
        "overdue": "no",
        "columns": ["number", "times_processed", "status", "created_at"],
    }
    book = workbook(export_query(viewer, params))
    rows = values(book.worksheets[0])
    assert rows[0] == [_("Order number"), _("Times processed"), _("Status"), _("Intake time")]
    assert [r[:3] for r in rows[1:]] == [
        ["GD4", 2, "已办结"],
        ["GD3", 2, "待回访"],
        ["GD1", 1, "已办结"],
    ]
    # times in local time (O1 was taken 2 March 09:00 Beijing time)
    assert rows[3][3].isoformat() == "2026-03-02T09:00:00"


def test_a_handler_cannot_export_nor_see_other_orders(
    orders: Orders, billing_handler: User
) -> None:
    client = client_for(billing_handler)
    assert export_query(billing_handler, {}).status_code == 403
    assert client.get(reverse("reports:intake_export"), MARCH).status_code == 403


def test_the_ready_reports_export_their_tables(orders: Orders, viewer: User) -> None:
    book = workbook(client_for(viewer).get(reverse("reports:intake_export"), MARCH))
    titles = ["By accepting unit", "By category", "By content"]
    assert book.sheetnames[:3] == [_(t) for t in titles]
    assert len(book.sheetnames) == 4
    units = values(book.worksheets[0])
    assert units[0][:2] == [_("Accepting unit"), _("Taken")]
    assert units[-1][:2] == [_("Total"), 5]
    assert sorted(r[1] for r in units[1:-1]) == [1, 1, 3]
    timeliness = workbook(client_for(viewer).get(reverse("reports:timeliness_export"), MARCH))
    total = values(timeliness.worksheets[0])[-1]
    assert total[0] == _("Total")
    assert total[6] == pytest.approx(0.4)  # on-time completion rate, a number shown as %


def test_the_call_report_exports(calls: None, viewer: User) -> None:
    query = {"period": "custom", "date_from": "2026-03-02", "date_to": "2026-03-02"}
    book = workbook(client_for(viewer).get(reverse("reports:calls_export"), query))
    overall = values(book.worksheets[0])
    assert overall[1][9] == pytest.approx(0.4)  # service level
    assert overall[1][13] == pytest.approx(130.0)  # AHT
    by_hour = values(book.worksheets[2])
    assert len(by_hour) == 1 + 24 + 1  # header, 24 hours, total


def test_text_that_looks_like_a_formula_stays_text(tmp_path: Any) -> None:
    path = tmp_path / "out.xlsx"
    written = write_xlsx(
        str(path),
        [Sheet("s", ["a", "b", "c"], [['=HYPERLINK("http://x")', "bad\x07char", Rate(0.25)]])],
    )
    assert written == 1
    sheet = load_workbook(path).active
    cell = sheet["A2"]
    assert cell.value == '=HYPERLINK("http://x")' and cell.data_type == "s"
    assert sheet["B2"].value == "badchar"
    assert sheet["C2"].value == 0.25 and sheet["C2"].number_format == "0.0%"


def test_an_export_beyond_the_limit_is_refused(
    orders: Orders, viewer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("aqualine.reports.views.MAX_EXPORT_ROWS", 2)
    response = export_query(viewer, {"status": "closed"})
    assert response.status_code == 302  # O1 O4 O5 O6 are closed: four rows, more than two
    assert response["Location"].startswith(reverse("reports:query"))
    monkeypatch.setattr("aqualine.reports.views.MAX_EXPORT_ROWS", 4)
    book = workbook(export_query(viewer, {"status": "closed"}))
    assert len(values(book.worksheets[0])) == 1 + 4
