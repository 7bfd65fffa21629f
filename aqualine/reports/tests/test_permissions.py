"""Every report page checks its permission: who gets 403 where, and the grants of the seeded
roles."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aqualine.accounts.models import Role, User
from aqualine.conftest import client_for
from aqualine.reports.permissions import ReportsPerm as P
from aqualine.reports.tests.conftest import MARCH

pytestmark = pytest.mark.django_db

ORDER_PAGES = ["reports:intake", "reports:timeliness", "reports:query"]
ORDER_EXPORTS = ["reports:intake_export", "reports:timeliness_export", "reports:query_export"]
EXPORT_PAGES = ["reports:exports"]
CALL_PAGES = ["reports:calls"]
CALL_EXPORTS = ["reports:calls_export"]
POSTS = ["reports:query_save", "reports:query_export"]
SAVED = ["reports:saved_query_run", "reports:saved_query_delete"]
EVERY = ORDER_PAGES + ORDER_EXPORTS + CALL_PAGES + CALL_EXPORTS + POSTS + SAVED + EXPORT_PAGES


def url(name: str) -> str:
    return reverse(name, args=[1]) if name in SAVED else reverse(name)


def status(user: User, name: str) -> int:
    client = client_for(user)
    if name in POSTS or name == "reports:saved_query_delete":
        return client.post(url(name), {"name": "x", "query": "date_from=2026-03-01"}).status_code
    return client.get(url(name), MARCH).status_code


def test_the_seeded_roles_get_the_report_permissions() -> None:
    from aqualine.conftest import ensure_seeded_roles

    ensure_seeded_roles()

    def perms(code: str) -> set[str]:
        role = Role.objects.get(code=code)
        return {
            f"{p.content_type.app_label}.{p.codename}"
            for p in role.permissions.filter(content_type__app_label="reports")
        }

    everything = {P.VIEW_REPORTS, P.VIEW_CALL_REPORTS, P.EXPORT}
    assert perms("admin") == everything | {P.VIEW_ALL_EXPORTS}
    assert perms("supervisor") == perms("viewer") == everything
    assert perms("handler") == perms("dispatcher") == {P.VIEW_REPORTS}
    assert perms("agent") == set()


@pytest.mark.parametrize("name", EVERY)
def test_an_agent_without_report_permissions_gets_403(name: str, agent: User) -> None:
    assert status(agent, name) == 403


@pytest.mark.parametrize("name", CALL_PAGES + CALL_EXPORTS + ORDER_EXPORTS + EXPORT_PAGES)
def test_a_handler_may_not_see_call_reports_nor_export(name: str, handler: User) -> None:
    assert status(handler, name) == 403


@pytest.mark.parametrize("name", ORDER_PAGES)
def test_a_handler_sees_the_order_reports(name: str, handler: User) -> None:
    assert status(handler, name) == 200


@pytest.mark.parametrize(
    "name", ORDER_PAGES + ORDER_EXPORTS + CALL_PAGES + CALL_EXPORTS + EXPORT_PAGES
)
def test_a_viewer_sees_and_exports_everything(name: str, viewer: User) -> None:
    assert status(viewer, name) == 200


@pytest.mark.parametrize("name", EVERY)
def test_anonymous_users_go_to_the_login_page(name: str, client: object) -> None:
    get = client.get(url(name))  # type: ignore[attr-defined]
    assert get.status_code in (302, 405)
    if get.status_code == 302:
        assert get["Location"].startswith("/login/")


def test_the_menu_offers_what_the_user_may_open(handler: User, viewer: User) -> None:
    handler_page = client_for(handler).get("/").content.decode()
    assert reverse("reports:intake") in handler_page
    assert reverse("reports:calls") not in handler_page
    viewer_page = client_for(viewer).get("/").content.decode()
    for name in ("reports:intake", "reports:timeliness", "reports:calls", "reports:query"):
        assert reverse(name) in viewer_page
