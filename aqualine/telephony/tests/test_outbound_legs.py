"""Outbound legs (the switch as the caller) against real peers on loopback.

- a pjsua2 phone registered as extension 8001 with digest auth rings, answers, and talks
  (its 1000 Hz tone reaches the switch side's RTP socket, our 440 Hz tone reaches it) until
  the switch hangs up, and on a second call until the phone hangs up;
- sipp as the called side (``tests/sipp/leg_*.xml``): busy, no answer (CANCEL after the ring
  timeout, never before a provisional response), a 200 after the CANCEL, a digest challenge,
  a 200 without or with broken SDP, in-dialog INFO / hold re-INVITE / BYE from the phone;
- the Python test UA as the called side, for what sipp cannot play: a retransmitted 200, a
  200 from a second fork, a 200 without Contact, a re-INVITE without SDP;
- an extension that is not registered fails at once, with no packet sent.

The answering pjsua2 phone runs in its own process: this module, run as a program
(``python -m aqualine.telephony.tests.test_outbound_legs --port ...``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import select
import shutil
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from aqualine.telephony.config import SwitchConfig
from aqualine.telephony.legs import (
    Credentials,
    FailureKind,
    LegCallbacks,
    LegFailed,
    LegState,
    LegTarget,
    LocalMedia,
    OutboundLeg,
)
from aqualine.telephony.media.wav import load_audio
from aqualine.telephony.sdp import Direction, NegotiatedAudio, negotiate_answer
from aqualine.telephony.sip import Request, Response, build_response
from aqualine.telephony.testing.audio import frames_with_tone
from aqualine.telephony.testing.rtp_peer import RtpPeer
from aqualine.telephony.testing.wait import run, wait_until
from aqualine.telephony.tests.fakes import HOTLINE, RunningSwitch, make_config, running_switch
from aqualine.telephony.tests.test_sipp import SCENARIOS, SippRun, assert_passed, free_port
from aqualine.telephony.tests.uac import SipClient

pytestmark = pytest.mark.sip

needs_sipp = pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp is not installed")
needs_pjsua2 = pytest.mark.skipif(
    importlib.util.find_spec("pjsua2") is None, reason="pjsua2-python is not installed"
)

PHONE_TONE = 1000.0  # what the agent's phone plays
SWITCH_TONE = 440.0  # what the switch side plays


@dataclass
class Seen:
    """What a leg's callbacks reported."""

    ringing: list[int] = field(default_factory=list)
    answered: list[NegotiatedAudio] = field(default_factory=list)
    failed: list[Any] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)
    media: list[NegotiatedAudio] = field(default_factory=list)

    def callbacks(self) -> LegCallbacks:
        return LegCallbacks(
            on_ringing=lambda _leg, status: self.ringing.append(status),
            on_answered=lambda _leg, audio: self.answered.append(audio),
            on_failed=lambda _leg, failure: self.failed.append(failure),
            on_ended=lambda _leg, cause: self.ended.append(cause),
            on_media=lambda _leg, audio: self.media.append(audio),
        )


async def outcome(leg: OutboundLeg, timeout: float = 15.0) -> NegotiatedAudio | LegFailed:
    """The answered audio, or the LegFailed the leg ended with."""
    try:
        return await asyncio.wait_for(asyncio.shield(leg.answered), timeout)
    except LegFailed as failed:
        return failed


# --- sipp as the called side ------------------------------------------------------------------


def udp_port_bound(port: int) -> bool:
    """Whether some socket is bound to UDP ``port`` (read from /proc, without touching it)."""
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                local = line.split()[1]
                if int(local.rsplit(":", 1)[1], 16) == port:
                    return True
    return False


def sipp_ready_or_gone(process: asyncio.subprocess.Process, port: int) -> bool:
    return process.returncode is not None or udp_port_bound(port)


@dataclass
class SippUas:
    port: int
    process: asyncio.subprocess.Process
    messages: Path
    errors: Path

    @property
    def uri(self) -> str:
        return f"sip:8001@127.0.0.1:{self.port}"

    async def finish(self, timeout: float = 30.0) -> SippRun:
        try:
            output, _ = await asyncio.wait_for(self.process.communicate(), timeout)
        except TimeoutError:
            self.process.kill()
            output, _ = await self.process.communicate()
        return SippRun(
            self.process.returncode if self.process.returncode is not None else -1,
            output.decode(errors="replace")[-2000:],
            self.messages.read_text(errors="replace") if self.messages.exists() else "",
            self.errors.read_text(errors="replace") if self.errors.exists() else "",
        )


