from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from aqualine.accounts.models import Role, User
from aqualine.accounts.selectors import permissions_by_area
from aqualine.conftest import client_for, make_user
from aqualine.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _perm(dotted: str) -> Permission:
    app_label, codename = dotted.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def test_seeded_roles_exist_with_their_permissions() -> None:
    names = list(Role.objects.order_by("sort_order").values_list("name", flat=True))
    assert names == ["系统管理员", "热线班长", "话务员", "派单员/回访员", "部门处理人", "领导查询"]
    admin = Role.objects.get(code="admin")
    assert {p.codename for p in admin.permissions.all()} >= {
        "manage_staff",
        "manage_departments",
        "manage_roles",
        "manage_parameters",
        "view_audit_log",
    }


def test_permissions_are_listed_by_business_area_in_chinese(admin_client: Client) -> None:
    areas = {a.label: [label for _p, label in a.permissions] for a in permissions_by_area()}
    assert "管理员工" in areas["人员与组织"]
    assert "管理系统参数" in areas["系统"]
    page = admin_client.get("/system/roles/new/").content.decode()
    assert "人员与组织" in page and "查看审计日志" in page


def test_a_new_role_grants_exactly_its_permissions(admin_client: Client) -> None:
    response = admin_client.post(
        "/system/roles/new/",
        {
            "name": "质检员",
            "description": "检查录音",
            "permissions": [_perm("core.view_audit_log").pk, _perm("accounts.manage_staff").pk],
        },
    )
    assert response.status_code == 302
    role = Role.objects.get(name="质检员")
    user = make_user("5001")
    user.groups.add(role)
    user = User.objects.get(pk=user.pk)  # fresh permission cache
    assert user.has_perm("core.view_audit_log")
    assert user.has_perm("accounts.manage_staff")
    assert not user.has_perm("accounts.manage_roles")
    assert AuditEvent.objects.filter(action="role.create", target_label="质检员").exists()


def test_a_role_held_by_staff_cannot_be_deleted(admin_client: Client, agent: User) -> None:
    role = Role.objects.get(code="agent")
    response = admin_client.post(f"/system/roles/{role.pk}/delete/", follow=True)
    page = response.content.decode()
    assert "仍有 1 名员工拥有该角色" in page
    assert Role.objects.filter(pk=role.pk).exists()
    assert not AuditEvent.objects.filter(action="role.delete").exists()


def test_an_unused_role_is_deleted_and_audited(admin_client: Client) -> None:
    role = Role.objects.get(code="viewer")
    response = admin_client.post(f"/system/roles/{role.pk}/delete/")
    assert response.status_code == 302
    assert not Role.objects.filter(pk=role.pk).exists()
    assert AuditEvent.objects.filter(action="role.delete", target_label="领导查询").exists()


def test_role_names_are_unique(admin_client: Client) -> None:
    page = admin_client.post("/system/roles/new/", {"name": "话务员"}).content.decode()
    assert "已有同名角色" in page


def test_editing_permissions_takes_effect_for_holders(admin_client: Client, agent: User) -> None:
    role = Role.objects.get(code="agent")
    agent_client = client_for(agent)
    assert agent_client.get("/system/audit/").status_code == 403
    held = list(role.permissions.all())
    before = sorted(f"{p.content_type.app_label}.{p.codename}" for p in held)
    admin_client.post(
        f"/system/roles/{role.pk}/",
        {
            "version": role.version,
            "name": role.name,
            "description": role.description,
            "permissions": [p.pk for p in held] + [_perm("core.view_audit_log").pk],
        },
    )
    assert agent_client.get("/system/audit/").status_code == 200
    diff = AuditEvent.objects.get(action="role.update").data["changes"]
    assert diff["permissions"] == [before, sorted([*before, "core.view_audit_log"])]
