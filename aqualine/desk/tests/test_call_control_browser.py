"""The desktop's call-control buttons and the monitor's supervision buttons in Chromium, driven
by the switch's events. The switch is the control API with the real ACD and a stand-in for the
media (`support.AcdSwitch`): this shows that the pages send the right commands, follow the
`call.control` events and tell the refusals; the end-to-end proof with real phones is in the
tests with the real switch."""

from __future__ import annotations

from importlib import import_module
from typing import Any

import pytest
from django.apps import apps
from django.utils.translation import gettext, override

from aqualine.accounts.models import Department
from aqualine.conftest import PASSWORD, AsgiLiveServer, make_user, wait_until
from aqualine.desk.tests.support import ServedSwitch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CALLER = "13800138000"


def _zh(text: str) -> str:
    with override("zh-hans"):
        return gettext(text)


def _sign_in(page: Any, base: str, agent_id: str, path: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("工号").fill(agent_id)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}{path}")


def _status(page: Any, control: str, text: str) -> None:
    """The call bar says `text` (control state `control`) and no command is on its way."""
    page.locator(f"#desk:not([data-busy]) #desk-call[data-control='{control}']").wait_for(
        state="attached"
    )
    assert page.locator("#desk-control-status").inner_text() == text


def _enabled(page: Any) -> set[str]:
    return set(
        page.eval_on_selector_all(
            "#desk [data-call-command], #desk [data-call-dialog]",
            "nodes => nodes.filter(n => !n.disabled).map(n => n.id)",
        )
    )


def _settled(page: Any, state: str) -> None:
    page.locator(f"#desk[data-state={state}]:not([data-busy])").wait_for(state="attached")