@contextlib.asynccontextmanager
async def sipp_uas(
    scenario: str, tmp_path: Path, *extra: str, timeout: float = 20.0
) -> AsyncIterator[SippUas]:
    """sipp answering one call with ``tests/sipp/<scenario>.xml`` on a free port.

    Another process may take the port between :func:`free_port` and sipp's bind: sipp then
    exits at once, and another port is tried.
    """
    messages = tmp_path / f"{scenario}.messages.log"
    errors = tmp_path / f"{scenario}.errors.log"
    output = b""
    for _ in range(3):
        port = free_port()
        command = [
            "sipp",
            "-sf",
            str(SCENARIOS / f"{scenario}.xml"),
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "-mp",
            str(free_port()),
            "-m",
            "1",
            "-t",
            "u1",
            "-nostdin",
            "-timeout",
            f"{int(timeout)}s",
            "-timeout_error",
            "-trace_msg",
            "-message_file",
            str(messages),
            "-trace_err",
            "-error_file",
            str(errors),
            *extra,
        ]
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=tmp_path,
        )
        try:
            await wait_until(partial(sipp_ready_or_gone, process, port), timeout=15)
            if process.returncode is None and udp_port_bound(port):
                yield SippUas(port, process, messages, errors)
                return
        finally:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
            output, _ = await process.communicate()
    raise AssertionError(f"sipp did not start:\n{output.decode(errors='replace')[-2000:]}")


def sipp_test(
    scenario: str,
    tmp_path: Path,
    drive: Callable[[RunningSwitch, SippUas], Any],
    *extra: str,
    config: SwitchConfig | None = None,
) -> SippRun:
    """Run ``drive(running, uas)`` against a sipp UAS, then wait for sipp to finish."""

    async def go() -> SippRun:
        async with running_switch(config or make_config()) as running:
            async with sipp_uas(scenario, tmp_path, *extra) as uas:
                await drive(running, uas)
                result = await uas.finish()
            assert await wait_until(lambda: running.switch.legs() == [])
            return result

    return run(go(), timeout=90)


def media() -> LocalMedia:
    return LocalMedia("127.0.0.1", 40100)


@needs_sipp
def test_a_busy_phone_fails_the_leg_as_declined_with_486(tmp_path: Path) -> None:
    seen = Seen()

    async def drive(running: RunningSwitch, uas: SippUas) -> None:
        leg = await running.switch.originate_uri(
            uas.uri, media=media(), caller=HOTLINE, callbacks=seen.callbacks()
        )
        result = await outcome(leg)
        assert isinstance(result, LegFailed)
        assert (result.failure.status, result.failure.kind) == (486, FailureKind.DECLINED)
        assert not result.failure.local
        assert leg.state is LegState.ENDED
        assert await asyncio.wait_for(leg.ended, 5) == "Busy Here"

    result = sipp_test("leg_busy", tmp_path, drive)

    assert_passed(result)  # sipp got the ACK for its 486
    assert seen.ringing == [180]
    assert [f.status for f in seen.failed] == [486]
    assert seen.answered == [] and seen.ended == []


@needs_sipp
def test_after_the_ring_timeout_the_leg_cancels_and_the_487_ends_it(tmp_path: Path) -> None:
    seen = Seen()

    async def drive(running: RunningSwitch, uas: SippUas) -> None:
        leg = await running.switch.originate_uri(
            uas.uri, media=media(), ring_timeout=1.0, callbacks=seen.callbacks()
        )
        result = await outcome(leg)
        assert isinstance(result, LegFailed)
        assert result.failure.kind is FailureKind.NO_ANSWER
        assert leg.snapshot()["failure"]["kind"] == "no_answer"

    result = sipp_test("leg_no_answer", tmp_path, drive)

    assert_passed(result)  # CANCEL (after the 180), then the ACK for the 487
    assert len(seen.failed) == 1 and seen.answered == []
    assert "CANCEL sip:8001@" in result.messages


@needs_sipp
def test_a_cancel_before_any_provisional_response_waits_for_one(tmp_path: Path) -> None:
    # sipp waits 600 ms before its 180 and fails the call on a CANCEL that comes earlier.
    async def drive(running: RunningSwitch, uas: SippUas) -> None:
        leg = await running.switch.originate_uri(uas.uri, media=media())
        await leg.cancel()
        assert leg.failure is not None and leg.failure.kind is FailureKind.CANCELLED

    result = sipp_test("leg_no_answer", tmp_path, drive, "-d", "600")

    assert_passed(result)
    assert result.messages.index("SIP/2.0 180 Ringing") < result.messages.index("CANCEL sip:")


