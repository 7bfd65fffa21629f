from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from aqualine.accounts.models import Department, User
from aqualine.core.parameters import param

pytestmark = pytest.mark.django_db


def test_demo_data_follows_the_domain_reference_and_can_be_loaded_twice(capsys) -> None:
    call_command("demo")
    call_command("demo")
    out = capsys.readouterr().out
    assert "1001" in out and settings.DEMO_PASSWORD in out
    assert set(Department.objects.values_list("name", flat=True)) == {
        "示例市自来水公司",
        "热线中心",
        "管网维修部",
        "营业收费部",
        "水质监测中心",
        "客户服务部",
        "二次供水管理部",
    }
    assert User.objects.count() == 12
    agents = User.objects.filter(groups__role__code="agent").order_by("agent_id")
    assert list(agents.values_list("agent_id", flat=True)) == ["1001", "1002", "1003", "1004"]
    supervisor = User.objects.get(agent_id="1001")
    assert {g.name for g in supervisor.groups.all()} == {"话务员", "热线班长"}
    assert param("basic.site_name") == "水务客服热线"


def test_demo_does_not_reset_a_changed_password(db: None) -> None:
    call_command("demo")
    user = User.objects.get(agent_id="1002")
    user.set_password("Changed-Password-1")
    user.save()
    call_command("demo")
    user.refresh_from_db()
    assert user.check_password("Changed-Password-1")


def test_every_demo_login_works(db: None) -> None:
    call_command("demo")
    for agent_id in ("admin", "1001", "2001", "3001", "9001"):
        client = Client()
        response = client.post(
            "/login/", {"username": agent_id, "password": settings.DEMO_PASSWORD}
        )
        assert response.status_code == 302, agent_id


def test_old_sign_in_events_are_pruned_but_changes_are_kept(db: None) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from aqualine.core.models import AuditEvent

    old = timezone.now() - timedelta(days=200)
    for action in ("auth.login_failed", "auth.login", "staff.update"):
        event = AuditEvent.objects.create(action=action)
        AuditEvent.objects.filter(pk=event.pk).update(at=old)
    AuditEvent.objects.create(action="auth.login_failed")  # recent: kept
    call_command("prune_audit", "--days", "180")
    assert sorted(AuditEvent.objects.values_list("action", flat=True)) == [
        "auth.login_failed",
        "staff.update",
    ]
