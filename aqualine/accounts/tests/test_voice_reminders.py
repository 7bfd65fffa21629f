"""Each user turns their own spoken work-order reminders on or off (the switch in the top bar)."""

from __future__ import annotations

import re

import pytest

from aqualine.accounts.models import User
from aqualine.conftest import client_for

pytestmark = pytest.mark.django_db

URL = "/me/voice-reminders/"


def _voice(user: User) -> bool:
    return User.objects.get(pk=user.pk).voice_reminders


def test_voice_reminders_are_on_for_a_new_user(handler: User) -> None:
    assert handler.voice_reminders is True


def test_a_user_turns_their_own_reminders_off_and_on_again(handler: User, agent: User) -> None:
    client = client_for(handler)
    response = client.post(URL, {"enabled": "0", "next": "/workorders/?status=processing"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/workorders/?status=processing"
    assert _voice(handler) is False
    assert _voice(agent) is True  # nobody else's

    response = client.post(URL, {"enabled": "1"}, headers={"Accept": "application/json"})
    assert response.json() == {"voice_reminders": True}
    assert _voice(handler) is True


def test_the_switch_goes_back_only_to_this_site(handler: User) -> None:
    response = client_for(handler).post(URL, {"enabled": "0", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_it_takes_a_post_from_someone_who_gets_work_order_events(
    handler: User, outsider: User
) -> None:
    assert client_for(handler).get(URL).status_code == 405
    assert client_for(outsider).post(URL, {"enabled": "0"}).status_code == 403
    assert _voice(outsider) is True
    anonymous = client_for(handler)
    anonymous.logout()
    response = anonymous.post(URL, {"enabled": "0"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login/")
    assert _voice(handler) is True


def test_the_top_bar_shows_the_switch_and_the_page_knows_the_setting(handler: User) -> None:
    client = client_for(handler)
    page = client.get("/workorders/").content.decode()
    assert re.search(r'<button[^>]*aria-pressed="true"', page)
    assert 'data-voice="1"' in page
    assert 'data-ws="/ws/workorders/"' in page
    assert "aqualine/live.js" in page
    assert 'id="order-list" data-live-region' in page

    client.post(URL, {"enabled": "0"})
    page = client.get("/workorders/").content.decode()
    assert re.search(r'<button[^>]*aria-pressed="false"', page)
    assert 'data-voice="0"' in page
    assert 'name="enabled" type="hidden" value="1"' in page  # the switch now turns it on


def test_someone_who_sees_no_work_orders_gets_no_switch_and_no_socket(outsider: User) -> None:
    page = client_for(outsider).get("/").content.decode()
    assert URL not in page
    assert 'data-ws=""' in page
