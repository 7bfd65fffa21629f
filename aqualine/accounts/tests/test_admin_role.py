"""The seeded administrator role can manage everyone: it holds every permission any other
seeded role holds (staff changes and password resets refuse a target with more rights)."""

from __future__ import annotations

import pytest

from aqualine.accounts.models import Role
from aqualine.conftest import ensure_seeded_roles

pytestmark = pytest.mark.django_db


def test_the_administrator_holds_every_permission_of_the_other_seeded_roles() -> None:
    ensure_seeded_roles()
    admin = set(Role.objects.get(code="admin").permissions.values_list("pk", flat=True))
    for role in Role.objects.exclude(code="admin").exclude(code=None):
        missing = role.permissions.exclude(pk__in=admin).values_list("codename", flat=True)
        assert not list(missing), f"{role.code} holds what admin does not: {list(missing)}"
