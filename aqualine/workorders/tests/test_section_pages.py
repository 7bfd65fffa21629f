"""The order page's actions: each department's section of the joint form (sign for, survey,
result, submit, return, re-dispatch, cancel), follow-up, redo, close, attachments and print."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from aqualine.accounts.models import Department, User
from aqualine.conftest import client_for
from aqualine.workorders import services
from aqualine.workorders.models import Category, DepartmentTask, OrderEvent, WorkOrder
from aqualine.workorders.tests.conftest import dispatched, finish, new_order
from aqualine.workorders.tests.test_pages import zh
from aqualine.workorders.views import CONFLICT_TEXT

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def act(client: Client, task: DepartmentTask, action: str, **fields: object) -> Any:
    """Post one section action the way the page's form does (prefixed field names)."""
    task.refresh_from_db()
    kind = {"submit": "result"}.get(action, action)
    data: dict[str, object] = {"task": task.pk, "action": action}
    data[f"t{task.pk}-{kind}-version"] = fields.pop("version", task.version)
    for name, value in fields.items():
        data[f"t{task.pk}-{kind}-{name}"] = value
    return client.post(f"/workorders/{task.order_id}/task/", data)


def page_of(user: User, order: WorkOrder) -> str:
    return client_for(user).get(f"/workorders/{order.pk}/").content.decode()


def test_a_handler_signs_for_surveys_and_submits_from_the_page(
    agent: User, leak: Category, repair: Department, handler: User
) -> None:
    order, (task,) = dispatched(agent, leak, repair)
    client = client_for(handler)
    page = page_of(handler, order)
    assert 'value="accept"' in page and 'value="survey"' not in page
    assert act(client, task, "accept").status_code == 302
    page = page_of(handler, order)
    assert 'value="survey"' in page and 'value="submit"' in page
    assert act(client, task, "survey", text="现场 DN100 管道破裂").status_code == 302
    assert act(client, task, "result", text="已更换管段").status_code == 302
    assert act(client, task, "submit", text="").status_code == 302
    task.refresh_from_db()
    order.refresh_from_db()
    assert task.status == DepartmentTask.Status.SUBMITTED
    assert (task.survey, task.result) == ("现场 DN100 管道破裂", "已更换管段")
    assert order.status == WorkOrder.Status.PENDING_FOLLOW_UP
    page = page_of(handler, order)
    assert "赵强" in page and 'value="submit"' not in page  # the operator is shown


def test_submitting_without_a_result_is_a_field_error_in_chinese(
    agent: User, leak: Category, repair: Department, handler: User
) -> None:
    _order, (task,) = dispatched(agent, leak, repair)
    client = client_for(handler)
    act(client, task, "accept")
    response = act(client, task, "submit", text="  ")
    assert response.status_code == 400
    assert zh("Record the result before submitting.") in response.content.decode()
    task.refresh_from_db()
    assert task.status == DepartmentTask.Status.ACCEPTED


def test_a_department_cannot_write_another_departments_section(
    agent: User,
    leak: Category,
    repair: Department,
    quality: Department,
    handler: User,
    quality_handler: User,
) -> None:
    order, tasks = dispatched(agent, leak, repair, quality)
    repair_task = next(t for t in tasks if t.department == repair)
    quality_task = next(t for t in tasks if t.department == quality)
    page = page_of(quality_handler, order)
    # the other section is readable but offers no form
    assert f'name="task" value="{repair_task.pk}"' not in page
    assert f'name="task" value="{quality_task.pk}"' in page
    assert act(client_for(quality_handler), repair_task, "accept").status_code == 403
    act(client_for(handler), repair_task, "accept")
    act(client_for(handler), repair_task, "survey", text="维修部的勘查")
    response = act(client_for(quality_handler), repair_task, "survey", text="篡改")
    assert response.status_code == 403
    assert act(client_for(quality_handler), repair_task, "return", text="退").status_code == 403
    repair_task.refresh_from_db()
    assert repair_task.survey == "维修部的勘查"
    assert repair_task.status == DepartmentTask.Status.ACCEPTED


def test_the_order_waits_for_every_department(
    agent: User,
    leak: Category,
    repair: Department,
    quality: Department,
    handler: User,
    quality_handler: User,
) -> None:
    order, tasks = dispatched(agent, leak, repair, quality)
    by_department = {t.department_id: t for t in tasks}
    for department, user, expected in (
        (repair, handler, WorkOrder.Status.PROCESSING),
        (quality, quality_handler, WorkOrder.Status.PENDING_FOLLOW_UP),
    ):
        task = by_department[department.pk]
        act(client_for(user), task, "accept")
        assert act(client_for(user), task, "submit", text="处理完毕").status_code == 302
        order.refresh_from_db()
        assert order.status == expected


