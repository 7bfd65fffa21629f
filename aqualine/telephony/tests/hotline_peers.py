"""Real peers for the hotline's end-to-end tests (IVR, agents, hang-ups, restarts).

- :func:`agent_phone`: a pjsua2 phone process registered as any extension (the answering
  phone of ``test_outbound_legs``, run with ``--user``/``--password``/``--ring-ms``), which
  rings, answers after ``ring_ms`` (never, with a long one), plays its tone and records what it
  hears to ``<tmp>/heard-<ext>-<n>.wav``;
- :class:`Caller`: a caller from the demo trunk -- the Python test UA for SIP and an
  :class:`RtpPeer` for RTP (its own tone, RFC 4733 keys) -- that can find its own session and
  record on the switch;
- :func:`heard_prompt`: how well a prompt (rendered by the switch's own prompt library) is
  contained in what a caller heard (normalised cross-correlation; ~1.0 = heard as is);
- :data:`QUEUE_ONLY_FLOW` / :data:`PRESS_0_FLOW`: IVR flows that reach the agent queue at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import sys
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pytest

from aqualine.telephony.acd.model import QueueConfig
from aqualine.telephony.ivr.schema import Prompt
from aqualine.telephony.ports import CallCentreSettings, CallRecord
from aqualine.telephony.session import HotlineSession
from aqualine.telephony.sip import Response
from aqualine.telephony.testing.rtp_peer import RtpPeer
from aqualine.telephony.testing.wait import wait_until
from aqualine.telephony.tests.fakes import (
    HOTLINE,
    MemoryDirectory,
    MemoryRecords,
    RunningSwitch,
    make_config,
    running_switch,
)
from aqualine.telephony.tests.test_outbound_legs import PHONE_TONE, PhoneProcess, event
from aqualine.telephony.tests.test_switch_calls import _answer_port
from aqualine.telephony.tests.uac import Call, SipClient, offer_sdp

needs_pjsua2 = pytest.mark.skipif(
    importlib.util.find_spec("pjsua2") is None, reason="pjsua2-python is not installed"
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)  # a Tuesday, not a holiday
NIGHT = datetime(2026, 3, 10, 22, 30, tzinfo=SHANGHAI)
CALLER_TONE = 600.0
SECOND_PHONE_TONE = 800.0
NEVER = 600_000  # ms: a ring delay no test waits for

QUEUE_ONLY_FLOW: dict[str, Any] = {
    "version": 1,
    "name": "straight to the agents",
    "start": "agent_queue",
    "nodes": [
        {
            "id": "agent_queue",
            "type": "queue",
            "label": "人工服务",
            "params": {"queue": "hotline"},
            "edges": {"failed": "end"},
        },
        {"id": "end", "type": "hangup", "params": {"cause": "no queue"}},
    ],
}

PRESS_0_FLOW: dict[str, Any] = {
    "version": 1,
    "name": "press 0",
    "start": "menu",
    "nodes": [
        {
            "id": "menu",
            "type": "menu",
            "label": "主菜单",
            "params": {"prompt": {"tts": "人工服务请按0。"}, "timeout": 10, "retries": 3},
            "edges": {"0": "agent_queue", "exhausted": "agent_queue"},
        },
        {
            "id": "agent_queue",
            "type": "queue",
            "label": "人工服务",
            "params": {"queue": "hotline"},
            "edges": {"failed": "end"},
        },
        {"id": "end", "type": "hangup", "params": {"cause": "no queue"}},
    ],
}


@contextlib.asynccontextmanager
async def hotline(
    tmp_path: Path,
    *,
    ports: Any = None,
    flow: dict[str, Any] | None = None,
    queue: QueueConfig | None = None,
    records: MemoryRecords | None = None,
    at: datetime = DAY,
    rtp_timeout: float = 60.0,
    **settings: Any,
) -> AsyncIterator[RunningSwitch]:
    """A running switch answering 96000 at once with ``flow`` (else the demo flow), the IVR's
    clock frozen at ``at``, call-centre ``settings`` (CallCentreSettings fields), recordings
    in ``tmp_path/recordings``."""
    directory = MemoryDirectory()
    if flow is not None:
        directory.flows[HOTLINE] = flow
    if queue is not None:
        directory.queue_list = [queue]
    if settings:
        directory.settings = CallCentreSettings(**settings)
    config = make_config(
        recordings_dir=str(tmp_path / "recordings"), ring_seconds=0.0, rtp_timeout=rtp_timeout
    )
    async with running_switch(
        config, directory=directory, records=records, ivr_ports=ports
    ) as running:
        centre = running.switch.centre
        assert centre is not None
        centre.ivr_clock = lambda: at
        yield running


# --- agents' phones -----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def agent_phone(
    running: RunningSwitch,
    tmp_path: Path,
    extension: str = "8001",
    *,
    calls: int = 1,
    hangup_after: str = "0",
    ring_ms: int = 300,
    tone: float = PHONE_TONE,
    timeout: float = 60.0,
) -> AsyncIterator[PhoneProcess]:
    """A registered pjsua2 phone for ``extension``; killed on the way out if still running.

    It takes commands for its latest confirmed call through :meth:`PhoneProcess.send`:
    ``hold``, ``unhold``, ``xfer <sip-uri or number>``, ``hangup``.
    """
    password = running.directory.extensions[extension].password
    command = [
        sys.executable,
        "-m",
        "aqualine.telephony.tests.test_outbound_legs",
        "--port",
        str(running.port),
        "--user",
        extension,
        "--password",
        password,
        "--calls",
        str(calls),
        "--hangup-after",
        hangup_after,
        "--ring-ms",
        str(ring_ms),
        "--tone",
        str(int(tone)),
        "--wav-prefix",
        str(tmp_path / f"heard-{extension}"),
        "--timeout",
        str(timeout),
    ]
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.PIPE,  # commands: PhoneProcess.send("hold")...
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    phone = PhoneProcess(process)
    try:
        registered = await phone.wait_for(event("registered"), timeout=20)
        assert registered["code"] == 200, registered
        assert await wait_until(lambda: bool(running.switch.registrar.contacts(extension)))
        yield phone
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        await phone.finish(timeout=10)


def sign_on(running: RunningSwitch, agent_id: str, extension: str) -> None:
    """Log the agent in on its extension and sign it on (idle)."""
    centre = running.switch.centre
    assert centre is not None
    assert centre.command("login", agent_id, extension=extension)["state"] == "not_ready"
    assert centre.command("sign_on", agent_id)["state"] == "idle"


def agent_state(running: RunningSwitch, agent_id: str) -> tuple[str, str]:
    """(state, reason) of an agent as the switch's call centre shows it."""
    centre = running.switch.centre
    assert centre is not None
    view = next((a for a in centre.agents() if a["agent_id"] == agent_id), None)
    assert view is not None, f"agent {agent_id} never logged in"
    return str(view["state"]), str(view.get("reason") or "")


