"""Personas and helpers shared by every test."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from django.core.cache import cache
from django.test import Client

from aqualine.accounts.models import Department, Role, User

PASSWORD = "Correct-Horse-96000"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """On SQLite, test in a database file (on tmpfs when there is one) rather than Django's
    shared-cache in-memory database. There a writer meets a reader of another thread with
    "database table is locked" at once; in a file with WAL (settings.py) readers never block the
    writer and writers wait their turn, as the embedded deployment's processes do. The live
    ASGI server runs each request in its own thread, so the pages need this."""
    from pathlib import Path

    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3":
        yield
        return
    shm = Path("/dev/shm")  # noqa: S108 - mkdtemp below makes a private directory
    if shm.is_dir() and os.access(shm, os.W_OK):
        folder = Path(tempfile.mkdtemp(prefix="aqualine-test-", dir=shm))
    else:
        folder = tmp_path_factory.mktemp("database")
    database.setdefault("TEST", {})["NAME"] = str(folder / "test.sqlite3")
    yield
    shutil.rmtree(folder, ignore_errors=True)


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
    import_module("aqualine.callcenter.migrations.0004_recordings").grant(apps, None)
    import_module("aqualine.customers.migrations.0003_grant_roles").grant(apps, None)
    import_module("aqualine.workorders.migrations.0003_grant_roles").grant(apps, None)
    import_module("aqualine.knowledge.migrations.0002_grant_roles").grant(apps, None)
    import_module("aqualine.notices.migrations.0002_grant_roles_and_types").grant(apps, None)
    import_module("aqualine.reports.migrations.0002_grant_roles").grant(apps, None)
    import_module("aqualine.reports.migrations.0004_grant_view_all_exports").grant(apps, None)
    import_module("aqualine.desk.migrations.0002_grant_roles").grant(apps, None)
    import_module("aqualine.desk.migrations.0003_call_control").grant(apps, None)
    import_module("aqualine.wallboard.migrations.0002_grant_roles").grant(apps, None)


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


# --- the whole ASGI application on a live port (HTTP and WebSockets) ---------------------------

T = TypeVar("T")


class AsgiLiveServer:
    """`aqualine.asgi.application` served by uvicorn (as `aqualine web` serves it) in a thread of
    the test process, on a free loopback port. pytest-django's `live_server` speaks WSGI only,
    so pages that keep a WebSocket open need this one. `stop()` and `start()` (same port) let a
    test restart it."""

    def __init__(self) -> None:
        self.port = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        import uvicorn

        from aqualine.asgi import application

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(64)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            application, lifespan="off", log_level="warning", timeout_graceful_shutdown=3
        )
        server = uvicorn.Server(config)
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self.loop = loop
            ready.set()
            try:
                loop.run_until_complete(server.serve(sockets=[sock]))
            finally:
                loop.close()

        self._server = server
        self._thread = threading.Thread(target=serve, name="asgi-live-server", daemon=True)
        self._thread.start()
        ready.wait(10)
        wait_until(lambda: server.started, what="the ASGI live server to start")

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(15)
        assert not self._thread.is_alive(), "the ASGI live server did not stop"
        self._server = self._thread = None
        self.loop = None
        from channels.layers import InMemoryChannelLayer, get_channel_layer

        layer = get_channel_layer()
        if isinstance(layer, InMemoryChannelLayer):  # its queues belonged to the stopped loop
            layer.channels.clear()
            layer.groups.clear()


def wait_until(condition: Callable[[], object], *, what: str, timeout: float = 15.0) -> None:
    """Wait for `condition()` to be true, failing after `timeout` seconds (no sleep-and-hope)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def run_in_thread(function: Callable[[], T]) -> T:
    """Run `function` in a thread of its own and return its result. A browser test's own thread
    runs Playwright's event loop, where the on-commit pushes (async_to_sync) refuse to run; a
    service called through this helper pushes as it does in a web process."""
    from django.db import connections

    result: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(function())
        except BaseException as error:  # re-raised in the test's thread
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(60)
    if errors:
        raise errors[0]
    assert result, "the function did not finish within 60 s"
    return result[0]


@pytest.fixture
def asgi_live_server(transactional_db: None) -> Iterator[AsgiLiveServer]:
    """A live ASGI server for this test (use with django_db(transaction=True)).

    With the in-memory channel layer, a push sent from another thread (a test's service call) is
    handed to the server's event loop, where the layer's queues live; Redis needs no help."""
    from channels.layers import InMemoryChannelLayer, get_channel_layer

    server = AsgiLiveServer()
    server.start()
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        original = layer.group_send

        async def group_send(group: str, message: dict[str, Any]) -> None:
            loop = server.loop
            if loop is None or loop.is_closed():
                return  # the server is stopped: nobody listens
            if asyncio.get_running_loop() is loop:
                await original(group, message)
            else:
                future = asyncio.run_coroutine_threadsafe(original(group, message), loop)
                await asyncio.wrap_future(future)

        layer.group_send = group_send
    try:
        yield server
    finally:
        server.stop()
        if isinstance(layer, InMemoryChannelLayer):
            del layer.group_send