def test_two_people_saving_one_section_the_second_gets_a_conflict_and_keeps_their_text(
    agent: User, leak: Category, repair: Department, handler: User, repair_handler2: User
) -> None:
    _order, (task,) = dispatched(agent, leak, repair)
    act(client_for(handler), task, "accept")
    task.refresh_from_db()
    seen = task.version  # both opened the page at this version
    first = act(client_for(handler), task, "survey", text="赵强的勘查", version=seen)
    assert first.status_code == 302
    second = act(client_for(repair_handler2), task, "survey", text="孙伟的勘查", version=seen)
    assert second.status_code == 409
    page = second.content.decode()
    assert zh(CONFLICT_TEXT) in page
    assert "赵强的勘查" in page and "孙伟的勘查" in page  # theirs shown, mine kept in the form
    task.refresh_from_db()
    assert task.survey == "赵强的勘查"
    # the re-shown form carries the current version: saving again is a deliberate replace
    current = re.search(rf'name="t{task.pk}-survey-version" value="(\d+)"', page)
    assert current and int(current.group(1)) == task.version
    again = act(
        client_for(repair_handler2), task, "survey", text="孙伟的勘查", version=task.version
    )
    assert again.status_code == 302
    task.refresh_from_db()
    assert task.survey == "孙伟的勘查"
    assert OrderEvent.objects.filter(task=task, type=OrderEvent.Type.SURVEYED).count() == 2


def test_return_needs_a_reason_and_the_hotline_redispatches(
    agent: User, leak: Category, repair: Department, quality: Department, handler: User
) -> None:
    order, (task,) = dispatched(agent, leak, repair)
    client = client_for(handler)
    empty = act(client, task, "return", text="")
    assert empty.status_code == 400 and "这个字段是必填项。" in empty.content.decode()
    assert act(client, task, "return", text="不属于本部门管辖").status_code == 302
    task.refresh_from_db()
    assert task.status == DepartmentTask.Status.RETURNED
    page = page_of(agent, order)
    assert "不属于本部门管辖" in page and 'value="redispatch"' in page
    response = act(client_for(agent), task, "redispatch", department=quality.pk, note="转水质")
    assert response.status_code == 302
    new = order.tasks.get(department=quality)
    assert new.status == DepartmentTask.Status.WAITING
    task.refresh_from_db()
    assert task.replaced_by == new
    assert 'value="redispatch"' not in page_of(agent, order)


def test_an_agent_records_on_behalf_only_with_the_permission(
    agent: User, leak: Category, repair: Department, dispatcher: User
) -> None:
    order, (task,) = dispatched(agent, leak, repair)
    page = page_of(dispatcher, order)
    can = dispatcher.has_perm("workorders.record_for_department")
    assert ('value="accept"' in page) == can
    assert act(client_for(dispatcher), task, "accept").status_code == (302 if can else 403)


