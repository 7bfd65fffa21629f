"""The hotline end to end with real peers on loopback: a caller dials 96000, hears the IVR,
presses 0 (RFC 4733), waits in the queue with music, the signed-on agent's pjsua2 phone rings
and answers, each side hears the other, the call is recorded, and the records are right."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path

import pytest

from aqualine.telephony.media.wav import load_audio
from aqualine.telephony.testing.audio import frames_containing_tone, frames_with_tone, rms_dbfs
from aqualine.telephony.testing.rtp_peer import RtpPeer
from aqualine.telephony.testing.wait import run, wait_until
from aqualine.telephony.tests.fakes import HOTLINE, make_config, running_switch
from aqualine.telephony.tests.hotline_peers import DAY
from aqualine.telephony.tests.test_outbound_legs import PHONE_TONE, PhoneProcess, event
from aqualine.telephony.tests.test_switch_calls import _answer_port
from aqualine.telephony.tests.uac import SipClient, offer_sdp

pytestmark = pytest.mark.sip

needs_pjsua2 = pytest.mark.skipif(
    importlib.util.find_spec("pjsua2") is None, reason="pjsua2-python is not installed"
)
CALLER_TONE = 600.0


async def _phone(running: object, tmp_path: Path) -> PhoneProcess:
    phone = await PhoneProcess.start(running, tmp_path, calls=1, hangup_after="0", tcp=False)  # type: ignore[arg-type]
    registered = await phone.wait_for(event("registered"))
    assert registered["code"] == 200
    return phone


@needs_pjsua2
def test_a_caller_presses_0_and_talks_with_the_signed_on_agent_recorded(tmp_path: Path) -> None:
    config = make_config(var_dir=str(tmp_path), ring_seconds=0.0)

    async def scenario() -> None:
        async with running_switch(config) as running:
            centre = running.switch.centre
            assert centre is not None
            centre.ivr_clock = lambda: DAY  # working hours, whatever the time of the run
            phone = await _phone(running, tmp_path)
            try:
                view = centre.command("login", "1001", extension="8001")
                assert view["state"] == "not_ready"
                assert centre.command("sign_on", "1001")["state"] == "idle"

                async with (
                    await RtpPeer.start() as caller,
                    SipClient(running.address) as uac,
                ):
                    call = await uac.invite(HOTLINE, offer_sdp(caller.port))
                    final = call.final
                    assert final is not None and final.status == 200
                    uac.ack(call, final)
                    caller.send_to("127.0.0.1", _answer_port(final))
                    # the IVR speaks first
                    assert await caller.wait_for_audio_packets(25, timeout=15)
                    assert rms_dbfs(caller.received_audio()) > -40
                    await caller.send_dtmf("0")
                    # the phone rings and answers: the agent is talking
                    await phone.wait_for(event("incoming", call=0), timeout=20)
                    assert await wait_until(
                        lambda: centre.agents()[0]["state"] == "talking", timeout=15
                    )
                    caller.play_tone(CALLER_TONE, 1.0, loop=True)
                    await asyncio.sleep(2.0)
                    caller.clear()
                    assert await caller.wait_for_audio_packets(75, timeout=10)
                    heard = caller.received_audio()[-8000:]
                    assert frames_with_tone(heard, PHONE_TONE) > 0.7, "the caller hears the agent"
                    bye = await uac.bye(call)
                    assert bye.status == 200
                await phone.wait_for(event("disconnected", call=0), timeout=15)
                assert await wait_until(lambda: len(running.records.ended) == 1, timeout=10)
                # after the call: after-call work, no new call until it ends
                agent = centre.agents()[0]
                assert agent["state"] == "after_call_work"
                assert agent["answered_today"] == 1
            finally:
                await phone.finish(timeout=15)  # it exits after its one call (WAV closed)

            records = running.records
            record = records.ended[0]
            assert record.outcome == "answered"
            assert record.queue == "hotline" and record.agent_id == "1001"
            assert record.agent_extension == "8001"
            assert record.ivr_path.endswith("人工服务"), record.ivr_path
            assert record.wait_seconds is not None and record.wait_seconds >= 0
            assert record.talk_seconds is not None and record.talk_seconds > 1.5
            recordings = await _recordings(running)
            assert len(recordings) == 1 and recordings[0].complete
            path = tmp_path / "recordings" / recordings[0].path
            audio = load_audio(path, 8000)
            assert recordings[0].duration_seconds > 1.5
            # the mono mix holds both voices
            assert frames_containing_tone(audio, PHONE_TONE) > 0.5, "the agent is recorded"
            assert frames_containing_tone(audio, CALLER_TONE) > 0.4, "the caller is recorded"
            changes = [
                (c.old_state.value, c.new_state.value) for c in running.records.agent_changes
            ]
            assert ("ringing", "talking") in changes and ("talking", "after_call_work") in changes

    run(scenario(), timeout=120)
    # the agent's phone heard the caller's tone
    heard = load_audio(tmp_path / "heard-0.wav")
    assert frames_with_tone(heard, CALLER_TONE) > 0.3


async def _recordings(running: object) -> list:
    records = running.records  # type: ignore[attr-defined]
    assert await wait_until(
        lambda: any(r.complete for r in records.recordings.values()), timeout=10
    )
    return [r for r in records.recordings.values() if r.kind == "call"]


def test_a_caller_who_hangs_up_in_the_queue_is_abandoned_and_nobody_rings() -> None:
    async def scenario() -> None:
        async with running_switch(make_config(ring_seconds=0.0)) as running:
            assert running.switch.centre is not None
            running.switch.centre.ivr_clock = lambda: DAY
            async with await RtpPeer.start() as caller, SipClient(running.address) as uac:
                call = await uac.invite(HOTLINE, offer_sdp(caller.port))
                final = call.final
                assert final is not None and final.status == 200
                uac.ack(call, final)
                caller.send_to("127.0.0.1", _answer_port(final))
                assert await caller.wait_for_audio_packets(10, timeout=15)
                await caller.send_dtmf("0")
                centre = running.switch.centre
                assert centre is not None
                assert await wait_until(lambda: bool(centre.queues()[0]["callers"]), timeout=15), (
                    "the caller waits in the queue"
                )
                caller.clear()
                assert await caller.wait_for_audio_packets(50, timeout=10)
                music = caller.received_audio()
                assert rms_dbfs(music) > -45, "music on hold"
                bye = await uac.bye(call)
                assert bye.status == 200
            assert await wait_until(lambda: len(running.records.ended) == 1, timeout=10)
            record = running.records.ended[0]
            assert record.outcome == "abandoned" and record.queue == "hotline"
            assert record.agent_id == "" and record.wait_seconds is not None
            assert centre.queues()[0]["callers"] == []
            assert running.bus.of_type("queue.caller_joined")
            assert running.bus.of_type("queue.caller_left")

    run(scenario(), timeout=60)


def test_a_caller_hanging_up_in_the_ivr_leaves_an_ivr_only_record() -> None:
    async def scenario() -> None:
        async with running_switch(make_config(ring_seconds=0.0)) as running:
            async with await RtpPeer.start() as caller, SipClient(running.address) as uac:
                call = await uac.invite(HOTLINE, offer_sdp(caller.port))
                final = call.final
                assert final is not None
                uac.ack(call, final)
                caller.send_to("127.0.0.1", _answer_port(final))
                assert await caller.wait_for_audio_packets(10, timeout=15)
                await uac.bye(call)
            assert await wait_until(lambda: len(running.records.ended) == 1, timeout=10)
            record = running.records.ended[0]
            assert record.outcome == "ivr_only" and record.queue == "" and record.agent_id == ""

    run(scenario(), timeout=60)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
