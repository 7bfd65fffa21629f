"""Who sees which orders, the screen-pop lookups by caller, lists, timeline and attachments."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from aqualine.accounts.models import Department, User
from aqualine.conftest import make_user
from aqualine.customers.models import Account, Area
from aqualine.workorders import services
from aqualine.workorders.models import Category, OrderEvent, WorkOrder
from aqualine.workorders.selectors import (
    category_tree,
    open_order_for_caller,
    orders_for_caller,
    workorder_by_number,
    workorder_list,
    workorder_tasks,
    workorder_timeline,
    workorders_visible_to,
)
from aqualine.workorders.tests.conftest import dispatched, finish, new_order

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_handlers_see_only_orders_of_their_department(
    agent: User,
    handler: User,
    quality_handler: User,
    outsider: User,
    repair: Department,
    quality: Department,
    leak: Category,
) -> None:
    repair_order, _ = dispatched(agent, leak, repair)
    quality_order, _ = dispatched(agent, leak, quality)
    both, _ = dispatched(agent, leak, repair, quality)
    undispatched = new_order(agent, leak)

    assert set(workorders_visible_to(handler)) == {repair_order, both}
    assert set(workorders_visible_to(quality_handler)) == {quality_order, both}
    assert set(workorders_visible_to(agent)) == {repair_order, quality_order, both, undispatched}
    assert list(workorders_visible_to(outsider)) == []
    viewer = make_user("5001", "viewer")
    assert workorders_visible_to(viewer).count() == 4
    assert workorder_by_number(user=handler, number=quality_order.number.lower()) is None
    assert workorder_by_number(user=agent, number=quality_order.number.lower()) == quality_order


def test_a_parent_department_sees_the_orders_of_its_sub_departments(
    agent: User, handler: User, repair: Department, leak: Category
) -> None:
    east = Department.objects.create(name="东区抢修班", code="repair-east", parent=repair)
    order, _ = dispatched(agent, leak, east)
    assert list(workorders_visible_to(handler)) == [order]


def test_the_list_filters_by_department_and_status(
    agent: User,
    handler: User,
    quality_handler: User,
    repair: Department,
    quality: Department,
    leak: Category,
) -> None:
    repair_order, (repair_task,) = dispatched(agent, leak, repair)
    quality_order, _ = dispatched(agent, leak, quality)
    finish(repair_task, handler)
    assert list(workorder_list(user=agent, department=repair)) == [repair_order]
    assert list(workorder_list(user=agent, status=WorkOrder.Status.PROCESSING)) == [quality_order]
    assert list(workorder_list(user=agent, department=quality, status="pending_follow_up")) == []
    assert list(workorder_list(user=quality_handler)) == [quality_order]


def test_past_orders_of_a_caller_newest_first_and_the_open_one(
    agent: User,
    dispatcher: User,
    handler: User,
    repair: Department,
    leak: Category,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    day = datetime(2025, 7, 1, 9, 0, tzinfo=SHANGHAI)
    monkeypatch.setattr(timezone, "now", lambda: day)
    old, (task,) = dispatched(agent, leak, repair)
    finish(task, handler)
    services.workorder_follow_up(actor=dispatcher, order=old, outcome="satisfied", satisfaction=5)
    monkeypatch.setattr(timezone, "now", lambda: day + timedelta(days=1))
    recent = new_order(agent, leak, caller_number="+86 138-0013-8000")
    by_reporter = new_order(agent, leak, caller_number="", reporter_phone="13800138000")
    new_order(agent, leak, caller_number="13900000000")

    assert orders_for_caller(phone="138 0013 8000") == [by_reporter, recent, old]
    assert open_order_for_caller(phone="13800138000") == by_reporter
    assert open_order_for_caller(phone="13700000000") is None
    assert orders_for_caller(phone="") == []


def test_intake_takes_address_and_area_from_the_account(agent: User, leak: Category) -> None:
    area = Area.objects.create(code="dongcheng", name="东城片区")
    account = Account.objects.create(
        number="1000001", name="陈先生", address="人民路 1 号", area=area
    )
    order = new_order(agent, leak, account=account, address="")
    assert (order.account, order.address, order.area) == (account, "人民路 1 号", area)


def test_timeline_and_sections_in_order(
    agent: User, handler: User, repair: Department, quality: Department, leak: Category
) -> None:
    order, (repair_task, quality_task) = dispatched(agent, leak, repair, quality)
    services.task_accept(actor=handler, task=repair_task, version=1)
    assert [e.type for e in workorder_timeline(order=order)] == [
        "created",
        "dispatched",
        "dispatched",
        "accepted",
    ]
    assert list(workorder_tasks(order=order)) == [repair_task, quality_task]


def test_the_seeded_category_tree(db: None) -> None:
    tree = {parent.name: [c.name for c in children] for parent, children in category_tree()}
    assert tree["漏水"] == ["爆管", "管道漏水", "阀门漏水", "表前漏水"]
    assert tree["投诉"] == []
    assert Category.objects.get(code="complaint").time_limit_hours == 120
    assert Category.objects.get(code="pressure").default_department_code == "secondary"


# --- attachments ------------------------------------------------------------------------------


@pytest.fixture
def media(settings: object, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path)  # type: ignore[attr-defined]
    return tmp_path


def test_a_handler_attaches_a_photo_to_their_section(
    media: Path,
    agent: User,
    handler: User,
    quality_handler: User,
    repair: Department,
    leak: Category,
) -> None:
    order, (task,) = dispatched(agent, leak, repair)
    photo = SimpleUploadedFile("现场.png", PNG, content_type="image/png")
    attachment = services.attachment_add(actor=handler, order=order, task=task, file=photo)
    assert (attachment.size, attachment.content_type, attachment.uploaded_by) == (
        len(PNG),
        "image/png",
        handler,
    )
    assert attachment.file.name.startswith("workorders/")
    assert (media / attachment.file.name).read_bytes() == PNG
    event = OrderEvent.objects.filter(order=order, type="note").get()
    assert event.data["attachment"] == attachment.pk

    with pytest.raises(PermissionDenied):
        services.attachment_add(
            actor=quality_handler,
            order=order,
            task=task,
            file=SimpleUploadedFile("x.png", PNG, content_type="image/png"),
        )


def test_attachments_must_be_images_or_pdf_of_at_most_10_mb(
    media: Path, agent: User, leak: Category
) -> None:
    order = new_order(agent, leak)
    with pytest.raises(ValidationError):
        services.attachment_add(
            actor=agent,
            order=order,
            file=SimpleUploadedFile("a.exe", b"MZ\x90\x00", content_type="application/x-msdos"),
        )
    with pytest.raises(ValidationError):  # claims to be a PDF but is not
        services.attachment_add(
            actor=agent,
            order=order,
            file=SimpleUploadedFile("a.pdf", b"<html>", content_type="application/pdf"),
        )
    big = SimpleUploadedFile(
        "big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), content_type="application/pdf"
    )
    with pytest.raises(ValidationError):
        services.attachment_add(actor=agent, order=order, file=big)
    pdf = SimpleUploadedFile("ok.pdf", b"%PDF-1.4\n", content_type="application/pdf")
    assert services.attachment_add(actor=agent, order=order, file=pdf).size == 9
