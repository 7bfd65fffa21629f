"""Screen-pop latency (agent desktop): from the switch offering a call to the pop in the page.

Runs everything for real on loopback: the switch (SIP, IVR, ACD, control API; in this process,
on a loop of its own), `aqualine web` as a separate process pointed at it (its bridge subscribes
to the switch's events), a pjsua2 phone registered as extension 8001 that answers, Chromium
with agent 1001 signed on at /desk/, and callers one after another who dial 96000, press 0 and
hang up once the pop is there. A throwaway SQLite database under a temporary directory.

    python bench/screen_pop.py --calls 100

Prints p50/p95/max of two intervals, each from the moment the switch published `call.offered`:
- "bar": the event reached the page and the call bar shows the caller (performance mark
  desk-pop:<call id>);
- "form": the intake form for the caller finished loading in the pop frame (desk-pop-loaded).
Goal: p95 < 300 ms for the form. It asserts nothing (speed is measured here, not tested).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait(condition: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.01)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * q) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--headed", action="store_true")
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="aqualine-bench-pop-"))
    os.environ.update(
        {
            "AQUALINE_VAR_DIR": str(var),
            "AQUALINE_SECURE_COOKIES": "0",
            "DJANGO_SETTINGS_MODULE": "aqualine.settings",
            "AQUALINE_LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    from aqualine.accounts.models import Role, User
    from aqualine.desk.tests.realswitch import TOKEN, RealSwitch
    from aqualine.telephony.api.events import CallOffered

    call_command("migrate", verbosity=0)
    user = User.objects.create_user("1001", "Bench-96000-pass", name="张敏")
    user.groups.set(Role.objects.filter(code="agent"))

    switch = RealSwitch(var, wrap_up_seconds=0.0).start()
    web_port = free_port()
    env = dict(os.environ, AQUALINE_SWITCH_API_URL=switch.url, AQUALINE_SWITCH_TOKEN=TOKEN)
    web = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "aqualine", "web", "--port", str(web_port)],
        env=env,
        stdout=(var / "web.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{web_port}"

    def web_up() -> bool:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1):  # noqa: S310
                return True
        except OSError:
            return False

    phone = None
    bars: list[float] = []
    forms: list[float] = []
    try:
        wait(web_up, "the web process")
        phone = switch.start_phone(var, calls=args.calls + 1, timeout=args.calls * 20 + 120)
        from playwright.sync_api import sync_playwright

        from aqualine.conftest import CHROMIUM, CHROMIUM_ARGS

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=not args.headed
            )
            page = browser.new_context(locale="zh-CN").new_page()
            page.set_default_timeout(20_000)
            page.goto(f"{base}/login/")
            page.get_by_label("工号").fill("1001")
            page.get_by_label("密码").fill("Bench-96000-pass")
            page.get_by_role("button", name="登录").click()
            page.wait_for_url(f"{base}/")
            page.goto(f"{base}/desk/")
            try:
                page.locator("#desk[data-ws=open][data-switch=up]").wait_for(state="attached")
            except Exception:
                print(page.evaluate("document.getElementById('desk').outerHTML.slice(0, 600)"))
                print((var / "web.log").read_text()[-3000:])
                raise
            wait(lambda: switch.subscribers >= 1, "the web's bridge to subscribe")
            page.locator("#desk-extension").fill("8001")
            page.locator("[data-command=login]").click()
            page.locator("#desk[data-state=not_ready]:not([data-busy])").wait_for(state="attached")
            page.locator("[data-command=sign_on]").click()
            page.locator("#desk[data-state=idle]:not([data-busy])").wait_for(state="attached")

            for n in range(args.calls):
                number = f"1390000{n:04d}"
                caller = switch.dial(number)

                def offered(number: str = number) -> CallOffered | None:
                    for _at, event in reversed(switch.published):
                        if isinstance(event, CallOffered) and event.caller == number:
                            return event
                    return None

                wait(lambda: offered() is not None, f"call {n} to be offered")
                offer = offered()
                assert offer is not None
                at = next(t for t, e in switch.published if e is offer)
                page.wait_for_function(
                    "id => performance.getEntriesByName('desk-pop-loaded:' + id).length > 0",
                    arg=offer.call_id,
                )
                marks = page.evaluate(
                    """id => [
                        performance.timeOrigin +
                          performance.getEntriesByName('desk-pop:' + id)[0].startTime,
                        performance.timeOrigin +
                          performance.getEntriesByName('desk-pop-loaded:' + id)[0].startTime,
                    ]""",
                    offer.call_id,
                )
                bars.append(marks[0] - at * 1000)
                forms.append(marks[1] - at * 1000)
                switch.hang_up(caller)
                wait(lambda: (switch.agent("1001") or {}).get("state") == "idle", "idle again")
                if (n + 1) % 10 == 0:
                    print(f"{n + 1} calls", flush=True)
            browser.close()
    finally:
        if phone is not None:
            switch.stop_phone(phone)
        web.terminate()
        web.wait(10)
        switch.close()

    print(f"screen pop over {len(forms)} calls (ms from call.offered published)")
    for label, values in (("call bar shown", bars), ("intake form loaded", forms)):
        print(
            f"  {label:20s} p50={statistics.median(values):7.1f}  p95={pct(values, 0.95):7.1f}"
            f"  max={max(values):7.1f}"
        )


if __name__ == "__main__":
    main()
