"""Intake and handling, timeliness and satisfaction, against the hand-computed fixture `orders`
(see conftest.py), and the data scope of each viewer."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from aqualine.accounts.models import Department, User
from aqualine.conftest import client_for
from aqualine.reports.periods import PeriodKind, days_period, resolve_period
from aqualine.reports.selectors.orders import intake_report, timeliness_report
from aqualine.reports.tests.conftest import MARCH, NOW, Orders, category, local
from aqualine.workorders.models import WorkOrder

pytestmark = pytest.mark.django_db

PERIOD = days_period(date(2026, 3, 1), date(2026, 3, 31))
OS = WorkOrder.Status


def rows(rows: list, attr: str = "total") -> dict[str, int]:
    return {r.label: getattr(r, attr) for r in rows}


def test_intake_by_unit_category_and_content(orders: Orders, supervisor: User) -> None:
    report = intake_report(user=supervisor, period=PERIOD, now=NOW)
    # O1–O5 (O6 was taken in February)
    assert report.total.total == 5
    assert (report.total.closed, report.total.processing, report.total.pending_follow_up) == (
        3,
        1,
        1,
    )
    assert report.total.closed_rate == pytest.approx(3 / 5)
    assert report.total.urged == 1  # O2
    # accepting unit: O1 O2 O5 by the hotline agent, O4 at the billing counter, O3 from the IVR
    assert rows(report.by_unit) == {"热线中心": 3, "营业收费部": 1, "—": 1}
    assert rows(report.by_unit, "closed") == {"热线中心": 2, "营业收费部": 1, "—": 0}
    assert rows(report.by_category) == {"漏水": 2, "停水": 1, "缴费": 1, "咨询": 1}
    assert rows(report.by_content) == {
        "漏水 / 管道漏水": 1,
        "漏水 / 爆管": 1,
        "停水 / 突发停水": 1,
        "缴费 / 水费异议": 1,
        "咨询": 1,
    }
    assert [r.label for r in report.by_category][:1] == ["漏水"]  # largest first


def test_department_load(orders: Orders, supervisor: User) -> None:
    report = intake_report(user=supervisor, period=PERIOD, now=NOW)
    load = {r.label: r for r in report.by_department}
    repair, billing = load["管网维修部"], load["营业收费部"]
    # repair: T1 T2 T3 T4 T6 on O1 O2 O3 O4 (T7 is February's)
    assert (repair.tasks, repair.orders) == (5, 4)
    assert (repair.accepted, repair.submitted, repair.returned) == (1, 3, 1)
    assert repair.open_overdue == 1  # T2
    assert (billing.tasks, billing.orders, billing.submitted, billing.open_overdue) == (1, 1, 1, 0)


def test_timeliness_by_department_and_in_total(orders: Orders, supervisor: User) -> None:
    report = timeliness_report(user=supervisor, period=PERIOD, now=NOW)
    by = {r.label: r for r in report.by_department}
    repair, billing = by["管网维修部"], by["营业收费部"]
    # repair: on time T1; late T4 (30 h) and T6 (48 h); open overdue T2; returned T3 not due
    assert (repair.on_time, repair.late, repair.open_overdue, repair.due) == (1, 2, 1, 4)
    assert repair.on_time_rate == pytest.approx(1 / 4)
    assert repair.overdue == 3
    assert (repair.returned, repair.task_urges) == (1, 2)
    # scores of the orders repair worked on: O1 5, O4 2 (O2 and O3 have none)
    assert repair.satisfaction == [0, 1, 0, 0, 1]
    assert repair.satisfaction_average == pytest.approx(3.5)
    assert (billing.on_time, billing.due, billing.on_time_rate) == (1, 1, 1.0)
    assert billing.satisfaction == [0, 1, 0, 0, 0]
    # in total: on time T1 T5, late T4 T6, open overdue T2 → 2 / 5
    total = report.total
    assert (total.tasks, total.on_time, total.late, total.open_overdue) == (6, 2, 2, 1)
    assert total.on_time_rate == pytest.approx(0.4)
    # each order once: O1 5, O4 2 (O6's 1 is February's)
    assert total.satisfaction == [0, 1, 0, 0, 1]
    assert total.satisfaction_average == pytest.approx(3.5)
    assert (report.orders, report.urged_orders, report.urges) == (5, 1, 2)


def test_filters_by_department_and_category(
    orders: Orders, supervisor: User, billing: Department
) -> None:
    by_billing = intake_report(user=supervisor, period=PERIOD, department=billing, now=NOW)
    assert by_billing.total.total == 1  # O4
    leaks = intake_report(user=supervisor, period=PERIOD, category=category("leak"), now=NOW)
    assert leaks.total.total == 2  # O1 O2: the top-level category takes in its children
    burst = intake_report(user=supervisor, period=PERIOD, category=category("leak-burst"))
    assert burst.total.total == 1


def test_a_handler_sees_only_their_departments_orders(
    orders: Orders, billing_handler: User, handler: User
) -> None:
    # the billing handler's scope: O4 (the only order with a billing task)
    mine = intake_report(user=billing_handler, period=PERIOD, now=NOW)
    assert mine.total.total == 1
    assert rows(mine.by_category) == {"缴费": 1}
    timeliness = timeliness_report(user=billing_handler, period=PERIOD, now=NOW)
    assert timeliness.orders == 1 and timeliness.total.satisfaction == [0, 1, 0, 0, 0]
    # the repair handler: O1–O4, not the consultation O5 that no department handled
    repair = intake_report(user=handler, period=PERIOD, now=NOW)
    assert repair.total.total == 4
    assert "咨询" not in rows(repair.by_category)


def test_the_pages_show_the_scope_of_the_viewer(
    orders: Orders, billing_handler: User, viewer: User
) -> None:
    url = reverse("reports:intake")
    mine = client_for(billing_handler).get(url, MARCH)
    assert mine.status_code == 200
    assert mine.context["report"].total.total == 1
    assert client_for(viewer).get(url, MARCH).context["report"].total.total == 5
    page = client_for(viewer).get(reverse("reports:timeliness"), MARCH).content.decode()
    assert 'data-kpi="on_time_rate">40.0%<' in page
    assert 'data-kpi="satisfaction">3.50<' in page
    assert "<svg" in page


def test_periods_are_local_days() -> None:
    now = local(4, 0, 30)  # Wednesday 4 March, half past midnight local (3 March in UTC)
    today = resolve_period(PeriodKind.TODAY, now=now)
    assert (today.first_day, today.last_day) == (date(2026, 3, 4), date(2026, 3, 4))
    assert today.start == local(4, 0)
    week = resolve_period(PeriodKind.WEEK, now=now)
    assert (week.first_day, week.last_day) == (date(2026, 3, 2), date(2026, 3, 8))
    month = resolve_period(PeriodKind.MONTH, now=now)
    assert (month.start, month.end) == (local(1, 0), local(1, 0, month=4))
    custom = resolve_period(
        PeriodKind.CUSTOM, date_from=date(2026, 3, 5), date_to=date(2026, 3, 6), now=now
    )
    assert (custom.start, custom.end) == (local(5, 0), local(7, 0))
