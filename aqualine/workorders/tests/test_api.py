"""The work-order JSON API, through real requests with real tokens: the same permissions and
scope as the pages, the services' errors as 400/403/409, idempotent intake, the schema."""

from __future__ import annotations

import io
import json
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone, translation
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle

from aqualine.accounts.models import Department, User
from aqualine.api import idempotency
from aqualine.api.testing import api_client_for
from aqualine.conftest import client_for
from aqualine.core.concurrency import ConflictError
from aqualine.customers.models import Account, Area
from aqualine.workorders.models import Category, DepartmentTask, WorkOrder
from aqualine.workorders.tests.conftest import dispatched, finish, new_order
from aqualine.workorders.transitions import NOT_ALLOWED

pytestmark = pytest.mark.django_db

LIST = "/api/v1/workorders/"
CJK = re.compile(r"[\u4e00-\u9fff]")


def zh(message: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(message)


def detail_url(order: WorkOrder) -> str:
    return f"/api/v1/workorders/{order.pk}/"


def task_url(task: DepartmentTask, action: str) -> str:
    return f"/api/v1/tasks/{task.pk}/{action}/"


def intake_body(category: Category, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source": "phone",
        "category": category.pk,
        "description": "小区门口管道漏水",
        "caller_number": "13800138000",
        "reporter_name": "陈先生",
        "address": "东城区人民路 1 号",
    }
    body.update(extra)
    return body


def create(client: APIClient, body: dict[str, Any], key: str | None = None) -> Any:
    return client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()))


def numbers(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["number"] for row in response.json()["results"]]


# --- authentication and permissions -----------------------------------------------------------


def test_a_request_without_a_valid_token_gets_401_with_the_token_challenge(agent: User) -> None:
    for client in (
        APIClient(),
        _with_header("Token aql_not-a-real-token"),
        _with_header("Bearer whatever"),
    ):
        response = client.get(LIST)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Token"
        assert "detail" in response.json()


def _with_header(value: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=value)
    return client


def test_a_browser_session_is_not_enough_for_the_data_endpoints(agent: User) -> None:
    # Token only: a page's session cookie cannot be used to write through the API (no CSRF).
    response = client_for(agent).get(LIST)
    assert response.status_code == 401


def test_a_deactivated_staff_members_token_stops_working(agent: User) -> None:
    client = api_client_for(agent)
    assert client.get(LIST).status_code == 200
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    assert client.get(LIST).status_code == 401


def test_a_user_without_the_permission_gets_403(outsider: User, leak: Category) -> None:
    client = api_client_for(outsider)
    assert client.get(LIST).status_code == 403
    assert create(client, intake_body(leak)).status_code == 403
    assert client.get("/api/v1/categories/").status_code == 403
    assert WorkOrder.objects.count() == 0


def test_a_handler_may_list_but_not_create(handler: User, leak: Category) -> None:
    client = api_client_for(handler)
    assert client.get(LIST).status_code == 200
    response = create(client, intake_body(leak))
    assert response.status_code == 403
    assert WorkOrder.objects.count() == 0


def test_messages_follow_accept_language_and_default_to_chinese(outsider: User) -> None:
    chinese = api_client_for(outsider).get(LIST)
    assert CJK.search(chinese.json()["detail"])
    assert chinese.headers["Content-Language"] == "zh-hans"
    english = api_client_for(outsider, language="en").get(LIST)
    assert english.json()["detail"] == "You do not have permission to perform this action."
    assert english.headers["Content-Language"] == "en"
    assert translation.get_language() != "en"  # the API did not leave English switched on


