"""The live push at /ws/notices/: who may connect, which groups an announcement goes to, that it
goes only after the commit, and that each browser hears only what is meant for its user.

A message that must *not* arrive is checked without waiting for time to pass: a marker sent
after it to the same browser has to be the next thing the browser gets."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.urls import path

from aqualine.accounts.models import Department, User
from aqualine.conftest import client_for
from aqualine.notices import consumers, events, services
from aqualine.notices.models import Announcement, NoticeType

from .conftest import publish

pytestmark = pytest.mark.django_db

application = AuthMiddlewareStack(
    URLRouter([path("ws/notices/", consumers.NoticeConsumer.as_asgi())])
)
_markers = itertools.count(1)


@pytest.fixture(autouse=True)
def _layer(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A clean in-memory layer for each test. Channels closes "old" database connections around
    each message; inside a test's transaction that would close the test's own connection
    (PostgreSQL), so it is a no-op here."""
    monkeypatch.setattr("channels.db.close_old_connections", lambda: None)
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        layer.channels.clear()
        layer.groups.clear()
    yield


def _communicator(user: User | None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if user is not None:
        session = client_for(user).cookies["sessionid"].value
        headers.append((b"cookie", f"sessionid={session}".encode()))
    return WebsocketCommunicator(application, "/ws/notices/", headers=headers)


async def _connect(user: User) -> WebsocketCommunicator:
    communicator = await sync_to_async(_communicator)(user)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def _receive(communicator: WebsocketCommunicator) -> dict[str, Any]:
    return await communicator.receive_json_from(timeout=5)


async def _next_is_marker(communicator: WebsocketCommunicator, user: User) -> None:
    """Nothing else is waiting for `user`'s browser: a marker sent now is the next message."""
    number = -next(_markers)
    layer = get_channel_layer()
    assert layer is not None
    await layer.group_send(
        events.user_group(user.pk),
        {
            "type": "notice.event",
            "event": events.READ,
            "announcement": number,
            "key": f"read:{number}:{user.pk}",
        },
    )
    message = await _receive(communicator)
    assert (message["type"], message["announcement"]) == ("notice.read", number), message


def _committed(capture: Callable) -> Callable[[Callable[[], Any]], Any]:
    """Run a service and its on-commit pushes (the test runs inside one transaction)."""

    def run(action: Callable[[], Any]) -> Any:
        with capture(execute=True):
            return action()

    return sync_to_async(run)


# --- the groups ---------------------------------------------------------------------------------


def test_a_department_announcement_goes_to_the_department_and_people_groups(
    supervisor: User,
    notice_type: NoticeType,
    repair: Department,
    billing_named: User,
    django_capture_on_commit_callbacks: Callable,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[tuple[list[str], dict[str, Any]]] = []
    monkeypatch.setattr(events, "send", lambda groups, message: sent.append((groups, message)))
    with django_capture_on_commit_callbacks(execute=True):
        announcement = publish(
            supervisor, notice_type, departments=[repair], people=[billing_named]
        )
    with django_capture_on_commit_callbacks(execute=True):
        everyone = publish(supervisor, notice_type, to_everyone=True, title="全员")
    assert sent == [
        (
            sorted([f"notices_department_{repair.pk}", f"notices_user_{billing_named.pk}"]),
            {
                "type": "notice.event",
                "event": "published",
                "announcement": announcement.pk,
                "version": 1,
                "key": f"published:{announcement.pk}:1",
            },
        ),
        (
            ["notices_everyone"],
            {
                "type": "notice.event",
                "event": "published",
                "announcement": everyone.pk,
                "version": 1,
                "key": f"published:{everyone.pk}:1",
            },
        ),
    ]


def test_a_browser_joins_its_department_and_every_department_above(
    east_one_handler: User, repair: Department, repair_east: Department
) -> None:
    assert events.groups_of(east_one_handler) == {
        "notices_everyone",
        f"notices_user_{east_one_handler.pk}",
        f"notices_department_{east_one_handler.department_id}",
        f"notices_department_{repair_east.pk}",
        f"notices_department_{repair.pk}",
    }


# --- after the commit only ----------------------------------------------------------------------


def test_nothing_is_pushed_before_the_commit_or_after_a_rollback(
    supervisor: User,
    notice_type: NoticeType,
    handler: User,
    repair: Department,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    class Boom(Exception):
        pass

    async def scenario() -> None:
        browser = await _connect(handler)

        def publish_uncommitted() -> list[Callable[[], None]]:
            with django_capture_on_commit_callbacks(execute=False) as callbacks:
                publish(supervisor, notice_type, departments=[repair], title="未提交")
            return callbacks

        callbacks = await sync_to_async(publish_uncommitted)()
        await _next_is_marker(browser, handler)  # not yet committed: nothing

        def publish_and_roll_back() -> None:
            with (
                django_capture_on_commit_callbacks(execute=True),
                pytest.raises(Boom),
                transaction.atomic(),
            ):
                publish(supervisor, notice_type, departments=[repair], title="回滚")
                raise Boom

        await sync_to_async(publish_and_roll_back)()
        await _next_is_marker(browser, handler)  # rolled back: nothing, ever

        for callback in callbacks:  # the commit
            await sync_to_async(callback)()
        message = await _receive(browser)
        assert (message["type"], message["title"]) == ("notice.published", "未提交")
        await _next_is_marker(browser, handler)
        await browser.disconnect()

    async_to_sync(scenario)()
    assert Announcement.objects.filter(title="回滚").count() == 0


# --- who hears what -----------------------------------------------------------------------------


def test_each_browser_hears_only_the_announcements_meant_for_its_user(
    supervisor: User,
    notice_type: NoticeType,
    handler: User,
    east_one_handler: User,
    billing_clerk: User,
    billing_named: User,
    repair: Department,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    committed = _committed(django_capture_on_commit_callbacks)

    async def scenario() -> None:
        browsers = {
            u.agent_id: await _connect(u)
            for u in (handler, east_one_handler, billing_clerk, billing_named)
        }
        announcement = await committed(
            lambda: publish(
                supervisor,
                notice_type,
                departments=[repair],
                people=[billing_named, handler],  # handler: by department and by name
                title="防汛值班安排",
            )
        )
        for user in (handler, east_one_handler, billing_named):
            message = await _receive(browsers[user.agent_id])
            assert message == {
                "type": "notice.published",
                "announcement": announcement.pk,
                "current": True,
                "title": "防汛值班安排",
                "notice_type": "通知",
                "url": f"/notices/{announcement.pk}/",
                "unread": 1,
            }
            await _next_is_marker(browsers[user.agent_id], user)  # once, not twice
        await _next_is_marker(browsers[billing_clerk.agent_id], billing_clerk)  # not for them
        for browser in browsers.values():
            await browser.disconnect()

    async_to_sync(scenario)()


def test_an_announcement_not_yet_valid_is_not_popped_up(
    supervisor: User,
    notice_type: NoticeType,
    handler: User,
    repair: Department,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    committed = _committed(django_capture_on_commit_callbacks)

    async def scenario() -> None:
        browser = await _connect(handler)
        await committed(
            lambda: publish(
                supervisor,
                notice_type,
                departments=[repair],
                valid_from=timezone.now() + timedelta(days=1),
            )
        )
        message = await _receive(browser)
        assert (message["current"], message["title"], message["url"], message["unread"]) == (
            False,
            "",
            "",
            0,
        )
        await browser.disconnect()

    async_to_sync(scenario)()


def test_withdrawing_and_reading_update_the_badge_of_open_pages(
    supervisor: User,
    notice_type: NoticeType,
    handler: User,
    repair: Department,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    committed = _committed(django_capture_on_commit_callbacks)

    async def scenario() -> None:
        browser = await _connect(handler)
        first = await committed(lambda: publish(supervisor, notice_type, departments=[repair]))
        assert (await _receive(browser))["unread"] == 1
        second = await committed(lambda: publish(supervisor, notice_type, departments=[repair]))
        assert (await _receive(browser))["unread"] == 2

        # Read in another tab: this page's badge drops too.
        await committed(lambda: services.announcement_mark_read(user=handler, announcement=first))
        message = await _receive(browser)
        assert (message["type"], message["announcement"], message["unread"]) == (
            "notice.read",
            first.pk,
            1,
        )
        await committed(
            lambda: services.announcement_withdraw(actor=supervisor, announcement=second, version=1)
        )
        message = await _receive(browser)
        assert (message["type"], message["current"], message["unread"]) == (
            "notice.withdrawn",
            False,
            0,
        )
        await browser.disconnect()

    async_to_sync(scenario)()


def test_someone_removed_from_the_scope_by_an_edit_hears_nothing_more(
    supervisor: User,
    notice_type: NoticeType,
    handler: User,
    billing_clerk: User,
    repair: Department,
    billing: Department,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    committed = _committed(django_capture_on_commit_callbacks)

    async def scenario() -> None:
        repair_browser = await _connect(handler)
        billing_browser = await _connect(billing_clerk)
        announcement = await committed(
            lambda: publish(supervisor, notice_type, departments=[repair], title="初稿")
        )
        assert (await _receive(repair_browser))["title"] == "初稿"
        await committed(
            lambda: services.announcement_update(
                actor=supervisor,
                announcement=announcement,
                version=1,
                notice_type=notice_type,
                title="改发营业收费部",
                body="正文",
                valid_from=announcement.valid_from,
                departments=[billing],
            )
        )
        message = await _receive(billing_browser)
        assert (message["type"], message["title"]) == ("notice.updated", "改发营业收费部")
        await _next_is_marker(repair_browser, handler)
        for browser in (repair_browser, billing_browser):
            await browser.disconnect()

    async_to_sync(scenario)()


def test_someone_moved_to_another_department_hears_the_new_one_and_not_the_old(
    supervisor: User,
    notice_type: NoticeType,
    handler: User,
    repair: Department,
    billing: Department,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    committed = _committed(django_capture_on_commit_callbacks)

    async def scenario() -> None:
        browser = await _connect(handler)  # joined the repair group
        handler.department = billing
        await sync_to_async(handler.save)()
        await committed(lambda: publish(supervisor, notice_type, departments=[repair], title="旧"))
        await _next_is_marker(browser, handler)  # re-checked: no longer for them
        await committed(lambda: publish(supervisor, notice_type, departments=[billing], title="新"))
        message = await _receive(browser)
        assert (message["type"], message["title"]) == ("notice.published", "新")
        await browser.disconnect()

    async_to_sync(scenario)()


# --- who may connect ----------------------------------------------------------------------------


def test_anonymous_users_and_those_who_may_not_read_announcements_are_refused(
    outsider: User,
) -> None:
    async def scenario() -> None:
        for user in (None, outsider):
            communicator = await sync_to_async(_communicator)(user)
            connected, code = await communicator.connect(timeout=5)
            assert (connected, code) == (False, consumers.CLOSE_NOT_ALLOWED)

    async_to_sync(scenario)()


def test_a_browser_whose_user_logged_out_is_disconnected_and_told_nothing(
    supervisor: User,
    notice_type: NoticeType,
    handler: User,
    repair: Department,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    from django.contrib.sessions.models import Session

    committed = _committed(django_capture_on_commit_callbacks)

    async def scenario() -> None:
        browser = await _connect(handler)
        await sync_to_async(lambda: Session.objects.all().delete())()  # logged out everywhere
        await committed(lambda: publish(supervisor, notice_type, departments=[repair]))
        output = await browser.receive_output(timeout=5)
        assert output == {"type": "websocket.close", "code": consumers.CLOSE_NOT_ALLOWED}

    async_to_sync(scenario)()


def test_the_push_is_harmless_without_a_channel_layer(
    supervisor: User,
    notice_type: NoticeType,
    repair: Department,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    monkeypatch.setattr(events, "get_channel_layer", lambda: None)
    with django_capture_on_commit_callbacks(execute=True):
        publish(supervisor, notice_type, departments=[repair])
    assert Announcement.objects.count() == 1


def test_the_group_names_are_valid_channel_group_names() -> None:
    layer = get_channel_layer()
    assert layer is not None
    for name in (events.EVERYONE_GROUP, events.department_group(7), events.user_group(9)):
        assert layer.require_valid_group_name(name)
