"""Reading: the unread badge, "My announcements" (unread first, by type, current or expired), the
validity window, the read receipt that opening an announcement leaves, and the receipts page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from aqualine.accounts.models import Department, User
from aqualine.conftest import client_for
from aqualine.notices import selectors, services
from aqualine.notices.models import AnnouncementRead, NoticeType

from .conftest import publish

pytestmark = pytest.mark.django_db


def _badge(user: User) -> str:
    request = RequestFactory().get("/")
    request.user = user
    return Template("{% load notices %}{% notices_badge %}").render(Context({"request": request}))


def _badge_count(user: User) -> int | None:
    """The number the top bar shows on a real page; None when it shows none."""
    page = client_for(user).get(reverse("notices:mine")).content.decode()
    match = re.search(r'id="aq-notices-count" data-count="(\d+)"( hidden)?', page)
    if match is None:
        match = re.search(r'id="aq-notices-count" data-count="(\d+)"( hidden)?', _badge(user))
    assert match is not None, "no badge"
    return None if match.group(2) else int(match.group(1))


def _rows(user: User, query: str = "") -> list[int]:
    page = client_for(user).get(reverse("notices:mine") + query).content.decode()
    return [int(pk) for pk in re.findall(r'<tr id="notice-(\d+)"', page)]


def test_the_unread_count_follows_publishing_and_reading(
    supervisor: User, notice_type: NoticeType, handler: User, repair: Department
) -> None:
    assert selectors.unread_count(handler) == 0
    assert _badge_count(handler) is None
    first = publish(supervisor, notice_type, departments=[repair], title="一")
    publish(supervisor, notice_type, people=[handler], title="二")
    publish(supervisor, notice_type, to_everyone=True, title="三")
    assert selectors.unread_count(handler) == 3
    assert _badge_count(handler) == 3

    client_for(handler).get(reverse("notices:detail", args=[first.pk]))
    assert selectors.unread_count(handler) == 2
    assert _badge_count(handler) == 2
    # Reading it again changes nothing.
    client_for(handler).get(reverse("notices:detail", args=[first.pk]))
    assert selectors.unread_count(handler) == 2


def test_the_badge_is_absent_for_someone_who_may_not_read_announcements(outsider: User) -> None:
    assert "aq-notices-badge" not in _badge(outsider)


def test_opening_an_announcement_leaves_a_read_receipt_with_who_and_when(
    supervisor: User, notice_type: NoticeType, handler: User, repair: Department
) -> None:
    announcement = publish(supervisor, notice_type, departments=[repair])
    assert not AnnouncementRead.objects.exists()
    before = timezone.now()
    response = client_for(handler).get(reverse("notices:detail", args=[announcement.pk]))
    assert response.status_code == 200
    receipt = AnnouncementRead.objects.get()
    assert (receipt.announcement_id, receipt.user_id) == (announcement.pk, handler.pk)
    assert before <= receipt.read_at <= timezone.now()
    # The first reading counts: a second one keeps the time.
    client_for(handler).get(reverse("notices:detail", args=[announcement.pk]))
    assert AnnouncementRead.objects.get().read_at == receipt.read_at
    # The publisher, not in scope, opening it leaves no receipt.
    client_for(supervisor).get(reverse("notices:detail", args=[announcement.pk]))
    assert AnnouncementRead.objects.count() == 1


def test_the_receipts_page_lists_who_has_read_and_who_has_not_with_counts(
    supervisor: User,
    notice_type: NoticeType,
    handler: User,
    east_handler: User,
    billing_named: User,
    repair: Department,
) -> None:
    announcement = publish(supervisor, notice_type, departments=[repair], people=[billing_named])
    for reader in (handler, billing_named):
        services.announcement_mark_read(user=reader, announcement=announcement)

    receipts = selectors.read_receipts(announcement)
    assert [r.user.agent_id for r in receipts.read] == [handler.agent_id, billing_named.agent_id]
    assert [r.user.agent_id for r in receipts.unread] == [east_handler.agent_id]
    assert all(r.read_at is not None for r in receipts.read)

    page = client_for(supervisor).get(reverse("notices:receipts", args=[announcement.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    read_table = html.split('id="receipts-read"')[1]
    unread_table = html.split('id="receipts-unread"')[1].split('id="receipts-read"')[0]
    assert f'data-user="{handler.agent_id}"' in read_table
    assert f'data-user="{billing_named.agent_id}"' in read_table
    assert f'data-user="{east_handler.agent_id}"' in unread_table
    assert f'data-user="{east_handler.agent_id}"' not in read_table
    assert page.context["receipts"].total == 3
    counts = selectors.receipt_counts(announcement)
    assert (counts.read, counts.total) == (2, 3)
    # The list of published announcements shows the same counts.
    published = client_for(supervisor).get(reverse("notices:published")).content.decode()
    assert "2 / 3" in published


def test_unread_come_first_then_the_newest_and_the_list_filters_by_type(
    supervisor: User,
    notice_type: NoticeType,
    policy_type: NoticeType,
    handler: User,
    repair: Department,
) -> None:
    now = timezone.now()
    old = publish(supervisor, notice_type, departments=[repair], valid_from=now - timedelta(days=3))
    mid = publish(supervisor, policy_type, departments=[repair], valid_from=now - timedelta(days=2))
    new = publish(supervisor, notice_type, departments=[repair], valid_from=now - timedelta(days=1))
    services.announcement_mark_read(user=handler, announcement=new)

    assert _rows(handler) == [mid.pk, old.pk, new.pk]
    assert _rows(handler, f"?notice_type={policy_type.pk}") == [mid.pk]
    assert _rows(handler, f"?notice_type={notice_type.pk}") == [old.pk, new.pk]


def test_the_validity_window_decides_what_is_current(
    supervisor: User, notice_type: NoticeType, handler: User, repair: Department
) -> None:
    now = timezone.now()
    current = publish(
        supervisor, notice_type, departments=[repair], valid_until=now + timedelta(hours=1)
    )
    expired = publish(
        supervisor,
        notice_type,
        departments=[repair],
        valid_from=now - timedelta(days=2),
        valid_until=now - timedelta(days=1),
    )
    future = publish(
        supervisor, notice_type, departments=[repair], valid_from=now + timedelta(days=1)
    )

    # Current: listed and counted. Expired: out of "current" and of the count, but readable
    # under "expired". Not yet begun: nowhere, and the page answers 404 to the recipient.
    assert _rows(handler) == [current.pk]
    assert selectors.unread_count(handler) == 1
    assert _rows(handler, "?when=expired") == [expired.pk]
    assert _rows(handler, "?when=all") == [current.pk, expired.pk]
    client = client_for(handler)
    assert client.get(reverse("notices:detail", args=[expired.pk])).status_code == 200
    assert client.get(reverse("notices:detail", args=[future.pk])).status_code == 404

    # An hour later the current one has expired too; a day later the future one is current.
    later = now + timedelta(hours=2)
    assert selectors.unread_count(handler, at=later) == 0
    assert selectors.unread_count(handler, at=now + timedelta(days=1, minutes=1)) == 1


def test_a_withdrawn_announcement_leaves_the_list_the_count_and_the_page(
    supervisor: User, notice_type: NoticeType, handler: User, repair: Department
) -> None:
    announcement = publish(supervisor, notice_type, departments=[repair])
    assert selectors.unread_count(handler) == 1
    services.announcement_withdraw(actor=supervisor, announcement=announcement, version=1)
    assert selectors.unread_count(handler) == 0
    assert _rows(handler, "?when=all") == []
    client = client_for(handler)
    assert client.get(reverse("notices:detail", args=[announcement.pk])).status_code == 404
    # Its publisher still opens it (marked withdrawn) and its receipts.
    assert (
        client_for(supervisor).get(reverse("notices:detail", args=[announcement.pk])).status_code
        == 200
    )


def test_plain_text_keeps_its_lines_and_html_is_cleaned(
    supervisor: User, notice_type: NoticeType, handler: User, repair: Department
) -> None:
    plain = publish(
        supervisor, notice_type, departments=[repair], body="第一行\n第二行\n\n<第二段>"
    )
    assert plain.body_html == "<p>第一行<br>第二行</p>\n\n<p>&lt;第二段&gt;</p>"
    rich = publish(
        supervisor,
        notice_type,
        departments=[repair],
        body='<p onclick="x()">请<b>按时</b>到岗</p><script>alert(1)</script>'
        '<a href="javascript:alert(1)">链接</a><a href="https://example.com/">制度</a>',
    )
    html = client_for(handler).get(reverse("notices:detail", args=[rich.pk])).content.decode()
    body = html.split('id="notice-body">')[1].split("</article>")[0]
    assert "<b>按时</b>" in body
    assert "<script" not in body and "onclick" not in body and "javascript:" not in body
    assert 'href="https://example.com/"' in body
