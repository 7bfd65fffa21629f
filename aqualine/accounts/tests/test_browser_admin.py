"""A real browser: an administrator builds a department, a role and a user; that user logs in
and sees only what the role allows."""

from __future__ import annotations

from typing import Any

import pytest

from aqualine.accounts.models import Department, Role, User
from aqualine.conftest import PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

NEW_PASSWORD = "Pipe-Burst-2026!"


def _login(page: Any, base: str, agent_id: str, password: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("工号").fill(agent_id)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")


def test_admin_sets_up_a_department_role_and_user_who_then_sees_only_that(
    live_server: Any, new_page: Any, admin_user: User
) -> None:
    base = live_server.url
    page = new_page()
    _login(page, base, "admin", PASSWORD)

    # A department under the hotline centre.
    page.get_by_role("link", name="部门管理").first.click()
    page.get_by_role("link", name="新建部门").click()
    page.get_by_label("部门名称").fill("抢修调度组")
    page.get_by_label("编码").fill("dispatch-desk")
    page.get_by_label("上级部门").select_option(label="热线中心")
    page.get_by_role("button", name="保存").click()
    page.get_by_text("已创建部门 抢修调度组").wait_for()

    # A role with two permissions.
    page.get_by_role("link", name="角色与权限").first.click()
    page.get_by_role("link", name="新建角色").click()
    page.get_by_label("角色名称").fill("调度组长")
    page.get_by_label("管理部门").check()
    page.get_by_label("查看审计日志").check()
    page.get_by_role("button", name="保存").click()
    page.get_by_text("已创建角色 调度组长").wait_for()

    # A user in that role, in that department; a bad first try shows Chinese field errors.
    page.get_by_role("link", name="员工管理").first.click()
    page.get_by_role("link", name="新建员工").click()
    page.get_by_role("button", name="保存").click()
    assert page.get_by_text("这个字段是必填项").count() >= 2
    page.get_by_label("工号").fill("7001")
    page.get_by_label("姓名").fill("钱调度")
    desk = Department.objects.get(code="dispatch-desk")
    assert desk.parent == Department.objects.get(code="hotline")
    page.get_by_label("部门", exact=True).select_option(value=str(desk.pk))
    page.get_by_label("调度组长").check()
    page.get_by_label("密码", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("确认密码").fill(NEW_PASSWORD)
    page.get_by_role("button", name="保存").click()
    page.get_by_text("已创建员工 7001 钱调度").wait_for()

    user = User.objects.get(agent_id="7001")
    assert user.department == Department.objects.get(code="dispatch-desk")
    assert [g.pk for g in user.groups.all()] == [Role.objects.get(name="调度组长").pk]

    # The new user logs in (another browser context) and sees only the two allowed entries.
    other = new_page()
    _login(other, base, "7001", NEW_PASSWORD)
    menu = other.locator("nav.sidebar")
    assert menu.get_by_role("link", name="部门管理").is_visible()
    assert menu.get_by_role("link", name="审计日志").is_visible()
    for hidden in ("员工管理", "角色与权限", "系统参数"):
        assert menu.get_by_role("link", name=hidden).count() == 0
    other.goto(f"{base}/system/staff/")
    assert other.get_by_role("heading", name="无权访问").is_visible()
    other.goto(f"{base}/system/audit/")
    assert other.get_by_role("cell", name="创建员工").first.is_visible()


def test_the_menu_folds_away_on_a_phone(live_server: Any, new_page: Any, admin_user: User) -> None:
    page = new_page({"width": 390, "height": 844})
    _login(page, live_server.url, "admin", PASSWORD)
    sidebar = page.locator("nav.sidebar")
    assert not sidebar.is_visible()
    page.get_by_label("菜单", exact=True).click()
    assert sidebar.is_visible()
    sidebar.get_by_role("link", name="员工管理").click()
    page.get_by_role("heading", name="员工管理").wait_for()
