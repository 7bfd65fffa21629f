"""Import of accounts, meters and bills from the billing system (营业收费系统).

The billing system stays the source of truth; this is how its data gets here. Today it comes as
CSV or XLSX exports (`CsvSource`, `XlsxSource`); a later sync from its API is one more `Source`
that yields the same records, and `import_records` does the rest, so views, the management
command and the periodic job never change.

Rules, whatever the source:
- every record is validated; every bad one is reported with its line and a reason;
- nothing is written when any record is bad (one transaction for the whole import);
- a record updates the existing row with the same natural key (account number, meter number,
  account + billing period), so importing the same data again never duplicates it.

File format: the first row names the columns, in Chinese or English (`COLUMNS` lists the
accepted names; unknown columns are ignored). CSV files may be UTF-8 (with or without BOM) or
GBK/GB18030, as Chinese Excel saves them. See `samples/README.md`.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Protocol

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aqualine.core.audit import audit_record
from aqualine.customers.models import (
    Account,
    AccountPhone,
    Area,
    Bill,
    Meter,
    normalize_phone,
)

CHUNK = 500  # keys per IN (...) query: well below SQLite's variable limit


class ImportKind(StrEnum):
    ACCOUNTS = "accounts"
    METERS = "meters"
    BILLS = "bills"


KIND_LABELS: dict[ImportKind, Promise] = {
    ImportKind.ACCOUNTS: gettext_lazy("Accounts"),
    ImportKind.METERS: gettext_lazy("Water meters"),
    ImportKind.BILLS: gettext_lazy("Bills"),
}


# --- sources ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """One record of a source: its line (in a file: the line number, the header being line 1;
    from an API: the position in the feed) and its values by column name as the source names
    them."""

    line: int
    values: dict[str, str]


class SourceError(Exception):
    """The source as a whole cannot be read (not a CSV/XLSX file, unknown text encoding...)."""


class Source(Protocol):
    name: str

    def records(self) -> Iterator[Record]:
        """Yield the records in order; raise SourceError when the source cannot be read."""
        ...


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        if value.hour == value.minute == value.second == 0:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK and GB2312, the encodings Chinese Excel saves CSV in.
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise SourceError(
            _("The file is neither UTF-8 nor GBK text; save it as CSV (UTF-8) or XLSX.")
        ) from None


class CsvSource:
    """Records of a CSV file (comma, semicolon or tab separated)."""

    def __init__(self, data: bytes, name: str = "") -> None:
        self.data = data
        self.name = name

    def records(self) -> Iterator[Record]:
        try:
            text = _decode(self.data)
        except UnicodeDecodeError:
            raise SourceError(_("The file is not valid UTF-8 text.")) from None
        first_line = text.split("\n", 1)[0]
        delimiter = max((",", "\t", ";"), key=first_line.count)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            header = next(reader, None)
            if header is None:
                return
            names = [h.strip() for h in header]
            line = reader.line_num
            for row in reader:
                start, line = line + 1, reader.line_num
                cells = [c.strip() for c in row]
                yield Record(
                    start, dict(zip(names, cells + [""] * (len(names) - len(cells)), strict=False))
                )
        except csv.Error as error:
            raise SourceError(
                _("Line %(line)d cannot be read as CSV: %(error)s")
                % {"line": reader.line_num, "error": error}
            ) from None


class XlsxSource:
    """Records of the first worksheet of an Excel workbook (.xlsx)."""

    def __init__(self, data: bytes, name: str = "") -> None:
        self.data = data
        self.name = name

    def records(self) -> Iterator[Record]:
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(self.data), read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds (zip, XML, key errors) for a bad file
            raise SourceError(_("The file cannot be read as an Excel workbook (.xlsx).")) from None
        try:
            rows = workbook.worksheets[0].iter_rows(values_only=True)
            header = next(rows, None)
            if header is None:
                return
            names = [_cell_text(h) for h in header]
            for number, row in enumerate(rows, start=2):
                cells = [_cell_text(c) for c in row]
                yield Record(
                    number, dict(zip(names, cells + [""] * (len(names) - len(cells)), strict=False))
                )
        finally:
            workbook.close()


def source_for_upload(name: str, data: bytes) -> Source:
    """A CSV or XLSX source for an uploaded file, by content (XLSX is a ZIP) and name."""
    lowered = name.lower()
    if lowered.endswith(".xls") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise SourceError(_("Old Excel files (.xls) are not supported; save as .xlsx or CSV."))
    if data.startswith(b"PK\x03\x04") or lowered.endswith(".xlsx"):
        return XlsxSource(data, name)
    return CsvSource(data, name)


# --- columns and their parsers --------------------------------------------------------------


class Invalid(Exception):
    """A value is bad; the message says why (in the user's language)."""


def _text(max_length: int) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if len(raw) > max_length:
            raise Invalid(_("At most %(n)d characters.") % {"n": max_length})
        return raw

    return parse


def _account_number(raw: str) -> str:
    if not re.fullmatch(r"[0-9A-Za-z-]{4,30}", raw):
        raise Invalid(_("An account number has 4 to 30 letters, digits or dashes."))
    return raw


def _meter_number(raw: str) -> str:
    if not re.fullmatch(r"[0-9A-Za-z-]{2,30}", raw):
        raise Invalid(_("A meter number has 2 to 30 letters, digits or dashes."))
    return raw


def _phones(raw: str) -> list[str]:
    numbers: list[str] = []
    for part in re.split(r"[;,，；、/|]+|\s{2,}", raw):
        if not part.strip():
            continue
        digits = normalize_phone(part)
        if not 5 <= len(digits) <= 20:
            raise Invalid(_("%(phone)s is not a phone number.") % {"phone": part.strip()})
        if digits not in numbers:
            numbers.append(digits)
    return numbers


def _decimal(*, maximum: Decimal = Decimal("9999999999.99")) -> Callable[[str], Decimal]:
    def parse(raw: str) -> Decimal:
        cleaned = raw.replace(",", "").replace("¥", "").replace("元", "").strip()
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            raise Invalid(_("%(value)s is not a number.") % {"value": raw}) from None
        if not value.is_finite():
            raise Invalid(_("%(value)s is not a number.") % {"value": raw})
        if value < 0:
            raise Invalid(_("Must not be negative."))
        if value > maximum:
            raise Invalid(_("The number is too large."))
        return value.quantize(Decimal("0.01"))

    return parse


def _date(raw: str) -> date:
    match = re.fullmatch(
        r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T].*)?", raw
    ) or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", raw)
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    raise Invalid(_("%(value)s is not a date (use YYYY-MM-DD).") % {"value": raw})


