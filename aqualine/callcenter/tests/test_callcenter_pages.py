from __future__ import annotations

import socket

import pytest
from django.test import Client

from aqualine.accounts.models import User
from aqualine.callcenter.models import Extension, Trunk
from aqualine.conftest import client_for, make_user
from aqualine.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_switch(settings) -> None:
    """Point the web at a port where nothing listens (unless a test starts a switch)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.SWITCH_API_URL = f"http://127.0.0.1:{port}"


def test_the_page_says_when_the_switch_is_down(admin_client: Client) -> None:
    Extension.objects.create(number="8001", display_name="坐席 1")
    page = admin_client.get("/callcenter/extensions/").content.decode()
    assert "交换机未运行" in page
    assert "8001" in page and "未注册" in page


def test_an_administrator_creates_an_extension_with_a_generated_password(
    admin_client: Client,
) -> None:
    response = admin_client.post(
        "/callcenter/extensions/new/", {"number": "8010", "display_name": "班长席", "enabled": "on"}
    )
    assert response.status_code == 302
    ext = Extension.objects.get(number="8010")
    assert len(ext.password) == 12 and ext.password.isalnum()
    page = admin_client.get(f"/callcenter/extensions/{ext.pk}/").content.decode()
    assert ext.password in page
    assert AuditEvent.objects.filter(action="extension.create").exists()
    assert ext.password not in str(AuditEvent.objects.get(action="extension.create").data)


def test_bad_extension_numbers_get_chinese_errors(admin_client: Client) -> None:
    Extension.objects.create(number="8001")
    for number, message in (("80a1", "分机号由 2 到 10 位数字组成"), ("8001", "该分机号已被使用")):
        page = admin_client.post("/callcenter/extensions/new/", {"number": number}).content
        assert message in page.decode()
    assert Extension.objects.count() == 1


def test_a_new_password_is_generated_on_request_and_audited_without_the_secret(
    admin_client: Client,
) -> None:
    ext = Extension.objects.create(number="8001")
    old = ext.password
    response = admin_client.post(
        f"/callcenter/extensions/{ext.pk}/",
        {"version": ext.version, "display_name": "", "enabled": "on", "new_password": "on"},
    )
    assert response.status_code == 302
    ext.refresh_from_db()
    assert ext.password != old
    event = AuditEvent.objects.get(action="extension.update")
    assert old not in str(event.data) and ext.password not in str(event.data)


def test_a_trunk_needs_ip_addresses_and_numbers(admin_client: Client) -> None:
    page = admin_client.post(
        "/callcenter/trunks/new/",
        {"name": "carrier", "hosts": "carrier.example.com", "numbers": "96000x"},
    ).content.decode()
    assert "carrier.example.com 不是 IP 地址" in page
    assert "96000x 不是电话号码" in page
    assert not Trunk.objects.exists()
    response = admin_client.post(
        "/callcenter/trunks/new/",
        {"name": "carrier", "hosts": "10.0.0.1, 10.0.0.2", "numbers": "96000", "enabled": "on"},
    )
    assert response.status_code == 302
    assert Trunk.objects.get(name="carrier").host_list == ["10.0.0.1", "10.0.0.2"]


def test_agents_cannot_see_or_change_telephony(agent: User) -> None:
    client = client_for(agent)
    assert client.get("/callcenter/extensions/").status_code == 403
    assert client.post("/callcenter/extensions/new/", {"number": "8999"}).status_code == 403
    supervisor = make_user("1009", "supervisor")
    view_only = client_for(supervisor)
    assert view_only.get("/callcenter/extensions/").status_code == 200
    assert view_only.get("/callcenter/extensions/new/").status_code == 403


def test_healthz_reports_a_switch_that_does_not_answer(db: None) -> None:
    body = Client().get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["switch"]["ok"] is False
