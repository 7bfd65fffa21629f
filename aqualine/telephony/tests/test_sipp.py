"""sipp (Debian ``sip-tester``) against a real switch on loopback.

Scenarios live in ``tests/sipp/``.  sipp runs as a subprocess while the switch serves on
the test's event loop; each run must end with exit status 0 (every call succeeded).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from aqualine.telephony.config import SwitchConfig
from aqualine.telephony.testing.audio import frame_levels, rms_dbfs
from aqualine.telephony.testing.rtp_peer import RtpPeer
from aqualine.telephony.testing.wait import run, wait_until
from aqualine.telephony.tests.fakes import HOTLINE, RunningSwitch, make_config, running_switch

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp (sip-tester) is not installed"),
]

SCENARIOS = Path(__file__).resolve().parent / "sipp"
# sipp 3.6 answers only the first WWW-Authenticate and only with MD5 ("createAuthHeader:
# authentication must use MD5 or AKAv1-MD5"), so its switch offers MD5 first.
MD5_FIRST = ("MD5", "SHA-256")


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    """A port free for UDP and TCP right now (sipp needs its local ports on the command line)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, kind) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                tcp.bind(("127.0.0.1", port))
        except OSError:
            continue
        if port != 5060:
            return port
    raise RuntimeError("no free port")


@dataclass
class SippRun:
    returncode: int
    output: str
    messages: str
    errors: str


