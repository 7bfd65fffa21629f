from __future__ import annotations

import asyncio

import pytest

from aqualine.telephony.media.g711 import PCMA
from aqualine.telephony.testing.audio import frames_with_tone
from aqualine.telephony.testing.rtp_peer import RtpPeer
from aqualine.telephony.testing.wait import run, wait_until


def test_two_peers_hear_each_others_tones() -> None:
    async def scenario() -> None:
        async with await RtpPeer.start() as caller, await RtpPeer.start() as agent:
            caller.send_to(*agent.address)
            agent.send_to(*caller.address)
            await asyncio.gather(caller.play_tone(440, 1.0), agent.play_tone(1000, 1.0))
            assert await agent.wait_for_audio_packets(45)
            assert await caller.wait_for_audio_packets(45)
            assert frames_with_tone(agent.received_audio(), 440) >= 0.9
            assert frames_with_tone(caller.received_audio(), 1000) >= 0.9
            assert frames_with_tone(caller.received_audio(), 440) == 0.0

    run(scenario())


def test_a_peer_receives_digits_sent_by_another() -> None:
    async def scenario() -> None:
        listener = await RtpPeer.start()
        async with listener, await RtpPeer.start(remote=listener.address) as dialler:
            await dialler.send_dtmf("*0#")
            assert await listener.receive_digits(3, timeout=5) == "*0#"
            assert await listener.receive_digits(1, timeout=0.1) == ""

    run(scenario())


def test_a_pcma_peer_records_pcma() -> None:
    async def scenario() -> None:
        listener = await RtpPeer.start(codec=PCMA)
        async with listener, await RtpPeer.start(codec=PCMA, remote=listener.address) as speaker:
            await speaker.play_tone(700, 0.5)
            assert await listener.wait_for_audio_packets(23)
            assert frames_with_tone(listener.received_audio(), 700) >= 0.8
            listener.clear()
            assert listener.received_audio().size == 0

    run(scenario())


def test_wait_until_reports_whether_the_condition_came_true() -> None:
    async def scenario() -> None:
        assert await wait_until(lambda: True, timeout=0)
        assert not await wait_until(lambda: False, timeout=0.02)

    run(scenario())


def test_a_peer_that_was_not_started_says_so() -> None:
    with pytest.raises(RuntimeError, match="start"):
        _ = RtpPeer().leg