@needs_sipp
def test_a_phone_that_rings_longer_than_64_t1_can_still_answer(tmp_path: Path) -> None:
    async def drive(running: RunningSwitch, uas: SippUas) -> None:
        leg = await running.switch.originate_uri(uas.uri, media=media(), ring_timeout=10)
        audio = await outcome(leg)
        assert isinstance(audio, NegotiatedAudio), audio
        await leg.hang_up()

    config = make_config(timer_t1=0.02, timer_t2=0.08)  # 64*T1 = 1.28 s
    result = sipp_test("leg_slow_answer", tmp_path, drive, "-d", "2000", config=config)

    assert_passed(result)


@needs_sipp
def test_a_200_that_crosses_the_cancel_is_acknowledged_and_hung_up(tmp_path: Path) -> None:
    seen = Seen()

    async def drive(running: RunningSwitch, uas: SippUas) -> None:
        leg = await running.switch.originate_uri(uas.uri, media=media(), callbacks=seen.callbacks())
        assert await wait_until(lambda: leg.state is LegState.RINGING)
        await leg.cancel("Caller gave up")
        assert leg.failure is not None
        assert (leg.failure.kind, leg.failure.reason) == (FailureKind.CANCELLED, "Caller gave up")
        assert await wait_until(lambda: leg.bye_response is not None)
        assert leg.bye_response is not None and leg.bye_response.status == 200

    result = sipp_test("leg_late_200", tmp_path, drive)

    assert_passed(result)  # the ACK and the BYE arrived
    assert seen.answered == [] and len(seen.failed) == 1


@needs_sipp
def test_a_trunk_challenge_is_answered_once_with_the_credentials(tmp_path: Path) -> None:
    seen = Seen()

    async def drive(running: RunningSwitch, uas: SippUas) -> None:
        leg = await running.switch.originate_uri(
            uas.uri,
            media=media(),
            credentials=Credentials("trunkuser", "s3cret"),
            callbacks=seen.callbacks(),
        )
        audio = await outcome(leg)
        assert isinstance(audio, NegotiatedAudio)
        assert audio.codec.name == "PCMU" and audio.telephone_event_pt == 101
        assert leg.invite is not None and leg.invite.headers.get("Authorization")
        await leg.hang_up("Agent released")
        assert leg.bye_response is not None and leg.bye_response.status == 200

    result = sipp_test(
        "leg_auth", tmp_path, drive, "-set", "user", "trunkuser", "-set", "password", "s3cret"
    )

    assert_passed(result)  # sipp verified the digest and got the BYE
    assert seen.ended == ["Agent released"]
    invites = [block for block in result.messages.split("-----") if "INVITE sip:" in block]
    cseqs = [int(b.split("CSeq: ")[1].split()[0]) for b in invites if "CSeq: " in b]
    assert cseqs[-1] == cseqs[0] + 1  # the authenticated INVITE has the next CSeq


@needs_sipp
def test_wrong_trunk_credentials_fail_the_leg_with_the_trunks_answer(tmp_path: Path) -> None:
    async def drive(running: RunningSwitch, uas: SippUas) -> None:
        leg = await running.switch.originate_uri(
            uas.uri, media=media(), credentials=Credentials("trunkuser", "wrong")
        )
        result = await outcome(leg)
        assert isinstance(result, LegFailed) and result.failure.status == 403

    result = sipp_test(
        "leg_auth", tmp_path, drive, "-set", "user", "trunkuser", "-set", "password", "s3cret"
    )

    assert_passed(result)


@needs_sipp
@pytest.mark.parametrize("scenario", ["leg_200_without_sdp", "leg_200_bad_sdp"])
def test_a_200_without_a_usable_answer_is_hung_up_and_fails_the_leg(
    tmp_path: Path, scenario: str
) -> None:
    seen = Seen()

    async def drive(running: RunningSwitch, uas: SippUas) -> None:
        leg = await running.switch.originate_uri(uas.uri, media=media(), callbacks=seen.callbacks())
        result = await outcome(leg)
        assert isinstance(result, LegFailed)
        assert (result.failure.status, result.failure.kind) == (488, FailureKind.REJECTED)
        assert result.failure.local
        assert await wait_until(lambda: leg.bye_response is not None)

    result = sipp_test(scenario, tmp_path, drive)

    assert_passed(result)  # ACK, then BYE
    assert seen.answered == [] and len(seen.failed) == 1


@needs_sipp
def test_info_a_hold_reinvite_and_the_phones_bye_in_the_dialog(tmp_path: Path) -> None:
    seen = Seen()

    async def drive(running: RunningSwitch, uas: SippUas) -> None:
        leg = await running.switch.originate_uri(
            uas.uri, media=media(), caller=HOTLINE, callbacks=seen.callbacks()
        )
        assert isinstance(await outcome(leg), NegotiatedAudio)
        assert await asyncio.wait_for(asyncio.shield(leg.ended), 15) == "Remote hung up"

    result = sipp_test("leg_answered", tmp_path, drive)

    assert_passed(result)  # INFO got 200, the hold was answered recvonly, the BYE 200
    assert [a.direction for a in seen.media] == [Direction.RECVONLY]
    assert seen.media[0].held_by_remote
    assert seen.ended == ["Remote hung up"]


