"""Click-to-dial end to end: the agent's pjsua2 phone (8001, agent 1001, 1000 Hz) rings first,
then sipp as the carrier trunk (``tests/sipp/trunk_dial_answered.xml``) gets the call.

- the trunk challenges the INVITE (401, MD5 digest) and sipp verifies the answer; it rings,
  answers, streams the customer's 600 Hz tone and hangs up: the agent heard ringback, then
  the customer; the recording (stereo) holds the customer on the left and the agent on the
  right; the record is outbound with the agent and the number; the agent talks, then wraps up;
- the trunk answers 486: the agent hears the busy tone and is hung up, the record says
  ``failed`` / ``486 Busy Here``, ``dial_failed`` is published and the agent is back where it
  was (not ready, with its reason);
- no trunk with an outbound address, or the agent's extension not registered: refused before
  anything rings.
"""

from __future__ import annotations

import dataclasses
import shutil
import struct
import sys
from pathlib import Path
from typing import Any

import pytest

from aqualine.telephony.callcontrol import CallControlRefused
from aqualine.telephony.centre import CallCentre
from aqualine.telephony.media.g711 import ulaw_encode
from aqualine.telephony.media.wav import load_audio, read_wav
from aqualine.telephony.outbound import ClickToDial
from aqualine.telephony.ports import CallRecord
from aqualine.telephony.testing.audio import frames_with_tone, tone
from aqualine.telephony.testing.wait import run, wait_until
from aqualine.telephony.tests.fakes import DEMO_TRUNK, HOTLINE, RunningSwitch
from aqualine.telephony.tests.hotline_peers import (
    CALLER_TONE,
    agent_phone,
    agent_state,
    hotline,
    incoming,
    needs_pjsua2,
    sign_on,
)
from aqualine.telephony.tests.test_outbound_legs import PHONE_TONE, event, sipp_uas
from aqualine.telephony.tests.test_sipp import assert_passed

pytestmark = pytest.mark.sip

needs_sipp = pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp is not installed")

CUSTOMER = "13900139000"
CUSTOMER_TONE = CALLER_TONE  # 600 Hz, what the trunk streams
CALL_PROGRESS_TONE = 450.0  # ringback and busy (Chinese PSTN)
TRUNK_USER, TRUNK_PASSWORD = "carrier", "s3cret"
TRUNK_CREDENTIALS = ("-set", "user", TRUNK_USER, "-set", "password", TRUNK_PASSWORD)


def _centre(running: RunningSwitch) -> CallCentre:
    centre = running.switch.centre
    assert centre is not None
    return centre


def use_trunk(running: RunningSwitch, port: int) -> None:
    """The demo trunk carries outbound calls to sipp on ``port``, with digest credentials."""
    trunk = dataclasses.replace(
        DEMO_TRUNK,
        outbound_address=f"127.0.0.1:{port}",
        outbound_username=TRUNK_USER,
        outbound_password=TRUNK_PASSWORD,
    )
    running.directory.trunk_list = [trunk]


def write_ulaw_tone(path: Path, freq: float, seconds: float = 2.0) -> None:
    """An 8 kHz mono G.711 µ-law WAV (what sipp's rtp_stream sends as PCMU, as is)."""
    data = ulaw_encode(tone(freq, seconds, amplitude=0.3))
    fmt = struct.pack("<HHIIHH", 7, 1, 8000, 8000, 1, 8)  # WAVE_FORMAT_MULAW
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


async def ended_record(running: RunningSwitch, call_id: str) -> CallRecord:
    records = running.records
    assert await wait_until(lambda: records.ended_record(call_id) is not None, timeout=15)
    record = records.ended_record(call_id)
    assert record is not None
    return record


def control_events(running: RunningSwitch, call_id: str) -> list[tuple[str, str, str]]:
    return [
        (e.action, e.target, e.detail)
        for e in running.bus.of_type("call.control")
        if e.call_id == call_id
    ]


