"""Departments, people and announcements shared by the announcement tests.

The department tree: 管网维修部 (repair) ⊃ 东区维修班 (repair_east) ⊃ 东区一组 (east_one);
营业收费部 (billing) beside it; the hotline (热线中心) where the publishers sit.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from importlib import import_module
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone

from aqualine.accounts.models import Department, User
from aqualine.conftest import ensure_seeded_roles, make_user
from aqualine.notices import services
from aqualine.notices.models import Announcement, NoticeType


@pytest.fixture(autouse=True)
def _notice_grants(db: None) -> Iterator[None]:
    """The seeded roles with this app's permissions (a transactional test elsewhere may have
    flushed and re-seeded the roles without them)."""
    ensure_seeded_roles()
    import_module("aqualine.notices.migrations.0002_grant_roles_and_types").grant(apps, None)
    yield


@pytest.fixture
def repair_east(repair: Department) -> Department:
    return Department.objects.create(name="东区维修班", code="repair-east", parent=repair)


@pytest.fixture
def east_one(repair_east: Department) -> Department:
    return Department.objects.create(name="东区一组", code="east-one", parent=repair_east)


@pytest.fixture
def billing(db: None) -> Department:
    return Department.objects.create(name="营业收费部", code="billing")


@pytest.fixture
def supervisor(hotline: Department) -> User:
    return make_user("1900", "supervisor", department=hotline, name="王班长")


@pytest.fixture
def supervisor2(hotline: Department) -> User:
    return make_user("1901", "supervisor", department=hotline, name="陈班长")


@pytest.fixture
def east_handler(repair_east: Department) -> User:
    return make_user("3011", "handler", department=repair_east, name="周东")


@pytest.fixture
def east_one_handler(east_one: Department) -> User:
    return make_user("3012", "handler", department=east_one, name="吴一")


@pytest.fixture
def billing_clerk(billing: Department) -> User:
    return make_user("4001", "handler", department=billing, name="郑收费")


@pytest.fixture
def billing_named(billing: Department) -> User:
    """Someone in billing who is chosen by name."""
    return make_user("4002", "handler", department=billing, name="冯点名")


@pytest.fixture
def notice_type(db: None) -> NoticeType:
    return NoticeType.objects.get_or_create(name="通知")[0]


@pytest.fixture
def policy_type(db: None) -> NoticeType:
    return NoticeType.objects.get_or_create(name="制度")[0]


def publish(actor: User, notice_type: NoticeType, **values: Any) -> Announcement:
    """Publish through the service, valid from a minute ago unless told otherwise."""
    values.setdefault("title", "关于夏季用水高峰的通知")
    values.setdefault("body", "各部门注意：\n请做好夏季供水保障。")
    values.setdefault("valid_from", timezone.now() - timedelta(minutes=1))
    return services.announcement_publish(actor=actor, notice_type=notice_type, **values)
