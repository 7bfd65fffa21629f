"""Nobody gives away rights they do not hold, and the last administrator stays."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from aqualine.accounts.models import Role, User
from aqualine.conftest import PASSWORD, client_for, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_clerk(hotline) -> User:
    """Holds only "manage staff"."""
    role = Role.objects.create(name="人事专员")
    role.permissions.add(Permission.objects.get(codename="manage_staff"))
    user = make_user("6001", department=hotline)
    user.groups.add(role)
    return user


def test_a_staff_clerk_cannot_grant_the_administrator_role(
    staff_clerk: User, outsider: User, agent: User
) -> None:
    admin_role = Role.objects.get(code="admin")
    response = client_for(staff_clerk).post(
        f"/system/staff/{outsider.pk}/",
        {"version": outsider.version, "name": outsider.name, "roles": [admin_role.pk]},
    )
    assert "不能授予自己没有的权限" in response.content.decode()
    assert not outsider.groups.filter(pk=admin_role.pk).exists()
    # Nor edit someone who holds rights the clerk lacks (an agent's).
    response = client_for(staff_clerk).post(
        f"/system/staff/{agent.pk}/", {"version": agent.version, "name": "改名", "roles": []}
    )
    assert "不能修改拥有您所没有的权限的员工" in response.content.decode()


def test_a_staff_clerk_cannot_reset_an_administrators_password(
    staff_clerk: User, admin_user: User
) -> None:
    new = "Take-Over-2026!"
    response = client_for(staff_clerk).post(
        f"/system/staff/{admin_user.pk}/password/",
        {"password1": new, "password2": new},
        follow=True,
    )
    assert "不能修改拥有您所没有的权限的员工" in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.check_password(PASSWORD)


def test_the_last_administrator_cannot_drop_their_own_admin_role(
    admin_client: Client, admin_user: User
) -> None:
    response = admin_client.post(
        f"/system/staff/{admin_user.pk}/",
        {"version": admin_user.version, "name": admin_user.name, "roles": []},
    )
    assert "至少要保留一名有权管理角色的在职员工" in response.content.decode()
    assert admin_user.groups.filter(role__code="admin").exists()


def test_logins_and_uniqueness_ignore_the_case_of_the_agent_id(admin_client: Client) -> None:
    make_user("ab01")
    assert Client().post("/login/", {"username": "AB01", "password": PASSWORD}).status_code == 302


@pytest.mark.parametrize(
    "url",
    [
        "/system/audit/?since=2024-02-30&until=2024-13-01",
        "/system/audit/?actor=%00x&target=%00",
        "/system/staff/?q=%00abc&role=99999999999999999999&department=%EF%BC%91",
    ],
)
def test_odd_query_strings_never_cause_a_server_error(admin_client: Client, url: str) -> None:
    assert admin_client.get(url).status_code == 200


def test_out_of_range_ids_in_forms_are_field_errors(admin_client: Client, agent: User) -> None:
    response = admin_client.post(
        f"/system/staff/{agent.pk}/",
        {
            "version": agent.version,
            "name": "x",
            "roles": ["99999999999999999999"],
            "department": "99999999999999999999",
        },
    )
    assert response.status_code == 200
    agent.refresh_from_db()
    assert agent.name == "张敏"
