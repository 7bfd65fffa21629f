"""Call control from the desktop and supervision from the monitor (issue 6), against the control
API with the real ACD behind it and a stand-in for the media (`support.AcdSwitch`): who may do
what, on whose call, what reaches the switch, and how its refusals are told. That the switch
really holds, transfers and bridges is for the end-to-end tests with real phones."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils.translation import gettext, override

from aqualine.accounts.models import Role, User
from aqualine.conftest import client_for, make_user
from aqualine.core.models import AuditEvent
from aqualine.desk.tests.support import ServedSwitch

pytestmark = pytest.mark.django_db


def _zh(text: str) -> str:
    with override("zh-hans"):
        return gettext(text)


def _post(client: Client, url: str, **fields: str) -> tuple[int, dict[str, Any]]:
    response = client.post(url, fields)
    return response.status_code, response.json()


def _ready(client: Client, extension: str) -> None:
    for command, fields in (("login", {"extension": extension}), ("sign_on", {})):
        response = client.post("/desk/command/", {"command": command, **fields})
        assert response.status_code == 200, response.content


def _talking(switch: ServedSwitch, *clients: tuple[Client, str]) -> str:
    """Each client's agent logged in on its extension and idle; a call answered by one of
    them: that agent's ID."""
    for client, extension in clients:
        _ready(client, extension)
    agent_id = switch.call(switch.switch.offer, "c1", "13800138000")
    switch.call(switch.switch.answer, "c1")
    return str(agent_id)


def _controls(switch: ServedSwitch) -> list[tuple[str, str, dict[str, Any]]]:
    return [c for c in switch.switch.commands if c[0] not in ("login", "sign_on", "not_ready")]


def test_an_agent_holds_and_retrieves_their_own_call(switch: ServedSwitch, agent: User) -> None:
    client = client_for(agent)
    _talking(switch, (client, "8001"))
    status, answer = _post(client, "/desk/call/hold/")
    assert status == 200 and answer["ok"] and answer["agent"]["state"] == "talking"
    assert answer["call"]["call_id"] == "c1"
    status, answer = _post(client, "/desk/call/hold/")
    assert (status, answer["code"]) == (409, "already_held")
    assert answer["error"] == _zh("The call is already on hold.")
    assert _post(client, "/desk/call/unhold/")[0] == 200
    status, answer = _post(client, "/desk/call/unhold/")
    assert answer["error"] == _zh("The call is not on hold.")
    assert _controls(switch) == [
        ("hold", "1001", {}),
        ("hold", "1001", {}),
        ("unhold", "1001", {}),
        ("unhold", "1001", {}),
    ]


def test_call_control_acts_on_the_agents_own_call_only(
    switch: ServedSwitch, agent: User, agent2: User
) -> None:
    first, second = client_for(agent), client_for(agent2)
    _ready(first, "8001")
    _ready(second, "8002")
    talking = switch.call(switch.switch.offer, "c1", "13800138000")
    switch.call(switch.switch.answer, "c1")
    other = second if talking == "1001" else first
    other_id = "1002" if talking == "1001" else "1001"
    # An agent ID in the request is never read: the other agent's (empty) call is meant.
    status, answer = _post(other, "/desk/call/hold/", agent_id=talking)
    assert (status, answer["code"]) == (409, "no_call")
    assert answer["error"] == _zh("You have no call in progress.")
    assert _controls(switch) == [("hold", other_id, {})]
    assert switch.switch.held == set()


def test_without_the_permission_nothing_reaches_the_switch(
    switch: ServedSwitch, agent: User, outsider: User
) -> None:
    # An agent whose role holds the desktop but not call control.
    role = Role.objects.create(name="只接听")
    role.permissions.add(Permission.objects.get(codename="use_desktop"))
    listener = make_user("1005", department=agent.department)
    listener.groups.set([role])
    for user in (outsider, listener):
        client = client_for(user)
        assert client.post("/desk/call/hold/").status_code == 403
        assert client.post("/desk/call/transfer/", {"target": "1002"}).status_code == 403
        assert client.post("/desk/dial/", {"number": "13900139000"}).status_code == 403
        assert client.get("/desk/agents.json").status_code == 403
    page = client_for(listener).get("/desk/").content.decode()
    assert 'id="desk-hold"' not in page and "data-call-url" not in page
    assert switch.switch.commands == []