@needs_sipp
@needs_pjsua2
def test_click_to_dial_rings_the_agent_then_the_customer_through_the_challenging_trunk(
    tmp_path: Path,
) -> None:
    write_ulaw_tone(tmp_path / "trunk-tone.wav", CUSTOMER_TONE)
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        async with hotline(tmp_path, recording_channels="stereo") as running:
            centre = _centre(running)
            async with sipp_uas(
                "trunk_dial_answered", tmp_path, *TRUNK_CREDENTIALS, timeout=60
            ) as trunk:
                use_trunk(running, trunk.port)
                async with agent_phone(running, tmp_path, "8001") as phone:
                    sign_on(running, "1001", "8001")
                    call = ClickToDial(centre, agent_id="1001", extension="8001", number=CUSTOMER)
                    await call.start()
                    assert agent_state(running, "1001")[0] == "talking"

                    # the agent's phone rings first, showing the number it is about to call
                    ringing = await phone.wait_for(event("incoming", call=0), timeout=20)
                    assert f"sip:{CUSTOMER}@" in ringing["remote"]
                    assert await wait_until(lambda: call.state == "talking", timeout=20), call
                    assert agent_state(running, "1001") == ("talking", "")
                    assert call.agent_leg is not None and call.customer_leg is not None
                    agent_answered = call.agent_leg.answered_at
                    assert agent_answered is not None and call.customer_leg.started_at
                    assert agent_answered <= call.customer_leg.started_at
                    assert call.agent_media is not None and call.customer_media is not None
                    snapshot = call.snapshot()
                    assert (snapshot["state"], snapshot["number"]) == ("talking", CUSTOMER)
                    assert snapshot["trunk"] == DEMO_TRUNK.name
                    assert centre.clock.running

                    # the customer hangs up after a while: the agent's phone is hung up too
                    assert await wait_until(lambda: call.state == "ended", timeout=20), call
                    await phone.wait_for(event("disconnected", call=0), timeout=15)
                    await phone.finish(timeout=15)  # it exits after its one call, WAV closed
                result = await trunk.finish()
            assert_passed(result)  # sipp verified the digest; its BYE got 200

            record = await ended_record(running, call.call_id)
            seen["record"] = record
            seen["started"] = [r for r in running.records.started if r.call_id == call.call_id]
            seen["events"] = control_events(running, call.call_id)
            seen["messages"] = result.messages
            assert agent_state(running, "1001")[0] == "after_call_work"
            assert await wait_until(
                lambda: any(r.complete for r in running.records.recordings.values()),
                timeout=10,
            )
            recording = next(r for r in running.records.recordings.values() if r.complete)
            seen["recording"] = recording
            assert await wait_until(lambda: call.call_id not in centre.outbound_calls)
            assert await wait_until(lambda: running.switch.legs() == [])
            assert running.switch.errors == 0

    run(scenario(), timeout=120)

    record = seen["record"]
    assert isinstance(record, CallRecord)
    assert (record.direction, record.caller, record.callee) == ("outbound", HOTLINE, CUSTOMER)
    assert (record.agent_id, record.agent_extension) == ("1001", "8001")
    assert (record.trunk, record.outcome, record.end_cause) == (
        DEMO_TRUNK.name,
        "answered",
        "customer hung up",
    )
    assert record.answered_at is not None and record.answered_at == record.agent_answered_at
    assert record.talk_seconds is not None and record.talk_seconds > 1.0
    assert seen["started"], "a started record was written first"
    assert seen["events"] == [
        ("dialing", CUSTOMER, ""),
        ("dial_answered", CUSTOMER, ""),
    ]

    # the trunk's side: the challenge was answered, the caller ID is the hotline number
    messages = str(seen["messages"])
    assert f'Authorization: Digest username="{TRUNK_USER}"' in messages
    assert f"From: <sip:{HOTLINE}@" in messages
    assert record.sip_call_id and f"Call-ID: {record.sip_call_id}" in messages

    # the recording: the customer on the left, the agent on the right
    recording = seen["recording"]
    assert record.extra["recording"] == recording.path
    wav = read_wav(tmp_path / "recordings" / recording.path)
    assert wav.channels == 2
    left, right = wav.samples[:, 0], wav.samples[:, 1]
    assert frames_with_tone(left, CUSTOMER_TONE) > 0.5, "the customer is recorded"
    assert frames_with_tone(right, PHONE_TONE) > 0.5, "the agent is recorded"

    # the agent heard ringback while the customer's phone rang, then the customer
    heard = load_audio(tmp_path / "heard-8001-0.wav")
    assert frames_with_tone(heard, CALL_PROGRESS_TONE) > 0.05, "ringback"
    assert frames_with_tone(heard, CUSTOMER_TONE) > 0.3, "the agent hears the customer"