# --- the Python test UA as the called side ----------------------------------------------------


def invite_of(message: Request | Response) -> bool:
    return isinstance(message, Request) and message.method == "INVITE"


def request_of(method: str) -> Callable[[Request | Response], bool]:
    return lambda m: isinstance(m, Request) and m.method == method


def ok_for(
    invite: Request, phone: SipClient, *, tag: str, port: int, contact: bool = True
) -> Response:
    """The phone's 200 (its RTP on ``port``)."""
    answer = negotiate_answer(
        invite.body, local_ip="127.0.0.1", local_port=port, session_id=7, session_version=1
    )
    headers = [("Content-Type", "application/sdp")]
    if contact:
        headers.insert(0, ("Contact", f"<sip:8001@127.0.0.1:{phone.local[1]}>"))
    return build_response(invite, 200, to_tag=tag, headers=headers, body=answer.to_bytes())


def with_phone(check: Callable[[RunningSwitch, SipClient], Any]) -> None:
    async def go() -> None:
        async with (
            running_switch(make_config()) as running,
            SipClient(running.address) as phone,
        ):
            await check(running, phone)

    run(go())


def test_a_retransmitted_200_gets_the_same_ack_again() -> None:
    async def check(running: RunningSwitch, phone: SipClient) -> None:
        leg = await running.switch.originate_uri(
            f"sip:8001@127.0.0.1:{phone.local[1]}", media=media()
        )
        invite = await phone.wait_for(invite_of)
        assert isinstance(invite, Request)
        ok = ok_for(invite, phone, tag="phone1", port=40200)
        phone.send(ok)
        first = await phone.wait_for(request_of("ACK"))
        assert isinstance(await outcome(leg), NegotiatedAudio)
        count = len(phone.messages)
        phone.send(ok)  # as if the ACK had been lost
        again = await phone.wait_for(request_of("ACK"), start=count)
        assert isinstance(first, Request) and isinstance(again, Request)
        assert first.cseq.number == invite.cseq.number and first.cseq.method == "ACK"
        assert first.top_via.branch != invite.top_via.branch  # a 2xx ACK is its own transaction
        assert again.top_via.branch == first.top_via.branch
        assert first.to_addr.tag == "phone1"
        assert leg.acks_sent == 2
        await leg.hang_up()
        bye = await phone.wait_for(request_of("BYE"))
        assert isinstance(bye, Request) and bye.cseq.number == invite.cseq.number + 1

    with_phone(check)


def test_a_200_from_a_second_fork_is_acknowledged_and_hung_up() -> None:
    async def check(running: RunningSwitch, phone: SipClient) -> None:
        leg = await running.switch.originate_uri(
            f"sip:8001@127.0.0.1:{phone.local[1]}", media=media()
        )
        invite = await phone.wait_for(invite_of)
        assert isinstance(invite, Request)
        phone.send(ok_for(invite, phone, tag="fork-a", port=40202))
        assert isinstance(await outcome(leg), NegotiatedAudio)
        phone.send(ok_for(invite, phone, tag="fork-b", port=40204))
        bye = await phone.wait_for(request_of("BYE"))
        assert isinstance(bye, Request) and bye.to_addr.tag == "fork-b"
        acks = [m for m in phone.messages if isinstance(m, Request) and m.method == "ACK"]
        assert {a.to_addr.tag for a in acks} == {"fork-a", "fork-b"}
        assert leg.state is LegState.ANSWERED and leg.dialog is not None
        assert leg.dialog.remote_tag == "fork-a"
        await leg.hang_up()

    with_phone(check)


def test_a_200_without_contact_is_acknowledged_hung_up_and_fails_the_leg() -> None:
    async def check(running: RunningSwitch, phone: SipClient) -> None:
        leg = await running.switch.originate_uri(
            f"sip:8001@127.0.0.1:{phone.local[1]}", media=media()
        )
        invite = await phone.wait_for(invite_of)
        assert isinstance(invite, Request)
        phone.send(ok_for(invite, phone, tag="nocontact", port=40206, contact=False))
        result = await outcome(leg)
        assert isinstance(result, LegFailed) and result.failure.kind is FailureKind.REJECTED
        await phone.wait_for(request_of("ACK"))
        await phone.wait_for(request_of("BYE"))
        assert running.switch.errors == 0

    with_phone(check)