def test_an_unknown_command_is_no_page(switch: ServedSwitch, agent: User) -> None:
    client = client_for(agent)
    assert client.post("/desk/call/force_logout/").status_code == 404
    assert client.post("/desk/call/dial/").status_code == 404  # dialling has its own address
    assert client.get("/desk/call/hold/").status_code == 405
    assert switch.switch.commands == []


def test_a_blind_transfer_to_another_agent_is_refused_until_it_is_idle(
    switch: ServedSwitch, agent: User, agent2: User
) -> None:
    first, second = client_for(agent), client_for(agent2)
    _talking(switch, (first, "8001"))  # 1002 not logged in yet: the call is 1001's
    status, answer = _post(first, "/desk/call/transfer/", target="1002", kind="agent")
    assert (status, answer["code"]) == (409, "target_logged_out")
    assert answer["error"] == _zh("The other agent is not logged in.")
    second.post("/desk/command/", {"command": "login", "extension": "8002"})  # signed off
    status, answer = _post(first, "/desk/call/transfer/", target="1002", kind="agent")
    assert (status, answer["code"]) == (409, "target_not_ready")
    assert answer["error"] == _zh("The other agent is not ready.")
    second.post("/desk/command/", {"command": "sign_on"})
    status, answer = _post(first, "/desk/call/transfer/", target="1002", kind="agent")
    assert status == 200 and answer["agent"]["state"] == "after_call_work"
    assert switch.switch.commands[-1] == ("transfer", "1001", {"target": "1002", "kind": "agent"})
    targets = client_for(agent).get("/desk/agents.json").json()
    assert [(a["agent_id"], a["state"]) for a in targets["agents"]] == [("1002", "ringing")]


def test_the_transfer_targets_are_the_other_logged_in_agents_idle_first(
    switch: ServedSwitch, agent: User, agent2: User, supervisor: User
) -> None:
    make_user("1003", "agent", department=agent.department, name="赵六")
    for user, extension in ((agent, "8001"), (supervisor, "8003")):
        client_for(user).post("/desk/command/", {"command": "login", "extension": extension})
    _ready(client_for(agent2), "8002")
    answer = client_for(agent).get("/desk/agents.json").json()
    assert answer["switch_ok"] is True
    assert answer["agents"] == [
        {"agent_id": "1002", "name": "李强", "extension": "8002", "state": "idle"},
        {"agent_id": "1900", "name": "王班长", "extension": "8003", "state": "not_ready"},
    ]


def test_a_busy_target_and_a_bad_target_are_told(
    switch: ServedSwitch, agent: User, agent2: User
) -> None:
    first, second = client_for(agent), client_for(agent2)
    _ready(second, "8002")
    switch.call(switch.switch.offer, "c0", "13900000000")
    switch.call(switch.switch.answer, "c0")  # 1002 is talking
    _ready(first, "8001")
    switch.call(switch.switch.offer, "c1", "13800138000")
    switch.call(switch.switch.answer, "c1")
    status, answer = _post(first, "/desk/call/transfer/", target="1002")
    assert (status, answer["code"]) == (409, "target_busy")
    assert answer["error"] == _zh("The other agent is busy.")
    status, answer = _post(first, "/desk/call/consult/", target="8009")
    assert (status, answer["code"]) == (409, "unknown_target")
    assert "8009" in answer["error"]
    before = len(switch.switch.commands)
    for target, code in (("", "no_target"), ("1002; rm", "bad_target"), ("x" * 30, "bad_target")):
        status, answer = _post(first, "/desk/call/transfer/", target=target)
        assert (status, answer["code"]) == (400, code), target
    assert _post(first, "/desk/call/transfer/", target="1002", kind="boss")[0] == 400
    assert len(switch.switch.commands) == before


