"""A switch for the desk's tests (the real ACD and control API, no SIP) and the people."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aqualine.accounts.models import Department, User
from aqualine.conftest import make_user
from aqualine.desk.tests.support import TOKEN, ServedSwitch, served_switch


@pytest.fixture
def switch(settings: Any) -> Iterator[ServedSwitch]:
    with served_switch() as served:
        settings.SWITCH_API_URL = served.url
        settings.SWITCH_TOKEN = TOKEN
        yield served


@pytest.fixture
def agent2(hotline: Department) -> User:
    return make_user("1002", "agent", department=hotline, name="李强")


@pytest.fixture
def supervisor(hotline: Department) -> User:
    return make_user("1900", "supervisor", department=hotline, name="王班长")
