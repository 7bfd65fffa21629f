"""Personas and helpers shared by every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import Client

from aqualine.accounts.models import Department, Role, User

PASSWORD = "Correct-Horse-96000"


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def ensure_seeded_roles() -> None:
    """The roles the data migration seeds. A transactional test (live server) flushes every
    table, and Playwright's event loop hides Django's serialized copy of the seeded rows from
    the next test, so seed them again when they are gone."""
    if Role.objects.filter(code__isnull=False).exists():
        return
    from importlib import import_module

    from django.apps import apps

    import_module("aqualine.accounts.migrations.0002_seed_roles").seed(apps, None)
    import_module("aqualine.callcenter.migrations.0002_grant_roles").grant(apps, None)
    import_module("aqualine.customers.migrations.0003_grant_roles").grant(apps, None)
    import_module("aqualine.workorders.migrations.0003_grant_roles").grant(apps, None)


def make_user(
    agent_id: str, *roles: str, department: Department | None = None, name: str = ""
) -> User:
    ensure_seeded_roles()
    user = User.objects.create_user(
        agent_id, PASSWORD, name=name or f"User {agent_id}", department=department
    )
    user.groups.set(Role.objects.filter(code__in=roles))
    return user


@pytest.fixture
def hotline(db: None) -> Department:
    return Department.objects.create(name="热线中心", code="hotline")


@pytest.fixture
def repair(db: None) -> Department:
    return Department.objects.create(name="管网维修部", code="repair")


@pytest.fixture
def admin_user(hotline: Department) -> User:
    return make_user("admin", "admin", department=hotline, name="系统管理员")


@pytest.fixture
def agent(hotline: Department) -> User:
    return make_user("1001", "agent", department=hotline, name="张敏")


@pytest.fixture
def handler(repair: Department) -> User:
    return make_user("3001", "handler", department=repair, name="赵强")


@pytest.fixture
def outsider(db: None) -> User:
    """A staff member with no role at all."""
    return make_user("8888", name="无角色")


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client(admin_user: User) -> Client:  # overrides pytest-django's admin_client
    return client_for(admin_user)


# --- real browser (Debian chromium driven by Playwright) --------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    import os
    import shutil

    if os.environ.get("AQUALINE_SKIP_BROWSER") == "1":
        pytest.skip("AQUALINE_SKIP_BROWSER=1")
    if not shutil.which("chromium") and not os.path.exists(CHROMIUM):
        pytest.fail(
            "chromium is not installed: run `make test` as root, or "
            "`apt-get install chromium` (set AQUALINE_SKIP_BROWSER=1 to skip)"
        )
    # Playwright's sync API runs an event loop in this thread while the browser is open; the
    # ORM calls the tests make meanwhile are ordinary synchronous calls. The browser lives for
    # one module only, so that later tests (asyncio.run) find no running loop.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            instance = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            yield instance
            instance.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser: object) -> Iterator[object]:
    """Open pages in fresh browser contexts (separate cookies: one per person)."""
    contexts = []

    def open_page(viewport: dict[str, int] | None = None) -> object:
        context = browser.new_context(  # type: ignore[attr-defined]
            viewport=viewport or {"width": 1280, "height": 800}, locale="zh-CN"
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