def test_consult_then_conference_then_cancel(
    switch: ServedSwitch, agent: User, agent2: User
) -> None:
    client = client_for(agent)
    _talking(switch, (client, "8001"))
    status, answer = _post(client, "/desk/call/conference/")
    assert answer["error"] == _zh("There is no consultation in progress.")
    assert _post(client, "/desk/call/consult/", target="8002")[0] == 200
    assert switch.switch.commands[-1] == ("consult", "1001", {"target": "8002"})
    for command in ("conference", "complete_transfer"):
        status, answer = _post(client, f"/desk/call/{command}/")
        assert (status, answer["code"]) == (409, "consult_pending"), command
        assert answer["error"] == _zh("The consulted party has not answered yet.")
    status, answer = _post(client, "/desk/call/hold/")  # the same code, another meaning
    assert (status, answer["code"]) == (409, "consult_pending")
    assert answer["error"] == _zh("A consultation is in progress: complete or cancel it first.")
    switch.call(switch.switch.consult_answered, "c1")
    assert _post(client, "/desk/call/conference/")[0] == 200
    assert switch.switch.conferences == {"c1"}
    assert _post(client, "/desk/call/cancel_consult/")[0] == 200
    status, answer = _post(client, "/desk/call/cancel_consult/")
    assert (status, answer["code"]) == (409, "no_consult")


def test_an_attended_transfer_leaves_the_agent_in_after_call_work(
    switch: ServedSwitch, agent: User
) -> None:
    client = client_for(agent)
    _talking(switch, (client, "8001"))
    _post(client, "/desk/call/consult/", target="13900139000", kind="number")
    assert switch.switch.commands[-1] == (
        "consult",
        "1001",
        {"target": "13900139000", "kind": "number"},
    )
    switch.call(switch.switch.consult_answered, "c1")
    status, answer = _post(client, "/desk/call/complete_transfer/")
    assert status == 200 and answer["agent"]["state"] == "after_call_work"


def test_click_to_dial_as_oneself_and_its_refusals(switch: ServedSwitch, agent: User) -> None:
    client = client_for(agent)
    status, answer = _post(client, "/desk/dial/", number="13900139000")
    assert (status, answer["code"]) == (409, "unknown_agent")  # not logged in
    assert answer["error"] == _zh("Log in to the queue with your extension first.")
    client.post("/desk/command/", {"command": "login", "extension": "8001"})  # signed off
    switch.switch.outbound_trunk = False
    status, answer = _post(client, "/desk/dial/", number="13900139000")
    assert (status, answer["code"]) == (409, "no_trunk")
    assert answer["error"] == _zh("No trunk is set up for outbound calls.")
    switch.switch.outbound_trunk = True
    status, answer = _post(client, "/desk/dial/", number="139-0013 9000", agent_id="1002")
    assert status == 200 and answer["call_id"]
    assert switch.switch.commands[-1] == ("dial", "1001", {"number": "13900139000"})
    state = client.get("/desk/state.json").json()
    assert state["agent"]["state"] == "talking"
    assert state["call"]["direction"] == "outbound"
    assert state["call"]["callee"] == "13900139000"
    status, answer = _post(client, "/desk/dial/", number="13900139001")
    assert (status, answer["code"]) == (409, "agent_busy")
    assert answer["error"] == _zh("You are busy with another call.")
    before = len(switch.switch.commands)
    for number, code in (("", "no_number"), ("139abc", "bad_number"), ("1" * 21, "bad_number")):
        status, answer = _post(client, "/desk/dial/", number=number)
        assert (status, answer["code"]) == (400, code), number
    assert len(switch.switch.commands) == before


def test_a_switch_that_does_not_answer_is_told(settings: Any, agent: User) -> None:
    settings.SWITCH_API_URL = "http://127.0.0.1:9"
    status, answer = _post(client_for(agent), "/desk/call/hold/")
    assert status == 503
    assert answer["error"] == _zh("The switch is not answering; try again in a moment.")
    assert client_for(agent).get("/desk/agents.json").json() == {
        "switch_ok": False,
        "agents": [],
    }


# --- supervision ------------------------------------------------------------------------------


