"""Knowledge-base personas and the demo article set shared by this app's tests."""

from __future__ import annotations

from importlib import import_module
from typing import Any

import pytest
from django.apps import apps

from aqualine.accounts.models import Department, User
from aqualine.conftest import ensure_seeded_roles, make_user
from aqualine.knowledge.demo import load_demo_knowledge
from aqualine.knowledge.models import Article, Category


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """The personas' passwords need no strength here; hashing them costs most of each test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def grant_knowledge_roles() -> None:
    """The seeded roles with this app's grants (a live-server test flushes them)."""
    ensure_seeded_roles()
    import_module("aqualine.knowledge.migrations.0002_grant_roles").grant(apps, None)


@pytest.fixture
def supervisor(hotline: Department) -> User:
    grant_knowledge_roles()
    return make_user("2001", "supervisor", department=hotline, name="王班长")


@pytest.fixture
def second_supervisor(hotline: Department) -> User:
    grant_knowledge_roles()
    return make_user("2002", "supervisor", department=hotline, name="陈班长")


@pytest.fixture
def kb(supervisor: User) -> dict[str, Article]:
    """The demo knowledge base (about thirty published articles), by title."""
    load_demo_knowledge(supervisor)
    return {a.title: a for a in Article.objects.all()}


@pytest.fixture
def category(supervisor: User) -> Category:
    from aqualine.knowledge import services

    return services.category_create(actor=supervisor, name="停水")
