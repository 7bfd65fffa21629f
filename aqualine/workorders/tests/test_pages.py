"""The work-order pages: intake, detail with dispatch and urge, list, lookup by number."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone, translation
from django.utils.functional import Promise

from aqualine.accounts.models import Department, User
from aqualine.conftest import PASSWORD, client_for
from aqualine.customers.models import Account, AccountPhone, Area, Bill, OutageNotice
from aqualine.workorders.models import Category, DepartmentTask, WorkOrder
from aqualine.workorders.tests.conftest import dispatched, new_order
from aqualine.workorders.transitions import NOT_ALLOWED
from aqualine.workorders.views import CONFLICT_TEXT

pytestmark = pytest.mark.django_db

CALLER = "13800138000"


@pytest.fixture
def account(db: None) -> Account:
    area = Area.objects.create(code="dongcheng", name="东城片区")
    account = Account.objects.create(
        number="1000000001", name="张建国", address="东城区幸福路8号3栋301室", area=area
    )
    AccountPhone.objects.create(account=account, number=CALLER)
    Bill.objects.create(
        account=account,
        period="2025-01",
        usage_m3=Decimal("10"),
        amount=Decimal("86.50"),
        paid=Decimal("0"),
        due_date=date(2025, 2, 15),
    )
    return account


def zh(message: str | Promise) -> str:
    """A message as the Chinese UI shows it (the catalogue's translation once it has one)."""
    with translation.override("zh-hans"):
        return translation.gettext(str(message)) if isinstance(message, str) else str(message)


def intake_post(leaf: Category, token: str, **extra: str) -> dict[str, str]:
    data = {
        "form_token": token,
        "source": "phone",
        "caller_number": CALLER,
        "reporter_name": "陈先生",
        "reporter_phone": CALLER,
        "account_number": "",
        "address": "东城区人民路 1 号",
        "category": str(leaf.pk),
        "description": "小区门口管道漏水",
        "urgency": "normal",
    }
    data.update(extra)
    return data


def form_token(page: str) -> str:
    marker = 'name="form_token" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


# --- intake ----------------------------------------------------------------------------------


def test_intake_shows_the_callers_past_orders_and_the_accounts_arrears(
    agent: User, leak: Category, account: Account
) -> None:
    old = new_order(agent, leak, description="楼道水管滴水")
    page = client_for(agent).get(f"/workorders/new/?caller={CALLER}").content.decode()
    assert old.number in page and "楼道水管滴水" in page
    assert f'data-category="{leak.pk}"' in page  # the copy-into-form button carries the fields
    assert f'value="{CALLER}"' in page  # caller number prefilled
    assert account.number in page and "86.50" in page
    assert zh("Source") in page and zh("Phone") in page


def test_intake_shows_the_outage_banner_of_the_callers_area(agent: User, account: Account) -> None:
    now = timezone.now()
    notice = OutageNotice.objects.create(
        kind=OutageNotice.Kind.EMERGENCY,
        status=OutageNotice.Status.ACTIVE,
        reason="管道抢修",
        starts_at=now - timedelta(hours=1),
        expected_end_at=now + timedelta(hours=3),
    )
    assert account.area is not None
    notice.areas.set([account.area])
    page = client_for(agent).get(f"/workorders/new/?caller={CALLER}").content.decode()
    assert 'class="outage-banner"' in page and "管道抢修" in page
    other = client_for(agent).get("/workorders/new/?caller=13900000000").content.decode()
    assert 'class="outage-banner"' not in other


def test_saving_creates_the_order_and_a_replayed_post_does_not_create_a_second(
    agent: User, leak: Category, account: Account
) -> None:
    client = client_for(agent)
    token = form_token(client.get(f"/workorders/new/?caller={CALLER}").content.decode())
    data = intake_post(leak, token, account_number=account.number)
    first = client.post("/workorders/new/", data)
    order = WorkOrder.objects.get()
    assert first.status_code == 302 and first.headers["Location"] == f"/workorders/{order.pk}/"
    assert order.account == account and order.created_by == agent
    assert order.status == WorkOrder.Status.PENDING_DISPATCH
    again = client.post("/workorders/new/", data)
    assert again.status_code == 302 and again.headers["Location"] == f"/workorders/{order.pk}/"
    assert WorkOrder.objects.count() == 1


def test_a_consultation_is_saved_and_closed_at_intake(agent: User, leak: Category) -> None:
    client = client_for(agent)
    token = form_token(client.get("/workorders/new/").content.decode())
    no_answer = client.post("/workorders/new/", {**intake_post(leak, token), "close": "1"})
    assert no_answer.status_code == 200 and not WorkOrder.objects.exists()
    assert (
        zh("Write the answer given to the caller to close at intake.") in no_answer.content.decode()
    )
    data = {**intake_post(leak, token), "close": "1", "answer": "已告知抢修时间"}
    assert client.post("/workorders/new/", data).status_code == 302
    order = WorkOrder.objects.get()
    assert order.status == WorkOrder.Status.CLOSED
    assert order.events.filter(type="closed", data__at_intake=True).exists()


def test_a_fresh_form_gets_a_fresh_token(agent: User, leak: Category) -> None:
    client = client_for(agent)
    tokens = {form_token(client.get("/workorders/new/").content.decode()) for _ in range(2)}
    assert len(tokens) == 2
    for token in tokens:
        client.post("/workorders/new/", intake_post(leak, token))
    assert WorkOrder.objects.count() == 2


def test_validation_errors_are_in_chinese_and_nothing_is_saved(agent: User, leak: Category) -> None:
    client = client_for(agent)
    token = form_token(client.get("/workorders/new/").content.decode())
    parent = leak.parent
    assert parent is not None
    response = client.post(
        "/workorders/new/",
        intake_post(leak, token, description="  ", account_number="999", category=str(parent.pk)),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "这个字段是必填项" in page  # description
    assert zh("No account has this number.") in page
    assert zh("Choose a specific, active category.") in page  # a parent is not a leaf
    assert WorkOrder.objects.count() == 0
    # the token was not spent: correcting the form saves it
    client.post("/workorders/new/", intake_post(leak, token))
    assert WorkOrder.objects.count() == 1


def test_a_post_without_a_token_is_refused(agent: User, leak: Category) -> None:
    page = client_for(agent).post("/workorders/new/", intake_post(leak, "")).content.decode()
    assert zh("The form is incomplete; reload the page and try again.") in page
    assert WorkOrder.objects.count() == 0


def test_the_repeat_caller_banner_urges_the_open_order(agent: User, leak: Category) -> None:
    order = new_order(agent, leak)
    client = client_for(agent)
    page = client.get(f"/workorders/new/?caller={CALLER}").content.decode()
    assert 'class="wo-banner"' in page and f"/workorders/{order.pk}/urge/" in page
    response = client.post(
        f"/workorders/{order.pk}/urge/", {"next": f"/workorders/new/?caller={CALLER}"}
    )
    assert response.headers["Location"] == f"/workorders/new/?caller={CALLER}"
    order.refresh_from_db()
    assert order.urge_count == 1


def test_no_banner_once_the_order_is_closed(agent: User, leak: Category) -> None:
    order = new_order(agent, leak)
    WorkOrder.objects.filter(pk=order.pk).update(status=WorkOrder.Status.CLOSED)
    page = client_for(agent).get(f"/workorders/new/?caller={CALLER}").content.decode()
    assert 'class="wo-banner"' not in page and order.number in page


def test_urge_refused_on_a_closed_order_is_a_message_not_an_error(
    agent: User, leak: Category
) -> None:
    order = new_order(agent, leak)
    WorkOrder.objects.filter(pk=order.pk).update(status=WorkOrder.Status.CLOSED)
    response = client_for(agent).post(f"/workorders/{order.pk}/urge/", follow=True)
    assert response.status_code == 200
    assert zh(NOT_ALLOWED) in response.content.decode()
    order.refresh_from_db()
    assert order.urge_count == 0


def test_an_offsite_next_is_ignored(agent: User, leak: Category) -> None:
    order = new_order(agent, leak)
    response = client_for(agent).post(
        f"/workorders/{order.pk}/urge/", {"next": "https://evil.example/"}
    )
    assert response.headers["Location"] == f"/workorders/{order.pk}/"


# --- detail and dispatch ---------------------------------------------------------------------


def test_a_handler_of_another_department_gets_404(
    agent: User, leak: Category, repair: Department, handler: User, quality_handler: User
) -> None:
    order, _tasks = dispatched(agent, leak, repair)
    assert client_for(handler).get(f"/workorders/{order.pk}/").status_code == 200
    assert client_for(quality_handler).get(f"/workorders/{order.pk}/").status_code == 404


def test_the_detail_shows_fields_sections_and_timeline(
    agent: User, leak: Category, repair: Department
) -> None:
    order, tasks = dispatched(agent, leak, repair)
    DepartmentTask.objects.filter(pk=tasks[0].pk).update(
        deadline=timezone.now() - timedelta(hours=1)
    )
    page = client_for(agent).get(f"/workorders/{order.pk}/").content.decode()
    assert order.number in page and "小区门口管道漏水" in page
    assert "管网维修部" in page and 'class="overdue"' in page
    assert zh("Overdue by %(h)d h %(m)d min") % {"h": 1, "m": 0} in page
    assert "张敏" in page  # the actor of the timeline's events
    assert 'id="dispatch"' not in page  # already dispatched


def test_dispatch_to_two_departments_creates_two_tasks(
    agent: User, leak: Category, repair: Department, quality: Department
) -> None:
    order = new_order(agent, leak)
    client = client_for(agent)
    page = client.get(f"/workorders/{order.pk}/").content.decode()
    assert 'id="dispatch"' in page
    response = client.post(
        f"/workorders/{order.pk}/dispatch/",
        {"version": order.version, "departments": [repair.pk, quality.pk], "note": "联合处理"},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == WorkOrder.Status.PROCESSING
    assert sorted(t.department.code for t in order.tasks.all()) == ["quality", "repair"]


def test_dispatch_defaults_to_the_categorys_department(
    agent: User, leak: Category, repair: Department, quality: Department
) -> None:
    order = new_order(agent, leak)
    page = client_for(agent).get(f"/workorders/{order.pk}/").content.decode()
    checked = page[page.index('id="dispatch"') :]
    repair_input = checked[checked.index(f'value="{repair.pk}"') - 200 :][:400]
    quality_input = checked[checked.index(f'value="{quality.pk}"') - 200 :][:400]
    assert "checked" in repair_input.split(f'value="{repair.pk}"')[1].split(">")[0]
    assert "checked" not in quality_input.split(f'value="{quality.pk}"')[1].split(">")[0]


def test_dispatch_errors_are_messages_not_500s(
    agent: User, leak: Category, repair: Department
) -> None:
    order = new_order(agent, leak)
    client = client_for(agent)
    none_chosen = client.post(f"/workorders/{order.pk}/dispatch/", {"version": order.version})
    assert none_chosen.status_code == 400 and "至少" in none_chosen.content.decode()
    stale = client.post(
        f"/workorders/{order.pk}/dispatch/",
        {"version": order.version + 5, "departments": [repair.pk]},
    )
    assert stale.status_code == 409 and zh(CONFLICT_TEXT) in stale.content.decode()
    client.post(
        f"/workorders/{order.pk}/dispatch/", {"version": order.version, "departments": [repair.pk]}
    )
    twice = client.post(
        f"/workorders/{order.pk}/dispatch/",
        {"version": order.version + 1, "departments": [repair.pk]},
    )
    assert twice.status_code == 302
    assert zh(NOT_ALLOWED) in client.get(twice.headers["Location"]).content.decode()
    assert order.tasks.count() == 1


def test_a_handler_cannot_dispatch(
    agent: User, leak: Category, repair: Department, handler: User
) -> None:
    order, _tasks = dispatched(agent, leak, repair)
    response = client_for(handler).post(
        f"/workorders/{order.pk}/dispatch/", {"departments": [repair.pk]}
    )
    assert response.status_code == 403


# --- list and lookup -------------------------------------------------------------------------


def test_the_list_filters_by_status_department_and_overdue(
    agent: User, leak: Category, repair: Department, quality: Department
) -> None:
    waiting = new_order(agent, leak, description="待派单的")
    to_repair, repair_tasks = dispatched(agent, leak, repair)
    to_quality, _ = dispatched(agent, leak, quality)
    DepartmentTask.objects.filter(pk=repair_tasks[0].pk).update(
        deadline=timezone.now() - timedelta(minutes=5)
    )
    client = client_for(agent)

    def numbers(query: str) -> set[str]:
        page = client.get(f"/workorders/?{query}").content.decode()
        return {o.number for o in (waiting, to_repair, to_quality) if o.number in page}

    assert numbers("") == {waiting.number, to_repair.number, to_quality.number}
    assert numbers("status=pending_dispatch") == {waiting.number}
    assert numbers(f"department={quality.pk}") == {to_quality.number}
    assert numbers("overdue=on") == {to_repair.number}
    assert client.get("/workorders/?department=99999999999999999999").status_code == 200


def test_the_list_shows_a_handler_only_their_departments_orders(
    agent: User, leak: Category, repair: Department, quality: Department, handler: User
) -> None:
    mine, _ = dispatched(agent, leak, repair)
    other, _ = dispatched(agent, leak, quality)
    page = client_for(handler).get("/workorders/").content.decode()
    assert mine.number in page and other.number not in page


def test_the_list_is_paginated(agent: User, leak: Category) -> None:
    from aqualine.core.parameters import param

    size = int(param("basic.page_size"))
    for _ in range(size + 1):
        new_order(agent, leak)
    client = client_for(agent)
    first = client.get("/workorders/").content.decode()
    assert "page=2" in first
    second = client.get("/workorders/?page=2").content.decode()
    assert second.count('href="/workorders/') - second.count('href="/workorders/new/') >= 1


def test_lookup_by_number_goes_to_the_order(agent: User, leak: Category) -> None:
    order = new_order(agent, leak)
    client = client_for(agent)
    response = client.get("/workorders/lookup/", {"number": order.number.lower()})
    assert response.headers["Location"] == f"/workorders/{order.pk}/"
    missing = client.get(
        "/workorders/lookup/", {"number": "GD000", "back": f"/workorders/new/?caller={CALLER}"}
    )
    assert missing.headers["Location"] == f"/workorders/new/?caller={CALLER}"
    page = client.get(missing.headers["Location"]).content.decode()
    assert (
        zh("No work order %(number)s was found (or you may not see it).") % {"number": "GD000"}
        in page
    )


def test_lookup_does_not_reveal_an_order_of_another_department(
    agent: User, leak: Category, repair: Department, quality_handler: User
) -> None:
    order, _ = dispatched(agent, leak, repair)
    response = client_for(quality_handler).get("/workorders/lookup/", {"number": order.number})
    assert response.headers["Location"] == "/workorders/"


def sidebar(page: str) -> str:
    start = page.index('<nav class="sidebar"')
    return page[start : page.index("</nav>", start)]


def test_the_menu_offers_the_work_order_pages_once(agent: User, handler: User) -> None:
    page = sidebar(client_for(agent).get("/").content.decode())
    assert page.count('href="/workorders/new/"') == 1 and page.count('href="/workorders/"') == 1
    handler_page = sidebar(client_for(handler).get("/").content.decode())
    assert 'href="/workorders/new/"' not in handler_page
    assert 'href="/workorders/"' in handler_page


# --- a real browser on a phone-size screen ---------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_clicking_a_past_order_copies_it_into_the_form_on_a_phone(
    live_server: Any, new_page: Any, agent: User, leak: Category
) -> None:
    old = new_order(agent, leak, description="水表井漏水", urgency="urgent", address="西城区 2 号")
    page = new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("工号").fill(agent.agent_id)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/workorders/new/?caller={CALLER}")
    assert page.locator("#id_caller_number").input_value() == CALLER
    page.locator("button[data-copy-order]").first.click()
    assert page.locator("#id_description").input_value() == "水表井漏水"
    assert page.locator("#id_category").input_value() == str(leak.pk)
    assert page.locator("#id_urgency").input_value() == "urgent"
    assert page.locator("#id_address").input_value() == "西城区 2 号"
    page.locator("#intake-form button[type=submit]:not([name=close])").click()
    page.wait_for_url(re.compile(r".*/workorders/\d+/$"))
    created = WorkOrder.objects.exclude(pk=old.pk).get()
    assert created.description == "水表井漏水" and created.urgency == "urgent"
    assert page.url.endswith(f"/workorders/{created.pk}/")