def test_requests_beyond_the_rate_are_throttled(
    agent: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(UserRateThrottle.THROTTLE_RATES, "user", "3/minute")
    client = api_client_for(agent)
    assert [client.get(LIST).status_code for _ in range(4)] == [200, 200, 200, 429]


# --- list and detail: the user's scope ---------------------------------------------------------


@pytest.fixture
def three_orders(
    agent: User, leak: Category, repair: Department, quality: Department
) -> dict[str, WorkOrder]:
    repair_order, _tasks = dispatched(agent, leak, repair)
    quality_order = new_order(agent, leak, caller_number="13912345678")
    from aqualine.workorders import services

    services.workorder_dispatch(actor=agent, order=quality_order, departments=[quality])
    pending = new_order(agent, leak, caller_number="", reporter_phone="+86 139-1234-5678")
    return {"repair": repair_order, "quality": quality_order, "pending": pending}


def test_a_handler_sees_only_orders_of_their_department(
    three_orders: dict[str, WorkOrder], handler: User, agent: User
) -> None:
    handler_client = api_client_for(handler)
    assert numbers(handler_client.get(LIST)) == [three_orders["repair"].number]
    assert handler_client.get(detail_url(three_orders["quality"])).status_code == 404
    assert handler_client.get(detail_url(three_orders["repair"])).status_code == 200
    everything = numbers(api_client_for(agent).get(LIST))
    assert sorted(everything) == sorted(o.number for o in three_orders.values())


def test_the_list_filters_by_status_department_overdue_and_caller(
    three_orders: dict[str, WorkOrder], agent: User, quality: Department
) -> None:
    client = api_client_for(agent)
    pending, repair_order = three_orders["pending"], three_orders["repair"]
    assert numbers(client.get(LIST, {"status": "pending_dispatch"})) == [pending.number]
    assert numbers(client.get(LIST, {"department": quality.pk})) == [three_orders["quality"].number]
    DepartmentTask.objects.filter(order=repair_order).update(
        deadline=timezone.now() - timedelta(hours=1)
    )
    assert numbers(client.get(LIST, {"overdue": "true"})) == [repair_order.number]
    assert repair_order.number not in numbers(client.get(LIST, {"overdue": "false"}))
    # caller number or reporter phone, however the number is written
    assert sorted(numbers(client.get(LIST, {"caller": "139 1234 5678"}))) == sorted(
        [three_orders["quality"].number, pending.number]
    )
    rows = client.get(LIST, {"overdue": "true"}).json()["results"]
    assert rows[0]["overdue"] is True and rows[0]["deadline"]


def test_bad_filters_get_400_with_the_reasons_by_field(agent: User) -> None:
    response = api_client_for(agent).get(LIST, {"status": "lost", "department": "99999"})
    assert response.status_code == 400
    assert set(response.json()) == {"status", "department"}


def test_the_list_is_paginated(three_orders: dict[str, WorkOrder], agent: User) -> None:
    client = api_client_for(agent)
    first = client.get(LIST, {"page_size": 2}).json()
    assert first["count"] == 3 and len(first["results"]) == 2 and first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1 and second["next"] is None
    assert client.get(LIST, {"page": 9}).status_code == 404


def test_the_detail_has_the_departments_sections_and_the_timeline(
    agent: User, handler: User, leak: Category, repair: Department
) -> None:
    order, (task,) = dispatched(agent, leak, repair)
    body = api_client_for(handler).get(detail_url(order)).json()
    assert body["number"] == order.number and body["status"] == "processing"
    assert body["status_label"] == zh("Processing")
    (section,) = body["tasks"]
    assert section["id"] == task.pk and section["department"]["code"] == "repair"
    assert section["version"] == task.version and section["status"] == "waiting"
    assert 0 < section["time_left_seconds"] <= 24 * 3600
    assert section["available_actions"] == ["accept", "return"]
    assert [e["type"] for e in body["events"]] == ["created", "dispatched"]
    assert body["events"][1]["department"]["code"] == "repair"
    assert body["events"][0]["actor"]["agent_id"] == agent.agent_id
    assert body["available_actions"] == []  # a handler may not dispatch or urge
    agents_view = api_client_for(agent).get(detail_url(order)).json()
    assert "urge" in agents_view["available_actions"]
    assert agents_view["tasks"][0]["available_actions"] == ["cancel"]  # the hotline's only


# --- intake -----------------------------------------------------------------------------------


def test_an_agent_creates_an_order_from_an_account(agent: User, leak: Category) -> None:
    area = Area.objects.create(code="dongcheng", name="东城片区")
    Account.objects.create(number="1000000001", name="张建国", address="幸福路8号", area=area)
    response = create(
        api_client_for(agent),
        intake_body(leak, address="", account_number="1000000001", urgency="urgent"),
    )
    assert response.status_code == 201, response.content
    order = WorkOrder.objects.get()
    assert response.headers["Location"] == detail_url(order)
    body = response.json()
    assert body["number"] == order.number and body["status"] == "pending_dispatch"
    assert body["address"] == "幸福路8号" and body["area"]["code"] == "dongcheng"
    assert body["account"]["number"] == "1000000001" and body["urgency"] == "urgent"
    assert order.created_by == agent and [e["type"] for e in body["events"]] == ["created"]


def test_intake_is_validated_like_the_form_with_reasons_in_chinese(
    agent: User, leak: Category
) -> None:
    body = intake_body(leak, account_number="999999", source="fax", description=" ")
    body["category"] = leak.parent_id  # 漏水 has sub-categories: not a leaf
    response = create(api_client_for(agent, language="zh-hans"), body)
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"source", "description"}  # types first, as a form's fields would
    assert all(CJK.search(m) for messages in errors.values() for m in messages)
    body.update(source="phone", description="漏水")
    errors = create(api_client_for(agent, language="zh-hans"), body).json()
    assert errors == {
        "account_number": [zh("No account has this number.")],
        "category": [zh("Choose a specific, active category.")],
    }
    assert errors["category"][0] != "Choose a specific, active category."
    english = create(api_client_for(agent, language="en"), body).json()
    assert english["category"] == ["Choose a specific, active category."]
    assert WorkOrder.objects.count() == 0


