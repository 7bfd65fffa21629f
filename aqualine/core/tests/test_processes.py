"""The embedded mode: `aqualine run` starts, supervises and stops its processes for real."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
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


def test_stop_kills_a_child_that_ignores_sigterm() -> None:
    stubborn = Child(
        "stubborn",
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', "
            "flush=True); time.sleep(60)",
        ],
    )
    supervisor = Supervisor([stubborn], poll_interval=0.05, stop_timeout=0.5)
    started = threading.Event()

    def until() -> bool:
        started.set()
        return True

    supervisor.run(until=until)
    assert started.is_set()
    assert stubborn.process is not None and stubborn.process.returncode is not None


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except OSError:
        return 0, ""


@pytest.mark.slow_process
def test_aqualine_run_serves_the_system_restarts_a_crashed_web_and_stops_on_ctrl_c(
    tmp_path: Path,
) -> None:
    port = free_port()
    log = tmp_path / "run.log"
    env = dict(os.environ, AQUALINE_VAR_DIR=str(tmp_path / "var"), PYTHONUNBUFFERED="1")
    env.pop("DATABASE_URL", None)  # the embedded default: its own SQLite file
    env.pop("REDIS_URL", None)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "aqualine", "run", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _get(f"{base}/healthz")[0] == 200, 90, "the web process")
        status, page = _get(f"{base}/login/")
        assert status == 200 and "工号" in page
        text = log.read_text()
        assert f"http://127.0.0.1:{port}/" in text
        assert "1001" in text and "demo96000" in text
        web_pid = int(re.search(r"started web \(pid (\d+)\)", text).group(1))  # type: ignore[union-attr]
        os.kill(web_pid, signal.SIGKILL)
        wait_for(lambda: "web exited with code -9" in log.read_text(), 20, "the crash to be seen")
        wait_for(lambda: _get(f"{base}/healthz")[0] == 200, 60, "the restarted web process")
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        assert _get(f"{base}/healthz")[0] == 0
        assert "stopped web" in log.read_text() and "stopped worker" in log.read_text()
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
