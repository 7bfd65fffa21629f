"""Publishing, editing and withdrawing announcements, and defining their types, each write one
row of the central audit log in the transaction of the change; a refused change writes none."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from aqualine.accounts.models import Department, User
from aqualine.conftest import client_for
from aqualine.core.concurrency import ConflictError
from aqualine.core.models import AuditEvent
from aqualine.notices import services
from aqualine.notices.models import Announcement, NoticeType

from .conftest import publish

pytestmark = pytest.mark.django_db

BODY = "各部门注意：\n请做好夏季供水保障。"


def audited(change: Callable[[], Any]) -> AuditEvent:
    """Run `change` and return the one audit row it wrote (failing if it wrote another count)."""
    since = AuditEvent.objects.aggregate(last=Max("id"))["last"] or 0
    change()
    rows = list(AuditEvent.objects.filter(id__gt=since).order_by("id"))
    assert len(rows) == 1, [row.action for row in rows]
    return rows[0]


def not_audited(change: Callable[[], Any], error: type[Exception]) -> None:
    before = AuditEvent.objects.count()
    with pytest.raises(error):
        change()
    assert AuditEvent.objects.count() == before


def check(row: AuditEvent, actor: User, action: str, target: Any) -> None:
    assert (row.actor, row.action) == (actor, action)
    assert (row.target_type, row.target_id, row.target_label) == (
        target._meta.model_name,
        str(target.pk),
        str(target),
    )


def update(actor: User, announcement: Announcement, **fields: Any) -> Announcement:
    values: dict[str, Any] = {
        "notice_type": announcement.type,
        "title": announcement.title,
        "body": announcement.body,
        "valid_from": announcement.valid_from,
        "valid_until": announcement.valid_until,
        "to_everyone": announcement.to_everyone,
        "departments": list(announcement.departments.all()),
        "people": list(announcement.people.all()),
    }
    values.update(fields)
    return services.announcement_update(
        actor=actor, announcement=announcement, version=announcement.version, **values
    )


# --- announcements ----------------------------------------------------------------------------


def test_publishing_editing_and_withdrawing_each_write_one_audit_row(
    supervisor: User, notice_type: NoticeType, policy_type: NoticeType, repair: Department
) -> None:
    row = audited(lambda: publish(supervisor, notice_type, body=BODY, departments=[repair]))
    announcement = Announcement.objects.get()
    check(row, supervisor, "announcement.publish", announcement)
    values = row.data["values"]
    assert values["scope_departments"] == ["管网维修部"] and values["body_length"] == len(BODY)
    assert "body" not in values

    row = audited(
        lambda: update(supervisor, announcement, title="夏季用水高峰通知", notice_type=policy_type)
    )
    check(row, supervisor, "announcement.update", announcement)
    assert row.data == {
        "changes": {
            "announcement_type": ["通知", "制度"],
            "title": ["关于夏季用水高峰的通知", "夏季用水高峰通知"],
        }
    }

    row = audited(lambda: update(supervisor, announcement, body="请做好夏季供水保障。"))
    assert row.data == {"changes": {"body_length": [len(BODY), len("请做好夏季供水保障。")]}}

    row = audited(
        lambda: services.announcement_withdraw(
            actor=supervisor, announcement=announcement, version=announcement.version
        )
    )
    check(row, supervisor, "announcement.withdraw", announcement)
    assert "供水" not in str(AuditEvent.objects.values("data"))


def test_a_refused_change_of_an_announcement_writes_no_audit_row(
    supervisor: User, supervisor2: User, notice_type: NoticeType
) -> None:
    token = uuid.uuid4()
    announcement = publish(supervisor, notice_type, to_everyone=True, form_token=token)
    not_audited(
        lambda: publish(supervisor, notice_type, to_everyone=True, form_token=token),
        ConflictError,
    )
    not_audited(lambda: publish(supervisor, notice_type), ValidationError)  # nobody in scope
    not_audited(
        lambda: update(
            supervisor,
            announcement,
            valid_until=announcement.valid_from - timedelta(hours=1),
        ),
        ValidationError,
    )
    not_audited(lambda: update(supervisor2, announcement, title="别人的"), PermissionDenied)
    not_audited(
        lambda: services.announcement_update(
            actor=supervisor,
            announcement=announcement,
            version=9,
            notice_type=notice_type,
            title="旧页面",
            body=BODY,
            valid_from=timezone.now(),
            to_everyone=True,
        ),
        ConflictError,
    )
    before = AuditEvent.objects.count()
    update(supervisor, announcement)  # saved unchanged
    assert AuditEvent.objects.count() == before
    services.announcement_withdraw(
        actor=supervisor, announcement=announcement, version=announcement.version
    )
    not_audited(
        lambda: services.announcement_withdraw(
            actor=supervisor, announcement=announcement, version=announcement.version
        ),
        ValidationError,
    )


# --- announcement types ---------------------------------------------------------------------


def test_defining_announcement_types_is_audited(admin_user: User, supervisor: User) -> None:
    row = audited(lambda: services.notice_type_create(actor=admin_user, name="应急通知"))
    emergency = NoticeType.objects.get(name="应急通知")
    check(row, admin_user, "notice_type.create", emergency)
    row = audited(
        lambda: services.notice_type_update(
            actor=admin_user,
            notice_type=emergency,
            version=1,
            name="紧急通知",
            sort_order=3,
            is_active=False,
        )
    )
    check(row, admin_user, "notice_type.update", emergency)
    assert row.data == {
        "changes": {
            "in_use": [True, False],
            "sort_order": [0, 3],
            "type_name": ["应急通知", "紧急通知"],
        }
    }
    not_audited(
        lambda: services.notice_type_create(actor=admin_user, name="紧急通知"), ValidationError
    )
    not_audited(
        lambda: services.notice_type_update(
            actor=admin_user,
            notice_type=emergency,
            version=1,
            name="旧页面",
            sort_order=0,
            is_active=True,
        ),
        ConflictError,
    )
    not_audited(
        lambda: services.notice_type_create(actor=supervisor, name="越权类型"), PermissionDenied
    )


# --- through the pages, and on the audit log page ---------------------------------------------


def test_the_pages_audit_with_the_address_and_the_log_shows_chinese_labels(
    supervisor: User, notice_type: NoticeType, admin_client: Client
) -> None:
    start = timezone.localtime() - timedelta(minutes=5)
    form = {
        "form_token": str(uuid.uuid4()),
        "notice_type": notice_type.pk,
        "title": "关于调整值班安排的通知",
        "body": "自下周一起执行新的值班表。",
        "valid_from": start.strftime("%Y-%m-%dT%H:%M"),
        "valid_until": "",
        "to_everyone": "on",
    }
    client = client_for(supervisor)
    row = audited(lambda: client.post(reverse("notices:create"), form))
    assert row.action == "announcement.publish" and row.ip == "127.0.0.1"
    announcement = Announcement.objects.get()
    edited = {**form, "version": 1, "title": "值班安排调整"}
    client.post(reverse("notices:edit", args=[announcement.pk]), edited)
    client.post(reverse("notices:withdraw", args=[announcement.pk]), {"version": 2})
    admin_client.post(reverse("notices:type_create"), {"name": "应急通知", "sort_order": 5})
    page = admin_client.get("/system/audit/").content.decode()
    for label in ("发布公告", "修改公告", "撤回公告", "创建公告类型"):
        assert f"<td>{label}</td>" in page, label
    assert "<b>标题</b>: 关于调整值班安排的通知 → 值班安排调整" in page
