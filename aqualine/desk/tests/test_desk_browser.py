"""The agent desktop end to end, with nothing faked: the real switch (SIP, IVR, ACD, control
API), a real pjsua2 phone registered as extension 8001, a caller on loopback who dials 96000 and
presses 0, the whole ASGI application on a live port with its bridge to the switch's events,
and Chromium: the agent logs in with 工号 + extension and signs on, the call pops the intake form
with the caller's number, accounts and open order, after the call the agent is in after-call
work with a countdown and finishes it; the supervisor's monitor follows every change live."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils.translation import gettext, override

from aqualine.accounts.models import Department, User
from aqualine.callcenter import live
from aqualine.conftest import PASSWORD, AsgiLiveServer, make_user, run_in_thread, wait_until
from aqualine.desk.tests.realswitch import TOKEN, RealSwitch
from aqualine.workorders.models import WorkOrder
from aqualine.workorders.tests.conftest import ensure_seeded_categories, new_order

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


@pytest.fixture
def real_switch(tmp_path: Path, settings: Any) -> Iterator[RealSwitch]:
    switch = RealSwitch(tmp_path).start()
    settings.SWITCH_API_URL = switch.url
    settings.SWITCH_TOKEN = TOKEN
    try:
        yield switch
    finally:
        switch.close()


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


def _settled(page: Any, state: str) -> None:
    """The agent is in `state` and no command is on its way (its buttons are up to date)."""
    page.locator(f"#desk[data-state={state}]:not([data-busy])").wait_for(state="attached")


def _enabled(page: Any) -> set[str]:
    return set(
        page.eval_on_selector_all(
            "#desk [data-command]",
            "nodes => nodes.filter(n => !n.disabled).map(n => n.dataset.command)",
        )
    )


def test_an_agent_takes_a_call_with_the_screen_pop_and_the_supervisor_watches_live(
    real_switch: RealSwitch,
    asgi_live_server: AsgiLiveServer,
    new_page: Any,
    hotline: Department,
    tmp_path: Path,
) -> None:
    base = asgi_live_server.url
    agent: User = make_user("1001", "agent", department=hotline, name="张敏")
    make_user("1900", "supervisor", department=hotline, name="王班长")
    ensure_seeded_categories()
    from aqualine.workorders.models import Category

    leak = Category.objects.get(code="leak-pipe")
    earlier = run_in_thread(lambda: new_order(agent, leak, caller_number=CALLER))

    # The agent opens the desktop: not logged in to the queue yet.
    desk = new_page()
    _sign_in(desk, base, "1001", "/desk/")
    desk.locator("#desk[data-ws=open][data-switch=up]").wait_for(state="attached")
    wait_until(lambda: real_switch.subscribers == 1, what="the bridge to subscribe")
    assert desk.locator("#desk-state").get_attribute("data-state") == "logged_out"
    assert _enabled(desk) == {"login"}
    assert desk.locator("#desk-dial").is_disabled()

    # Extension 8001's phone is not registered yet: the switch refuses, the page says why.
    desk.locator("#desk-extension").fill("8001")
    desk.locator("[data-command=login]").click()
    error = desk.locator("#desk-error")
    error.wait_for()
    _settled(desk, "logged_out")
    expected = _zh(
        "Extension %(extension)s is not registered: start its phone (or softphone) first."
    ) % {"extension": "8001"}
    assert error.inner_text() == expected
    assert desk.locator("#desk-state").get_attribute("data-state") == "logged_out"

    phone = real_switch.start_phone(tmp_path, calls=1)
    try:
        desk.locator("[data-command=login]").click()
        _settled(desk, "not_ready")
        assert error.is_hidden()
        assert desk.locator("#desk-ext").inner_text() == "8001"
        assert _enabled(desk) == {"sign_on", "sign_off", "not_ready", "ready", "logout"}
        desk.locator("[data-command=sign_on]").click()
        _settled(desk, "idle")
        assert "finish_wrap_up" not in _enabled(desk)
        assert desk.locator("#desk-hangup").is_disabled()
        assert desk.locator("#desk-duration").inner_text().startswith("00:")

        # The supervisor's monitor shows the agent idle.
        monitor = new_page()
        _sign_in(monitor, base, "1900", "/desk/monitor/")
        monitor.locator("#monitor[data-ws=open]").wait_for(state="attached")
        row = monitor.locator("#mon-agents tr[data-agent='1001']")
        monitor.locator("#mon-agents tr[data-agent='1001'][data-state=idle]").wait_for()
        monitor.evaluate("window.__notReloaded = true")
        assert row.locator("button[data-force=force_sign_off]").is_enabled()
        assert row.locator("button[data-force=force_ready]").is_disabled()

        # A caller dials 96000 and presses 0: the agent's phone rings, the intake form pops.
        caller = real_switch.dial(CALLER)
        bar = desk.locator("#desk-call")
        desk.locator("#desk-call[data-call=offered], #desk-call[data-call=talking]").wait_for()
        assert desk.locator("#desk-caller").inner_text() == CALLER
        assert "人工服务" in desk.locator("#desk-ivr").inner_text()
        call_id = bar.get_attribute("data-call-id")
        assert call_id and call_id.startswith("c")
        frame = desk.frame_locator("#desk-pop-frame")
        assert frame.locator("input[name=caller_number]").input_value() == CALLER
        assert frame.locator("input[name=call_id]").input_value() == call_id
        banner = frame.locator(".wo-banner")
        banner.wait_for()
        assert earlier.number in banner.inner_text()  # the repeat caller's open order
        assert earlier.number in frame.locator(".wo-past").inner_text()

        # The phone answers: talking, on both pages.
        _settled(desk, "talking")
        desk.locator("#desk-call[data-call=talking]").wait_for()
        assert desk.locator("#desk-hangup").is_enabled()
        assert _enabled(desk) == set()
        monitor.locator("#mon-agents tr[data-agent='1001'][data-state=talking]").wait_for()
        row.locator(".mon-caller", has_text=CALLER).wait_for()

        # The caller hangs up: after-call work, with a countdown, no new call meanwhile.
        real_switch.hang_up(caller)
        _settled(desk, "after_call_work")
        wrapup = desk.locator("#desk-wrapup")
        wrapup.wait_for()
        desk.wait_for_function(
            "() => Number(document.getElementById('desk-wrapup').dataset.seconds) > 0"
        )
        first = int(wrapup.get_attribute("data-seconds") or 0)
        assert 100 < first <= 120
        desk.wait_for_function(
            f"() => Number(document.getElementById('desk-wrapup').dataset.seconds) < {first}"
        )
        assert _enabled(desk) == {"finish_wrap_up", "sign_off", "not_ready", "logout"}
        monitor.locator("#mon-agents tr[data-agent='1001'][data-state=after_call_work]").wait_for()
        assert real_switch.agent("1001")["state"] == "after_call_work"  # type: ignore[index]

        # Finished: idle again, and the supervisor sees it without reloading.
        desk.locator("[data-command=finish_wrap_up]").click()
        _settled(desk, "idle")
        assert wrapup.is_hidden()
        monitor.locator("#mon-agents tr[data-agent='1001'][data-state=idle]").wait_for()
        assert monitor.evaluate("window.__notReloaded") is True
        assert real_switch.agent("1001")["answered_today"] == 1  # type: ignore[index]

        # The order taken in the pop keeps the call's ID.
        frame.locator("select[name=category]").select_option(str(leak.pk))
        frame.locator("textarea[name=description]").fill("又漏水了")
        frame.get_by_role("button", name="保存工单").click()
        pop = desk.frame(name="desk-pop-frame")
        assert pop is not None
        pop.wait_for_url(re.compile(r"/workorders/\d+/$"))  # the order page: saved
        taken = WorkOrder.objects.exclude(pk=earlier.pk).get()
        assert (taken.call_id, taken.caller_number) == (call_id, CALLER)
    finally:
        real_switch.stop_phone(phone)
    assert live.bridge.forwarded > 0