def incoming(phone: PhoneProcess) -> int:
    """How many calls rang the phone so far."""
    return sum(1 for e in phone.events if e.get("event") == "incoming")


# --- callers --------------------------------------------------------------------------------------


class Caller:
    """A caller dialling the hotline from the demo trunk (127.0.0.1): SIP UA + RTP peer."""

    def __init__(self, running: RunningSwitch, number: str = "13800138000") -> None:
        self.running = running
        self.number = number
        self.rtp: RtpPeer | None = None
        self.sip: SipClient | None = None
        self.call: Call | None = None
        self.switch_port = 0

    async def __aenter__(self) -> Caller:
        self.rtp = await RtpPeer.start()
        self.sip = await SipClient(self.running.address).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.sip is not None:
            await self.sip.close()
        if self.rtp is not None:
            await self.rtp.close()

    @property
    def peer(self) -> RtpPeer:
        assert self.rtp is not None
        return self.rtp

    @property
    def ua(self) -> SipClient:
        assert self.sip is not None
        return self.sip

    async def dial(self) -> Response:
        """INVITE 96000, ACK the 200, send RTP to the switch (silence until told otherwise)."""
        call = await self.ua.invite(HOTLINE, offer_sdp(self.peer.port), caller=self.number)
        final = call.final
        assert final is not None and final.status == 200, final
        self.ua.ack(call, final)
        self.call = call
        self.switch_port = _answer_port(final)
        self.peer.send_to("127.0.0.1", self.switch_port)
        return final

    async def hang_up(self) -> None:
        assert self.call is not None
        response = await self.ua.bye(self.call)
        assert response.status == 200, response

    async def press(self, keys: str) -> None:
        """Send ``keys`` as RFC 4733 events; returns once they are all sent."""
        await self.peer.send_dtmf(keys)

    def session(self) -> HotlineSession | None:
        """This call's session in the switch (None before the ACK, and after the call)."""
        centre = self.running.switch.centre
        if centre is None or self.call is None:
            return None
        sip_call_id = self.call.call_id
        return next(
            (s for s in centre.sessions.values() if s.call.record.sip_call_id == sip_call_id),
            None,
        )

    def trace(self) -> list[str]:
        session = self.session()
        if session is None or session.interpreter is None:
            return []
        return session.interpreter.trace

    async def reach(self, node: str, times: int = 1, timeout: float = 20.0) -> None:
        """Wait until the IVR has entered ``node`` ``times`` times."""
        ok = await wait_until(lambda: self.trace().count(node) >= times, timeout)
        assert ok, f"the IVR did not reach {node} ({times}x): {self.trace()}"

    async def wait_for_bye(self, timeout: float = 15.0) -> None:
        """The switch hangs up: its BYE arrives (the test UA answers it)."""
        assert self.call is not None
        call_id = self.call.call_id
        await self.ua.wait_for(
            lambda m: getattr(m, "method", None) == "BYE" and m.call_id == call_id, timeout
        )

    async def record(self, timeout: float = 15.0) -> CallRecord:
        """The call's record once it has ended."""
        assert self.call is not None
        sip_call_id = self.call.call_id
        records = self.running.records

        def ended() -> CallRecord | None:
            return next((r for r in records.ended if r.sip_call_id == sip_call_id), None)

        assert await wait_until(lambda: ended() is not None, timeout), "no call record"
        record = ended()
        assert record is not None
        return record