@needs_sipp
@needs_pjsua2
def test_a_busy_customer_gives_the_agent_the_busy_tone_and_its_state_back(
    tmp_path: Path,
) -> None:
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        async with hotline(tmp_path) as running:
            centre = _centre(running)
            async with sipp_uas("leg_busy", tmp_path) as trunk:
                use_trunk(running, trunk.port)
                async with agent_phone(running, tmp_path, "8001") as phone:
                    sign_on(running, "1001", "8001")
                    centre.command("not_ready", "1001", reason="开会")
                    call = ClickToDial(centre, agent_id="1001", extension="8001", number=CUSTOMER)
                    await call.start()
                    assert agent_state(running, "1001")[0] == "talking"
                    await phone.wait_for(event("incoming", call=0), timeout=20)
                    # the switch hangs the agent up after the busy tone
                    await phone.wait_for(event("disconnected", call=0), timeout=20)
                    assert await wait_until(lambda: call.state == "ended", timeout=10)
                    await phone.finish(timeout=15)  # it exits after its one call, WAV closed
                result = await trunk.finish()
            assert_passed(result)  # sipp's 486 was acknowledged
            seen["record"] = await ended_record(running, call.call_id)
            seen["events"] = control_events(running, call.call_id)
            assert agent_state(running, "1001") == ("not_ready", "开会")
            assert running.records.recordings == {}
            assert await wait_until(lambda: running.switch.legs() == [])
            assert running.switch.errors == 0

    run(scenario(), timeout=120)

    record = seen["record"]
    assert isinstance(record, CallRecord)
    assert (record.direction, record.callee, record.agent_id) == ("outbound", CUSTOMER, "1001")
    assert (record.outcome, record.end_cause) == ("failed", "486 Busy Here")
    assert record.answered_at is None and record.talk_seconds is None
    assert seen["events"] == [
        ("dialing", CUSTOMER, ""),
        ("dial_failed", CUSTOMER, "486 Busy Here"),
    ]
    heard = load_audio(tmp_path / "heard-8001-0.wav")
    assert frames_with_tone(heard, CALL_PROGRESS_TONE) > 0.2, "the agent heard the busy tone"


@needs_pjsua2
def test_without_an_outbound_trunk_click_to_dial_is_refused_and_nothing_rings(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with hotline(tmp_path) as running:  # the demo trunk: inbound only
            centre = _centre(running)
            async with agent_phone(running, tmp_path, "8001") as phone:
                sign_on(running, "1001", "8001")
                sent = running.switch.transport.counters["sent"]
                call = ClickToDial(centre, agent_id="1001", extension="8001", number=CUSTOMER)
                with pytest.raises(CallControlRefused) as refused:
                    await call.start()
                assert refused.value.code == "no_trunk"
                assert running.switch.transport.counters["sent"] == sent  # no INVITE
                assert running.switch.legs() == [] and incoming(phone) == 0
                assert agent_state(running, "1001") == ("idle", "")
                assert running.records.started == [] and control_events(running, call.call_id) == []

    run(scenario(), timeout=60)


def test_an_agent_whose_extension_is_not_registered_is_refused(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with hotline(tmp_path) as running:
            use_trunk(running, 5999)
            centre = _centre(running)
            sign_on(running, "1001", "8001")
            call = ClickToDial(centre, agent_id="1001", extension="8001", number=CUSTOMER)
            with pytest.raises(CallControlRefused) as refused:
                await call.start()
            assert refused.value.code == "not_registered"
            assert running.switch.legs() == [] and running.records.started == []
            assert agent_state(running, "1001") == ("idle", "")

    run(scenario(), timeout=30)


def test_a_number_that_is_not_a_phone_number_is_refused_at_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with hotline(tmp_path) as running:
            for number in ("", "1390;tag=x", "sip:1001@evil", "12 34"):
                with pytest.raises(ValueError):
                    ClickToDial(_centre(running), agent_id="1001", extension="8001", number=number)

    run(scenario(), timeout=30)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
