"""Excel (XLSX) downloads, written by openpyxl in write-only (streaming) mode: rows go to a
temporary file as they come, so memory stays flat however many rows there are.

Cells are made safe for Excel: a text that starts with "=" stays text (never a formula someone
typed into an order's description), characters XML cannot carry are dropped, times are shown in
local time.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from django.http import FileResponse
from django.utils import timezone
from django.utils.functional import Promise
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Beyond this an export is refused (Excel itself takes 1,048,576 rows a sheet). Exports of more
# than `export_jobs.DIRECT_EXPORT_ROWS` rows are written by the worker (bench/reports.py).
MAX_EXPORT_ROWS = 1_000_000
SHEET_TITLE_LENGTH = 31  # Excel's limit


@dataclass(frozen=True)
class Sheet:
    title: str
    header: Sequence[Any]
    rows: Iterable[Sequence[Any]]


def _cell(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(tzinfo=None, microsecond=0)
    if hasattr(value, "excel_cell"):  # a formatted figure (tables.Rate, tables.Seconds ...)
        return value.excel_cell(sheet)
    if isinstance(value, Promise):
        value = str(value)
    if not isinstance(value, str):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    if text.startswith("="):
        cell = WriteOnlyCell(sheet, value=text)
        cell.data_type = "s"  # openpyxl would take it for a formula
        return cell
    return text


def write_xlsx(target: str | IO[bytes], sheets: Iterable[Sheet]) -> int:
    """Write `sheets` to `target` (a path or a binary file); returns how many data rows."""
    workbook = Workbook(write_only=True)
    written = 0
    for spec in sheets:
        sheet = workbook.create_sheet(title=spec.title[:SHEET_TITLE_LENGTH])
        sheet.append([_cell(sheet, v) for v in spec.header])
        for row in spec.rows:
            sheet.append([_cell(sheet, v) for v in row])
            written += 1
    workbook.save(target)
    return written


def xlsx_response(filename: str, sheets: Iterable[Sheet]) -> FileResponse:
    """An attachment download of `sheets`; the workbook is built in an anonymous temporary file
    (gone when the response is closed)."""
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - the response closes it
    write_xlsx(handle, sheets)
    handle.seek(0)
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=XLSX_TYPE)


def export_filename(stem: str) -> str:
    return f"{stem}-{timezone.localtime():%Y%m%d-%H%M}.xlsx"