async def sipp(
    running: RunningSwitch,
    scenario: str,
    tmp_path: Path,
    *,
    service: str = HOTLINE,
    transport: str = "u1",
    extra: tuple[str, ...] = (),
    timeout: float = 30.0,
) -> SippRun:
    messages = tmp_path / f"{scenario}.messages.log"
    errors = tmp_path / f"{scenario}.errors.log"
    command = [
        "sipp",
        f"127.0.0.1:{running.port}",
        "-sf",
        str(SCENARIOS / f"{scenario}.xml"),
        "-m",
        "1",
        "-i",
        "127.0.0.1",
        "-p",
        str(free_port()),
        "-mp",
        str(free_port()),
        "-s",
        service,
        "-t",
        transport,
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
        output, _ = await asyncio.wait_for(process.communicate(), timeout + 10)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    return SippRun(
        process.returncode if process.returncode is not None else -1,
        output.decode(errors="replace")[-2000:],
        messages.read_text(errors="replace") if messages.exists() else "",
        errors.read_text(errors="replace") if errors.exists() else "",
    )


def assert_passed(result: SippRun) -> None:
    assert result.returncode == 0, (
        f"sipp exited {result.returncode}\n{result.errors[-3000:]}\n{result.messages[-4000:]}"
    )


def scenario_test(
    config: SwitchConfig,
    scenario: str,
    tmp_path: Path,
    *,
    service: str = HOTLINE,
    transport: str = "u1",
    extra: tuple[str, ...] = (),
) -> tuple[SippRun, RunningSwitch]:
    async def go() -> tuple[SippRun, RunningSwitch]:
        async with running_switch(config) as running:
            result = await sipp(
                running, scenario, tmp_path, service=service, transport=transport, extra=extra
            )
            return result, running

    return run(go(), timeout=90)


def test_sipp_registers_with_digest_auth(tmp_path: Path) -> None:
    result, running = scenario_test(
        make_config(auth_algorithms=MD5_FIRST),
        "register",
        tmp_path,
        service="8001",
        extra=("-au", "8001", "-ap", "secret-8001"),
    )

    assert_passed(result)
    assert [e.number for e in running.bus.of_type("extension.registered")] == ["8001"]


def test_sipp_registers_over_tcp(tmp_path: Path) -> None:
    result, running = scenario_test(
        make_config(auth_algorithms=MD5_FIRST),
        "register",
        tmp_path,
        service="8001",
        transport="t1",
        extra=("-au", "8001", "-ap", "secret-8001"),
    )

    assert_passed(result)
    assert running.bus.of_type("extension.registered")[0].contact.lower().endswith("transport=tcp")


def test_sipp_with_a_wrong_password_is_forbidden(tmp_path: Path) -> None:
    result, running = scenario_test(
        make_config(auth_algorithms=MD5_FIRST),
        "register_wrong_password",
        tmp_path,
        service="8001",
        extra=("-au", "8001", "-ap", "not-the-password"),
    )

    assert_passed(result)
    assert running.bus.of_type("extension.registered") == []


def test_sipp_answering_an_expired_nonce_is_rechallenged_as_stale_then_registers(
    tmp_path: Path,
) -> None:
    result, _ = scenario_test(
        make_config(nonce_ttl=0.5, auth_algorithms=MD5_FIRST),
        "register_stale_nonce",
        tmp_path,
        service="8001",
        extra=("-au", "8001", "-ap", "secret-8001", "-d", "1200"),
    )

    assert_passed(result)
    assert "stale=true" in result.messages


def test_sipp_gets_200_to_options(tmp_path: Path) -> None:
    result, _ = scenario_test(make_config(), "options", tmp_path)

    assert_passed(result)


def test_a_sipp_call_from_the_trunk_is_answered_and_its_rtp_carries_the_prompt(
    tmp_path: Path,
) -> None:
    async def go() -> None:
        async with running_switch(make_config(ring_seconds=0.2)) as running:
            async with await RtpPeer.start() as peer:
                result = await sipp(
                    running,
                    "call_hotline",
                    tmp_path,
                    extra=("-set", "rtp_port", str(peer.port), "-d", "2000"),
                )
                assert_passed(result)
                packets = len(peer.audio_packets)
                audio = peer.received_audio()
            # About 2 s of talk at 50 packets a second (sipp's pauses are not exact).
            assert 80 <= packets <= 130, packets
            assert rms_dbfs(audio) > -35
            assert np.mean(frame_levels(audio) > -45) > 0.6
            assert await wait_until(lambda: len(running.records.ended) == 1)
            record = running.records.ended[0]
            assert (record.outcome, record.end_cause) == ("ivr_only", "caller hung up")
            assert "180 Ringing" in result.messages

    run(go(), timeout=90)


def test_a_sipp_call_over_tcp_is_answered_and_hung_up(tmp_path: Path) -> None:
    async def go() -> None:
        async with running_switch(make_config()) as running, await RtpPeer.start() as peer:
            result = await sipp(
                running,
                "call_hotline",
                tmp_path,
                transport="t1",
                extra=("-set", "rtp_port", str(peer.port), "-d", "500"),
            )
            assert_passed(result)
            assert await peer.wait_for_audio_packets(10)

    run(go(), timeout=90)


def test_sipp_cancels_a_ringing_call_and_gets_487(tmp_path: Path) -> None:
    result, running = scenario_test(
        make_config(ring_seconds=30), "call_cancel", tmp_path, extra=("-set", "rtp_port", "9")
    )

    assert_passed(result)
    assert running.records.ended[0].outcome == "cancelled"


def test_sipp_answers_the_bye_of_a_switch_that_hangs_up(tmp_path: Path) -> None:
    result, running = scenario_test(
        make_config(max_call_seconds=1.0),
        "call_switch_hangs_up",
        tmp_path,
        extra=("-set", "rtp_port", "9"),
    )

    assert_passed(result)
    record = running.records.ended[0]
    assert (record.outcome, record.end_cause) == ("ivr_only", "switch hung up")


def test_the_switch_retransmits_a_200_that_sipp_did_not_acknowledge(tmp_path: Path) -> None:
    result, running = scenario_test(
        make_config(), "call_lost_200", tmp_path, extra=("-set", "rtp_port", "9")
    )

    assert_passed(result)
    before_ack = result.messages.split("ACK sip:")[0]
    # T1 = 0.1 s: the 200 at 0 s, then again at 0.1, 0.3 and 0.7 s before the late ACK.
    assert before_ack.count("SIP/2.0 200 OK") >= 3, result.messages
    assert running.records.ended[0].end_cause == "caller hung up"
