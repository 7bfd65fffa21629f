"""The tables of the ready reports, built once and shown two ways: on the page and as the sheets
of the Excel download (so both always agree). A cell is a number, a text, None ("—") or a
`Rate` / `Seconds`, which know how to print themselves and how Excel should format them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from openpyxl.cell import WriteOnlyCell

from aqualine.reports.selectors.calls import AgentFigures, CallFigures, CallReport
from aqualine.reports.selectors.orders import (
    SCORES,
    DepartmentLoadRow,
    IntakeReport,
    IntakeRow,
    TimelinessReport,
    TimelinessRow,
)


@dataclass(frozen=True)
class Rate:
    value: float | None

    def __str__(self) -> str:
        return "—" if self.value is None else f"{self.value * 100:.1f}%"

    def excel_cell(self, sheet: Any) -> Any:
        cell = WriteOnlyCell(sheet, value=None if self.value is None else round(self.value, 4))
        cell.number_format = "0.0%"
        return cell


@dataclass(frozen=True)
class Seconds:
    value: float | None

    def __str__(self) -> str:
        return "—" if self.value is None else f"{self.value:.1f}"

    def excel_cell(self, sheet: Any) -> Any:
        cell = WriteOnlyCell(sheet, value=None if self.value is None else round(self.value, 1))
        cell.number_format = "0.0"
        return cell


@dataclass(frozen=True)
class Average:
    """A mean score (1–5), two decimals."""

    value: float | None

    def __str__(self) -> str:
        return "—" if self.value is None else f"{self.value:.2f}"

    def excel_cell(self, sheet: Any) -> Any:
        cell = WriteOnlyCell(sheet, value=None if self.value is None else round(self.value, 2))
        cell.number_format = "0.00"
        return cell


@dataclass
class Table:
    key: str
    title: str
    header: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    total: list[Any] | None = None
    note: str | Promise = ""

    @property
    def all_rows(self) -> list[list[Any]]:
        return [*self.rows, *([self.total] if self.total is not None else [])]


# --- 1. intake and handling ------------------------------------------------------------------


def _intake_header(first: str) -> list[str]:
    return [
        first,
        _("Taken"),
        _("Pending dispatch"),
        _("Processing"),
        _("Pending follow-up"),
        _("Redo"),
        _("Closed"),
        _("Closing rate"),
        _("Urged orders"),
    ]


def _intake_cells(label: str, row: IntakeRow) -> list[Any]:
    return [
        label,
        row.total,
        row.pending_dispatch,
        row.processing,
        row.pending_follow_up,
        row.redo,
        row.closed,
        Rate(row.closed_rate),
        row.urged,
    ]


def _load_cells(row: DepartmentLoadRow) -> list[Any]:
    return [
        row.label,
        row.tasks,
        row.orders,
        row.waiting,
        row.accepted,
        row.submitted,
        row.returned,
        row.cancelled,
        row.open_overdue,
    ]


LOAD_SUMS = ("tasks", "waiting", "accepted", "submitted", "returned", "cancelled", "open_overdue")


def intake_tables(report: IntakeReport) -> list[Table]:
    total = _intake_cells(_("Total"), report.total)
    tables = [
        Table(
            "unit",
            _("By accepting unit"),
            _intake_header(_("Accepting unit")),
            [_intake_cells(r.label, r) for r in report.by_unit],
            total,
        ),
        Table(
            "category",
            _("By category"),
            _intake_header(_("Category")),
            [_intake_cells(r.label, r) for r in report.by_category],
            total,
        ),
        Table(
            "content",
            _("By content"),
            _intake_header(_("Content")),
            [_intake_cells(r.label, r) for r in report.by_content],
            total,
        ),
    ]
    load_total = DepartmentLoadRow(0, _("Total"))
    for row in report.by_department:
        for name in LOAD_SUMS:
            setattr(load_total, name, getattr(load_total, name) + getattr(row, name))
    total_cells = _load_cells(load_total)
    total_cells[2] = None  # distinct orders do not add up across departments
    tables.append(
        Table(
            "department",
            _("By handling department (department tasks)"),
            [
                _("Department"),
                _("Tasks"),
                _("Orders"),
                _("Waiting to be signed for"),
                _("Signed for"),
                _("Submitted"),
                _("Returned"),
                _("Cancelled"),
                _("Open past the deadline"),
            ],
            [_load_cells(r) for r in report.by_department],
            total_cells,
            note=_(
                "A joint order counts once in each department that had a task on it, so the "
                "orders column does not add up."
            ),
        )
    )
    return tables


# --- 2. timeliness and satisfaction ------------------------------------------------------------


def _timeliness_cells(label: str, row: TimelinessRow) -> list[Any]:
    return [
        label,
        row.tasks,
        row.due,
        row.on_time,
        row.late,
        row.open_overdue,
        Rate(row.on_time_rate),
        row.returned,
        row.task_urges,
        row.rated,
        *row.satisfaction,
        Average(row.satisfaction_average),
    ]


def timeliness_tables(report: TimelinessReport) -> list[Table]:
    header = [
        _("Department"),
        _("Tasks"),
        _("Due"),
        _("On time"),
        _("Late"),
        _("Open past the deadline"),
        _("On-time completion rate"),
        _("Returned"),
        _("Urges on tasks"),
        _("Orders with a score"),
        *[_("Score %(score)s") % {"score": s} for s in SCORES],
        _("Average score"),
    ]
    return [
        Table(
            "department",
            _("By department"),
            header,
            [_timeliness_cells(r.label, r) for r in report.by_department],
            _timeliness_cells(_("Total"), report.total),
        ),
        Table(
            "orders",
            _("Orders"),
            [
                _("Orders taken"),
                _("Urged orders"),
                _("Urges"),
                _("Orders with a score"),
                *[_("Score %(score)s") % {"score": s} for s in SCORES],
                _("Average score"),
            ],
            [
                [
                    report.orders,
                    report.urged_orders,
                    report.urges,
                    report.total.rated,
                    *report.total.satisfaction,
                    Average(report.total.satisfaction_average),
                ]
            ],
        ),
    ]


# --- 3. calls --------------------------------------------------------------------------------


def _kpi_header(first: str) -> list[str]:
    return [
        first,
        _("Inbound"),
        _("Offered to agents"),
        _("Answered"),
        _("Answered in time"),
        _("Abandoned"),
        _("Short abandons"),
        _("Overflowed"),
        _("IVR only"),
        _("Service level"),
        _("ASA (s)"),
        _("Average talk (s)"),
        _("Average after-call work (s)"),
        _("AHT (s)"),
        _("Abandon rate"),
        _("Longest wait (s)"),
        _("Outbound"),
        _("Outbound connected"),
    ]


def _kpi_cells(label: Any, f: CallFigures) -> list[Any]:
    return [
        label,
        f.inbound,
        f.offered,
        f.answered,
        f.answered_in_time,
        f.abandoned,
        f.short_abandoned,
        f.missed,
        f.ivr_only,
        Rate(f.service_level),
        Seconds(f.asa),
        Seconds(f.average_talk),
        Seconds(f.average_acw),
        Seconds(f.aht),
        Rate(f.abandon_rate),
        Seconds(f.longest_wait),
        f.outbound,
        f.outbound_connected,
    ]


def _agent_cells(a: AgentFigures) -> list[Any]:
    return [
        a.agent_id,
        a.name or "—",
        a.answered,
        a.answered_in_time,
        Seconds(a.asa),
        Seconds(a.talk_seconds),
        Seconds(a.acw_seconds),
        Seconds(a.average_talk),
        Seconds(a.average_acw),
        Seconds(a.aht),
        Rate(a.occupancy),
        a.outbound,
        a.outbound_connected,
    ]


def call_tables(report: CallReport) -> list[Table]:
    return [
        Table("total", _("Overall"), _kpi_header(""), [_kpi_cells(_("Total"), report.total)]),
        Table(
            "agent",
            _("By agent"),
            [
                _("Agent ID"),
                _("Name"),
                _("Answered"),
                _("Answered in time"),
                _("ASA (s)"),
                _("Talk time (s)"),
                _("After-call work (s)"),
                _("Average talk (s)"),
                _("Average after-call work (s)"),
                _("AHT (s)"),
                _("Occupancy"),
                _("Outbound"),
                _("Outbound connected"),
            ],
            [_agent_cells(a) for a in report.by_agent],
        ),
        Table(
            "hour",
            _("By hour of the day"),
            _kpi_header(_("Hour")),
            [_kpi_cells(f"{h.hour:02d}:00", h) for h in report.by_hour],
            _kpi_cells(_("Total"), report.total),
        ),
    ]
