from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from aqualine.accounts import services
from aqualine.accounts.models import Department, User
from aqualine.accounts.selectors import department_tree
from aqualine.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_admin_creates_a_sub_department(admin_client: Client, repair: Department) -> None:
    response = admin_client.post(
        "/system/departments/new/",
        {
            "name": "抢修一班",
            "code": "repair-1",
            "parent": repair.pk,
            "sort_order": 0,
        },
    )
    assert response.status_code == 302
    child = Department.objects.get(code="repair-1")
    assert child.parent == repair
    assert [(r.department.code, r.depth) for r in department_tree()][-2:] == [
        ("repair", 0),
        ("repair-1", 1),
    ]
    assert AuditEvent.objects.filter(action="department.create").exists()


def test_it_refuses_to_move_a_department_under_its_own_child(
    admin_client: Client, repair: Department
) -> None:
    child = Department.objects.create(name="抢修一班", code="repair-1", parent=repair)
    grandchild = Department.objects.create(name="夜班", code="night", parent=child)
    response = admin_client.post(
        f"/system/departments/{repair.pk}/",
        {
            "version": repair.version,
            "name": repair.name,
            "code": repair.code,
            "parent": grandchild.pk,
            "sort_order": 0,
        },
    )
    assert response.status_code == 200
    assert "不能把部门移动到它自身或它的下级部门之下" in response.content.decode()
    repair.refresh_from_db()
    assert repair.parent is None
    assert repair.version == 1
    assert not AuditEvent.objects.filter(action="department.update").exists()


def test_it_refuses_a_department_as_its_own_parent(admin_user: User, repair: Department) -> None:
    with pytest.raises(ValidationError):
        services.department_update(
            actor=admin_user,
            department=repair,
            version=1,
            name=repair.name,
            code=repair.code,
            parent=repair,
            phone="",
            sort_order=0,
        )


def test_it_refuses_duplicate_names_among_siblings_and_duplicate_codes(
    admin_client: Client, repair: Department
) -> None:
    same_name = admin_client.post(
        "/system/departments/new/", {"name": "管网维修部", "code": "other", "sort_order": 0}
    )
    assert "同一级已有同名部门" in same_name.content.decode()
    same_code = admin_client.post(
        "/system/departments/new/", {"name": "别的部门", "code": "repair", "sort_order": 0}
    )
    assert "该编码已被其他部门使用" in same_code.content.decode()
    assert Department.objects.count() == 2  # hotline (admin's) and repair


def test_moving_a_department_keeps_its_members(
    admin_client: Client, hotline: Department, repair: Department, handler: User
) -> None:
    response = admin_client.post(
        f"/system/departments/{repair.pk}/",
        {
            "version": repair.version,
            "name": repair.name,
            "code": repair.code,
            "parent": hotline.pk,
            "sort_order": 3,
        },
    )
    assert response.status_code == 302
    repair.refresh_from_db()
    assert repair.parent == hotline
    handler.refresh_from_db()
    assert handler.department == repair


def test_a_department_with_active_staff_cannot_be_deactivated(
    admin_client: Client, repair: Department, handler: User
) -> None:
    response = admin_client.post(
        f"/system/departments/{repair.pk}/active/",
        {"active": "0", "version": repair.version},
        follow=True,
    )
    assert "该部门仍有在职人员" in response.content.decode()
    repair.refresh_from_db()
    assert repair.is_active
    handler.is_active = False
    handler.save()
    admin_client.post(
        f"/system/departments/{repair.pk}/active/", {"active": "0", "version": repair.version}
    )
    repair.refresh_from_db()
    assert not repair.is_active


def test_the_edit_page_lists_members(
    admin_client: Client, repair: Department, handler: User
) -> None:
    page = admin_client.get(f"/system/departments/{repair.pk}/").content.decode()
    assert "3001 赵强" in page
