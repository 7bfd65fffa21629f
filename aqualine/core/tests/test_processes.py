"""The embedded mode: `aqualine run` starts, supervises and stops its processes for real."""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from aqualine.core.supervisor import Child, Supervisor


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_crashing_child_is_restarted_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    crasher = Child("crasher", [sys.executable, "-c", "raise SystemExit(3)"])
    sleeper = Child("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"])
    supervisor = Supervisor([crasher, sleeper], poll_interval=0.05)
    crasher.backoff = 0.01
    supervisor.MAX_BACKOFF = 0.05
    with caplog.at_level("ERROR", logger="aqualine.supervisor"):
        supervisor.run(until=lambda: crasher.restarts >= 3)
    assert "crasher exited with code 3" in caplog.text
    assert sleeper.process is not None and sleeper.process.poll() is not None  # stopped at end
    assert sleeper.restarts == 0


def test_stop_kills_a_child_that_ignores_sigterm(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    stubborn = Child(
        "stubborn",
        [
            sys.executable,
            "-c",
            "import pathlib, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "pathlib.Path(sys.argv[1]).touch(); time.sleep(60)",
            str(ready),
        ],
    )
    supervisor = Supervisor([stubborn], poll_interval=0.05, stop_timeout=0.5)
    supervisor.run(until=ready.exists)  # stop only once SIGTERM is being ignored
    assert stubborn.process is not None
    assert stubborn.process.returncode == -signal.SIGKILL


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except OSError:
        return 0, ""


def _sipp(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "sipp",
            *args,
            "-m",
            "1",
            "-i",
            "127.0.0.1",
            "-p",
            str(free_port()),
            "-nostdin",
            "-timeout",
            "20s",
            "-timeout_error",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


def _login(base: str, agent_id: str, password: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = urllib.parse.urlencode(
        {"username": agent_id, "password": password, "csrfmiddlewaretoken": token}
    ).encode()
    request = urllib.request.Request(f"{base}/login/", data=form, headers={"Referer": base})
    opener.open(request, timeout=10)
    return opener


@pytest.mark.slow_process
@pytest.mark.sip
def test_aqualine_run_serves_answers_the_hotline_restarts_a_crash_and_stops_on_ctrl_c(
    tmp_path: Path,
) -> None:
    if shutil.which("sipp") is None:
        pytest.fail("sipp is not installed (apt-get install sip-tester; `make test` does it)")
    port, sip_port, api_port = free_port(), free_port(), free_port()
    log = tmp_path / "run.log"
    env = dict(
        os.environ,
        AQUALINE_VAR_DIR=str(tmp_path / "var"),
        PYTHONUNBUFFERED="1",
        AQUALINE_SIP_PORT=str(sip_port),
        AQUALINE_SWITCH_API_PORT=str(api_port),
        AQUALINE_SWITCH_API_URL=f"http://127.0.0.1:{api_port}",
    )
    for name in ("DATABASE_URL", "REDIS_URL", "AQUALINE_SWITCH_TOKEN"):
        env.pop(name, None)  # the embedded defaults: its own SQLite file, its own token
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "aqualine", "run", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    base = f"http://127.0.0.1:{port}"

    def switch_ok() -> bool:
        status, body = _get(f"{base}/healthz")
        return status == 200 and '"switch": {"ok": true' in body

    try:
        wait_for(lambda: _get(f"{base}/healthz")[0] == 200, 90, "the web process")
        status, page = _get(f"{base}/login/")
        assert status == 200 and "工号" in page
        text = log.read_text()
        assert f"http://127.0.0.1:{port}/" in text
        assert "1001" in text and "demo96000" in text
        password = re.search(r"^  8001\s+(\S+)$", text, re.M).group(1)  # type: ignore[union-attr]

        # The hotline answers a call from the demo trunk peer (sipp's own caller scenario).
        wait_for(switch_ok, 30, "the switch")
        call = _sipp(
            f"127.0.0.1:{sip_port}", "-sn", "uac", "-s", "96000", "-d", "1000", cwd=tmp_path
        )
        assert call.returncode == 0, call.stdout[-2000:]

        # A phone registers extension 8001 with its printed password; the page shows it.
        scenario = Path(__file__).resolve().parents[2] / "telephony/tests/sipp/register.xml"
        register = _sipp(
            f"127.0.0.1:{sip_port}",
            "-sf",
            str(scenario),
            "-s",
            "8001",
            "-au",
            "8001",
            "-ap",
            password,
            cwd=tmp_path,
        )
        assert register.returncode == 0, register.stdout[-2000:]
        admin = _login(base, "admin", "demo96000")
        extensions = admin.open(f"{base}/callcenter/extensions/", timeout=10).read().decode()
        row = re.search(r'data-extension="8001">(.*?)</tr>', extensions, re.S)
        assert row is not None and "已注册" in row.group(1) and "sipp" in row.group(1)
        assert "交换机运行中" in extensions

        web_pid = int(re.search(r"started web \(pid (\d+)\)", text).group(1))  # type: ignore[union-attr]
        os.kill(web_pid, signal.SIGKILL)
        wait_for(lambda: "web exited with code -9" in log.read_text(), 20, "the crash to be seen")
        wait_for(lambda: _get(f"{base}/healthz")[0] == 200, 60, "the restarted web process")
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        assert _get(f"{base}/healthz")[0] == 0
        final = log.read_text()
        for child in ("web", "switch", "worker"):
            assert f"stopped {child}" in final
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_run_refuses_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = dict(os.environ, AQUALINE_VAR_DIR=str(tmp_path / "var"))
        env.pop("DATABASE_URL", None)
        result = subprocess.run(
            [sys.executable, "-m", "aqualine", "run", "--port", str(port)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
    assert result.returncode != 0
    assert "Cannot listen on" in result.stderr


def test_children_stop_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    """Even SIGKILL of the supervisor leaves no orphan holding a port."""
    pid_file = tmp_path / "child.pid"
    script = (
        "import sys, time\n"
        "from aqualine.core.supervisor import Child, Supervisor\n"
        "child = Child('sleeper', [sys.executable, '-c', "
        "'import os, sys, time; open(sys.argv[1], \"w\").write(str(os.getpid())); time.sleep(60)', "
        f"{str(pid_file)!r}])\n"
        "Supervisor([child]).run()\n"
    )
    supervisor = subprocess.Popen([sys.executable, "-c", script])
    try:
        wait_for(lambda: pid_file.exists() and pid_file.read_text() != "", 20, "the child")
        child_pid = int(pid_file.read_text())
        supervisor.kill()
        supervisor.wait(10)

        def child_gone() -> bool:
            try:
                os.kill(child_pid, 0)
            except ProcessLookupError:
                return True
            # A zombie child of init counts as gone once reaped; check its state.
            try:
                state = Path(f"/proc/{child_pid}/stat").read_text().split()[2]
            except OSError:
                return True
            return state == "Z"

        wait_for(child_gone, 10, "the orphan to stop")
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