def _period(raw: str) -> str:
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})月?(?:[-/.]\d{1,2}日?)?", raw) or re.fullmatch(
        r"(\d{4})(\d{2})", raw
    )
    if match and 1 <= int(match[2]) <= 12:
        return f"{int(match[1]):04d}-{int(match[2]):02d}"
    raise Invalid(_("%(value)s is not a billing period (use YYYY-MM).") % {"value": raw})


def _caliber(raw: str) -> int:
    cleaned = re.sub(r"(?i)^dn|mm$", "", raw.strip())
    if not cleaned.isdigit() or not 10 <= int(cleaned) <= 1000:
        raise Invalid(_("The caliber is a whole number of millimetres from 10 to 1000."))
    return int(cleaned)


def _choice(aliases: Mapping[str, str]) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = aliases.get(raw.strip().lower())
        if value is None:
            raise Invalid(
                _("%(value)s is not one of: %(choices)s.")
                % {"value": raw, "choices": "、".join(k for k in aliases if not k.isascii())}
            )
        return value

    return parse


# Accepted values: the code, and the words billing systems export (data, not UI text).
ACCOUNT_STATUS = {
    "active": Account.Status.ACTIVE,
    "正常": Account.Status.ACTIVE,
    "在用": Account.Status.ACTIVE,
    "suspended": Account.Status.SUSPENDED,
    "暂停": Account.Status.SUSPENDED,
    "停水": Account.Status.SUSPENDED,
    "closed": Account.Status.CLOSED,
    "销户": Account.Status.CLOSED,
    "已销户": Account.Status.CLOSED,
}
METER_KIND = {
    "mechanical": Meter.Kind.MECHANICAL,
    "机械表": Meter.Kind.MECHANICAL,
    "smart": Meter.Kind.SMART,
    "智能表": Meter.Kind.SMART,
    "prepaid": Meter.Kind.PREPAID,
    "ic卡表": Meter.Kind.PREPAID,
    "预付费表": Meter.Kind.PREPAID,
    "remote": Meter.Kind.REMOTE,
    "远传表": Meter.Kind.REMOTE,
}
METER_STATUS = {
    "in_service": Meter.Status.IN_SERVICE,
    "在用": Meter.Status.IN_SERVICE,
    "正常": Meter.Status.IN_SERVICE,
    "faulty": Meter.Status.FAULTY,
    "故障": Meter.Status.FAULTY,
    "removed": Meter.Status.REMOVED,
    "拆除": Meter.Status.REMOVED,
    "已拆除": Meter.Status.REMOVED,
}


