"""Departments, people and orders shared by the work-order tests."""

from __future__ import annotations

import pytest

from aqualine.accounts.models import Department, User
from aqualine.conftest import make_user
from aqualine.workorders import services
from aqualine.workorders.models import Category, DepartmentTask, WorkOrder


def ensure_seeded_categories() -> None:
    """The categories the data migration seeds (a transactional test flushes them)."""
    if Category.objects.exists():
        return
    from importlib import import_module

    from django.apps import apps

    import_module("aqualine.workorders.migrations.0002_seed_categories").seed(apps, None)


@pytest.fixture
def quality(db: None) -> Department:
    return Department.objects.create(name="水质监测中心", code="quality")


@pytest.fixture
def quality_handler(quality: Department) -> User:
    return make_user("3101", "handler", department=quality, name="钱丽")


@pytest.fixture
def repair_handler2(repair: Department) -> User:
    return make_user("3002", "handler", department=repair, name="孙伟")


@pytest.fixture
def dispatcher(hotline: Department) -> User:
    return make_user("2001", "dispatcher", department=hotline, name="李娜")


@pytest.fixture
def supervisor(hotline: Department) -> User:
    return make_user("1900", "supervisor", department=hotline, name="王班长")


@pytest.fixture
def leak(db: None) -> Category:
    ensure_seeded_categories()
    return Category.objects.get(code="leak-pipe")  # seeded: 漏水 / 管道漏水, 24 h


def new_order(actor: User, category: Category, **extra: object) -> WorkOrder:
    fields: dict = {
        "source": WorkOrder.Source.PHONE,
        "category": category,
        "description": "小区门口管道漏水",
        "caller_number": "13800138000",
        "reporter_name": "陈先生",
        "address": "东城区人民路 1 号",
    }
    fields.update(extra)
    return services.workorder_create(actor=actor, **fields)


def dispatched(
    agent: User, category: Category, *departments: Department
) -> tuple[WorkOrder, list[DepartmentTask]]:
    order = new_order(agent, category)
    tasks = services.workorder_dispatch(actor=agent, order=order, departments=list(departments))
    return order, tasks


def finish(task: DepartmentTask, handler: User, result: str = "已修复") -> DepartmentTask:
    """Sign for, survey and submit a task as its department's handler."""
    task.refresh_from_db()
    services.task_accept(actor=handler, task=task, version=task.version)
    services.task_record_survey(actor=handler, task=task, version=task.version, survey="已到场")
    return services.task_submit(actor=handler, task=task, version=task.version, result=result)
