from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from aqualine.accounts.models import User
from aqualine.conftest import client_for
from aqualine.core.models import AuditEvent
from aqualine.customers.importing import (
    CsvSource,
    ImportKind,
    Record,
    XlsxSource,
    import_records,
    source_for_upload,
)
from aqualine.customers.models import Account, AccountPhone, Area, Bill, Meter

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def _import(kind: ImportKind, name: str, **kwargs):
    data = (SAMPLES / name).read_bytes()
    return import_records(kind=kind, source=source_for_upload(name, data), **kwargs)


def _load_samples() -> None:
    for kind, name in (
        (ImportKind.ACCOUNTS, "accounts.csv"),
        (ImportKind.METERS, "meters.csv"),
        (ImportKind.BILLS, "bills.csv"),
    ):
        report = _import(kind, name)
        assert report.errors == [], report.errors


def test_a_good_accounts_file_is_imported(areas: dict[str, Area]) -> None:
    report = _import(ImportKind.ACCOUNTS, "accounts.csv")
    assert report.errors == []
    assert (report.rows, report.created, report.updated, report.unchanged) == (5, 5, 0, 0)
    assert report.new_areas == []
    li = Account.objects.get(number="3100000002")
    assert li.name == "李秀英" and li.area == areas["west"]
    assert li.address == "西城区文化路9号文苑小区5栋3单元201室"
    assert [p.number for p in li.phones.order_by("id")] == ["15887654321", "057188776655"]
    assert Account.objects.get(number="3100000003").status == Account.Status.SUSPENDED
    assert list(
        Account.objects.get(number="3100000003").phones.values_list("number", flat=True)
    ) == ["18611112222"]
    assert Account.objects.get(number="3100000005").status == Account.Status.CLOSED
    assert not Account.objects.get(number="3100000005").phones.exists()


def test_meters_and_bills_are_imported_for_their_accounts(areas: dict[str, Area]) -> None:
    _load_samples()
    meter = Meter.objects.get(number="310000000401")
    assert meter.account.number == "3100000004"
    assert (meter.caliber_mm, meter.kind, meter.last_reading) == (20, "prepaid", Decimal("512.75"))
    assert meter.installed_on == date(2020, 2, 14)
    assert Meter.objects.filter(account__number="3100000004").count() == 2
    bill = Bill.objects.get(account__number="3100000002", period="2025-02")
    assert (bill.amount, bill.paid, bill.due_date) == (
        Decimal("31.05"),
        Decimal("20.00"),
        date(2025, 3, 25),
    )


def test_a_file_with_bad_rows_imports_nothing_and_reports_each_line(
    areas: dict[str, Area],
) -> None:
    report = _import(ImportKind.ACCOUNTS, "accounts_bad.csv")
    assert [(e.line, e.column, e.message) for e in report.errors] == [
        (3, "用户号", "用户号由 4 到 30 位字母、数字或短横线组成。"),
        (4, "户名", "此项必填。"),
        (5, "电话", "abc 不是电话号码。"),
        (6, "状态", "“冻结”不是可选值之一：正常、在用、暂停、停水、销户、已销户。"),
        (7, "用户号", "与第 2 行重复。"),
    ]
    assert report.rows == 6
    assert not report.imported
    assert not Account.objects.exists() and not AccountPhone.objects.exists()
    assert not AuditEvent.objects.filter(action="customers.import").exists()


def test_bad_bills_are_reported_with_their_reasons(areas: dict[str, Area]) -> None:
    _import(ImportKind.ACCOUNTS, "accounts.csv")
    report = _import(ImportKind.BILLS, "bills_bad.csv")
    assert [(e.line, e.column, e.message) for e in report.errors] == [
        (3, "用户号", "没有用户号为 3999999999 的账户。"),
        (4, "账期", "2025-13 不是有效的账期（格式为 YYYY-MM）。"),
        (5, "已缴金额（元）", "已缴金额大于账单金额。"),
        (6, "金额（元）", "不能为负数。"),
        (7, "缴费截止日", "2025-02-30 不是有效的日期（格式为 YYYY-MM-DD）。"),
    ]
    assert not Bill.objects.exists()  # line 2 was good, but nothing is imported


