from __future__ import annotations

import pytest
from django.test import Client

from aqualine.accounts import services
from aqualine.accounts.models import Role, User
from aqualine.conftest import PASSWORD, client_for, make_user
from aqualine.core.concurrency import ConflictError
from aqualine.core.models import AuditEvent

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Water-Main-2026!"


def _create_payload(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "agent_id": "1005",
        "name": "钱多多",
        "phone": "13800138000",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        "roles": [Role.objects.get(code="agent").pk],
    }
    data.update(overrides)
    return data


def test_admin_creates_staff_member_with_roles_and_audit(admin_client: Client, hotline) -> None:
    response = admin_client.post(
        "/system/staff/new/", _create_payload(department=hotline.pk), follow=True
    )
    assert response.status_code == 200
    assert "已创建员工" in response.content.decode()
    user = User.objects.get(agent_id="1005")
    assert user.department == hotline
    assert list(user.groups.values_list("name", flat=True)) == ["话务员"]
    assert user.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="staff.create")
    assert event.target_label.startswith("1005")
    assert event.actor_label.startswith("admin")


def test_it_rejects_an_empty_agent_id_in_chinese(admin_client: Client) -> None:
    response = admin_client.post("/system/staff/new/", _create_payload(agent_id=""))
    assert response.status_code == 200
    assert "这个字段是必填项" in response.content.decode()
    assert not User.objects.filter(name="钱多多").exists()


def test_it_rejects_a_duplicate_agent_id_ignoring_case(admin_client: Client, agent: User) -> None:
    make_user("ab01")
    for duplicate in ("1001", "AB01"):
        response = admin_client.post("/system/staff/new/", _create_payload(agent_id=duplicate))
        assert "该工号已存在" in response.content.decode()
    assert User.objects.filter(name="钱多多").count() == 0
    assert not AuditEvent.objects.filter(action="staff.create").exists()


def test_it_rejects_a_weak_or_mismatched_password(admin_client: Client) -> None:
    weak = admin_client.post(
        "/system/staff/new/", _create_payload(password1="123", password2="123")
    ).content.decode()
    assert "密码太短：至少需要 8 个字符" in weak
    mismatch = admin_client.post(
        "/system/staff/new/", _create_payload(password2="Something-else-1")
    ).content.decode()
    assert "两次输入的密码不一致" in mismatch
    assert not User.objects.filter(agent_id="1005").exists()


def test_service_refuses_duplicate_agent_id(admin_user: User, agent: User) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.staff_create(actor=admin_user, agent_id="1001", name="x", password=PASSWORD)


def test_edit_changes_department_and_roles_and_records_the_diff(
    admin_client: Client, agent: User, repair
) -> None:
    supervisor = Role.objects.get(code="supervisor")
    response = admin_client.post(
        f"/system/staff/{agent.pk}/",
        {
            "version": agent.version,
            "name": "张敏",
            "phone": "010-1234",
            "department": repair.pk,
            "roles": [supervisor.pk],
        },
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.department == repair
    assert agent.version == 2
    assert list(agent.groups.values_list("name", flat=True)) == ["热线班长"]
    diff = AuditEvent.objects.get(action="staff.update").data["changes"]
    assert diff["department"] == ["热线中心", "管网维修部"]
    assert diff["roles"] == [["话务员"], ["热线班长"]]


def test_a_concurrent_edit_is_refused_and_nothing_is_overwritten(
    admin_client: Client, agent: User
) -> None:
    stale_version = agent.version
    first = admin_client.post(
        f"/system/staff/{agent.pk}/",
        {
            "version": stale_version,
            "name": "First editor",
            "phone": "",
            "roles": [],
        },
    )
    assert first.status_code == 302
    second = admin_client.post(
        f"/system/staff/{agent.pk}/",
        {
            "version": stale_version,
            "name": "Second editor",
            "phone": "",
            "roles": [],
        },
    )
    assert second.status_code == 200
    assert "其他人已修改了这条记录" in second.content.decode()
    agent.refresh_from_db()
    assert agent.name == "First editor"


def test_service_conflict_raises(admin_user: User, agent: User) -> None:
    with pytest.raises(ConflictError):
        services.staff_update(
            actor=admin_user,
            user=agent,
            version=agent.version + 5,
            name="x",
            phone="",
            department=None,
            roles=[],
        )


def test_deactivated_staff_cannot_log_in_and_loses_their_session(
    admin_client: Client, agent: User
) -> None:
    agent_session = client_for(agent)
    assert agent_session.get("/").status_code == 200
    response = admin_client.post(
        f"/system/staff/{agent.pk}/active/", {"active": "0", "version": agent.version}
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.is_active is False
    assert agent_session.get("/").status_code == 302  # logged out
    login = Client().post("/login/", {"username": "1001", "password": PASSWORD})
    assert login.status_code == 200
    assert "工号或密码错误" in login.content.decode()
    assert User.objects.filter(pk=agent.pk).exists()  # never hard-deleted
    assert AuditEvent.objects.filter(action="staff.deactivate").count() == 1


def test_an_administrator_cannot_deactivate_themselves(
    admin_client: Client, admin_user: User
) -> None:
    response = admin_client.post(
        f"/system/staff/{admin_user.pk}/active/",
        {"active": "0", "version": admin_user.version},
        follow=True,
    )
    assert "不能停用自己的账号" in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_password_reset_by_administrator_is_audited(admin_client: Client, agent: User) -> None:
    response = admin_client.post(
        f"/system/staff/{agent.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(
        action="staff.password_reset", target_id=str(agent.pk)
    ).exists()


def test_a_user_changes_their_own_password(agent: User) -> None:
    client = client_for(agent)
    response = client.post(
        "/password/",
        {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.check_password(NEW_PASSWORD)
    assert client.get("/").status_code == 200  # still logged in
    wrong = client.post(
        "/password/",
        {
            "old_password": "nope",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert "旧密码不正确" in wrong.content.decode()


def test_staff_list_filters_by_search_department_and_status(
    admin_client: Client, agent: User, handler: User
) -> None:
    page = admin_client.get("/system/staff/", {"q": "赵"}).content.decode()
    assert "3001" in page and "1001" not in page
    page = admin_client.get(
        "/system/staff/", {"department": str(agent.department_id)}
    ).content.decode()
    assert "1001" in page and "3001" not in page
    handler.is_active = False
    handler.save()
    assert "3001" not in admin_client.get("/system/staff/").content.decode()
    assert "3001" in admin_client.get("/system/staff/", {"status": "inactive"}).content.decode()


def test_the_audit_log_shows_changes_with_chinese_field_names(
    admin_client: Client, agent: User, repair
) -> None:
    admin_client.post(
        f"/system/staff/{agent.pk}/",
        {"version": agent.version, "name": "张敏", "department": repair.pk, "roles": []},
    )
    admin_client.post(
        f"/system/staff/{agent.pk}/active/", {"active": "0", "version": agent.version + 1}
    )
    page = admin_client.get("/system/audit/").content.decode()
    assert "修改员工" in page and "停用员工" in page
    assert "<b>部门</b>: 热线中心 → 管网维修部" in page
    assert "<b>角色</b>: 话务员 → ∅" in page