def test_a_reinvite_without_sdp_gets_our_offer_and_the_ack_carries_the_answer() -> None:
    seen = Seen()

    async def check(running: RunningSwitch, phone: SipClient) -> None:
        leg = await running.switch.originate_uri(
            f"sip:8001@127.0.0.1:{phone.local[1]}", media=media(), callbacks=seen.callbacks()
        )
        invite = await phone.wait_for(invite_of)
        assert isinstance(invite, Request)
        ok = ok_for(invite, phone, tag="phone2", port=40208)
        phone.send(ok)
        await phone.wait_for(request_of("ACK"))
        assert isinstance(await outcome(leg), NegotiatedAudio)
        # The phone's re-INVITE (From/To swapped), without a body.
        reinvite = phone.request(
            "INVITE",
            f"sip:{HOTLINE}@127.0.0.1:{running.port}",
            from_user="8001",
            call_id=invite.call_id,
            cseq=1,
            from_tag="phone2",
            to_header=invite.headers.get("From"),
        )
        count = len(phone.messages)
        phone.send(reinvite)
        response = await phone.final_response(reinvite, start=count)
        assert response.status == 200 and b"m=audio 40100 RTP/AVP 0 101" in response.body
        answer = negotiate_answer(
            response.body,
            local_ip="127.0.0.1",
            local_port=40208,
            session_id=7,
            session_version=2,
            direction_override="inactive",
        )
        ack = phone.request(
            "ACK",
            f"sip:{HOTLINE}@127.0.0.1:{running.port}",
            from_user="8001",
            call_id=invite.call_id,
            cseq=1,
            from_tag="phone2",
            to_header=invite.headers.get("From"),
            body=answer.to_bytes(),
            content_type="application/sdp",
        )
        phone.send(ack)
        assert await wait_until(lambda: len(seen.media) == 1)
        assert seen.media[0].direction is Direction.INACTIVE
        assert leg.snapshot()["held"] is True
        await leg.hang_up()

    with_phone(check)


def test_when_the_switch_stops_it_hangs_up_its_answered_legs() -> None:
    seen = Seen()

    async def check(running: RunningSwitch, phone: SipClient) -> None:
        leg = await running.switch.originate_uri(
            f"sip:8001@127.0.0.1:{phone.local[1]}", media=media(), callbacks=seen.callbacks()
        )
        invite = await phone.wait_for(invite_of)
        assert isinstance(invite, Request)
        phone.send(ok_for(invite, phone, tag="phone3", port=40210))
        assert isinstance(await outcome(leg), NegotiatedAudio)
        assert [snapshot["state"] for snapshot in running.switch.legs()] == ["answered"]
        await running.switch.stop()
        bye = await phone.wait_for(request_of("BYE"))
        assert isinstance(bye, Request) and bye.to_addr.tag == "phone3"
        assert leg.bye_response is not None and leg.bye_response.status == 200

    with_phone(check)
    assert seen.ended == ["Switch stopped"]


def test_a_leg_cancelled_before_it_starts_sends_nothing() -> None:
    async def scenario() -> None:
        async with running_switch() as running:
            sent = running.switch.transport.counters["sent"]
            leg = OutboundLeg(running.switch, LegTarget.for_uri("sip:8001@127.0.0.1:9"), media())
            await leg.cancel("Caller gave up")
            await leg.start()
            assert leg.failure is not None and leg.failure.kind is FailureKind.CANCELLED
            assert leg.state is LegState.ENDED and leg.ended.done()
            assert running.switch.transport.counters["sent"] == sent

    run(scenario())


def test_an_extension_that_is_not_registered_fails_at_once_without_a_packet() -> None:
    seen = Seen()

    async def scenario() -> None:
        async with running_switch() as running:
            sent = running.switch.transport.counters["sent"]
            leg = await running.switch.originate(
                "8002", media=media(), caller=HOTLINE, callbacks=seen.callbacks()
            )
            assert leg.answered.done() and leg.ended.done()
            assert leg.failure is not None
            assert (leg.failure.status, leg.failure.kind, leg.failure.local) == (
                480,
                FailureKind.UNREACHABLE,
                True,
            )
            assert leg.state is LegState.ENDED
            assert running.switch.transport.counters["sent"] == sent
            assert running.switch.layer.client_count == 0
            assert running.switch.legs() == []

    run(scenario())
    assert [f.status for f in seen.failed] == [480]


# --- a registered pjsua2 phone ----------------------------------------------------------------