def test_importing_again_updates_rows_and_never_duplicates_them(areas: dict[str, Area]) -> None:
    _load_samples()
    counts = (Account.objects.count(), AccountPhone.objects.count(), Meter.objects.count())
    bills = Bill.objects.count()
    again = _import(ImportKind.ACCOUNTS, "accounts.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    changed = (
        "用户号,户名,电话,地址,片区,状态\n"
        "3100000001,王建华,13912345678;13600000000,东城区人民路25号和平里2栋1单元502室,西城片区,正常\n"
        "3100000008,新用户,13500000000,开发区科技路5号科技新城1栋1单元101室,开发区,正常\n"
    ).encode()
    report = import_records(kind=ImportKind.ACCOUNTS, source=CsvSource(changed, "changed.csv"))
    assert (report.created, report.updated, report.unchanged) == (1, 1, 0)
    wang = Account.objects.get(number="3100000001")
    assert wang.area == areas["west"]
    assert list(wang.phones.order_by("id").values_list("number", flat=True)) == [
        "13912345678",
        "13600000000",
    ]
    assert Account.objects.count() == counts[0] + 1
    assert _import(ImportKind.METERS, "meters.csv").unchanged == 5
    assert _import(ImportKind.BILLS, "bills.xlsx").unchanged == 6
    assert (Meter.objects.count(), Bill.objects.count()) == (counts[2], bills)
    paid = b"account,period,amount,paid,due_date\n3100000001,2025-02,53.48,53.48,2025-03-25\n"
    report = import_records(kind=ImportKind.BILLS, source=CsvSource(paid, "paid.csv"))
    assert (report.created, report.updated) == (0, 1)
    assert Bill.objects.get(account__number="3100000001", period="2025-02").paid == Decimal("53.48")
    assert Bill.objects.count() == bills


def test_a_gbk_csv_from_chinese_excel_is_read(areas: dict[str, Area]) -> None:
    raw = (SAMPLES / "accounts_gbk.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    report = _import(ImportKind.ACCOUNTS, "accounts_gbk.csv")
    assert report.errors == [] and report.created == 2
    assert report.new_areas == ["南湖片区"]
    qian = Account.objects.get(number="3100000006")
    assert qian.name == "钱小红" and qian.area is not None and qian.area.name == "南湖片区"
    assert list(
        Account.objects.get(number="3100000007").phones.values_list("number", flat=True)
    ) == ["057166665555"]


def test_an_xlsx_workbook_is_read_with_excel_numbers_and_dates(areas: dict[str, Area]) -> None:
    _import(ImportKind.ACCOUNTS, "accounts.csv")
    report = _import(ImportKind.BILLS, "bills.xlsx")
    assert report.errors == [] and report.created == 6
    bill = Bill.objects.get(account__number="3100000001", period="2025-02")
    assert (bill.usage_m3, bill.amount, bill.paid) == (
        Decimal("15.50"),
        Decimal("53.48"),
        Decimal("0.00"),
    )
    assert bill.due_date == date(2025, 3, 25)


def test_xlsx_errors_carry_the_spreadsheet_row_number(areas: dict[str, Area]) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["表号", "用户号", "口径"])
    sheet.append(["M-1", "3100000001", "DN20"])
    sheet.append([None, None, None])  # a blank row is skipped, but still counted as a line
    sheet.append(["M-2", 3100000001, 5])
    buffer = io.BytesIO()
    workbook.save(buffer)
    _import(ImportKind.ACCOUNTS, "accounts.csv")
    report = import_records(kind=ImportKind.METERS, source=XlsxSource(buffer.getvalue(), "m.xlsx"))
    assert [(e.line, e.column) for e in report.errors] == [(4, "口径（mm）")]
    assert "10 到 1000" in report.errors[0].message
    assert not Meter.objects.exists()


