"""The joint handling of one order in real browsers (Chromium), on the whole ASGI application:
an agent takes the call and dispatches to two departments; each department's handler sees the
order appear on their open list without reloading and fills in only their own section; the
dispatcher's follow-up closes it; the print view has both sections."""

from __future__ import annotations

import re
from typing import Any

import pytest

from aqualine.accounts.models import Department, User
from aqualine.conftest import PASSWORD, AsgiLiveServer
from aqualine.workorders.models import Category, DepartmentTask, WorkOrder

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]

CALLER = "13800138000"


def _log_in(page: Any, base: str, user: User) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("工号").fill(user.agent_id)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")


def _handle_own_section(page: Any, order: WorkOrder, department: Department, text: str) -> None:
    page.locator("#order-list").get_by_role("link", name=order.number).click()
    page.wait_for_url(re.compile(rf".*/workorders/{order.pk}/$"))
    sections = page.locator("section.wo-task")
    own = sections.filter(has_text=department.name)
    other = sections.filter(has_not_text=department.name)
    assert other.locator("button").count() == 0  # the other department's section: read only
    own.get_by_role("button", name="签收").click()
    own = page.locator("section.wo-task").filter(has_text=department.name)
    own.get_by_label("现场勘查").fill(f"{text}：已到现场")
    own.get_by_role("button", name="保存勘查").click()
    own = page.locator("section.wo-task").filter(has_text=department.name)
    own.get_by_label("处理结果").fill(f"{text}：处理完毕")
    own.get_by_role("button", name="提交热线中心").click()
    page.locator("section.wo-task").filter(has_text=department.name).filter(
        has_text="已提交"
    ).wait_for()


def test_two_departments_handle_one_order_live_and_the_follow_up_closes_it(
    asgi_live_server: AsgiLiveServer,
    new_page: Any,
    agent: User,
    handler: User,
    quality_handler: User,
    dispatcher: User,
    repair: Department,
    quality: Department,
    leak: Category,
) -> None:
    base = asgi_live_server.url
    lists = {}
    for person in (handler, quality_handler):
        page = new_page(viewport={"width": 390, "height": 844})  # handlers in the field
        _log_in(page, base, person)
        page.goto(f"{base}/workorders/")
        page.locator("#aq-live[data-state=open]").wait_for(state="attached")
        page.evaluate("window.__notReloaded = true")
        lists[person.agent_id] = page

    desk = new_page()
    _log_in(desk, base, agent)
    desk.goto(f"{base}/workorders/new/?caller={CALLER}")
    assert desk.locator("#id_caller_number").input_value() == CALLER
    desk.locator("#id_category").select_option(str(leak.pk))
    desk.locator("#id_description").fill("小区门口管道漏水，水流很大")
    desk.locator("#intake-form button[type=submit]:not([name=close])").click()
    desk.wait_for_url(re.compile(r".*/workorders/\d+/$"))
    order = WorkOrder.objects.get()
    assert order.caller_number == CALLER
    dispatch = desk.locator("#dispatch")
    dispatch.get_by_label(repair.name).check()
    dispatch.get_by_label(quality.name).check()
    dispatch.get_by_role("button", name="派单").click()
    desk.locator("section.wo-task").nth(1).wait_for()

    for person, department in ((handler, repair), (quality_handler, quality)):
        page = lists[person.agent_id]
        page.locator("#order-list").get_by_role("link", name=order.number).wait_for()
        assert page.evaluate("window.__notReloaded") is True  # it came without a reload
        _handle_own_section(page, order, department, department.name)

    tasks = {t.department_id: t for t in DepartmentTask.objects.filter(order=order)}
    assert tasks[repair.pk].survey == f"{repair.name}：已到现场"
    assert tasks[quality.pk].result == f"{quality.name}：处理完毕"
    assert tasks[repair.pk].result_by == handler and tasks[quality.pk].result_by == quality_handler
    order.refresh_from_db()
    assert order.status == WorkOrder.Status.PENDING_FOLLOW_UP

    follow = new_page()
    _log_in(follow, base, dispatcher)
    follow.goto(f"{base}/workorders/{order.pk}/")
    form = follow.locator("#follow-up")
    form.get_by_label("满意", exact=True).check()
    form.get_by_label("满意度").select_option("5")
    form.get_by_role("button", name="保存回访").click()
    follow.get_by_text("回访已记录，工单已办结。").wait_for()
    order.refresh_from_db()
    assert order.status == WorkOrder.Status.CLOSED and order.satisfaction == 5

    follow.goto(f"{base}/workorders/{order.pk}/print/")
    printed = follow.locator("body").inner_text()
    assert order.number in printed and "维修人员签字" in printed
    assert f"{repair.name}：处理完毕" in printed and f"{quality.name}：处理完毕" in printed
    assert follow.evaluate("getComputedStyle(document.querySelector('.toolbar')).display") != ""
    follow.emulate_media(media="print")
    assert follow.evaluate("getComputedStyle(document.querySelector('.toolbar')).display") == (
        "none"
    )
