"""Who an announcement is for: departments (with their sub-departments), people, everyone — on
the pages ("My announcements", the detail page) and in the recipients of the read receipts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aqualine.accounts.models import Department, User
from aqualine.conftest import client_for, make_user
from aqualine.notices import selectors
from aqualine.notices.models import NoticeType

from .conftest import publish

pytestmark = pytest.mark.django_db


def _sees(user: User, pk: int) -> bool:
    """Whether the detail page opens for `user` (200) or not (404), checked both ways."""
    response = client_for(user).get(reverse("notices:detail", args=[pk]))
    assert response.status_code in (200, 404), response.status_code
    listed = f'id="notice-{pk}"' in client_for(user).get(reverse("notices:mine")).content.decode()
    assert listed == (response.status_code == 200)
    return response.status_code == 200


def test_a_department_announcement_reaches_its_sub_departments_at_any_depth_only(
    supervisor: User,
    notice_type: NoticeType,
    handler: User,
    east_handler: User,
    east_one_handler: User,
    billing_clerk: User,
) -> None:
    repair = handler.department
    assert repair is not None
    announcement = publish(supervisor, notice_type, departments=[repair])

    assert _sees(handler, announcement.pk)  # 管网维修部 itself
    assert _sees(east_handler, announcement.pk)  # 东区维修班, below it
    assert _sees(east_one_handler, announcement.pk)  # 东区一组, two levels below
    assert not _sees(billing_clerk, announcement.pk)  # 营业收费部: another department


def test_a_sub_department_announcement_does_not_reach_the_parent_department(
    supervisor: User, notice_type: NoticeType, handler: User, east_handler: User
) -> None:
    assert east_handler.department is not None
    announcement = publish(supervisor, notice_type, departments=[east_handler.department])
    assert _sees(east_handler, announcement.pk)
    assert not _sees(handler, announcement.pk)


def test_a_named_person_outside_the_department_sees_it_and_their_colleagues_do_not(
    supervisor: User,
    notice_type: NoticeType,
    handler: User,
    billing_clerk: User,
    billing_named: User,
    repair: Department,
) -> None:
    announcement = publish(supervisor, notice_type, departments=[repair], people=[billing_named])
    assert _sees(billing_named, announcement.pk)
    assert _sees(handler, announcement.pk)
    assert not _sees(billing_clerk, announcement.pk)


def test_people_alone_can_be_the_whole_scope(
    supervisor: User, notice_type: NoticeType, handler: User, billing_named: User
) -> None:
    announcement = publish(supervisor, notice_type, people=[billing_named])
    assert _sees(billing_named, announcement.pk)
    assert not _sees(handler, announcement.pk)


def test_an_announcement_for_everyone_reaches_every_holder_of_the_permission(
    supervisor: User,
    notice_type: NoticeType,
    handler: User,
    billing_clerk: User,
    outsider: User,
) -> None:
    nowhere = make_user("5001", "agent", name="无部门话务员")
    announcement = publish(supervisor, notice_type, to_everyone=True)
    assert _sees(handler, announcement.pk)
    assert _sees(billing_clerk, announcement.pk)
    assert _sees(nowhere, announcement.pk)
    # No permission to read announcements at all: the page refuses, nobody counts them.
    detail = reverse("notices:detail", args=[announcement.pk])
    assert client_for(outsider).get(detail).status_code == 403
    assert outsider not in selectors.recipients(announcement)
    assert selectors.unread_count(outsider) == 0


def test_the_recipients_are_exactly_those_in_scope(
    supervisor: User,
    notice_type: NoticeType,
    handler: User,
    east_handler: User,
    east_one_handler: User,
    billing_clerk: User,
    billing_named: User,
    repair: Department,
) -> None:
    gone = make_user("3013", "handler", department=repair, name="已离职")
    gone.is_active = False
    gone.save()
    announcement = publish(supervisor, notice_type, departments=[repair], people=[billing_named])
    assert {u.agent_id for u in selectors.recipients(announcement)} == {
        handler.agent_id,
        east_handler.agent_id,
        east_one_handler.agent_id,
        billing_named.agent_id,
    }


def test_someone_moved_into_the_department_sees_what_it_was_sent(
    supervisor: User, notice_type: NoticeType, billing_clerk: User, repair: Department
) -> None:
    announcement = publish(supervisor, notice_type, departments=[repair])
    assert not _sees(billing_clerk, announcement.pk)
    billing_clerk.department = repair
    billing_clerk.save()
    assert _sees(User.objects.get(pk=billing_clerk.pk), announcement.pk)


def test_the_publisher_opens_their_announcement_without_being_in_scope(
    supervisor: User, supervisor2: User, notice_type: NoticeType, repair: Department
) -> None:
    announcement = publish(supervisor, notice_type, departments=[repair])
    detail = reverse("notices:detail", args=[announcement.pk])
    assert client_for(supervisor).get(detail).status_code == 200
    # Another supervisor, not in scope and not its publisher, gets 404 like anyone else.
    assert client_for(supervisor2).get(detail).status_code == 404
