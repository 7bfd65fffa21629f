"""Every view checks a permission: walk the URL configuration and try each page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from aqualine.accounts.models import User
from aqualine.api.testing import api_client_for
from aqualine.conftest import client_for

pytestmark = pytest.mark.django_db

# Pages anyone may reach (login, health, language switch) or that need only a login.
PUBLIC = {"accounts:login", "core:healthz", "set_language", "accounts:logout"}
LOGIN_ONLY = {"core:home", "accounts:password_change", "api:docs", "api:schema"}
# The JSON API authenticates with a token and answers in JSON: 401 with the token challenge
# instead of the login page, 403 for a token whose user lacks the permission. Its
# documentation page is a page like the others.
API_PAGES = {"api:docs"}


def _is_api(name: str) -> bool:
    return name.startswith("api:") and name not in API_PAGES


def _patterns(
    resolver: URLResolver, prefix: str = "", ns: str = ""
) -> Iterator[tuple[str, str, object]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue  # Django's admin has its own staff checks
            namespace = f"{ns}{entry.namespace}:" if entry.namespace else ns
            yield from _patterns(entry, prefix + str(entry.pattern), namespace)
        elif isinstance(entry, URLPattern):
            yield f"{ns}{entry.name}", prefix + str(entry.pattern), entry.callback


def _url(route: str) -> str:
    return "/" + route.replace("<int:pk>", "1")


ALL = sorted({(name, route) for name, route, _cb in _patterns(get_resolver())})


def test_every_view_declares_its_permission() -> None:
    for name, _route, callback in _patterns(get_resolver()):
        if name in PUBLIC:
            continue
        assert hasattr(callback, "required_perms"), f"{name} does not check a permission"
        if name not in LOGIN_ONLY:
            assert callback.required_perms, f"{name} needs a permission, not only a login"


PAGES = [r for r in ALL if not _is_api(r[0])]
API = [r for r in ALL if _is_api(r[0])]


@pytest.mark.parametrize(("name", "route"), [r for r in PAGES if r[0] not in PUBLIC])
def test_anonymous_users_are_sent_to_the_login_page(name: str, route: str) -> None:
    for method in ("get", "post"):
        response = getattr(Client(), method)(_url(route))
        assert response.status_code in (302, 405), (name, method, response.status_code)
        if response.status_code == 302:
            assert response.headers["Location"].startswith("/login/")


@pytest.mark.parametrize(("name", "route"), [r for r in PAGES if r[0] not in PUBLIC | LOGIN_ONLY])
def test_a_user_without_the_permission_gets_403(
    name: str, route: str, outsider: User, admin_user: User
) -> None:
    client = client_for(outsider)
    for method in ("get", "post"):
        response = getattr(client, method)(_url(route))
        assert response.status_code in (403, 405), (name, method, response.status_code)
    assert (
        "无权访问" in client.get(_url(route)).content.decode()
        or client.get(_url(route)).status_code == 405
    )


def test_the_api_has_endpoints_to_check() -> None:
    assert len(API) >= 10


@pytest.mark.parametrize(("name", "route"), API)
def test_anonymous_api_requests_get_401_with_the_token_challenge(name: str, route: str) -> None:
    for method in ("get", "post"):
        response = getattr(Client(), method)(_url(route))
        assert response.status_code == 401, (name, method, response.status_code)
        assert response.headers["WWW-Authenticate"] == "Token"
        assert response.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(("name", "route"), [r for r in API if r[0] not in LOGIN_ONLY])
def test_an_api_token_without_the_permission_gets_403(
    name: str, route: str, outsider: User, admin_user: User
) -> None:
    client = api_client_for(outsider)
    for method in ("get", "post"):
        response = getattr(client, method)(_url(route))
        assert response.status_code == 403, (name, method, response.status_code)
        assert response.json()["detail"]
    # and a signed-in browser session is no substitute for the token
    assert client_for(admin_user).get(_url(route)).status_code == 401


def test_the_menu_shows_only_permitted_entries(agent: User, admin_user: User) -> None:
    from django.contrib.auth.models import Permission

    from aqualine.accounts.models import Role

    role = Role.objects.create(name="只看日志")
    role.permissions.add(Permission.objects.get(codename="view_audit_log"))
    agent.groups.add(role)
    page = client_for(agent).get("/").content.decode()
    assert "审计日志" in page
    assert "员工管理" not in page and "系统参数" not in page
    admin_page = client_for(admin_user).get("/").content.decode()
    for entry in ("员工管理", "部门管理", "角色与权限", "系统参数", "审计日志"):
        assert entry in admin_page


def test_only_the_most_specific_menu_entry_is_marked_current(agent: User) -> None:
    from aqualine.navigation import menu_for

    user = User.objects.get(pk=agent.pk)
    items = [item for _label, entries in menu_for(user, "/workorders/new/") for item in entries]
    assert [item.url for item in items if item.active] == ["/workorders/new/"]
