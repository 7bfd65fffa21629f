"""A small process supervisor for the embedded mode: starts each child, restarts one that
crashes (with back-off), and stops them all on Ctrl-C or SIGTERM."""

from __future__ import annotations

import ctypes
import logging
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import FrameType

log = logging.getLogger("aqualine.supervisor")


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM if the supervisor dies (even by SIGKILL), so that
    no orphan keeps the web or SIP port (Linux; elsewhere a no-op)."""
    if sys.platform != "linux":
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    env: dict[str, str] | None = None
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0
    started_at: float = 0.0
    backoff: float = field(default=1.0)

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            list(self.argv), env=self.env, preexec_fn=_die_with_parent
        )
        self.started_at = time.monotonic()
        log.info("started %s (pid %d)", self.name, self.process.pid)


class Supervisor:
    MAX_BACKOFF = 30.0
    STABLE_AFTER = 60.0  # a child that ran this long restarts again without delay

    def __init__(
        self, children: Sequence[Child], *, poll_interval: float = 0.2, stop_timeout: float = 10.0
    ) -> None:
        self.children = list(children)
        self.poll_interval = poll_interval
        self.stop_timeout = stop_timeout
        self._stopping = False

    def request_stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        self._stopping = True

    def run(self, *, until: Callable[[], bool] | None = None) -> None:
        """Supervise until a stop is requested (signal) or `until()` returns True."""
        previous = {
            sig: signal.signal(sig, self.request_stop) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            for child in self.children:
                child.start()
            while not self._stopping and not (until and until()):
                self._check_children()
                time.sleep(self.poll_interval)
        finally:
            self.stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _check_children(self) -> None:
        now = time.monotonic()
        for child in self.children:
            proc = child.process
            if proc is None:
                if now >= child.next_start:
                    child.start()
                continue
            code = proc.poll()
            if code is None:
                continue
            if now - child.started_at >= self.STABLE_AFTER:
                child.backoff = 1.0
            child.restarts += 1
            child.process = None
            child.next_start = now + child.backoff
            log.error(
                "%s exited with code %s; restarting in %.0f s (restart #%d)",
                child.name,
                code,
                child.backoff,
                child.restarts,
            )
            child.backoff = min(child.backoff * 2, self.MAX_BACKOFF)

    def stop_all(self) -> None:
        running = [c for c in self.children if c.process and c.process.poll() is None]
        for child in running:
            assert child.process is not None
            child.process.terminate()
        deadline = time.monotonic() + self.stop_timeout
        for child in running:
            assert child.process is not None
            try:
                child.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time; killing it", child.name)
                child.process.kill()
                child.process.wait()
            log.info("stopped %s", child.name)