# --- what a caller heard --------------------------------------------------------------------------


def render(running: RunningSwitch, *prompts: Prompt) -> npt.NDArray[np.int16]:
    """The samples the switch plays for these prompts (its own prompt library and cache)."""
    centre = running.switch.centre
    assert centre is not None
    return np.asarray(centre.prompts.render(prompts), dtype=np.int16)


def heard_prompt(
    heard: npt.ArrayLike, prompt: npt.ArrayLike, *, seconds: float = 1.0, skip: float = 0.2
) -> float:
    """The best normalised cross-correlation of ``seconds`` of ``prompt`` (from its first
    sound, plus ``skip``) with any stretch of ``heard``: ~1.0 when the caller heard that audio
    (through G.711), ~0.1 for other speech, a tone or silence."""
    audio = np.asarray(heard, dtype=np.float64).ravel()
    samples = np.asarray(prompt, dtype=np.float64).ravel()
    loud = np.flatnonzero(np.abs(samples) > 1000)
    if loud.size == 0:
        raise ValueError("the prompt is silent")
    start = int(loud[0]) + int(skip * 8000)
    template = samples[start : start + int(seconds * 8000)]
    size = template.size
    if audio.size < size or size == 0:
        return 0.0
    template = template - template.mean()
    length = 1 << int(np.ceil(np.log2(audio.size + size)))
    correlation = np.fft.irfft(
        np.fft.rfft(audio, length) * np.conj(np.fft.rfft(template, length)), length
    )[: audio.size - size + 1]
    energy = np.concatenate(([0.0], np.cumsum(audio * audio)))
    sums = np.concatenate(([0.0], np.cumsum(audio)))
    window_energy = energy[size:] - energy[:-size]
    window_sum = sums[size:] - sums[:-size]
    variance = np.maximum(window_energy - window_sum * window_sum / size, 1e-9)
    score = correlation / (np.sqrt(variance) * np.linalg.norm(template))
    return float(np.max(score))


def prompts_of(*texts: str) -> Sequence[Prompt]:
    return tuple(Prompt(tts=text) for text in texts)
