"""Publishing, editing and withdrawing, announcement types, and who may do each (every view)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from aqualine.accounts.models import Department, Role, User
from aqualine.conftest import client_for, make_user
from aqualine.notices import services
from aqualine.notices.models import Announcement, AnnouncementEvent, NoticeType

from .conftest import publish

pytestmark = pytest.mark.django_db


def _form(notice_type: NoticeType, **values: Any) -> dict[str, Any]:
    start = timezone.localtime() - timedelta(minutes=5)
    data: dict[str, Any] = {
        "form_token": str(uuid.uuid4()),
        "notice_type": notice_type.pk,
        "title": "关于调整值班安排的通知",
        "body": "自下周一起执行新的值班表。",
        "valid_from": start.strftime("%Y-%m-%dT%H:%M"),
        "valid_until": "",
    }
    data.update(values)
    return data


# --- who may open which page ------------------------------------------------------------------


def test_every_page_asks_for_its_permission(
    supervisor: User, agent: User, handler: User, admin_user: User, notice_type: NoticeType
) -> None:
    announcement = publish(supervisor, notice_type, to_everyone=True)
    pk = announcement.pk
    pages = {
        "notices:mine": ([], {agent: 200, handler: 200, supervisor: 200, admin_user: 200}),
        "notices:detail": ([pk], {agent: 200, handler: 200, supervisor: 200, admin_user: 200}),
        "notices:create": ([], {agent: 403, handler: 403, supervisor: 200, admin_user: 200}),
        "notices:published": ([], {agent: 403, handler: 403, supervisor: 200, admin_user: 200}),
        "notices:edit": ([pk], {agent: 403, handler: 403, supervisor: 200, admin_user: 200}),
        "notices:receipts": ([pk], {agent: 403, handler: 403, supervisor: 200, admin_user: 200}),
        "notices:type_list": ([], {agent: 403, supervisor: 403, admin_user: 200}),
        "notices:type_create": ([], {agent: 403, supervisor: 403, admin_user: 200}),
    }
    for name, (args, expected) in pages.items():
        for user, status in expected.items():
            response = client_for(user).get(reverse(name, args=args))
            assert response.status_code == status, (name, user.agent_id, response.status_code)
    type_edit = reverse("notices:type_edit", args=[notice_type.pk])
    assert client_for(supervisor).get(type_edit).status_code == 403
    assert client_for(admin_user).get(type_edit).status_code == 200
    withdraw = reverse("notices:withdraw", args=[pk])
    assert client_for(agent).post(withdraw, {"version": 1}).status_code == 403
    assert client_for(agent).get(withdraw).status_code == 405
    Announcement.objects.get(pk=pk, status=Announcement.Status.PUBLISHED)


def test_only_its_publisher_or_a_manager_may_edit_withdraw_and_see_receipts(
    supervisor: User,
    supervisor2: User,
    admin_user: User,
    handler: User,
    billing_clerk: User,
    notice_type: NoticeType,
    repair: Department,
) -> None:
    announcement = publish(supervisor, notice_type, departments=[repair])
    for name in ("notices:edit", "notices:receipts"):
        url = reverse(name, args=[announcement.pk])
        assert client_for(supervisor).get(url).status_code == 200
        assert client_for(admin_user).get(url).status_code == 200  # manage_notices
        assert client_for(supervisor2).get(url).status_code == 404  # may publish, not in scope
        assert client_for(handler).get(url).status_code == 403  # a reader of it
        assert client_for(billing_clerk).get(url).status_code == 404  # not even a reader
    withdraw = reverse("notices:withdraw", args=[announcement.pk])
    assert client_for(supervisor2).post(withdraw, {"version": 1}).status_code == 404
    assert client_for(handler).post(withdraw, {"version": 1}).status_code == 403
    announcement.refresh_from_db()
    assert announcement.status == Announcement.Status.PUBLISHED

    assert client_for(admin_user).post(withdraw, {"version": 1}).status_code == 302
    announcement.refresh_from_db()
    assert announcement.status == Announcement.Status.WITHDRAWN
    assert announcement.withdrawn_at is not None
    assert [e.type for e in announcement.events.all()] == ["published", "withdrawn"]


def test_a_publisher_who_lost_the_permission_can_no_longer_edit_their_announcement(
    supervisor: User, notice_type: NoticeType
) -> None:
    announcement = publish(supervisor, notice_type, to_everyone=True)
    supervisor.groups.clear()
    reader = Role.objects.create(name="只读公告")
    reader.permissions.add(Permission.objects.get(codename="view_notices"))
    supervisor.groups.add(reader)
    user = User.objects.get(pk=supervisor.pk)
    # Still a reader of it (it is for everyone), no longer its manager.
    assert (
        client_for(user).get(reverse("notices:detail", args=[announcement.pk])).status_code == 200
    )
    assert client_for(user).get(reverse("notices:edit", args=[announcement.pk])).status_code == 403
    with pytest.raises(PermissionDenied):
        services.announcement_withdraw(actor=user, announcement=announcement, version=1)


# --- publishing through the form ----------------------------------------------------------------


def test_a_supervisor_publishes_to_departments_and_people(
    supervisor: User,
    notice_type: NoticeType,
    repair: Department,
    billing_named: User,
) -> None:
    client = client_for(supervisor)
    response = client.post(
        reverse("notices:create"),
        _form(notice_type, departments=[repair.pk], people=[billing_named.pk]),
    )
    assert response.status_code == 302
    announcement = Announcement.objects.get()
    assert response["Location"] == reverse("notices:receipts", args=[announcement.pk])
    assert announcement.publisher == supervisor
    assert list(announcement.departments.all()) == [repair]
    assert list(announcement.people.all()) == [billing_named]
    assert not announcement.to_everyone
    assert announcement.events.get().type == AnnouncementEvent.Type.PUBLISHED


def test_the_form_names_the_sub_department_rule(supervisor: User, notice_type: NoticeType) -> None:
    form = client_for(supervisor).get(reverse("notices:create")).context["form"]
    assert "sub-departments" in str(form.fields["departments"].label) or "下级部门" in str(
        form.fields["departments"].label
    )


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({}, "to_everyone"),  # nobody chosen
        ({"to_everyone": "on", "people": ["PERSON"]}, "to_everyone"),  # both
        ({"to_everyone": "on", "valid_until": "2000-01-01T00:00"}, "valid_until"),
        ({"to_everyone": "on", "title": ""}, "title"),
    ],
)
def test_a_bad_announcement_is_refused_with_the_reason_on_its_field(
    supervisor: User, notice_type: NoticeType, handler: User, values: dict[str, Any], field: str
) -> None:
    values = {k: ([handler.pk] if v == ["PERSON"] else v) for k, v in values.items()}
    response = client_for(supervisor).post(reverse("notices:create"), _form(notice_type, **values))
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert not Announcement.objects.exists()


def test_the_same_form_submitted_twice_publishes_once(
    supervisor: User, notice_type: NoticeType
) -> None:
    data = _form(notice_type, to_everyone="on")
    client = client_for(supervisor)
    assert client.post(reverse("notices:create"), data).status_code == 302
    second = client.post(reverse("notices:create"), data)
    assert second.status_code == 200
    assert second.context["form"].non_field_errors()
    assert Announcement.objects.count() == 1


def test_an_inactive_type_is_not_offered_for_new_announcements(
    supervisor: User, notice_type: NoticeType, policy_type: NoticeType
) -> None:
    policy_type.is_active = False
    policy_type.save()
    response = client_for(supervisor).post(
        reverse("notices:create"), _form(policy_type, to_everyone="on")
    )
    assert "notice_type" in response.context["form"].errors


# --- editing with the version check -----------------------------------------------------------


def test_editing_changes_the_announcement_and_records_what_changed(
    supervisor: User, notice_type: NoticeType, repair: Department, billing: Department
) -> None:
    announcement = publish(supervisor, notice_type, departments=[repair])
    response = client_for(supervisor).post(
        reverse("notices:edit", args=[announcement.pk]),
        _form(notice_type, version=1, title="新标题", departments=[billing.pk]),
    )
    assert response.status_code == 302
    announcement.refresh_from_db()
    assert announcement.title == "新标题"
    assert announcement.version == 2
    assert list(announcement.departments.all()) == [billing]
    edited = announcement.events.get(type=AnnouncementEvent.Type.EDITED)
    assert edited.data["changes"]["title"][1] == "新标题"
    assert edited.data["changes"]["departments"] == [["管网维修部"], ["营业收费部"]]


def test_two_editors_at_once_the_second_gets_a_conflict_and_nothing_is_lost(
    supervisor: User, admin_user: User, notice_type: NoticeType, repair: Department
) -> None:
    announcement = publish(supervisor, notice_type, departments=[repair])
    url = reverse("notices:edit", args=[announcement.pk])
    # Both opened the form at version 1; the manager saves first.
    first = client_for(admin_user).post(
        url, _form(notice_type, version=1, title="管理员改的", departments=[repair.pk])
    )
    assert first.status_code == 302
    second = client_for(supervisor).post(
        url, _form(notice_type, version=1, title="班长改的", departments=[repair.pk])
    )
    assert second.status_code == 200
    errors = second.context["form"].non_field_errors()
    assert errors and ("Someone else changed" in errors[0] or "他人" in errors[0])
    announcement.refresh_from_db()
    assert (announcement.title, announcement.version) == ("管理员改的", 2)
    # A withdrawal from a stale page is refused the same way.
    withdraw = client_for(supervisor).post(
        reverse("notices:withdraw", args=[announcement.pk]), {"version": 1}
    )
    assert withdraw.status_code == 302
    announcement.refresh_from_db()
    assert announcement.status == Announcement.Status.PUBLISHED


def test_a_withdrawn_announcement_can_no_longer_be_edited(
    supervisor: User, notice_type: NoticeType, repair: Department
) -> None:
    announcement = publish(supervisor, notice_type, departments=[repair])
    services.announcement_withdraw(actor=supervisor, announcement=announcement, version=1)
    response = client_for(supervisor).post(
        reverse("notices:edit", args=[announcement.pk]),
        _form(notice_type, version=2, title="撤回后再改", departments=[repair.pk]),
    )
    assert response.status_code == 302
    announcement.refresh_from_db()
    assert announcement.title != "撤回后再改"


# --- announcement types -----------------------------------------------------------------------


def test_an_administrator_defines_types_and_names_stay_unique(admin_user: User) -> None:
    client = client_for(admin_user)
    created = client.post(
        reverse("notices:type_create"), {"name": "应急通知", "sort_order": 5, "is_active": "on"}
    )
    assert created.status_code == 302
    new_type = NoticeType.objects.get(name="应急通知")
    again = client.post(reverse("notices:type_create"), {"name": "应急通知", "sort_order": 1})
    assert "name" in again.context["form"].errors
    edit = reverse("notices:type_edit", args=[new_type.pk])
    assert client.post(edit, {"version": 1, "name": "紧急通知", "sort_order": 5}).status_code == 302
    new_type.refresh_from_db()
    assert (new_type.name, new_type.is_active, new_type.version) == ("紧急通知", False, 2)
    stale = client.post(edit, {"version": 1, "name": "旧页面", "sort_order": 5})
    assert stale.status_code == 200 and stale.context["form"].non_field_errors()


def test_the_seeded_roles_hold_the_announcement_permissions(hotline: Department) -> None:
    expected = {
        "admin": {"view_notices", "publish_notices", "manage_notices", "manage_notice_types"},
        "supervisor": {"view_notices", "publish_notices"},
        "agent": {"view_notices"},
        "dispatcher": {"view_notices"},
        "handler": {"view_notices"},
        "viewer": {"view_notices"},
    }
    for code, perms in expected.items():
        user = make_user(f"r-{code}", code, department=hotline)
        held = {p.split(".")[1] for p in user.get_all_permissions() if p.startswith("notices.")}
        assert held == perms, code
