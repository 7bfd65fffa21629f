"""The capped paginator counts at most `cap` rows and says so on the page."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from aqualine.accounts.models import User
from aqualine.core.pagination import CappedPaginator

pytestmark = pytest.mark.django_db


def _users(count: int) -> None:
    User.objects.bulk_create(
        [User(agent_id=f"p{i:03d}", name=f"U{i}", password="!") for i in range(count)]
    )


def test_it_counts_up_to_the_cap_and_offers_only_the_pages_within_it() -> None:
    _users(7)
    rows = User.objects.filter(agent_id__startswith="p").order_by("agent_id")
    under = CappedPaginator(rows, 2, cap=10)
    assert (under.count, under.capped, under.num_pages) == (7, False, 4)
    over = CappedPaginator(rows, 2, cap=5)
    assert (over.count, over.capped, over.num_pages) == (5, True, 3)
    assert [u.agent_id for u in over.get_page(3)] == ["p004"]
    assert over.get_page(99).number == 3  # past the cap: the last page offered


def test_the_page_says_there_are_more_and_to_narrow_the_filters() -> None:
    _users(7)
    rows = User.objects.filter(agent_id__startswith="p").order_by("agent_id")
    page = CappedPaginator(rows, 2, cap=5).get_page(1)
    request = RequestFactory().get("/?status=x")
    with translation.override("zh-hans"):
        html = render_to_string("core/_pagination.html", {"page": page, "request": request})
    assert "5" in html and "status=x" in html
    assert "7" not in html