@dataclass(frozen=True)
class Column:
    key: str
    label: Promise
    aliases: tuple[str, ...]  # header names accepted besides `key` (as exported in Chinese)
    parse: Callable[[str], Any]
    required: bool = False
    default: Any = None


COLUMNS: dict[ImportKind, tuple[Column, ...]] = {
    ImportKind.ACCOUNTS: (
        Column(
            "number",
            gettext_lazy("Account number"),
            ("用户号", "缴费号", "户号", "用户编号"),
            _account_number,
            required=True,
        ),
        Column(
            "name",
            gettext_lazy("Account holder"),
            ("户名", "用户名", "用户名称", "姓名"),
            _text(100),
            required=True,
        ),
        Column(
            "address",
            gettext_lazy("Service address"),
            ("地址", "用水地址", "发生地址", "装表地址"),
            _text(200),
            required=True,
        ),
        Column(
            "phones",
            gettext_lazy("Phones"),
            ("电话", "联系电话", "手机", "手机号"),
            _phones,
            default=[],
        ),
        Column("area", gettext_lazy("Area"), ("片区", "所属片区", "区域"), _text(100), default=""),
        Column(
            "status",
            gettext_lazy("Status"),
            ("状态", "用户状态"),
            _choice(ACCOUNT_STATUS),
            default=Account.Status.ACTIVE,
        ),
    ),
    ImportKind.METERS: (
        Column(
            "number",
            gettext_lazy("Meter number"),
            ("表号", "水表号", "水表编号"),
            _meter_number,
            required=True,
        ),
        Column(
            "account",
            gettext_lazy("Account number"),
            ("用户号", "缴费号", "户号"),
            _account_number,
            required=True,
        ),
        Column(
            "caliber_mm",
            gettext_lazy("Caliber (mm)"),
            ("口径", "口径(mm)", "口径（mm）"),
            _caliber,
            default=20,
        ),
        Column(
            "kind",
            gettext_lazy("Meter type"),
            ("类型", "表型", "水表类型"),
            _choice(METER_KIND),
            default=Meter.Kind.MECHANICAL,
        ),
        Column("installed_on", gettext_lazy("Installed on"), ("安装日期", "装表日期"), _date),
        Column(
            "last_reading",
            gettext_lazy("Last reading (m³)"),
            ("最近读数", "本期读数", "读数"),
            _decimal(),
        ),
        Column("last_read_on", gettext_lazy("Last read on"), ("抄表日期", "最近抄表日期"), _date),
        Column(
            "status",
            gettext_lazy("Status"),
            ("状态", "水表状态"),
            _choice(METER_STATUS),
            default=Meter.Status.IN_SERVICE,
        ),
    ),
    ImportKind.BILLS: (
        Column(
            "account",
            gettext_lazy("Account number"),
            ("用户号", "缴费号", "户号"),
            _account_number,
            required=True,
        ),
        Column(
            "period",
            gettext_lazy("Billing period"),
            ("账期", "月份", "账单月份"),
            _period,
            required=True,
        ),
        Column(
            "usage_m3",
            gettext_lazy("Usage (m³)"),
            ("用水量", "水量", "用量"),
            _decimal(),
            default=Decimal("0.00"),
        ),
        Column(
            "amount",
            gettext_lazy("Amount (yuan)"),
            ("金额", "应缴金额", "应收金额"),
            _decimal(),
            required=True,
        ),
        Column(
            "paid",
            gettext_lazy("Paid (yuan)"),
            ("已缴", "已缴金额", "实收金额"),
            _decimal(),
            default=Decimal("0.00"),
        ),
        Column(
            "due_date",
            gettext_lazy("Due date"),
            ("缴费截止日", "截止日期", "到期日"),
            _date,
            required=True,
        ),
    ),
}


