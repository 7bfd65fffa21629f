"""Calls that end badly, with real peers on loopback: the switch keeps running and the call
records say what happened (outcome, IVR path, queue, wait and talk seconds, agent).

- the caller hangs up in the IVR, in the queue, while the agent's phone rings, while talking;
- the agent hangs up first;
- the only agent's phone never answers (it is set not ready, the caller keeps waiting);
- the queue's maximum wait passes (overflow message: "missed");
- RTP from a wrong address reaches both legs of a bridged call: nobody hears it, it is not
  recorded, nothing breaks.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

import pytest

from aqualine.telephony.acd.model import OverflowAction, OverflowKind, QueueConfig
from aqualine.telephony.ivr.schema import Prompt
from aqualine.telephony.media.wav import load_audio
from aqualine.telephony.testing.audio import frames_containing_tone, frames_with_tone, rms_dbfs
from aqualine.telephony.testing.rtp_peer import RtpPeer
from aqualine.telephony.testing.wait import run, wait_until
from aqualine.telephony.tests.fakes import AGENTS, RunningSwitch
from aqualine.telephony.tests.hotline_peers import (
    CALLER_TONE,
    NEVER,
    PRESS_0_FLOW,
    QUEUE_ONLY_FLOW,
    Caller,
    agent_phone,
    agent_state,
    heard_prompt,
    hotline,
    incoming,
    needs_pjsua2,
    render,
    sign_on,
)
from aqualine.telephony.tests.test_outbound_legs import PHONE_TONE, event

pytestmark = pytest.mark.sip

INTRUDER_TONE = 1500.0


def _waiting(running: RunningSwitch) -> int:
    centre = running.switch.centre
    assert centre is not None
    return len(centre.queues()[0]["callers"])


def _agent(running: RunningSwitch, agent_id: str) -> dict[str, object]:
    centre = running.switch.centre
    assert centre is not None
    return next(a for a in centre.agents() if a["agent_id"] == agent_id)


async def _queued(caller: Caller, running: RunningSwitch) -> None:
    """Through the menu with key 0 into the queue."""
    await caller.dial()
    await caller.reach("menu")
    await caller.press("0")
    assert await wait_until(lambda: "agent_queue" in caller.trace(), 10)


def test_a_caller_hanging_up_in_the_ivr_is_ivr_only(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with hotline(tmp_path, flow=PRESS_0_FLOW) as running, Caller(running) as caller:
            await caller.dial()
            await caller.reach("menu")
            assert await caller.peer.wait_for_audio_packets(20, timeout=10)
            await caller.hang_up()
            record = await caller.record()
            assert (record.outcome, record.ivr_path, record.queue) == ("ivr_only", "主菜单", "")
            assert record.wait_seconds is None and record.talk_seconds is None
            assert record.agent_id == "" and record.end_cause == "caller hung up"
            assert running.bus.of_type("queue.caller_joined") == []
            assert running.switch.errors == 0

    run(scenario(), timeout=60)


def test_a_caller_hanging_up_in_the_queue_is_abandoned_with_its_wait(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with hotline(tmp_path, flow=PRESS_0_FLOW) as running, Caller(running) as caller:
            await _queued(caller, running)
            assert await wait_until(lambda: _waiting(running) == 1)
            await asyncio.sleep(1.0)
            await caller.hang_up()
            record = await caller.record()
            assert (record.outcome, record.queue) == ("abandoned", "hotline")
            assert record.ivr_path == "主菜单>人工服务"
            assert record.wait_seconds is not None and record.wait_seconds >= 1.0
            assert record.talk_seconds is None and record.agent_id == ""
            assert _waiting(running) == 0
            left = running.bus.of_type("queue.caller_left")
            assert [e.reason for e in left] == ["abandoned"]
            assert running.switch.errors == 0

    run(scenario(), timeout=60)


@needs_pjsua2
def test_a_caller_hanging_up_while_the_agent_rings_is_abandoned_and_the_agent_idle_again(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with (
            hotline(tmp_path, flow=PRESS_0_FLOW) as running,
            agent_phone(running, tmp_path, "8001", ring_ms=NEVER) as phone,
            Caller(running) as caller,
        ):
            sign_on(running, "1001", "8001")
            await _queued(caller, running)
            await phone.wait_for(event("incoming", call=0), timeout=20)
            assert agent_state(running, "1001") == ("ringing", "")
            caller.peer.clear()
            await asyncio.sleep(1.0)
            assert rms_dbfs(caller.peer.received_audio()) > -45, "music while the agent rings"
            await caller.hang_up()
            cancelled = await phone.wait_for(event("disconnected", call=0), timeout=15)
            assert cancelled["code"] == 487, "the switch cancelled the agent's ring"
            record = await caller.record()
            assert (record.outcome, record.queue, record.agent_id) == ("abandoned", "hotline", "")
            assert record.wait_seconds is not None and record.talk_seconds is None
            assert await wait_until(lambda: agent_state(running, "1001") == ("idle", ""))
            assert _agent(running, "1001")["missed_today"] == 0  # the caller left, not a miss
            assert running.switch.legs() == []
            assert running.switch.errors == 0

    run(scenario(), timeout=60)


@needs_pjsua2
@pytest.mark.parametrize("who", ["caller", "agent"])
def test_a_talking_call_ended_by_either_side_is_answered_with_its_talk_time(
    tmp_path: Path, who: str
) -> None:
    async def scenario() -> None:
        async with (
            hotline(tmp_path, flow=PRESS_0_FLOW) as running,
            agent_phone(
                running, tmp_path, "8001", hangup_after="2.0" if who == "agent" else "0"
            ) as phone,
            Caller(running) as caller,
        ):
            sign_on(running, "1001", "8001")
            await _queued(caller, running)
            await phone.wait_for(event("media", call=0), timeout=20)
            caller.peer.play_tone(CALLER_TONE, 1.0, loop=True)
            if who == "caller":
                await asyncio.sleep(2.0)
                await caller.hang_up()
            else:
                await caller.wait_for_bye(timeout=15)
            await phone.wait_for(event("disconnected", call=0), timeout=15)
            record = await caller.record()
            assert (record.outcome, record.agent_id, record.agent_extension) == (
                "answered",
                "1001",
                "8001",
            )
            assert record.ivr_path == "主菜单>人工服务" and record.queue == "hotline"
            assert record.wait_seconds is not None and 0 <= record.wait_seconds < 15
            assert record.talk_seconds is not None and 1.5 <= record.talk_seconds < 15
            cause = "caller hung up" if who == "caller" else "agent hung up"
            assert record.end_cause.startswith(cause), record.end_cause
            assert await wait_until(lambda: agent_state(running, "1001") == ("after_call_work", ""))
            assert _agent(running, "1001")["answered_today"] == 1
            assert running.switch.legs() == [] and running.switch.calls() == []
            assert running.switch.errors == 0

    run(scenario(), timeout=60)


@needs_pjsua2
def test_an_agent_phone_that_never_answers_is_missed_and_the_caller_waits_on(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with (
            hotline(tmp_path, flow=QUEUE_ONLY_FLOW, ring_seconds=2.0) as running,
            agent_phone(running, tmp_path, "8001", ring_ms=NEVER) as phone,
            Caller(running) as caller,
        ):
            sign_on(running, "1001", "8001")
            await caller.dial()
            await phone.wait_for(event("incoming", call=0), timeout=20)
            cancelled = await phone.wait_for(event("disconnected", call=0), timeout=15)
            assert cancelled["code"] == 487
            assert agent_state(running, "1001") == ("not_ready", "missed")
            # the caller keeps its place, with music; nobody else is rung
            assert _waiting(running) == 1
            caller.peer.clear()
            await asyncio.sleep(1.5)
            assert rms_dbfs(caller.peer.received_audio()) > -45, "music on hold again"
            assert incoming(phone) == 1
            await caller.hang_up()
            record = await caller.record()
            assert (record.outcome, record.agent_id) == ("abandoned", "")
            assert record.wait_seconds is not None and record.wait_seconds >= 3.0
            assert _agent(running, "1001")["missed_today"] == 1
            assert running.switch.legs() == [] and running.switch.errors == 0

    run(scenario(), timeout=60)


def test_a_caller_who_waited_the_maximum_hears_the_overflow_message_and_is_missed(
    tmp_path: Path,
) -> None:
    queue = QueueConfig(
        "hotline",
        members=tuple(AGENTS),
        max_wait_seconds=1.0,
        overflow=OverflowAction(OverflowKind.MESSAGE),
    )

    async def scenario() -> None:
        async with (
            hotline(tmp_path, flow=QUEUE_ONLY_FLOW, queue=queue) as running,
            Caller(running) as caller,
        ):
            await caller.dial()
            await caller.wait_for_bye(timeout=20)  # message played, then the switch hangs up
            message = render(running, Prompt(tts="坐席繁忙，请您稍后再拨，再见。"))
            assert heard_prompt(caller.peer.received_audio(), message) > 0.6
            record = await caller.record()
            assert (record.outcome, record.queue, record.agent_id) == ("missed", "hotline", "")
            assert record.extra.get("overflow") == "message"
            assert record.end_cause == "overflow"
            assert [e.reason for e in running.bus.of_type("queue.caller_left")] == ["overflow"]
            assert running.switch.errors == 0

    run(scenario(), timeout=60)


@needs_pjsua2
def test_rtp_from_a_wrong_address_while_bridged_is_not_heard_nor_recorded(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with (
            hotline(tmp_path, flow=QUEUE_ONLY_FLOW) as running,
            agent_phone(running, tmp_path, "8001") as phone,
            Caller(running) as caller,
            await RtpPeer.start() as intruder,
        ):
            sign_on(running, "1001", "8001")
            caller.peer.play_tone(CALLER_TONE, 1.0, loop=True)
            await caller.dial()
            await phone.wait_for(event("media", call=0), timeout=20)
            session = caller.session()
            assert session is not None
            assert await wait_until(lambda: session.agent_media is not None)
            agent_media = session.agent_media
            assert agent_media is not None
            await asyncio.sleep(1.0)  # both legs have latched to their parties
            # another party sends its tone to both of the call's RTP ports, and junk
            intruder.play_tone(INTRUDER_TONE, 1.0, loop=True)
            junk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                for target in (caller.switch_port, agent_media.port):
                    intruder.send_to("127.0.0.1", target)
                    for size in (0, 1, 11, 12, 172, 1400):
                        junk.sendto(b"\x80" + b"\xff" * max(0, size - 1), ("127.0.0.1", target))
                    await asyncio.sleep(1.5)
            finally:
                junk.close()
            caller.peer.clear()
            assert await caller.peer.wait_for_audio_packets(75, timeout=10)
            heard = caller.peer.received_audio()
            assert frames_with_tone(heard, PHONE_TONE) > 0.8, "the caller hears the agent"
            assert frames_containing_tone(heard, INTRUDER_TONE) < 0.05
            await caller.hang_up()
            await phone.wait_for(event("disconnected", call=0), timeout=15)
            record = await caller.record()
            assert (record.outcome, record.agent_id) == ("answered", "1001")
            assert running.switch.errors == 0
            assert running.switch.clock is not None and running.switch.clock.running
            assert await wait_until(
                lambda: any(r.complete for r in running.records.recordings.values())
            )
            recording = next(r for r in running.records.recordings.values() if r.kind == "call")
            audio = load_audio(tmp_path / "recordings" / recording.path, 8000)
            assert frames_containing_tone(audio, CALLER_TONE) > 0.5
            assert frames_containing_tone(audio, PHONE_TONE) > 0.5
            assert frames_containing_tone(audio, INTRUDER_TONE) < 0.05, "not recorded"

            # the switch goes on: the next call is answered and queued as usual
            async with Caller(running) as second:
                await second.dial()
                assert await wait_until(lambda: _waiting(running) == 1)
                await second.hang_up()
                assert (await second.record()).outcome == "abandoned"
            await phone.finish(timeout=15)  # it exits after its one call, its WAV closed

    run(scenario(), timeout=90)
    heard = load_audio(tmp_path / "heard-8001-0.wav")
    assert frames_with_tone(heard, CALLER_TONE) > 0.5, "the agent hears the caller"
    assert frames_containing_tone(heard, INTRUDER_TONE) < 0.05


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
