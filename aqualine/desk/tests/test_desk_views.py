"""The desktop's and the monitor's endpoints against the control API of a switch with the real
ACD (no SIP): who may command whom, what the switch receives, what the agent is told."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.translation import gettext, override

from aqualine.accounts.models import User
from aqualine.callcenter.models import CallRecord
from aqualine.conftest import client_for
from aqualine.core.models import AuditEvent
from aqualine.desk.models import MissedCallHandled
from aqualine.desk.tests.support import ServedSwitch

pytestmark = pytest.mark.django_db


def _command(client: Client, command: str, **fields: str) -> tuple[int, dict]:
    response = client.post("/desk/command/", {"command": command, **fields})
    return response.status_code, response.json()


def _zh(text: str) -> str:
    with override("zh-hans"):
        return gettext(text)


def test_an_agent_logs_in_signs_on_goes_busy_and_back_as_themselves(
    switch: ServedSwitch, agent: User
) -> None:
    client = client_for(agent)
    status, answer = _command(client, "login", extension="8001")
    assert status == 200 and answer["agent"]["state"] == "not_ready"
    assert answer["agent"]["reason"] == "signed_off"
    assert _command(client, "sign_on")[1]["agent"]["state"] == "idle"
    busy = _command(client, "not_ready", reason="开会")[1]["agent"]
    assert (busy["state"], busy["reason"]) == ("not_ready", "开会")
    assert _command(client, "ready")[1]["agent"]["state"] == "idle"
    state = client.get("/desk/state.json").json()
    assert state["switch_ok"] and state["agent"]["state"] == "idle"
    assert state["agent"]["extension"] == "8001"
    assert {agent_id for _c, agent_id, _p in switch.switch.commands} == {"1001"}


def test_an_agent_cannot_command_another_agent(
    switch: ServedSwitch, agent: User, agent2: User
) -> None:
    client = client_for(agent)
    # An agent ID in the request is ignored: the command is always the user's own.
    response = client.post(
        "/desk/command/", {"command": "login", "extension": "8002", "agent_id": "1002"}
    )
    assert response.status_code == 200
    assert switch.switch.commands == [("login", "1001", {"extension": "8002"})]
    # The supervisor's commands are refused, and nothing reaches the switch.
    assert client.post("/desk/monitor/agents/1002/force_ready/").status_code == 403
    assert client.post("/desk/monitor/agents/1002/force_sign_off/").status_code == 403
    # Commands the desktop does not offer are refused before the switch.
    status, answer = _command(client, "force_logout")
    assert status == 400 and not answer["ok"]
    assert len(switch.switch.commands) == 1


def test_the_monitor_is_forbidden_to_agents(switch: ServedSwitch, agent: User) -> None:
    client = client_for(agent)
    for url in ("/desk/monitor/", "/desk/monitor/state.json", "/desk/monitor/missed/"):
        assert client.get(url).status_code == 403, url


def test_the_desktop_is_forbidden_without_the_permission(
    switch: ServedSwitch, outsider: User
) -> None:
    client = client_for(outsider)
    assert client.get("/desk/").status_code == 403
    assert client.post("/desk/command/", {"command": "sign_on"}).status_code == 403
    assert client.post("/desk/hangup/").status_code == 403
    assert switch.switch.commands == []


def test_login_on_an_unregistered_extension_is_refused_with_the_reason_in_chinese(
    switch: ServedSwitch, agent: User
) -> None:
    status, answer = _command(client_for(agent), "login", extension="8009")
    assert status == 409 and answer["code"] == "extension_not_registered"
    assert "8009" in answer["error"]
    expected = _zh(
        "Extension %(extension)s is not registered: start its phone (or softphone) first."
    ) % {"extension": "8009"}
    assert answer["error"] == expected


def test_a_command_the_state_does_not_allow_is_refused(switch: ServedSwitch, agent: User) -> None:
    client = client_for(agent)
    for command in ("sign_on", "finish_wrap_up"):  # not logged in
        status, answer = _command(client, command)
        assert status == 409 and answer["code"] == "transition_not_allowed"
        assert answer["error"] == _zh("This is not possible in the current state.")
    _command(client, "login", extension="8001")
    status, answer = _command(client, "finish_wrap_up")  # logged in, not in after-call work
    assert status == 409 and answer["code"] == "transition_not_allowed"


def test_busy_needs_one_of_the_busy_reasons(switch: ServedSwitch, agent: User) -> None:
    client = client_for(agent)
    _command(client, "login", extension="8001")
    status, answer = _command(client, "not_ready", reason="打游戏")
    assert status == 400 and answer["error"] == _zh("Choose one of the busy reasons.")


def test_a_switch_that_does_not_answer_is_reported(
    settings: object, agent: User, supervisor: User
) -> None:
    settings.SWITCH_API_URL = "http://127.0.0.1:9"  # type: ignore[attr-defined]
    status, answer = _command(client_for(agent), "sign_on")
    assert status == 503
    assert answer["error"] == _zh("The switch is not answering; try again in a moment.")
    state = client_for(agent).get("/desk/state.json").json()
    assert state["switch_ok"] is False and state["agent"]["state"] == "logged_out"
    monitor = client_for(supervisor).get("/desk/monitor/state.json").json()
    assert monitor["switch_ok"] is False


def test_an_agent_hangs_up_only_their_own_call(
    switch: ServedSwitch, agent: User, agent2: User
) -> None:
    first, second = client_for(agent), client_for(agent2)
    for client, extension in ((first, "8001"), (second, "8002")):
        _command(client, "login", extension=extension)
        _command(client, "sign_on")
    offered = switch.call(switch.switch.offer, "c1", "13800138000")
    switch.call(switch.switch.answer, "c1")
    other = first if offered == "1002" else second
    mine = second if offered == "1002" else first
    response = other.post("/desk/hangup/")
    assert response.status_code == 409 and response.json()["code"] == "no_call"
    assert switch.switch.hung_up == []
    assert mine.post("/desk/hangup/").json() == {"ok": True, "call_id": "c1"}
    assert switch.switch.hung_up == ["c1"]


def test_a_supervisor_forces_an_agent_ready_and_it_is_audited(
    switch: ServedSwitch, agent: User, supervisor: User
) -> None:
    _command(client_for(agent), "login", extension="8001")
    client = client_for(supervisor)
    forced = client.post("/desk/monitor/agents/1001/force_ready/")
    assert forced.status_code == 200 and forced.json()["agent"]["state"] == "idle"
    assert switch.switch.commands[-1] == ("force_ready", "1001", {"by": "1900"})
    event = AuditEvent.objects.get(action="agent.force_ready")
    assert event.actor == supervisor and event.target_label == "1001"
    again = client.post("/desk/monitor/agents/1001/force_ready/")  # idle: not possible
    assert again.status_code == 409
    assert again.json()["error"] == _zh("This is not possible in the current state.")
    assert AuditEvent.objects.filter(action="agent.force_ready").count() == 1
    signed_off = client.post("/desk/monitor/agents/1001/force_sign_off/").json()
    assert signed_off["agent"]["state"] == "not_ready"
    assert client.post("/desk/monitor/agents/1001/force_logout/").status_code == 404


def test_the_monitor_lists_every_agent_and_queue(
    switch: ServedSwitch, agent: User, agent2: User, supervisor: User
) -> None:
    _command(client_for(agent), "login", extension="8001")
    _command(client_for(agent), "sign_on")
    switch.call(switch.switch.offer, "c7", "13900139000")
    switch.call(switch.switch.answer, "c7")
    state = client_for(supervisor).get("/desk/monitor/state.json").json()
    rows = {a["agent_id"]: a for a in state["agents"]}
    assert rows["1001"]["state"] == "talking" and rows["1001"]["name"] == "张敏"
    assert rows["1001"]["call"]["caller"] == "13900139000"
    assert rows["1002"]["state"] == "logged_out"  # may use the desktop, not logged in
    assert rows["1900"]["state"] == "logged_out"  # supervisors take calls too
    assert [q["name"] for q in state["queues"]] == ["hotline"]
    page = client_for(supervisor).get("/desk/monitor/").content.decode()
    assert 'id="mon-agents"' in page and "force_sign_off" in page


def _missed(call_id: str, outcome: str, started: datetime) -> CallRecord:
    return CallRecord.objects.create(
        call_id=call_id,
        direction="inbound",
        caller="1390000" + call_id[-4:],
        callee="96000",
        started_at=started,
        ended_at=started + timedelta(seconds=20),
        outcome=outcome,
        queue="hotline",
        wait_seconds=18,
    )


def test_missed_calls_of_today_are_listed_and_marked_handled(agent: User, supervisor: User) -> None:
    now = timezone.now()
    abandoned = _missed("c-0001", "abandoned", now - timedelta(minutes=5))
    _missed("c-0002", "missed", now - timedelta(minutes=3))
    _missed("c-0003", "answered", now - timedelta(minutes=2))
    _missed("c-0004", "ivr_only", now - timedelta(minutes=1))
    _missed("c-0005", "abandoned", now - timedelta(days=2))
    client = client_for(supervisor)
    page = client.get("/desk/monitor/missed/").content.decode()
    assert "13900000001" in page and "13900000002" in page
    for other in ("13900000003", "13900000004", "13900000005"):
        assert other not in page
    url = f"/desk/monitor/missed/{abandoned.pk}/handled/"
    assert client_for(agent).post(url).status_code == 403
    response = client.post(url)
    assert response.status_code == 302
    handled = MissedCallHandled.objects.get()
    assert handled.call_id == "c-0001" and handled.handled_by == supervisor
    page = client.get("/desk/monitor/missed/").content.decode()
    assert page.count("data-missed-form") == 1  # the other one is still open
    answered = CallRecord.objects.get(call_id="c-0003")
    client.post(f"/desk/monitor/missed/{answered.pk}/handled/")
    assert MissedCallHandled.objects.count() == 1


def test_the_desktop_page_offers_its_buttons_with_dialing_disabled_until_the_state_allows(
    switch: ServedSwitch, agent: User
) -> None:
    page = client_for(agent).get("/desk/").content.decode()
    assert 'data-agent="1001"' in page
    for command in ("login", "sign_on", "sign_off", "not_ready", "ready", "finish_wrap_up"):
        assert f'data-command="{command}"' in page
    assert 'id="desk-dial" disabled' in page
    assert 'id="desk-commands"' in page and "/knowledge/search.json" in page


def test_intake_keeps_the_call_id_of_the_screen_pop(agent: User) -> None:
    from aqualine.workorders.models import WorkOrder
    from aqualine.workorders.tests.conftest import ensure_seeded_categories

    ensure_seeded_categories()
    from aqualine.workorders.models import Category

    category = Category.objects.get(code="leak-pipe")
    client = client_for(agent)
    page = client.get("/workorders/new/?caller=13800138000&call_id=c0123abcd").content.decode()
    assert 'name="call_id" value="c0123abcd"' in page
    token = page.split('name="form_token" value="')[1].split('"')[0]
    response = client.post(
        "/workorders/new/?caller=13800138000",
        {
            "form_token": token,
            "call_id": "c0123abcd",
            "source": "phone",
            "caller_number": "13800138000",
            "category": category.pk,
            "description": "水管漏水",
            "urgency": "normal",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert WorkOrder.objects.get().call_id == "c0123abcd"
