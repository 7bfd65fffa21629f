"""People, categories and a stand-in for the switch shared by the wallboard tests."""

from __future__ import annotations

from typing import Any

import pytest

from aqualine.accounts.models import Department, User
from aqualine.callcenter.client import SwitchUnavailable
from aqualine.conftest import make_user
from aqualine.workorders.models import Category
from aqualine.workorders.tests.conftest import ensure_seeded_categories


class FakeSwitch:
    """Answers like `SwitchClient.agents()` / `.queues()`; `up=False`: the switch is down."""

    def __init__(
        self,
        agents: list[dict[str, Any]] | None = None,
        queues: list[dict[str, Any]] | None = None,
        *,
        up: bool = True,
    ) -> None:
        self._agents = agents or []
        self._queues = queues or []
        self.up = up

    def agents(self) -> list[dict[str, Any]]:
        if not self.up:
            raise SwitchUnavailable("connection refused")
        return self._agents

    def queues(self) -> list[dict[str, Any]]:
        if not self.up:
            raise SwitchUnavailable("connection refused")
        return self._queues


@pytest.fixture
def supervisor(hotline: Department) -> User:
    return make_user("1900", "supervisor", department=hotline, name="王班长")


@pytest.fixture
def leader(hotline: Department) -> User:
    return make_user("9001", "viewer", department=hotline, name="刘经理")


@pytest.fixture
def quality(db: None) -> Department:
    return Department.objects.create(name="水质监测中心", code="quality")


@pytest.fixture
def leak(db: None) -> Category:
    ensure_seeded_categories()
    return Category.objects.get(code="leak-pipe")