def test_follow_up_unsatisfied_then_redo_starts_a_new_round(
    agent: User, leak: Category, repair: Department, handler: User, dispatcher: User
) -> None:
    order, (task,) = dispatched(agent, leak, repair)
    finish(task, handler)
    client = client_for(dispatcher)
    page = page_of(dispatcher, order)
    assert 'id="follow-up"' in page
    bad = client.post(f"/workorders/{order.pk}/follow-up/", {"version": order.version + 1})
    assert bad.status_code in (400, 409)
    order.refresh_from_db()
    response = client.post(
        f"/workorders/{order.pk}/follow-up/",
        {"version": order.version, "outcome": "unsatisfied", "satisfaction": 2, "note": "仍漏水"},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == WorkOrder.Status.REDO and order.satisfaction == 2
    page = page_of(dispatcher, order)
    assert 'id="redo"' in page
    response = client.post(
        f"/workorders/{order.pk}/redo/",
        {"version": order.version, "departments": [repair.pk], "note": "客户反映仍漏水"},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == WorkOrder.Status.PROCESSING and order.redo_count == 1
    assert order.tasks.filter(round=2, department=repair).exists()


def test_follow_up_satisfied_closes_and_a_handler_may_not_follow_up(
    agent: User, leak: Category, repair: Department, handler: User, dispatcher: User
) -> None:
    order, (task,) = dispatched(agent, leak, repair)
    finish(task, handler)
    order.refresh_from_db()
    data = {"version": order.version, "outcome": "satisfied", "satisfaction": 5}
    assert client_for(handler).post(f"/workorders/{order.pk}/follow-up/", data).status_code == 403
    assert (
        client_for(dispatcher).post(f"/workorders/{order.pk}/follow-up/", data).status_code == 302
    )
    order.refresh_from_db()
    assert order.status == WorkOrder.Status.CLOSED and order.closed_at is not None


def test_close_at_intake_with_the_answer(agent: User, leak: Category) -> None:
    order = new_order(agent, leak)
    client = client_for(agent)
    assert 'id="close-at-intake"' in page_of(agent, order)
    empty = client.post(f"/workorders/{order.pk}/close-at-intake/", {"version": order.version})
    assert empty.status_code == 400
    response = client.post(
        f"/workorders/{order.pk}/close-at-intake/",
        {"version": order.version, "answer": "已告知停水时间"},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == WorkOrder.Status.CLOSED
    assert "已告知停水时间" in page_of(agent, order)


def test_cancelling_every_task_lets_the_hotline_close(
    agent: User, leak: Category, repair: Department
) -> None:
    order, (task,) = dispatched(agent, leak, repair)
    client = client_for(agent)
    assert 'id="close"' not in page_of(agent, order)
    assert act(client, task, "cancel", text="重复工单").status_code == 302
    order.refresh_from_db()
    assert 'id="close"' in page_of(agent, order)
    response = client.post(f"/workorders/{order.pk}/close/", {"version": order.version})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == WorkOrder.Status.CLOSED


def test_a_field_photo_is_attached_to_the_section_and_served_only_to_those_who_see_the_order(
    agent: User,
    leak: Category,
    repair: Department,
    handler: User,
    quality_handler: User,
    settings: object,
    tmp_path: object,
) -> None:
    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]
    order, (task,) = dispatched(agent, leak, repair)
    client = client_for(handler)
    act(client, task, "accept")
    photo = SimpleUploadedFile("现场.png", PNG, content_type="image/png")
    response = client.post(f"/workorders/{order.pk}/attachments/", {"file": photo, "task": task.pk})
    assert response.status_code == 302
    attachment = order.attachments.get()
    assert attachment.task == task and attachment.uploaded_by == handler
    assert "现场.png" in page_of(agent, order)
    served = client_for(agent).get(f"/workorders/attachments/{attachment.pk}/")
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == PNG  # type: ignore[attr-defined]
    assert served["X-Content-Type-Options"] == "nosniff"
    other = client_for(quality_handler).get(f"/workorders/attachments/{attachment.pk}/")
    assert other.status_code == 404


def test_a_file_that_is_not_a_photo_or_pdf_is_refused_with_a_message(
    agent: User,
    leak: Category,
    repair: Department,
    handler: User,
    settings: object,
    tmp_path: object,
) -> None:
    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]
    order, (task,) = dispatched(agent, leak, repair)
    client = client_for(handler)
    act(client, task, "accept")
    fake = SimpleUploadedFile("x.png", b"<script>alert(1)</script>", content_type="image/png")
    response = client.post(
        f"/workorders/{order.pk}/attachments/", {"file": fake, "task": task.pk}, follow=True
    )
    assert zh("Attach a photo (JPEG, PNG, GIF, WebP) or a PDF.") in response.content.decode()
    assert not order.attachments.exists()
    # a handler of another department may not attach to this section
    photo = SimpleUploadedFile("a.png", PNG, content_type="image/png")
    assert (
        client_for(handler)
        .post(f"/workorders/{order.pk}/attachments/", {"file": photo})
        .status_code
        == 403
    )


def test_the_print_view_has_every_section_the_timeline_and_a_signature_line(
    agent: User,
    leak: Category,
    repair: Department,
    quality: Department,
    handler: User,
    quality_handler: User,
) -> None:
    order, tasks = dispatched(agent, leak, repair, quality)
    finish(next(t for t in tasks if t.department == repair), handler, result="更换阀门")
    page = client_for(agent).get(f"/workorders/{order.pk}/print/").content.decode()
    assert order.number in page and "@page" in page and "A4" in page
    assert "管网维修部" in page and "水质监测中心" in page and "更换阀门" in page
    assert zh("Repair crew signature") in page
    assert zh("Timeline") in page and "张敏" in page
    assert 'class="topbar"' not in page  # a clean form, no navigation
    other = Department.objects.create(name="营业收费部", code="billing")
    outsider = User.objects.create_user("3901", "x", department=other)
    assert client_for(outsider).get(f"/workorders/{order.pk}/print/").status_code == 403


def test_a_task_action_on_an_order_the_user_cannot_see_is_404(
    agent: User, leak: Category, repair: Department, quality_handler: User
) -> None:
    order, (task,) = dispatched(agent, leak, repair)
    response = client_for(quality_handler).post(
        f"/workorders/{order.pk}/task/", {"task": task.pk, "action": "accept"}
    )
    assert response.status_code == 404


def test_unknown_action_or_task_is_a_message(
    agent: User, leak: Category, repair: Department, handler: User
) -> None:
    order, (task,) = dispatched(agent, leak, repair)
    client = client_for(handler)
    for data in ({"task": task.pk, "action": "explode"}, {"task": "99999", "action": "accept"}):
        response = client.post(f"/workorders/{order.pk}/task/", data)
        assert response.status_code == 302
    services.task_accept(actor=handler, task=task, version=task.version)
    stale = act(client, task, "accept", version=task.version)
    assert stale.status_code == 302  # already signed for: the form is gone, a message says why