def _header_map(kind: ImportKind, names: Iterable[str]) -> dict[str, str]:
    """Source column name → column key, for the names this kind knows."""
    wanted: dict[str, str] = {}
    for column in COLUMNS[kind]:
        for alias in (column.key, *column.aliases):
            wanted[_fold(alias)] = column.key
    return {name: wanted[_fold(name)] for name in names if _fold(name) in wanted}


def _fold(name: str) -> str:
    return re.sub(r"[\s_\-*]", "", name).lower().replace("（", "(").replace("）", ")")


# --- the report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str


@dataclass
class ImportReport:
    kind: ImportKind
    source_name: str
    dry_run: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    new_areas: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def imported(self) -> bool:
        return self.ok and not self.dry_run

    def error(self, line: int, column: str, message: str) -> None:
        self.errors.append(RowError(line, column, message))


# --- the import ------------------------------------------------------------------------------


@dataclass
class _Row:
    line: int
    data: dict[str, Any]


def _parse(kind: ImportKind, source: Source, report: ImportReport) -> list[_Row]:
    columns = {c.key: c for c in COLUMNS[kind]}
    rows: list[_Row] = []
    header: dict[str, str] | None = None
    for record in source.records():
        if header is None:
            header = _header_map(kind, record.values)
            missing = [c for c in COLUMNS[kind] if c.required and c.key not in header.values()]
            if missing:
                report.error(
                    1,
                    "",
                    _("Required columns are missing: %(columns)s.")
                    % {"columns": "、".join(str(c.label) for c in missing)},
                )
                return []
        values = {key: record.values.get(name, "").strip() for name, key in header.items()}
        if not any(values.values()):
            continue  # a blank row, as spreadsheets often have at the end
        report.rows += 1
        data: dict[str, Any] = {}
        for key, column in columns.items():
            raw = values.get(key, "")
            if not raw:
                if column.required:
                    report.error(record.line, str(column.label), _("This value is required."))
                data[key] = column.default
                continue
            try:
                data[key] = column.parse(raw)
            except Invalid as error:
                report.error(record.line, str(column.label), str(error))
        rows.append(_Row(record.line, data))
    if header is None or (report.rows == 0 and not report.errors):
        report.error(0, "", _("The file has no data rows."))
    return rows


def _natural_key(kind: ImportKind, data: dict[str, Any]) -> tuple[Any, ...]:
    if kind == ImportKind.BILLS:
        return (data.get("account"), data.get("period"))
    return (data.get("number"),)