def test_an_agent_holds_consults_conferences_transfers_and_dials_from_the_desktop(
    switch: ServedSwitch,
    asgi_live_server: AsgiLiveServer,
    new_page: Any,
    hotline: Department,
) -> None:
    base = asgi_live_server.url
    make_user("1001", "agent", department=hotline, name="张敏")
    make_user("1002", "agent", department=hotline, name="李强")
    make_user("1900", "supervisor", department=hotline, name="王班长")
    # The live server's tests flush the tables; the seeded grants of this issue come back here.
    import_module("aqualine.desk.migrations.0003_call_control").grant(apps, None)
    acd = switch.switch
    switch.run(acd.agent_command("login", "1001", {"extension": "8001"}))
    switch.run(acd.agent_command("sign_on", "1001", {}))
    switch.run(acd.agent_command("login", "1002", {"extension": "8002"}))  # signed off

    desk = new_page()
    _sign_in(desk, base, "1001", "/desk/")
    desk.locator("#desk[data-ws=open][data-switch=up][data-state=idle]").wait_for(state="attached")
    wait_until(lambda: switch.bus.subscriber_count == 1, what="the bridge to subscribe")
    assert _enabled(desk) == set()
    assert desk.locator("#desk-dial").is_enabled()  # idle: click-to-dial works

    # A call: the agent talks; hold and retrieve.
    assert switch.call(acd.offer, "c1", CALLER) == "1001"
    switch.call(acd.answer, "c1")
    _settled(desk, "talking")
    assert _enabled(desk) == {"desk-hold", "desk-transfer", "desk-consult"}
    assert desk.locator("#desk-dial").is_disabled()
    desk.locator("#desk-hold").click()
    _status(desk, "held", _zh("Call on hold"))
    assert _enabled(desk) == {"desk-unhold", "desk-transfer", "desk-consult"}
    desk.locator("#desk-unhold").click()
    _status(desk, "", "")
    assert acd.held == set()

    # Consult extension 8002: ringing, answered, three-party call, cancelled.
    desk.locator("#desk-consult").click()
    dialog = desk.locator("#desk-target-dialog[open]")
    dialog.wait_for()
    desk.locator("#desk-target-agents [data-target-agent='1002'][disabled]").wait_for()
    desk.locator("#desk-target").fill("8002")
    desk.locator("#desk-target-go").click()
    dialog.wait_for(state="detached")
    _status(
        desk, "consult_ringing", _zh("Consulting {target}: ringing").replace("{target}", "8002")
    )
    assert _enabled(desk) == {"desk-cancel-consult"}
    desk.locator("#desk-cancel-consult").click()
    _status(desk, "consult_ended", _zh("The consultation has ended: you are back with the caller"))
    desk.locator("#desk-consult").click()
    desk.locator("#desk-target").fill("8002")
    desk.locator("#desk-target").press("Enter")
    _status(
        desk, "consult_ringing", _zh("Consulting {target}: ringing").replace("{target}", "8002")
    )
    switch.call(acd.consult_answered, "c1")
    _status(desk, "consulting", _zh("Consulting {target}").replace("{target}", "8002"))
    assert _enabled(desk) == {"desk-complete-transfer", "desk-conference", "desk-cancel-consult"}
    desk.locator("#desk-conference").click()
    _status(desk, "conference", _zh("In a three-party call"))
    desk.locator("#desk-cancel-consult").click()
    _status(desk, "consult_ended", _zh("The consultation has ended: you are back with the caller"))
    assert "desk-hold" in _enabled(desk)

    # A blind transfer to 1002: refused while 1002 is busy, done once it is idle.
    desk.locator("#desk-transfer").click()
    desk.locator("#desk-target-dialog[open]").wait_for()
    desk.locator("#desk-target").fill("1002")
    desk.locator("#desk-target-go").click()
    error = desk.locator("#desk-target-error")
    error.wait_for()
    assert error.inner_text() == _zh("The other agent is not ready.")
    switch.run(acd.agent_command("sign_on", "1002", {}))
    idle = desk.locator("#desk-target-agents [data-target-agent='1002'][data-state=idle]")
    idle.wait_for()  # the list follows the agents' states while the dialog is open
    idle.click()
    assert idle.get_attribute("aria-pressed") == "true"
    desk.locator("#desk-target-go").click()
    desk.locator("#desk-target-dialog[open]").wait_for(state="detached")
    _status(desk, "transferring", _zh("Transferring to {target}").replace("{target}", "1002"))
    _settled(desk, "after_call_work")
    assert _enabled(desk) == set()
    assert acd.commands[-1] == ("transfer", "1001", {"target": "1002", "kind": "agent"})

    # The supervisor listens in on 1002's call from extension 8003.
    switch.call(acd.transfer_answered, "c1")
    monitor = new_page()
    _sign_in(monitor, base, "1900", "/desk/monitor/")
    monitor.locator("#monitor[data-ws=open]").wait_for(state="attached")
    row = "#mon-agents tr[data-agent='1002'][data-state=talking]"
    monitor.locator(row).wait_for()
    assert monitor.locator("#mon-agents tr[data-agent='1001'] [data-supervise]").count() == 0
    monitor.locator("#mon-extension").fill("8003")
    monitor.locator(f"{row} button[data-supervise=listen]").click()
    monitor.locator(f"{row} button[data-supervise=listen][aria-pressed=true]").wait_for()
    monitor.locator("#mon-notice", has_text="1002 李强").wait_for()
    assert acd.call_commands[-1] == (
        "supervise",
        "c1",
        {"extension": "8003", "mode": "listen", "by": "1900"},
    )
    monitor.locator(f"{row} button[data-supervise=barge]").click()
    monitor.locator(f"{row} button[data-supervise=barge][aria-pressed=true]").wait_for()
    monitor.locator(f"{row} button[data-supervise=stop]").click()
    wait_until(lambda: acd.supervised == {}, what="the supervision to end")
    monitor.locator(f"{row} button[data-supervise=barge][aria-pressed=false]").wait_for()

    # Click-to-dial from after-call work: no trunk first, then a number that is busy.
    acd.outbound_trunk = False
    desk.locator("#desk-dial-number").fill("139 0013 9000")
    desk.locator("#desk-dial").click()
    call_error = desk.locator("#desk-call-error")
    call_error.wait_for()
    assert call_error.inner_text() == _zh("No trunk is set up for outbound calls.")
    acd.outbound_trunk = True
    desk.locator("#desk-dial").click()
    dialing = _zh("Calling {target}").replace("{target}", "13900139000")
    _status(desk, "dialing", dialing)
    assert call_error.is_hidden()
    assert desk.locator("#desk-call[data-outbound]").count() == 1
    assert desk.locator("#desk-caller").inner_text() == "13900139000"
    _settled(desk, "talking")
    assert _enabled(desk) == set()  # nothing to hold until the number answers
    call_id = desk.locator("#desk-call").get_attribute("data-call-id")
    assert call_id
    switch.call(acd.dial_failed, call_id, "486 Busy Here")
    failed = _zh("Outbound call failed: {detail}").replace("{detail}", "486 Busy Here")
    _status(desk, "dial_failed", failed)
    _settled(desk, "idle")  # back from after-call work: idle
    assert desk.locator("#desk-dial").is_enabled()

    # Call back the caller of the screen pop (the first call's).
    assert desk.locator("#desk-pop-number").inner_text() == CALLER
    desk.locator("#desk-callback").click()
    _status(desk, "dialing", _zh("Calling {target}").replace("{target}", CALLER))
    assert acd.commands[-1] == ("dial", "1001", {"number": CALLER})
    assert desk.locator("#desk-callback").is_disabled()  # on a call now

    # Any phone number on screen dials: a tel: link in the screen pop (e.g. an account's phone).
    call_id = desk.locator("#desk-call").get_attribute("data-call-id")
    switch.call(acd.dial_failed, call_id, "487 Request Terminated")
    _settled(desk, "idle")
    pop = desk.frame(name="desk-pop-frame")
    assert pop is not None
    pop.evaluate(
        """() => {
            const a = document.createElement("a");
            a.href = "tel:13700137000";
            a.id = "phone-link";
            a.textContent = "137 0013 7000";
            document.body.prepend(a);
        }"""
    )
    pop.locator("#phone-link").click()
    _status(desk, "dialing", _zh("Calling {target}").replace("{target}", "13700137000"))
    assert acd.commands[-1] == ("dial", "1001", {"number": "13700137000"})
