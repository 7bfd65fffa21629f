from __future__ import annotations

import pytest
from django.test import Client

from aqualine.accounts.models import User
from aqualine.conftest import PASSWORD
from aqualine.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_the_login_page_is_chinese_and_asks_for_the_agent_id(db: None) -> None:
    page = Client().get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "工号" in page
    assert 'lang="zh-hans"' in page


def test_staff_log_in_with_their_agent_id(agent: User) -> None:
    client = Client()
    response = client.post("/login/", {"username": "1001", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "欢迎，张敏" in client.get("/").content.decode()
    assert AuditEvent.objects.filter(action="auth.login", actor=agent).exists()


def test_a_wrong_password_is_refused_and_audited(agent: User) -> None:
    response = Client().post("/login/", {"username": "1001", "password": "wrong"})
    assert "工号或密码错误" in response.content.decode()
    assert AuditEvent.objects.filter(action="auth.login_failed", target_label="1001").count() == 1


def test_five_failures_lock_the_agent_id_even_for_the_right_password(agent: User) -> None:
    client = Client()
    for _ in range(4):
        assert client.post("/login/", {"username": "1001", "password": "bad"}).status_code == 200
    locked = client.post("/login/", {"username": "1001", "password": "bad"})
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.content.decode()
    right = client.post("/login/", {"username": "1001", "password": PASSWORD})
    assert right.status_code == 429
    assert AuditEvent.objects.filter(action="auth.locked_out").exists()
    # Another agent ID from the same address is not locked.
    User.objects.create_user("1002", PASSWORD, name="李娜")
    assert client.post("/login/", {"username": "1002", "password": PASSWORD}).status_code == 302


def test_a_password_reset_by_an_administrator_lifts_the_lock(
    agent: User, admin_client: Client
) -> None:
    client = Client()
    for _ in range(5):
        client.post("/login/", {"username": "1001", "password": "bad"})
    assert client.post("/login/", {"username": "1001", "password": PASSWORD}).status_code == 429
    new = "Fresh-Start-2026!"
    admin_client.post(f"/system/staff/{agent.pk}/password/", {"password1": new, "password2": new})
    assert client.post("/login/", {"username": "1001", "password": new}).status_code == 302


def test_logout_needs_a_post_and_ends_the_session(agent: User) -> None:
    client = Client()
    client.force_login(agent)
    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_forms_are_csrf_protected(agent: User) -> None:
    client = Client(enforce_csrf_checks=True)
    assert client.post("/login/", {"username": "1001", "password": PASSWORD}).status_code == 403


def test_english_is_available_through_the_language_switch(agent: User) -> None:
    client = Client()
    client.force_login(agent)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert "Welcome, 张敏" in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "欢迎，张敏" in client.get("/").content.decode()