def _check_duplicates(kind: ImportKind, rows: list[_Row], report: ImportReport) -> None:
    seen: dict[tuple[Any, ...], int] = {}
    label = str(COLUMNS[kind][0].label)
    for row in rows:
        key = _natural_key(kind, row.data)
        if None in key:
            continue
        if key in seen:
            report.error(row.line, label, _("Same record as line %(line)d.") % {"line": seen[key]})
        else:
            seen[key] = row.line


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _account_ids(numbers: Iterable[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for chunk in _chunks(sorted(set(numbers))):
        ids.update(Account.objects.filter(number__in=chunk).values_list("number", "id"))
    return ids


def _check_accounts_exist(
    kind: ImportKind, rows: list[_Row], report: ImportReport
) -> dict[str, int]:
    ids = _account_ids(r.data["account"] for r in rows if r.data.get("account"))
    label = str(next(c.label for c in COLUMNS[kind] if c.key == "account"))
    for row in rows:
        number = row.data.get("account")
        if number and number not in ids:
            report.error(row.line, label, _("No account has the number %(n)s.") % {"n": number})
    return ids


def _check_bills(rows: list[_Row], report: ImportReport) -> None:
    label = str(next(c.label for c in COLUMNS[ImportKind.BILLS] if c.key == "paid"))
    for row in rows:
        amount, paid = row.data.get("amount"), row.data.get("paid")
        if amount is not None and paid is not None and paid > amount:
            report.error(row.line, label, _("The paid amount is more than the bill."))


def _area_for(name: str, areas: dict[str, Area], report: ImportReport) -> Area | None:
    if not name:
        return None
    key = name.lower()
    if key not in areas:
        area = Area.objects.create(code=f"area-{uuid.uuid4().hex[:8]}", name=name)
        areas[area.code.lower()] = areas[key] = area
        report.new_areas.append(name)
    return areas[key]


def _tally(report: ImportReport, created: bool, changed: bool) -> None:
    if created:
        report.created += 1
    elif changed:
        report.updated += 1
    else:
        report.unchanged += 1


def _write_accounts(rows: list[_Row], report: ImportReport) -> None:
    areas: dict[str, Area] = {}
    for known in Area.objects.all():
        areas[known.code.lower()] = areas[known.name.lower()] = known
    existing: dict[str, Account] = {}
    for chunk in _chunks([r.data["number"] for r in rows]):
        existing.update({a.number: a for a in Account.objects.filter(number__in=chunk)})
    phones: dict[int, list[str]] = {}
    ids = [a.pk for a in existing.values()]
    for chunk in _chunks(ids):
        for account_id, number in (
            AccountPhone.objects.filter(account_id__in=chunk)
            .order_by("id")
            .values_list("account_id", "number")
        ):
            phones.setdefault(account_id, []).append(number)
    fields = ("name", "address", "area_id", "status")
    new: list[tuple[Account, list[str]]] = []
    changed: list[Account] = []
    phones_changed: list[tuple[Account, list[str]]] = []
    now = timezone.now()
    for row in rows:
        data = row.data
        area = _area_for(data["area"], areas, report)
        account = existing.get(data["number"])
        if account is None:
            account = Account(
                number=data["number"],
                name=data["name"],
                address=data["address"],
                area=area,
                status=data["status"],
            )
            new.append((account, data["phones"]))
            _tally(report, True, False)
            continue
        before = tuple(getattr(account, f) for f in fields)
        account.name, account.address = data["name"], data["address"]
        account.area, account.status = area, data["status"]
        fields_changed = before != tuple(getattr(account, f) for f in fields)
        if fields_changed:
            account.updated_at = now
            changed.append(account)
        phone_change = phones.get(account.pk, []) != data["phones"]
        if phone_change:
            phones_changed.append((account, data["phones"]))
        _tally(report, False, fields_changed or phone_change)
    Account.objects.bulk_create([a for a, _p in new], batch_size=CHUNK)
    Account.objects.bulk_update(changed, [*fields[:2], "area", "status", "updated_at"], CHUNK)
    for chunk in _chunks([a.pk for a, _p in phones_changed]):
        AccountPhone.objects.filter(account_id__in=chunk).delete()
    AccountPhone.objects.bulk_create(
        [AccountPhone(account=a, number=n) for a, numbers in new + phones_changed for n in numbers],
        batch_size=CHUNK,
    )


def _write_meters(rows: list[_Row], ids: dict[str, int], report: ImportReport) -> None:
    existing: dict[str, Meter] = {}
    for chunk in _chunks([r.data["number"] for r in rows]):
        existing.update({m.number: m for m in Meter.objects.filter(number__in=chunk)})
    fields = (
        "account_id",
        "caliber_mm",
        "kind",
        "installed_on",
        "last_reading",
        "last_read_on",
        "status",
    )
    new: list[Meter] = []
    changed: list[Meter] = []
    for row in rows:
        values = {f: row.data[f] for f in fields if f != "account_id"}
        values["account_id"] = ids[row.data["account"]]
        meter = existing.get(row.data["number"])
        if meter is None:
            new.append(Meter(number=row.data["number"], **values))
            _tally(report, True, False)
            continue
        differs = any(getattr(meter, f) != v for f, v in values.items())
        for f, v in values.items():
            setattr(meter, f, v)
        if differs:
            changed.append(meter)
        _tally(report, False, differs)
    Meter.objects.bulk_create(new, batch_size=CHUNK)
    Meter.objects.bulk_update(changed, list(fields), CHUNK)


def _write_bills(rows: list[_Row], ids: dict[str, int], report: ImportReport) -> None:
    existing: dict[tuple[int, str], Bill] = {}
    account_ids = sorted({ids[r.data["account"]] for r in rows})
    periods = sorted({r.data["period"] for r in rows})
    for chunk in _chunks(account_ids):
        for found in Bill.objects.filter(account_id__in=chunk, period__in=periods):
            existing[(found.account_id, found.period)] = found
    fields = ("usage_m3", "amount", "paid", "due_date")
    new: list[Bill] = []
    changed: list[Bill] = []
    for row in rows:
        account_id = ids[row.data["account"]]
        values = {f: row.data[f] for f in fields}
        bill = existing.get((account_id, row.data["period"]))
        if bill is None:
            new.append(Bill(account_id=account_id, period=row.data["period"], **values))
            _tally(report, True, False)
            continue
        differs = any(getattr(bill, f) != v for f, v in values.items())
        for f, v in values.items():
            setattr(bill, f, v)
        if differs:
            changed.append(bill)
        _tally(report, False, differs)
    Bill.objects.bulk_create(new, batch_size=CHUNK)
    Bill.objects.bulk_update(changed, list(fields), CHUNK)


def import_records(
    *,
    kind: ImportKind,
    source: Source,
    actor: Any | None = None,
    dry_run: bool = False,
    request: HttpRequest | None = None,
) -> ImportReport:
    """Validate every record of `source`, then write all of them in one transaction, or none
    when any is bad. `dry_run` checks and counts without keeping anything."""
    report = ImportReport(kind=kind, source_name=source.name, dry_run=dry_run)
    try:
        rows = _parse(kind, source, report)
    except SourceError as error:
        report.error(0, "", str(error))
        return report
    _check_duplicates(kind, rows, report)
    ids: dict[str, int] = {}
    if kind in (ImportKind.METERS, ImportKind.BILLS):
        ids = _check_accounts_exist(kind, rows, report)
    if kind == ImportKind.BILLS:
        _check_bills(rows, report)
    if report.errors:
        report.errors.sort(key=lambda e: e.line)
        return report
    with transaction.atomic():
        if kind == ImportKind.ACCOUNTS:
            _write_accounts(rows, report)
        elif kind == ImportKind.METERS:
            _write_meters(rows, ids, report)
        else:
            _write_bills(rows, ids, report)
        if dry_run:
            transaction.set_rollback(True)
        else:
            audit_record(
                actor=actor,
                action="customers.import",
                target_type="import",
                target_label=source.name or kind,
                data={
                    "kind": kind,
                    "source": source.name,
                    "rows": report.rows,
                    "created": report.created,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                    "new_areas": report.new_areas,
                },
                request=request,
            )
    return report