def test_intake_needs_an_idempotency_key(agent: User, leak: Category) -> None:
    response = api_client_for(agent).post(LIST, intake_body(leak), format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["Idempotency-Key"]
    assert WorkOrder.objects.count() == 0


def test_a_retried_intake_returns_the_first_order_instead_of_a_second(
    agent: User, leak: Category
) -> None:
    client = api_client_for(agent)
    first = create(client, intake_body(leak), key="retry-1")
    again = create(client, intake_body(leak), key="retry-1")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert WorkOrder.objects.count() == 1
    # the same key with another body is a client error, not a silent replay
    changed = create(client, intake_body(leak, description="另一个问题"), key="retry-1")
    assert changed.status_code == 422
    # a new key is a new order; keys are per user
    assert create(client, intake_body(leak), key="retry-2").status_code == 201
    assert WorkOrder.objects.count() == 2


def test_a_retry_racing_the_first_request_waits_for_it_and_returns_its_order(
    agent: User, leak: Category, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = api_client_for(agent)
    first = create(client, intake_body(leak), key="race")
    # The retry looked for its key before the first request committed, found none, and then
    # met the key's unique constraint when it tried to claim it.
    monkeypatch.setattr(idempotency, "find_key", lambda **_kwargs: None)
    again = create(client, intake_body(leak), key="race")
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert WorkOrder.objects.count() == 1


def test_a_failed_intake_does_not_use_up_its_key(agent: User, leak: Category) -> None:
    client = api_client_for(agent)
    assert create(client, intake_body(leak, description=""), key="k").status_code == 400
    assert create(client, intake_body(leak), key="k").status_code == 201


def test_the_same_key_from_two_users_makes_two_orders(
    agent: User, supervisor: User, leak: Category
) -> None:
    assert create(api_client_for(agent), intake_body(leak), key="k").status_code == 201
    assert create(api_client_for(supervisor), intake_body(leak), key="k").status_code == 201
    assert WorkOrder.objects.count() == 2


# --- order actions ----------------------------------------------------------------------------


def test_dispatch_urge_and_the_whole_round_trip_through_the_api(
    agent: User, handler: User, dispatcher: User, leak: Category, repair: Department
) -> None:
    agent_client, handler_client = api_client_for(agent), api_client_for(handler)
    order = create(agent_client, intake_body(leak)).json()
    url = f"/api/v1/workorders/{order['id']}/"
    dispatched_ = agent_client.post(
        url + "dispatch/", {"departments": [repair.pk], "note": "尽快", "version": order["version"]}
    )
    assert dispatched_.status_code == 200, dispatched_.content
    assert dispatched_.json()["status"] == "processing"
    urged = agent_client.post(url + "urge/", {"note": "用户再次来电"}).json()
    assert urged["urge_count"] == 1 and urged["tasks"][0]["urge_count"] == 1

    task = DepartmentTask.objects.get(order_id=order["id"])
    version = urged["tasks"][0]["version"]
    for action, extra in (
        ("accept", {}),
        ("survey", {"survey": "已到场，阀门老化"}),
        ("result", {"result": "更换阀门"}),
        ("submit", {}),
    ):
        response = handler_client.post(task_url(task, action), {"version": version, **extra})
        assert response.status_code == 200, (action, response.content)
        version = response.json()["tasks"][0]["version"]
    body = response.json()
    assert body["status"] == "pending_follow_up"
    assert body["tasks"][0]["result"] == "更换阀门"
    assert body["tasks"][0]["surveyed_by"]["agent_id"] == handler.agent_id

    closed = api_client_for(dispatcher).post(
        url + "follow-up/", {"outcome": "satisfied", "satisfaction": 5, "version": body["version"]}
    )
    assert closed.status_code == 200, closed.content
    assert closed.json()["status"] == "closed" and closed.json()["satisfaction"] == 5


def test_dispatch_is_validated_like_the_form(
    agent: User, leak: Category, repair: Department
) -> None:
    order = new_order(agent, leak)
    client = api_client_for(agent)
    url = detail_url(order) + "dispatch/"
    missing = client.post(url, {"departments": []})
    assert missing.json() == {"departments": [zh("Choose at least one department.")]}
    repair.is_active = False
    repair.save(update_fields=["is_active"])
    assert set(client.post(url, {"departments": [repair.pk]}).json()) == {"departments"}
    order.refresh_from_db()
    assert order.status == WorkOrder.Status.PENDING_DISPATCH


def test_a_stale_order_version_gets_409(agent: User, leak: Category, repair: Department) -> None:
    order = new_order(agent, leak)
    stale = order.version
    from aqualine.workorders import services

    services.workorder_urge(actor=agent, order=order)  # someone else acted: the version moved
    response = api_client_for(agent).post(
        detail_url(order) + "dispatch/", {"departments": [repair.pk], "version": stale}
    )
    assert response.status_code == 409
    assert response.json()["detail"] == zh(str(ConflictError.message))
    assert DepartmentTask.objects.count() == 0


def test_an_action_the_status_does_not_allow_gets_400(
    agent: User, leak: Category, repair: Department
) -> None:
    order, _tasks = dispatched(agent, leak, repair)
    response = api_client_for(agent).post(
        detail_url(order) + "dispatch/", {"departments": [repair.pk]}
    )
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [zh(str(NOT_ALLOWED))]}


def test_follow_up_reasons_come_from_the_service(
    agent: User, dispatcher: User, handler: User, leak: Category, repair: Department
) -> None:
    order, (task,) = dispatched(agent, leak, repair)
    finish(task, handler)
    client = api_client_for(dispatcher)
    url = detail_url(order) + "follow-up/"
    bad = client.post(url, {"outcome": "satisfied", "satisfaction": 9})
    assert bad.status_code == 400
    assert bad.json() == {"satisfaction": [zh("Choose a satisfaction from 1 to 5.")]}
    # an agent may not follow up
    assert (
        api_client_for(agent).post(url, {"outcome": "satisfied", "satisfaction": 4}).status_code
        == 403
    )


def test_actions_on_an_order_outside_the_scope_get_404(
    agent: User, handler: User, leak: Category, quality: Department
) -> None:
    _order, (task,) = dispatched(agent, leak, quality)
    client = api_client_for(handler)  # repair's handler
    assert client.post(task_url(task, "accept"), {"version": task.version}).status_code == 404
    task.refresh_from_db()
    assert task.status == DepartmentTask.Status.WAITING


# --- the departments' sections ----------------------------------------------------------------


def test_writing_another_departments_section_gets_403(
    agent: User,
    handler: User,
    quality_handler: User,
    leak: Category,
    repair: Department,
    quality: Department,
) -> None:
    order, tasks = dispatched(agent, leak, repair, quality)
    repair_task = next(t for t in tasks if t.department == repair)
    # 水质监测中心 sees the joint order (it has a section on it) but may not write 维修部's
    client = api_client_for(quality_handler)
    assert client.get(detail_url(order)).status_code == 200
    response = client.post(task_url(repair_task, "accept"), {"version": repair_task.version})
    assert response.status_code == 403
    repair_task.refresh_from_db()
    assert repair_task.status == DepartmentTask.Status.WAITING
    ok = api_client_for(handler).post(
        task_url(repair_task, "accept"), {"version": repair_task.version}
    )
    assert ok.status_code == 200


def test_a_second_editor_with_a_stale_version_gets_409(
    agent: User, handler: User, repair_handler2: User, leak: Category, repair: Department
) -> None:
    _order, (task,) = dispatched(agent, leak, repair)
    first, second = api_client_for(handler), api_client_for(repair_handler2)
    seen = task.version
    assert first.post(task_url(task, "accept"), {"version": seen}).status_code == 200
    accepted = DepartmentTask.objects.get(pk=task.pk)
    assert (
        first.post(
            task_url(task, "survey"), {"version": accepted.version, "survey": "现场查看"}
        ).status_code
        == 200
    )
    stale = second.post(task_url(task, "survey"), {"version": accepted.version, "survey": "覆盖"})
    assert stale.status_code == 409
    assert DepartmentTask.objects.get(pk=task.pk).survey == "现场查看"


def test_task_inputs_are_checked(
    agent: User, handler: User, leak: Category, repair: Department
) -> None:
    _order, (task,) = dispatched(agent, leak, repair)
    client = api_client_for(handler, language="zh-hans")
    no_version = client.post(task_url(task, "accept"), {})
    assert no_version.status_code == 400 and list(no_version.json()) == ["version"]
    accepted = client.post(task_url(task, "accept"), {"version": task.version}).json()
    version = accepted["tasks"][0]["version"]
    empty = client.post(task_url(task, "return"), {"version": version, "reason": "  "})
    assert empty.status_code == 400
    assert empty.json() == {"reason": [zh("This field is required.")]}
    unsubmittable = client.post(task_url(task, "submit"), {"version": version})
    assert unsubmittable.json() == {"result": [zh("Record the result before submitting.")]}
    returned = client.post(task_url(task, "return"), {"version": version, "reason": "非本部门"})
    assert returned.status_code == 200
    assert returned.json()["tasks"][0]["status"] == "returned"


def test_the_hotline_records_on_a_departments_behalf(
    agent: User, dispatcher: User, leak: Category, repair: Department
) -> None:
    _order, (task,) = dispatched(agent, leak, repair)
    response = api_client_for(dispatcher).post(task_url(task, "accept"), {"version": task.version})
    assert response.status_code == 200
    task.refresh_from_db()
    assert task.recorded_on_behalf_by == dispatcher


# --- reference data ---------------------------------------------------------------------------


def test_categories_and_departments_for_clients(
    agent: User, leak: Category, repair: Department
) -> None:
    client = api_client_for(agent)
    tree = client.get("/api/v1/categories/").json()
    leak_parent = next(c for c in tree if c["code"] == "leak")
    assert leak_parent["leaf"] is False
    assert {"code": "leak-pipe", "leaf": True}.items() <= next(
        c for c in leak_parent["children"] if c["code"] == "leak-pipe"
    ).items()
    assert next(c for c in tree if c["code"] == "consultation")["leaf"] is True
    departments = client.get("/api/v1/departments/").json()
    assert {d["code"] for d in departments} == {"hotline", "repair"}


# --- schema, documentation, tokens ------------------------------------------------------------


def test_the_schema_is_valid_openapi_3_and_every_operation_needs_a_token(agent: User) -> None:
    assert APIClient().get("/api/schema/").status_code == 401
    response = api_client_for(agent).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)  # raises on a schema that breaks the OpenAPI 3 JSON schema
    assert schema["components"]["securitySchemes"]["apiToken"]["in"] == "header"
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]
    assert len(operations) >= 15
    for path, method, operation in operations:
        assert operation["security"] == [{"apiToken": []}], (path, method)
        assert {"401", "403"} <= set(operation["responses"]), (path, method)
    assert "/api/v1/workorders/" in schema["paths"]
    assert "/api/v1/tasks/{id}/submit/" in schema["paths"]
    assert "/api/v1/customers/" in schema["paths"]