def test_a_supervisor_listens_whispers_and_barges_from_their_extension(
    switch: ServedSwitch, agent: User, supervisor: User
) -> None:
    _talking(switch, (client_for(agent), "8001"))
    client = client_for(supervisor)
    status, answer = _post(client, "/desk/monitor/calls/c1/supervise/listen/")
    assert (status, answer["code"]) == (400, "no_extension")  # not logged in, none given
    status, answer = _post(client, "/desk/monitor/calls/c1/supervise/listen/", extension="8003")
    assert status == 200 and answer["mode"] == "listen"
    assert switch.switch.call_commands[-1] == (
        "supervise",
        "c1",
        {"extension": "8003", "mode": "listen", "by": "1900"},
    )
    client.post("/desk/command/", {"command": "login", "extension": "8003"})
    assert _post(client, "/desk/monitor/calls/c1/supervise/whisper/")[0] == 200
    assert switch.switch.call_commands[-1][2]["extension"] == "8003"  # the logged-in one
    assert _post(client, "/desk/monitor/calls/c1/supervise/barge/", extension="8003")[0] == 200
    assert switch.switch.supervised == {"c1": "barge"}
    audited = AuditEvent.objects.filter(action="call.supervise").order_by("pk")
    assert [e.data["mode"] for e in audited] == ["listen", "whisper", "barge"]
    assert {e.actor for e in audited} == {supervisor}
    assert _post(client, "/desk/monitor/calls/c1/stop_supervising/")[0] == 200
    assert switch.switch.supervised == {}


def test_supervision_refusals_are_told_and_not_audited(
    switch: ServedSwitch, agent: User, supervisor: User
) -> None:
    _talking(switch, (client_for(agent), "8001"))
    client = client_for(supervisor)
    status, answer = _post(client, "/desk/monitor/calls/c1/supervise/listen/", extension="8009")
    assert (status, answer["code"]) == (409, "not_registered")
    assert answer["error"] == _zh(
        "The extension is not registered: start its phone (or softphone) first."
    )
    status, answer = _post(client, "/desk/monitor/calls/gone/supervise/listen/", extension="8003")
    assert (status, answer["code"]) == (409, "unknown_call")
    assert answer["error"] == _zh("The call has ended.")
    status, answer = _post(client, "/desk/monitor/calls/c1/supervise/listen/", extension="80a3")
    assert (status, answer["code"]) == (400, "bad_extension")
    assert client.post("/desk/monitor/calls/c1/supervise/spy/").status_code == 404
    assert not AuditEvent.objects.filter(action="call.supervise").exists()


def test_agents_may_not_listen_in(switch: ServedSwitch, agent: User, agent2: User) -> None:
    _talking(switch, (client_for(agent), "8001"))
    client = client_for(agent2)
    for url in (
        "/desk/monitor/calls/c1/supervise/listen/",
        "/desk/monitor/calls/c1/stop_supervising/",
    ):
        assert client.post(url, {"extension": "8002"}).status_code == 403
    assert switch.switch.call_commands == []


# --- the pages --------------------------------------------------------------------------------


def test_the_desktop_offers_the_call_control_buttons(switch: ServedSwitch, agent: User) -> None:
    page = client_for(agent).get("/desk/").content.decode()
    for button in (
        'id="desk-hold" data-call-command="hold" disabled',
        'id="desk-unhold" data-call-command="unhold" disabled',
        'id="desk-transfer" data-call-dialog="transfer" disabled',
        'id="desk-consult" data-call-dialog="consult" disabled',
        'id="desk-complete-transfer" data-call-command="complete_transfer" disabled',
        'id="desk-conference" data-call-command="conference" disabled',
        'id="desk-cancel-consult" data-call-command="cancel_consult" disabled',
        'id="desk-dial" disabled',
        'id="desk-callback" disabled',
        'id="desk-target-dialog"',
    ):
        assert button in page, button
    assert 'data-call-url="/desk/call/COMMAND/"' in page
    assert 'data-dial-url="/desk/dial/"' in page


def test_the_monitor_offers_supervision_and_call_back_to_supervisors(
    switch: ServedSwitch, supervisor: User
) -> None:
    page = client_for(supervisor).get("/desk/monitor/").content.decode()
    assert 'id="mon-extension"' in page
    assert 'data-supervise-url="/desk/monitor/calls/CALL/supervise/MODE/"' in page
    assert 'data-dial-url="/desk/dial/"' in page