def test_a_file_without_the_required_columns_is_refused_as_a_whole(db: None) -> None:
    report = import_records(
        kind=ImportKind.BILLS, source=CsvSource("用户号,金额\n1,2\n".encode(), "x.csv")
    )
    assert [(e.line, e.message) for e in report.errors] == [(1, "缺少必需的列：账期、缴费截止日。")]
    empty = import_records(kind=ImportKind.ACCOUNTS, source=CsvSource(b"", "empty.csv"))
    assert [e.message for e in empty.errors] == ["文件中没有数据行。"]


def test_files_that_are_not_text_or_xlsx_are_refused(db: None) -> None:
    report = import_records(
        kind=ImportKind.ACCOUNTS, source=CsvSource(b"\xff\xfe\x00\x81\x00\xff" * 10, "bin.csv")
    )
    assert "既不是 UTF-8 也不是 GBK" in report.errors[0].message
    broken = import_records(
        kind=ImportKind.ACCOUNTS, source=XlsxSource(b"PK\x03\x04 broken", "b.xlsx")
    )
    assert "无法作为 Excel 工作簿" in broken.errors[0].message


def test_a_check_only_import_counts_but_keeps_nothing(areas: dict[str, Area]) -> None:
    report = _import(ImportKind.ACCOUNTS, "accounts_gbk.csv", dry_run=True)
    assert report.ok and not report.imported and report.created == 2
    assert not Account.objects.exists() and not Area.objects.filter(name="南湖片区").exists()


class ApiFeed:
    """What a later sync from the billing system's API looks like: just another source."""

    name = "billing-api"

    def __init__(self, records: list[dict[str, str]]) -> None:
        self._records = records

    def records(self):
        for position, values in enumerate(self._records, start=1):
            yield Record(position, values)


def test_any_source_plugs_in_without_files(areas: dict[str, Area]) -> None:
    feed = ApiFeed([{"number": "3300000001", "name": "接口用户", "address": "开发区经一路1号"}])
    report = import_records(kind=ImportKind.ACCOUNTS, source=feed)
    assert report.created == 1 and Account.objects.get(number="3300000001").name == "接口用户"


def test_the_import_page_shows_the_error_report(admin_user: User, areas: dict[str, Area]) -> None:
    client = client_for(admin_user)
    upload = SimpleUploadedFile("accounts_bad.csv", (SAMPLES / "accounts_bad.csv").read_bytes())
    page = client.post("/customer-data/import/", {"kind": "accounts", "file": upload})
    text = page.content.decode()
    assert page.status_code == 200
    assert "没有导入任何数据" in text
    assert "与第 2 行重复。" in text and "abc 不是电话号码。" in text
    assert not Account.objects.exists()


def test_the_import_page_imports_a_good_file_and_audits_it(
    admin_user: User, areas: dict[str, Area]
) -> None:
    client = client_for(admin_user)
    upload = SimpleUploadedFile("accounts.csv", (SAMPLES / "accounts.csv").read_bytes())
    page = client.post("/customer-data/import/", {"kind": "accounts", "file": upload}, follow=True)
    assert "已导入 5 行账户：新增 5，更新 0，未变 0。" in page.content.decode()
    assert Account.objects.count() == 5
    event = AuditEvent.objects.get(action="customers.import")
    assert event.actor == admin_user and event.data["created"] == 5


def test_only_those_allowed_may_import(agent: User, supervisor: User) -> None:
    for user in (agent, supervisor):
        assert client_for(user).get("/customer-data/import/").status_code == 403


def test_the_command_imports_and_reports_bad_lines(areas: dict[str, Area], capsys) -> None:
    call_command("import_customers", "--kind", "accounts", str(SAMPLES / "accounts.csv"))
    assert "5 new" in capsys.readouterr().out
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_customers", "--kind", "bills", str(SAMPLES / "bills_bad.csv"))
    err = capsys.readouterr().err
    assert "bills_bad.csv: line 3 [用户号]: 没有用户号为 3999999999 的账户。" in err
    assert not Bill.objects.exists()