class PhoneProcess:
    """The answering pjsua2 phone (this module run as a program), and the events it prints."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.events: list[dict[str, Any]] = []
        self.output: list[str] = []
        self._changed = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def start(
        cls, running: RunningSwitch, tmp_path: Path, *, calls: int, hangup_after: str, tcp: bool
    ) -> PhoneProcess:
        command = [
            sys.executable,
            "-m",
            "aqualine.telephony.tests.test_outbound_legs",
            "--port",
            str(running.port),
            "--user",
            "8001",
            "--password",
            "secret-8001",
            "--calls",
            str(calls),
            "--hangup-after",
            hangup_after,
            "--wav-prefix",
            str(tmp_path / "heard"),
            *(["--tcp"] if tcp else []),
        ]
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        return cls(process)

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            line = raw.decode(errors="replace").strip()
            self.output.append(line)
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    self.events.append(json.loads(line))
            self._changed.set()
        self._changed.set()

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 15.0
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = next((e for e in self.events if predicate(e)), None)
            if found is not None:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0 or self._reader.done():
                tail = "\n".join(self.output[-40:])
                raise AssertionError(f"the phone did not report it; it said:\n{tail}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def send(self, line: str) -> None:
        """Write a command line (``hold``, ``unhold``, ``xfer <target>``, ``hangup``) to the
        phone's stdin; it answers with a ``command`` event."""
        stdin = self.process.stdin
        if stdin is None:
            raise RuntimeError("the phone was started without a stdin pipe")
        stdin.write(line.strip().encode() + b"\n")
        await stdin.drain()

    async def finish(self, timeout: float = 20.0) -> int:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), timeout)
        finally:
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()
            await self._reader
        return self.process.returncode or 0


def event(kind: str, **values: Any) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e.get("event") == kind and all(e.get(k) == v for k, v in values.items())


@needs_pjsua2
@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_a_registered_pjsua2_phone_rings_answers_and_talks_until_either_side_hangs_up(
    tmp_path: Path, tcp: bool
) -> None:
    first, second = Seen(), Seen()

    async def scenario() -> None:
        async with running_switch(make_config()) as running:
            phone = await PhoneProcess.start(
                running, tmp_path, calls=2, hangup_after="0,1.0", tcp=tcp
            )
            try:
                registered = await phone.wait_for(event("registered"))
                assert registered["code"] == 200
                assert running.switch.registrar.contacts("8001")

                # 1. The switch rings 8001, both sides talk, the switch hangs up.
                async with await RtpPeer.start() as peer:
                    leg = await running.switch.originate(
                        "8001",
                        media=LocalMedia("127.0.0.1", peer.port, codecs=("PCMU",)),
                        caller=HOTLINE,
                        caller_name="Hotline",
                        ring_timeout=10,
                        callbacks=first.callbacks(),
                    )
                    audio = await outcome(leg)
                    assert isinstance(audio, NegotiatedAudio), audio
                    assert (audio.remote_address, audio.codec.name) == ("127.0.0.1", "PCMU")
                    incoming = await phone.wait_for(event("incoming", call=0))
                    assert f"sip:{HOTLINE}@" in incoming["remote"]
                    peer.send_to(audio.remote_address, audio.remote_port)
                    peer.play_tone(SWITCH_TONE, 1.0, loop=True)
                    assert await peer.wait_for_audio_packets(75, timeout=10)  # 1.5 s
                    heard = peer.received_audio()[-8000:]
                    assert frames_with_tone(heard, PHONE_TONE) > 0.8
                    await leg.hang_up("Agent released")
                    assert leg.bye_response is not None and leg.bye_response.status == 200
                    await phone.wait_for(event("disconnected", call=0))
                    assert leg.state is LegState.ENDED

                # 2. Another call; this time the phone hangs up after a second.
                async with await RtpPeer.start() as peer:
                    leg = await running.switch.originate(
                        "8001",
                        media=LocalMedia("127.0.0.1", peer.port),
                        caller=HOTLINE,
                        callbacks=second.callbacks(),
                    )
                    audio = await outcome(leg)
                    assert isinstance(audio, NegotiatedAudio), audio
                    peer.send_to(audio.remote_address, audio.remote_port)
                    peer.play_tone(SWITCH_TONE, 1.0, loop=True)
                    cause = await asyncio.wait_for(asyncio.shield(leg.ended), 15)
                    assert cause == "Remote hung up"
                    assert peer.audio_packets  # the phone's audio arrived here too
                await phone.wait_for(event("disconnected", call=1))
                assert await phone.finish() == 0
            finally:
                if phone.process.returncode is None:
                    phone.process.kill()
                    await phone.finish()
            assert running.switch.legs() == []

    run(scenario(), timeout=120)

    assert first.ringing and first.ringing[0] == 180
    assert len(first.answered) == 1 and first.ended == ["Agent released"]
    assert second.ended == ["Remote hung up"] and second.failed == []
    # The phone heard the switch side's tone.
    heard = load_audio(tmp_path / "heard-0.wav")
    assert frames_with_tone(heard, SWITCH_TONE) > 0.5


