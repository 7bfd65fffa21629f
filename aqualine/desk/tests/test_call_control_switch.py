"""Hold and transfer from the agent desktop with nothing faked: the real switch, two real pjsua2
phones (8001 for agent 1001 with a 1000 Hz tone, 8002 for agent 1002 with 800 Hz), a caller on
loopback who dials 96000 and presses 0, the ASGI application with its bridge to the switch's
events, and Chromium for both agents and the supervisor.

The agent holds (the caller hears music on hold, not the agent), takes the caller back (the
agent's tone again), transfers to 1002 by picking it from the list: 1002's page pops with the
caller and its phone takes the call (the caller hears 800 Hz), 1001 goes to after-call work;
the supervisor's monitor follows both agents live; the call's recording is then found by agent
ID and plays (206 with audio bytes)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aqualine.accounts.models import Department, User
from aqualine.conftest import PASSWORD, AsgiLiveServer, make_user, run_in_thread
from aqualine.desk.tests.realswitch import TOKEN, RealSwitch
from aqualine.telephony.testing.audio import describe, frames_with_tone, is_silent

pytestmark = [
    pytest.mark.browser,
    pytest.mark.sip,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        importlib.util.find_spec("pjsua2") is None, reason="pjsua2-python is not installed"
    ),
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]

CALLER = "13912345678"
FIRST_TONE = 1000.0  # the test phone's default tone
SECOND_TONE = 800.0


@pytest.fixture
def real_switch(tmp_path: Path, settings: Any) -> Iterator[RealSwitch]:
    switch = RealSwitch(tmp_path).start()
    settings.SWITCH_API_URL = switch.url
    settings.SWITCH_TOKEN = TOKEN
    settings.RECORDINGS_DIR = tmp_path / "recordings"
    try:
        yield switch
    finally:
        switch.close()


def _sign_in(page: Any, base: str, agent_id: str, path: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("工号").fill(agent_id)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}{path}")


def _settled(page: Any, state: str) -> None:
    page.locator(f"#desk[data-state={state}]:not([data-busy])").wait_for(state="attached")


def _signed_on_desk(new_page: Any, base: str, agent_id: str, extension: str) -> Any:
    desk = new_page()
    _sign_in(desk, base, agent_id, "/desk/")
    desk.locator("#desk[data-ws=open][data-switch=up]").wait_for(state="attached")
    desk.locator("#desk-extension").fill(extension)
    desk.locator("[data-command=login]").click()
    _settled(desk, "not_ready")
    desk.locator("[data-command=sign_on]").click()
    _settled(desk, "idle")
    return desk


def test_the_agent_holds_and_transfers_to_1002_from_the_desktop_with_real_phones(
    real_switch: RealSwitch,
    asgi_live_server: AsgiLiveServer,
    new_page: Any,
    hotline: Department,
    tmp_path: Path,
) -> None:
    base = asgi_live_server.url
    first: User = make_user("1001", "agent", department=hotline, name="张敏")
    make_user("1002", "agent", department=hotline, name="李强")
    make_user("1900", "supervisor", department=hotline, name="王班长")
    phones = [
        real_switch.start_phone(tmp_path, calls=1),
        real_switch.start_phone(tmp_path, calls=1, extension="8002", tone=SECOND_TONE),
    ]
    try:
        desk = _signed_on_desk(new_page, base, "1001", "8001")  # idle longest: gets the call
        other = _signed_on_desk(new_page, base, "1002", "8002")
        monitor = new_page()
        _sign_in(monitor, base, "1900", "/desk/monitor/")
        monitor.locator("#monitor[data-ws=open]").wait_for(state="attached")
        monitor.evaluate("window.__notReloaded = true")

        caller = real_switch.dial(CALLER)
        desk.locator("#desk-call[data-call=talking]").wait_for()
        _settled(desk, "talking")
        assert desk.locator("#desk-caller").inner_text() == CALLER
        heard = real_switch.heard(caller)
        assert frames_with_tone(heard, FIRST_TONE) > 0.6, describe(heard)
        monitor.locator("#mon-agents tr[data-agent='1001'][data-state=talking]").wait_for()

        # Hold: the caller hears music, not the agent; the bar says so.
        desk.locator("#desk-hold").click()
        desk.locator("#desk:not([data-busy]) #desk-call[data-control=held]").wait_for(
            state="attached"
        )
        assert desk.locator("#desk-control-status").inner_text() == "通话保持中"
        music = real_switch.heard(caller, 2.0)
        assert not is_silent(music), "the held caller hears music"
        assert frames_with_tone(music, FIRST_TONE) < 0.05, describe(music)

        # The same agent on another device (no session storage): the switch says it is held.
        again = new_page()
        _sign_in(again, base, "1001", "/desk/")
        again.locator("#desk-call[data-control=held]").wait_for(state="attached")
        again.close()

        # Take the caller back: the agent's tone again.
        desk.locator("#desk-unhold").click()
        desk.locator("#desk:not([data-busy]) #desk-call:not([data-control=held])").wait_for(
            state="attached"
        )
        heard = real_switch.heard(caller)
        assert frames_with_tone(heard, FIRST_TONE) > 0.6, describe(heard)

        # Transfer to 1002, picked from the list of idle agents.
        desk.locator("#desk-transfer").click()
        desk.locator("#desk-target-dialog[open]").wait_for()
        pick = desk.locator("#desk-target-agents [data-target-agent='1002'][data-state=idle]")
        pick.click()
        desk.locator("#desk-target-go").click()
        desk.locator("#desk-target-dialog[open]").wait_for(state="detached")

        # 1002's page pops with the caller, its phone answers, the caller hears it.
        other.locator("#desk-call[data-call=talking]").wait_for()
        assert other.locator("#desk-caller").inner_text() == CALLER
        _settled(other, "talking")
        heard = real_switch.heard(caller)
        assert frames_with_tone(heard, SECOND_TONE) > 0.6, describe(heard)
        _settled(desk, "after_call_work")
        monitor.locator("#mon-agents tr[data-agent='1001'][data-state=after_call_work]").wait_for()
        monitor.locator("#mon-agents tr[data-agent='1002'][data-state=talking]").wait_for()

        real_switch.hang_up(caller)
        _settled(other, "after_call_work")
        monitor.locator("#mon-agents tr[data-agent='1002'][data-state=after_call_work]").wait_for()
        assert monitor.evaluate("window.__notReloaded") is True
        assert real_switch.agent("1001")["state"] == "after_call_work"  # type: ignore[index]
    finally:
        for phone in phones:
            real_switch.stop_phone(phone)

    # The switch's records, written as the web's records port writes them, then searched.
    running = real_switch.running
    assert running is not None
    records = running.records
    assert real_switch.wait(lambda: bool(records.ended))
    assert real_switch.wait(lambda: any(r.complete for r in records.recordings.values()))
    record = records.ended[-1]
    assert (record.agent_id, record.transfer_agent_id) == ("1001", "1002")
    assert record.hold_seconds > 1.0

    def store() -> None:
        from aqualine.callcenter.ports import OrmRecords

        orm = OrmRecords()
        orm.call_ended(record)
        for info in records.recordings.values():
            orm.recording_saved(info)

    run_in_thread(store)
    page = new_page()
    _sign_in(page, base, "1900", f"/callcenter/recordings/?agent_id={first.agent_id}")
    row = page.locator("table tbody tr", has_text=CALLER).first
    row.wait_for()
    assert page.locator("[data-transfer='1002']").count() >= 1  # 转接给 1002
    url = page.locator("audio").first.get_attribute("src")
    assert url, page.content()
    response = page.request.get(f"{base}{url}", headers={"Range": "bytes=0-1023"})
    assert response.status == 206
    body = response.body()
    assert len(body) == 1024 and body[:4] == b"RIFF"
