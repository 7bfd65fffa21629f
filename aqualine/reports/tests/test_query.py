"""The custom query: conditions, chosen columns, 处理次数 (times processed), the viewer's scope,
and saved queries that belong to one person."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.urls import reverse

from aqualine.accounts.models import Department, User
from aqualine.conftest import client_for
from aqualine.reports.models import SavedQuery
from aqualine.reports.selectors.query import QueryConditions, query_orders, query_rows
from aqualine.reports.tests.conftest import NOW, Orders, category

pytestmark = pytest.mark.django_db

# Three conditions: taken in March, handled by 管网维修部, not past the deadline now.
THREE = {
    "date_from": "2026-03-01",
    "date_to": "2026-03-31",
    "department": "",  # filled in by the tests (the department's id)
    "overdue": "no",
}
COLUMNS = ["number", "content", "departments", "times_processed", "times_returned"]


def three(repair: Department) -> dict[str, Any]:
    return {**THREE, "department": repair.pk, "columns": COLUMNS}


def test_three_conditions_with_chosen_columns_and_times_processed(
    orders: Orders, supervisor: User, repair: Department
) -> None:
    conditions = QueryConditions(
        date_from=date(2026, 3, 1), date_to=date(2026, 3, 31), department=repair, overdue=False
    )
    found = query_orders(user=supervisor, conditions=conditions, now=NOW)
    # repair had tasks on O1–O4; O2's task is past its deadline; O6 is February's
    assert found.count() == 3
    cells = [row.cells for row in query_rows(found, COLUMNS, now=NOW)]
    assert cells == [
        # newest first; O4 went to billing and repair (one task each): processed twice
        ["GD4", "水费异议", "营业收费部、管网维修部", 2, 0],
        # O3: returned once by repair, then re-dispatched: two tasks
        ["GD3", "突发停水", "管网维修部", 2, 1],
        ["GD1", "管道漏水", "管网维修部", 1, 0],
    ]


def test_each_condition_narrows_the_orders(orders: Orders, supervisor: User) -> None:
    def numbers(**conditions: Any) -> list[str]:
        found = query_orders(user=supervisor, conditions=QueryConditions(**conditions), now=NOW)
        return list(found.values_list("number", flat=True))

    assert numbers(returned=True) == ["GD3"]
    assert numbers(overdue=True) == ["GD2"]
    assert numbers(category=category("leak")) == ["GD2", "GD1", "GD6"]
    assert numbers(content=category("leak-pipe")) == ["GD1", "GD6"]
    assert numbers(status="closed", date_from=date(2026, 3, 1)) == ["GD5", "GD4", "GD1"]
    assert numbers(accepting_unit=Department.objects.get(code="billing")) == ["GD4"]
    assert numbers(source="ivr") == ["GD3"]
    assert numbers(date_to=date(2026, 2, 28)) == ["GD6"]
    # an order closed at intake was processed 0 times
    closed_at_intake = query_orders(
        user=supervisor, conditions=QueryConditions(content=category("consultation"))
    )
    assert [r.cells for r in query_rows(closed_at_intake, ["number", "times_processed"])] == [
        ["GD5", 0]
    ]


def test_the_page_gives_the_count_and_the_rows(
    orders: Orders, supervisor: User, repair: Department
) -> None:
    response = client_for(supervisor).get(reverse("reports:query"), three(repair))
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 3
    assert [r.number for r in response.context["rows"]] == ["GD4", "GD3", "GD1"]
    page = response.content.decode()
    assert 'data-count="3"' in page
    assert "营业收费部、管网维修部" in page
    assert [c.key for c in response.context["columns"]] == COLUMNS


def test_a_handler_queries_only_their_departments_orders(
    orders: Orders, billing_handler: User
) -> None:
    response = client_for(billing_handler).get(reverse("reports:query"), {"columns": "number"})
    assert [r.number for r in response.context["rows"]] == ["GD4"]
    assert response.context["page"].paginator.count == 1


def test_saved_queries_belong_to_their_owner(
    orders: Orders, supervisor: User, viewer: User, repair: Department
) -> None:
    mine = client_for(supervisor)
    query = urlencode(three(repair), doseq=True)
    saved = mine.post(reverse("reports:query_save"), {"name": "维修未超期", "query": query})
    assert saved.status_code == 302
    stored = SavedQuery.objects.get(owner=supervisor)
    assert stored.name == "维修未超期"
    assert stored.conditions == {
        "date_from": "2026-03-01",
        "date_to": "2026-03-31",
        "department": str(repair.pk),
        "overdue": "no",
    }
    assert stored.columns == COLUMNS

    # run again: the query page with the same conditions and columns, the same answer
    run = mine.get(reverse("reports:saved_query_run", args=[stored.pk]))
    assert run.status_code == 302
    params = parse_qs(urlsplit(run["Location"]).query)
    assert params["columns"] == COLUMNS and params["overdue"] == ["no"]
    again = mine.get(run["Location"])
    assert [r.number for r in again.context["rows"]] == ["GD4", "GD3", "GD1"]
    assert [s.name for s in again.context["saved"]] == ["维修未超期"]

    # somebody else neither sees, runs nor deletes it
    other = client_for(viewer)
    assert list(other.get(reverse("reports:query")).context["saved"]) == []
    assert other.get(reverse("reports:saved_query_run", args=[stored.pk])).status_code == 404
    assert other.post(reverse("reports:saved_query_delete", args=[stored.pk])).status_code == 404
    assert SavedQuery.objects.filter(pk=stored.pk).exists()

    # saving under the same name replaces; the owner deletes it
    mine.post(reverse("reports:query_save"), {"name": "维修未超期", "query": "overdue=yes"})
    stored.refresh_from_db()
    assert stored.conditions == {"overdue": "yes"}
    assert SavedQuery.objects.filter(owner=supervisor).count() == 1
    other.post(reverse("reports:query_save"), {"name": "维修未超期", "query": "status=closed"})
    assert SavedQuery.objects.filter(name="维修未超期").count() == 2  # one each
    assert mine.post(reverse("reports:saved_query_delete", args=[stored.pk])).status_code == 302
    assert not SavedQuery.objects.filter(pk=stored.pk).exists()
    assert SavedQuery.objects.filter(owner=viewer).count() == 1


def test_a_query_without_a_name_is_not_saved(supervisor: User) -> None:
    client_for(supervisor).post(reverse("reports:query_save"), {"name": " ", "query": ""})
    assert not SavedQuery.objects.exists()