# --- the answering phone, as a program --------------------------------------------------------


class StdinCommands:  # pragma: no cover (runs in the phone's subprocess)
    """Lines from the phone's stdin, read without blocking; none once stdin is at its end
    (closed, or /dev/null: the phone then only answers, as it always did)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.open = True
        self.buffer = b""

    def lines(self) -> list[str]:
        if not self.open:
            return []
        try:
            readable, _, _ = select.select([self.fd], [], [], 0)
            chunk = os.read(self.fd, 4096) if readable else None
        except OSError:
            chunk = b""
        if chunk == b"":
            self.open = False
            chunk = b"\n" if self.buffer else b""
        if chunk:
            self.buffer += chunk
        *complete, self.buffer = self.buffer.split(b"\n")
        return [line.decode(errors="replace").strip() for line in complete if line.strip()]


def phone_main(argv: list[str] | None = None) -> int:  # pragma: no cover (runs in a subprocess)
    """Register, answer every call (180, then 200), play a tone, record what is heard.

    Commands on stdin, one a line, for the latest confirmed call (each acknowledged by a
    ``command`` event with ``ok`` and, when refused, ``error``): ``hold`` (re-INVITE,
    sendonly), ``unhold`` (re-INVITE, sendrecv), ``xfer <sip-uri or number>`` (REFER; the
    NOTIFYs come back as ``transfer_status`` events), ``hangup`` (BYE).
    """
    import pjsua2 as pj

    from aqualine.telephony.tests.pjsua_phone import Phone

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--calls", type=int, default=1)
    parser.add_argument("--hangup-after", default="0", help="seconds per call; 0: wait")
    parser.add_argument("--ring-ms", type=int, default=300)
    parser.add_argument("--tone", type=int, default=int(PHONE_TONE))
    parser.add_argument("--wav-prefix", default="heard")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--tcp", action="store_true")
    parser.add_argument("--log-level", type=int, default=1)
    args = parser.parse_args(argv)
    hangups = [float(value) for value in args.hangup_after.split(",")]
    # Media states in which the call has a bridge slot (held calls too: what the phone hears
    # while held, silence, goes on into its recording).
    connected = (
        pj.PJSUA_CALL_MEDIA_ACTIVE,
        pj.PJSUA_CALL_MEDIA_LOCAL_HOLD,
        pj.PJSUA_CALL_MEDIA_REMOTE_HOLD,
    )

    def emit(kind: str, **values: Any) -> None:
        print(json.dumps({"event": kind, **values}), flush=True)

    class AnsweringPhone(Phone):
        def __init__(self) -> None:
            super().__init__(args)
            self.tone: Any = None
            self.by_index: dict[int, Any] = {}
            self.recorder_of: dict[int, Any] = {}
            self.pending: list[tuple[float, Any]] = []
            self.confirmed: dict[int, float] = {}
            self.current: int | None = None  # pjsua id of the latest confirmed call
            self.incoming = 0
            self.finished = 0

        def start(self) -> None:
            super().start()
            self.tone = pj.ToneGenerator()
            self.tone.createToneGenerator(8000, 1)
            tone = pj.ToneDesc()
            tone.freq1 = args.tone
            tone.freq2 = 0
            tone.on_msec = 10000
            tone.off_msec = 0
            tone.volume = 0
            tones = pj.ToneDescVector()
            tones.append(tone)
            self.tone.play(tones, True)

        def register(self) -> Any:
            phone = self
            server = f"127.0.0.1:{args.port}" + (";transport=tcp" if args.tcp else "")
            config = pj.AccountConfig()
            config.idUri = f"sip:{args.user}@127.0.0.1:{args.port}"
            config.regConfig.registrarUri = f"sip:{server}"
            config.regConfig.timeoutSec = 300
            if args.tcp:
                config.sipConfig.proxies.append(f"sip:{server};lr")
            config.sipConfig.authCreds.append(
                pj.AuthCredInfo("digest", "*", args.user, 0, args.password)
            )
            config.mediaConfig.transportConfig.boundAddress = "127.0.0.1"

            class Call(pj.Call):
                index = -1

                def onCallState(self, prm: Any) -> None:
                    info = self.getInfo()
                    emit("state", call=self.index, state=info.stateText)
                    if info.state == pj.PJSIP_INV_STATE_CONFIRMED:
                        phone.confirmed[info.id] = time.monotonic()
                        phone.current = info.id
                    if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
                        phone.calls.pop(info.id, None)
                        phone.confirmed.pop(info.id, None)
                        if phone.current == info.id:
                            phone.current = None
                        phone.finished += 1
                        emit("disconnected", call=self.index, code=info.lastStatusCode)

                def onCallMediaState(self, prm: Any) -> None:
                    info = self.getInfo()
                    for number, media in enumerate(info.media):
                        if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status in connected:
                            # A re-INVITE may give the call a new slot: connect it again.
                            audio = self.getAudioMedia(number)
                            phone.tone.startTransmit(audio)
                            recorder = phone.recorder_of.get(self.index)
                            if recorder is None:
                                recorder = pj.AudioMediaRecorder()
                                recorder.createRecorder(f"{args.wav_prefix}-{self.index}.wav")
                                phone.recorder_of[self.index] = recorder
                                phone.recorders.append(recorder)
                            audio.startTransmit(recorder)
                            emit(
                                "media",
                                call=self.index,
                                dir=int(media.dir),
                                held=media.status != pj.PJSUA_CALL_MEDIA_ACTIVE,
                            )

                def onDtmfDigit(self, prm: Any) -> None:
                    emit("dtmf", call=self.index, digit=prm.digit)

                def onCallTransferStatus(self, prm: Any) -> None:
                    emit(
                        "transfer_status",
                        call=self.index,
                        code=prm.statusCode,
                        reason=prm.reason,
                        final=bool(prm.finalNotify),
                    )

            class Account(pj.Account):
                def onRegState(self, prm: Any) -> None:
                    phone.result["register"] = prm.code

                def onIncomingCall(self, prm: Any) -> None:
                    call = Call(self, prm.callId)
                    call.index = phone.incoming
                    phone.incoming += 1
                    info = call.getInfo()
                    phone.calls[info.id] = call
                    emit("incoming", call=call.index, remote=info.remoteUri)
                    ringing = pj.CallOpParam()
                    ringing.statusCode = 180
                    call.answer(ringing)
                    phone.pending.append((time.monotonic() + args.ring_ms / 1000, call))

            account = Account()
            account.create(config)
            self.poll(10, lambda: self.result["register"] is not None)
            emit("registered", code=self.result["register"])
            return account

        def serve(self) -> None:
            commands = StdinCommands(sys.stdin.fileno())
            deadline = time.monotonic() + args.timeout
            while self.finished < args.calls and time.monotonic() < deadline:
                self.endpoint.libHandleEvents(10)
                for line in commands.lines():
                    self.command(line)
                now = time.monotonic()
                for due, call in list(self.pending):
                    if now >= due:
                        self.pending.remove((due, call))
                        answer = pj.CallOpParam()
                        answer.statusCode = 200
                        with contextlib.suppress(Exception):
                            call.answer(answer)
                for call_id, since in list(self.confirmed.items()):
                    call = self.calls.get(call_id)
                    after = hangups[call.index] if call and call.index < len(hangups) else 0
                    if call is not None and after > 0 and now - since >= after:
                        del self.confirmed[call_id]
                        call.hangup(pj.CallOpParam())

        def command(self, line: str) -> None:
            name, _, argument = line.partition(" ")
            argument = argument.strip()
            call = self.calls.get(self.current) if self.current is not None else None
            details: dict[str, Any] = {}
            try:
                if name not in ("hold", "unhold", "xfer", "hangup"):
                    raise ValueError(f"unknown command {line!r}")
                if call is None:
                    raise ValueError("no confirmed call")
                details["call"] = call.index
                if name == "hold":
                    call.setHold(pj.CallOpParam(True))
                elif name == "unhold":
                    param = pj.CallOpParam(True)
                    param.opt.flag = pj.PJSUA_CALL_UNHOLD
                    call.reinvite(param)
                elif name == "xfer":
                    if not argument:
                        raise ValueError("xfer needs a target")
                    target = argument
                    if ":" not in target:
                        target = f"sip:{argument}@127.0.0.1:{args.port}"
                    details["target"] = target
                    call.xfer(target, pj.CallOpParam(True))
                else:
                    call.hangup(pj.CallOpParam())
            except (ValueError, pj.Error) as exc:
                error = exc.info() if isinstance(exc, pj.Error) else str(exc)
                emit("command", name=name, ok=False, error=error, **details)
                return
            emit("command", name=name, ok=True, **details)

        def stop(self) -> None:
            self.pending.clear()
            self.recorder_of.clear()
            self.tone = None
            super().stop()

    phone = AnsweringPhone()
    phone.start()
    try:
        account = phone.register()
        if phone.result["register"] == 200:
            phone.serve()
        account.shutdown()
        phone.poll(0.5)
        del account
    finally:
        phone.stop()
    emit("done", calls=phone.incoming, finished=phone.finished)
    return 0


if __name__ == "__main__":
    sys.exit(phone_main())