def test_the_schema_generates_without_warnings() -> None:
    out = io.StringIO()
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out
    )
    assert json.loads(out.getvalue())["info"]["title"] == "Aqualine API"


def test_the_documentation_page_needs_a_login_and_nothing_from_the_internet(
    agent: User,
) -> None:
    anonymous = Client().get("/api/docs/")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login/")
    page = client_for(agent).get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/api/schema/" in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "the page loads something remote"
    assets = re.findall(r"(?:src|href)=\"/static/([^\"]+)\"", html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert finders.find(asset), asset
    # the page's own session may read the schema (the UI fetches it)
    assert client_for(agent).get("/api/schema/").status_code == 200


def test_the_api_token_command_issues_replaces_and_revokes_tokens(agent: User) -> None:
    out = io.StringIO()
    call_command("api_token", "1001", stdout=out, stderr=io.StringIO())
    first = out.getvalue().strip()
    assert first.startswith("aql_")
    client = _with_header(f"Token {first}")
    assert client.get(LIST).status_code == 200
    out = io.StringIO()
    call_command("api_token", "1001", stdout=out, stderr=io.StringIO())
    second = out.getvalue().strip()
    assert second != first
    assert client.get(LIST).status_code == 401  # replaced
    assert _with_header(f"Token {second}").get(LIST).status_code == 200
    listing = io.StringIO()
    call_command("api_token", "--list", stdout=listing)
    assert "1001" in listing.getvalue() and second not in listing.getvalue()
    call_command("api_token", "1001", "--revoke", stdout=io.StringIO())
    assert _with_header(f"Token {second}").get(LIST).status_code == 401
    with pytest.raises(CommandError):
        call_command("api_token", "no-such-person")


def test_tokens_are_stored_only_as_digests(agent: User) -> None:
    from aqualine.api.models import ApiToken

    client = api_client_for(agent)
    key = client._credentials["HTTP_AUTHORIZATION"].split()[1]
    stored = ApiToken.objects.get(user=agent)
    assert key not in (stored.digest, stored.prefix) and key.startswith(stored.prefix)
    assert client.get(LIST).status_code == 200
    stored.refresh_from_db()
    assert stored.last_used_at is not None


def test_hostile_input_gets_4xx_never_500(
    agent: User, handler: User, leak: Category, repair: Department
) -> None:
    order, (task,) = dispatched(agent, leak, repair)
    huge = 10**30
    client = api_client_for(agent)
    client.raise_request_exception = False
    for params in ({"department": huge}, {"department": "x"}, {"caller": "\x00"}, {"page": -1}):
        assert 400 <= client.get(LIST, params).status_code < 500, params
    assert client.get(f"/api/v1/workorders/{huge}/").status_code == 404
    bodies: list[Any] = [[1, 2], "text", {"category": huge, "source": "phone", "description": "x"}]
    for body in bodies:
        assert create(client, body).status_code == 400, body
    bodies = [{"departments": [huge]}, {"departments": "1"}, {"version": huge}]
    for body in bodies:
        assert client.post(detail_url(order) + "dispatch/", body).status_code == 400, body
    handler_client = api_client_for(handler)
    handler_client.raise_request_exception = False
    bodies = [{"version": huge}, {"version": "1; drop"}, {"version": [1]}]
    for body in bodies:
        response = handler_client.post(task_url(task, "accept"), body)
        assert response.status_code in (400, 409), (body, response.status_code)
    not_json = handler_client.post(
        task_url(task, "accept"), "version=1", content_type="application/x-www-form-urlencoded"
    )
    assert not_json.status_code == 415
