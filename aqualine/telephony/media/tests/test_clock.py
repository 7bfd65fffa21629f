"""The media clock with real UDP peers on loopback. Every party sends its own tone; a party
"hears" another when that tone dominates what it receives. Waits are on conditions with
deadlines, never on elapsed time."""

from __future__ import annotations

import asyncio
import functools
import socket
import struct
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from aqualine.telephony.media.clock import MediaClock
from aqualine.telephony.media.g711 import PCMA, PCMU
from aqualine.telephony.media.handles import (
    DtmfReceived,
    DtmfSent,
    Latch,
    Leg,
    MediaEvent,
    MediaTimeout,
    PlaybackFinished,
    RecordingFinished,
    RemoteBye,
    RemoteLatched,
)
from aqualine.telephony.media.moh import music_on_hold
from aqualine.telephony.media.prompts import load_prompt
from aqualine.telephony.media.rtcp import report_blocks_of
from aqualine.telephony.media.rtp import (
    RTCP_BYE,
    RTCP_RR,
    RTCP_SR,
    build_receiver_report,
    build_rtp,
    parse_rtcp,
)
from aqualine.telephony.media.tests.audio_checks import heard
from aqualine.telephony.media.wav import read_wav
from aqualine.telephony.testing.audio import describe, frames_with_tone, is_silent
from aqualine.telephony.testing.rtp_peer import RtpPeer
from aqualine.telephony.testing.wait import run, wait_until

CALLER, AGENT, THIRD = 440.0, 1000.0, 700.0
TONES = (CALLER, AGENT, THIRD)
SECOND = 50  # packets


def in_loop(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    @functools.wraps(test)
    def runner(*args: Any, **kwargs: Any) -> None:
        run(test(*args, **kwargs), timeout=90)

    return runner


class Events:
    def __init__(self) -> None:
        self.seen: list[MediaEvent] = []

    def __call__(self, event: MediaEvent) -> None:
        self.seen.append(event)

    def of(self, kind: type) -> list[Any]:
        return [event for event in self.seen if isinstance(event, kind)]


@asynccontextmanager
async def media_clock(**options: Any) -> AsyncIterator[tuple[MediaClock, Events]]:
    events = Events()
    clock = MediaClock(on_event=events, loop=asyncio.get_running_loop(), **options)
    clock.start()
    try:
        yield clock, events
    finally:
        clock.stop()


async def party(clock: MediaClock, **leg_options: Any) -> tuple[RtpPeer, Leg]:
    """A test phone and the clock's leg towards it (the phone sends to the leg)."""
    peer = await RtpPeer.start(codec=leg_options.pop("peer_codec", PCMU))
    leg = clock.add_leg(remote=peer.address, **leg_options)
    peer.send_to(*leg.address)
    return peer, leg


def steady(audio: np.ndarray) -> np.ndarray:
    """Leave out the first 0.3 s (jitter-buffer delay, the first packets on their way)."""
    return audio[2400:]


async def all_heard(peers: list[RtpPeer], packets: int) -> None:
    assert await wait_until(
        lambda: all(len(p.audio_packets) >= packets for p in peers), timeout=10
    ), [len(p.audio_packets) for p in peers]


@pytest.mark.parametrize("shared", [True, False], ids=["shared-port", "own-port"])
@in_loop
async def test_a_bridge_carries_each_partys_tone_to_the_other(shared: bool) -> None:
    async with media_clock(shared_port=0 if shared else None) as (clock, _):
        caller, a = await party(clock)
        agent, b = await party(clock)
        async with caller, agent:
            assert a.shared == b.shared == shared
            clock.bridge(a, b)
            caller.play_tone(CALLER, 3.0)
            agent.play_tone(AGENT, 3.0)
            await all_heard([caller, agent], 2 * SECOND)
            to_caller, to_agent = caller.received_audio(), agent.received_audio()
            assert frames_with_tone(steady(to_caller), AGENT) >= 0.9, describe(to_caller)
            assert frames_with_tone(steady(to_agent), CALLER) >= 0.9, describe(to_agent)
            stats = clock.leg_stats(a)
            assert stats is not None
            assert stats.packets_received >= SECOND
            assert stats.latched and stats.remote == caller.address
            assert stats.wrong_source == 0


@in_loop
async def test_in_a_conference_each_of_three_hears_exactly_the_other_two() -> None:
    async with media_clock(shared_port=0) as (clock, _):
        parties = [await party(clock) for _ in TONES]
        peers = [peer for peer, _ in parties]
        clock.conference([leg for _, leg in parties])
        for peer, freq in zip(peers, TONES, strict=True):
            peer.play_tone(freq, 3.0)
        await all_heard(peers, 2 * SECOND)
        for peer, own in zip(peers, TONES, strict=True):
            assert heard(steady(peer.received_audio()), TONES) == set(TONES) - {own}
        for peer in peers:
            await peer.close()


@in_loop
async def test_a_pcma_caller_and_a_pcmu_agent_hear_each_other() -> None:
    async with media_clock(shared_port=0) as (clock, _):
        caller, a = await party(clock, codec=PCMA, peer_codec=PCMA)
        agent, b = await party(clock, codec="PCMU")
        async with caller, agent:
            clock.bridge(a, b)
            caller.play_tone(CALLER, 2.0)
            agent.play_tone(AGENT, 2.0)
            await all_heard([caller, agent], SECOND + 25)
            assert {p.payload_type for p in caller.audio_packets} == {8}
            assert frames_with_tone(steady(caller.received_audio()), AGENT) >= 0.9
            assert frames_with_tone(steady(agent.received_audio()), CALLER) >= 0.9


@in_loop
async def test_many_calls_grow_the_clock_and_stay_apart() -> None:
    async with media_clock(shared_port=0, capacity=8) as (clock, _):
        calls = []
        for index in range(6):
            caller, a = await party(clock, shared=index % 2 == 0)
            agent, b = await party(clock)
            clock.bridge(a, b)
            calls.append((caller, agent, 300.0 + 100 * index, 1500.0 + 100 * index))
        for caller, agent, low, high in calls:
            caller.play_tone(low, 2.0)
            agent.play_tone(high, 2.0)
        await all_heard([p for call in calls for p in call[:2]], SECOND + 25)
        candidates = [f for call in calls for f in call[2:]]
        for caller, agent, low, high in calls:
            assert heard(steady(caller.received_audio()), candidates) == {high}
            assert heard(steady(agent.received_audio()), candidates) == {low}
            await caller.close()
            await agent.close()
        assert clock.stats().legs == 12


# --- symmetric RTP ---------------------------------------------------------------------------


@in_loop
async def test_rtp_from_an_unknown_address_on_the_shared_port_is_dropped_and_counted() -> None:
    async with media_clock(shared_port=0) as (clock, _):
        caller, a = await party(clock, latch=Latch.STRICT)
        agent, b = await party(clock, latch=Latch.STRICT)
        intruder = await RtpPeer.start()
        async with caller, agent, intruder:
            intruder.send_to(*a.address)
            clock.bridge(a, b)
            intruder.play_tone(THIRD, 2.0)
            caller.play_tone(CALLER, 2.0)
            await all_heard([agent], SECOND + 25)
            assert await wait_until(lambda: clock.stats().unknown_source >= SECOND, timeout=5)
            assert heard(steady(agent.received_audio()), TONES) == {CALLER}


@pytest.mark.parametrize("latch", [Latch.STRICT, Latch.HOST])
@in_loop
async def test_a_dedicated_leg_ignores_rtp_from_a_wrong_address(latch: Latch) -> None:
    async with media_clock() as (clock, _):
        caller, a = await party(clock, latch=latch)
        agent, b = await party(clock)
        intruder = await RtpPeer.start()
        async with caller, agent, intruder:
            clock.bridge(a, b)
            intruder.send_to(*a.address)
            if latch is Latch.STRICT:  # before the real caller has sent anything
                intruder.play_tone(THIRD, 0.4)
                assert await wait_until(
                    lambda: (s := clock.leg_stats(a)) is not None and s.wrong_source >= 15, 5
                )
            caller.play_tone(CALLER, 2.5)
            await wait_until(lambda: len(agent.audio_packets) >= 10, timeout=5)
            intruder.play_tone(THIRD, 2.0)  # now latched: the kernel keeps it out
            await all_heard([agent], 2 * SECOND)
            assert heard(steady(agent.received_audio()), TONES) == {CALLER}
            stats = clock.leg_stats(a)
            assert stats is not None and stats.remote == caller.address


@in_loop
async def test_an_unknown_port_is_not_learned_while_two_legs_wait_for_that_host() -> None:
    async with media_clock(shared_port=0) as (clock, events):
        first = clock.add_leg(remote=("127.0.0.1", _closed_port()))
        second = clock.add_leg(remote=("127.0.0.1", _closed_port()))
        stranger = await RtpPeer.start()
        async with stranger:
            stranger.send_to(*first.address)
            stranger.play_tone(THIRD, 0.5)
            assert await wait_until(lambda: clock.stats().unknown_source >= 20, timeout=5)
            assert not events.of(RemoteLatched)
            for leg in (first, second):
                stats = clock.leg_stats(leg)
                assert stats is not None and not stats.latched and stats.packets_received == 0


@in_loop
async def test_a_shared_leg_learns_a_port_changed_by_nat_from_its_host() -> None:
    async with media_clock(shared_port=0) as (clock, events):
        caller = await RtpPeer.start()
        agent, b = await party(clock)
        async with caller, agent:
            signalled = ("127.0.0.1", _closed_port())  # what the caller's SDP said
            a = clock.add_leg(remote=signalled, latch=Latch.HOST)
            caller.send_to(*a.address)
            clock.bridge(a, b)
            caller.play_tone(CALLER, 2.0)
            agent.play_tone(AGENT, 2.0)
            await all_heard([caller, agent], SECOND + 25)
            assert frames_with_tone(steady(caller.received_audio()), AGENT) >= 0.9
            assert RemoteLatched(a.id, caller.address) in events.seen


@in_loop
async def test_a_dedicated_leg_with_latch_any_learns_a_phone_behind_nat() -> None:
    async with media_clock() as (clock, events):
        phone = await RtpPeer.start()
        async with phone:
            leg = clock.add_leg(remote=("10.99.99.99", 4000), latch="any")  # a private address
            phone.send_to(*leg.address)
            clock.play_tone(leg, "dial")
            phone.play_tone(CALLER, 1.0)
            assert await phone.wait_for_audio_packets(SECOND)
            assert RemoteLatched(leg.id, phone.address) in events.seen
            assert frames_with_tone(steady(phone.received_audio()), 450) >= 0.9


@pytest.mark.parametrize("shared", [True, False], ids=["shared-port", "own-port"])
@in_loop
async def test_a_new_remote_from_a_reinvite_is_sent_to_and_latched_again(shared: bool) -> None:
    async with media_clock(shared_port=0 if shared else None) as (clock, events):
        old, leg = await party(clock)
        new = await RtpPeer.start()
        async with old, new:
            clock.play_tone(leg, "dial")
            old.play_tone(CALLER, 0.5)
            assert await old.wait_for_audio_packets(10)
            clock.set_remote(leg, *new.address)
            new.send_to(*leg.address)
            new.play_tone(AGENT, 1.0)
            old.play_tone(THIRD, 1.0)  # a phone slow to stop sending from its old port
            assert await new.wait_for_audio_packets(SECOND // 2)
            assert RemoteLatched(leg.id, new.address) in events.seen
            stats = clock.leg_stats(leg)
            assert stats is not None and stats.remote == new.address


# --- playing -----------------------------------------------------------------------------------


def correlation(received: np.ndarray, source: np.ndarray) -> float:
    """Peak normalised cross-correlation of received audio against (a stretch of) the source."""
    a = received.astype(np.float64)
    b = source[: len(a)].astype(np.float64)
    size = 1 << int(np.ceil(np.log2(len(a) + len(b))))
    spectrum = np.fft.rfft(a, size) * np.conj(np.fft.rfft(b, size))
    return float(
        np.max(np.abs(np.fft.irfft(spectrum, size))) / np.sqrt((a * a).sum() * (b * b).sum())
    )


@in_loop
async def test_a_prompt_replaces_the_bridge_while_it_plays_then_the_call_resumes() -> None:
    async with media_clock(shared_port=0) as (clock, events):
        caller, a = await party(clock)
        agent, b = await party(clock)
        async with caller, agent:
            clock.bridge(a, b)
            agent.play_tone(AGENT, 10.0)
            prompt = load_prompt("welcome")
            playback = clock.play(a, "welcome")
            assert await asyncio.wait_for(asyncio.wrap_future(playback.done), 15) is True
            during = caller.received_audio()
            await wait_until(lambda: len(caller.audio_packets) >= len(during) // 160 + SECOND)
            after = caller.received_audio()[len(during) :]
            assert correlation(steady(during), prompt) > 0.8
            assert frames_with_tone(during, AGENT) < 0.05
            assert frames_with_tone(steady(after), AGENT) >= 0.9
            assert PlaybackFinished(a.id, playback.id, True) in events.seen


@in_loop
async def test_music_on_hold_loops_until_stopped_and_is_not_the_agent() -> None:
    async with media_clock(shared_port=0) as (clock, events):
        caller, a = await party(clock)
        agent, b = await party(clock)
        async with caller, agent:
            clock.bridge(a, b)
            agent.play_tone(AGENT, 10.0)
            playback = clock.play_music_on_hold(a)
            assert await caller.wait_for_audio_packets(3 * SECOND)
            clock.stop_play(a)
            assert await asyncio.wait_for(asyncio.wrap_future(playback.done), 5) is False
            music = steady(caller.received_audio())[: 2 * 8000]
            assert not is_silent(music)
            assert frames_with_tone(music, AGENT) < 0.05
            assert correlation(music, music_on_hold()) > 0.8
            # The future resolves on the clock thread; the event reaches the loop a moment later.
            finished = PlaybackFinished(a.id, playback.id, False)
            assert await wait_until(lambda: finished in events.seen, timeout=5)


@in_loop
async def test_a_busy_tone_is_450_hz_in_350_ms_bursts() -> None:
    async with media_clock() as (clock, _):
        caller, leg = await party(clock)
        async with caller:
            clock.play_tone(leg, "busy")
            caller.play_tone(CALLER, 0.2)
            assert await caller.wait_for_audio_packets(3 * SECOND)
            audio = caller.received_audio()[: 3 * 8000]
            on = frames_with_tone(audio, 450, frame=0.05)
            assert 0.4 <= on <= 0.6, describe(audio)  # half the time on
            levels = np.abs(audio.astype(np.int32)).reshape(-1, 400).max(axis=1) > 1000
            changes = np.flatnonzero(np.diff(levels.astype(np.int8)))
            assert set(np.diff(changes).tolist()) <= {6, 7, 8}  # every 350 ms (7 x 50 ms)


# --- DTMF -------------------------------------------------------------------------------------


@in_loop
async def test_rfc_4733_digits_from_a_phone_arrive_once_each_in_order() -> None:
    async with media_clock(shared_port=0) as (clock, events):
        caller, leg = await party(clock)
        async with caller:
            caller.play_tone(CALLER, 0.2)
            await asyncio.wait_for(caller.send_dtmf("159*#0"), 10)
            assert await wait_until(lambda: len(events.of(DtmfReceived)) >= 6, timeout=5)
            pressed = events.of(DtmfReceived)
            assert "".join(event.digit for event in pressed) == "159*#0"
            assert {event.leg for event in pressed} == {leg.id}
            assert {event.duration_ms for event in pressed} == {100}
            stats = clock.leg_stats(leg)
            assert stats is not None and stats.dtmf_received == 6
            assert stats.underruns == 0


@in_loop
async def test_digits_sent_by_the_clock_arrive_at_the_phone_and_audio_resumes() -> None:
    async with media_clock() as (clock, events):
        caller, leg = await party(clock)
        async with caller:
            caller.play_tone(CALLER, 0.2)
            clock.play_tone(leg, "dial")
            assert await caller.wait_for_audio_packets(5)
            sent = clock.send_dtmf(leg, "2580", duration_ms=80)
            assert await caller.receive_digits(4, timeout=10) == "2580"
            assert await asyncio.wait_for(asyncio.wrap_future(sent), 5) is True
            assert DtmfSent(leg.id, "2580", True) in events.seen
            events_packets = [p for p in caller.packets if p.payload_type == 101]
            assert sum(1 for p in events_packets if p.marker) == 4
            before = len(caller.audio_packets)
            assert await caller.wait_for_audio_packets(before + 10)


# --- recording --------------------------------------------------------------------------------


@in_loop
async def test_a_recording_of_a_bridged_call_holds_both_parties(tmp_path: Path) -> None:
    async with media_clock(shared_port=0, flush_ticks=10) as (clock, events):
        caller, a = await party(clock)
        agent, b = await party(clock)
        async with caller, agent:
            clock.bridge(a, b)
            mono = clock.start_recording([a, b], tmp_path / "mono.wav")
            stereo = clock.start_recording([a, b], tmp_path / "stereo.wav", stereo=True)
            caller.play_tone(CALLER, 3.0)
            agent.play_tone(AGENT, 3.0)
            await all_heard([caller, agent], 2 * SECOND)
            before = clock.stats().ticks
            clock.stop_recording(mono)
            clock.stop_recording(stereo)
            result = await asyncio.wait_for(asyncio.wrap_future(mono.done), 5)
            after = clock.stats().ticks
            assert result.error is None and result.channels == 1
            assert before * 160 - 10 * 160 <= result.frames <= after * 160
            audio = read_wav(result.path)
            assert (audio.rate, audio.channels, audio.frames) == (8000, 1, result.frames)
            assert heard(steady(audio.samples), TONES) == {CALLER, AGENT}
            both = await asyncio.wait_for(asyncio.wrap_future(stereo.done), 5)
            sides = read_wav(both.path).samples
            assert sides.shape == (result.frames, 2)
            assert heard(steady(sides[:, 0]), TONES) == {CALLER}
            assert heard(steady(sides[:, 1]), TONES) == {AGENT}
            assert await wait_until(lambda: len(events.of(RecordingFinished)) == 2, timeout=5)


# --- RTCP, time-outs, removal, ptime ----------------------------------------------------------


def _closed_port() -> int:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = int(probe.getsockname()[1])
    probe.close()
    return port


def _udp_pair() -> tuple[socket.socket, socket.socket]:
    """An RTP socket on an even port and its RTCP partner on the next one."""
    for _ in range(50):
        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtp.bind(("127.0.0.1", 0))
        port = rtp.getsockname()[1]
        rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            if port % 2:
                raise OSError
            rtcp.bind(("127.0.0.1", port + 1))
        except OSError:
            rtp.close()
            rtcp.close()
            continue
        rtp.settimeout(5)
        rtcp.settimeout(5)
        return rtp, rtcp
    raise RuntimeError("no port pair")


@pytest.mark.parametrize("shared", [True, False], ids=["shared-port", "own-port"])
@in_loop
async def test_rtcp_reports_about_the_remote_are_sent_and_incoming_rtcp_is_taken(
    shared: bool,
) -> None:
    async with media_clock(shared_port=0 if shared else None, rtcp_interval=0.2) as (
        clock,
        events,
    ):
        rtp, rtcp = _udp_pair()
        with rtp, rtcp:
            leg = clock.add_leg(remote=rtp.getsockname())
            payload = bytes([0xFF]) * 160
            for sequence in range(30):
                rtp.sendto(build_rtp(0, sequence, sequence * 160, 0xABCDEF, payload), leg.address)
            loop = asyncio.get_running_loop()
            for _ in range(20):  # reports come every 0.1-0.3 s: one will cover all 30
                packets = parse_rtcp(await loop.run_in_executor(None, rtcp.recv, 2048))
                assert packets[0].packet_type in (RTCP_SR, RTCP_RR)
                assert packets[0].ssrc == leg.ssrc
                blocks = report_blocks_of(packets[0])
                if blocks and blocks[0].highest_sequence == 29:
                    break
            assert blocks and blocks[0].ssrc == 0xABCDEF
            assert blocks[0].highest_sequence == 29 and blocks[0].cumulative_lost == 0
            assert leg.rtcp_port is not None
            junk_and_report = [b"\x80\xc9\x00", build_receiver_report(0xABCDEF)]
            for datagram in junk_and_report:
                rtcp.sendto(datagram, (leg.host, leg.rtcp_port))
            bye = struct.pack("!BBHI", 0x81, RTCP_BYE, 1, 0xABCDEF)
            rtcp.sendto(bye, (leg.host, leg.rtcp_port))
            assert await wait_until(lambda: RemoteBye(leg.id) in events.seen, timeout=5)
            stats = clock.leg_stats(leg)
            assert stats is not None and stats.rtcp_received == 2 and stats.malformed == 1
            assert stats.rtcp_sent >= 1


@in_loop
async def test_a_remote_that_never_sends_is_reported_once() -> None:
    async with media_clock(media_timeout=0.3) as (clock, events):
        leg = clock.add_leg(remote=("127.0.0.1", _closed_port()))
        assert await wait_until(lambda: bool(events.of(MediaTimeout)), timeout=5)
        await asyncio.sleep(0)  # (the check is every second: a second report would come in 1 s)
        timeouts = events.of(MediaTimeout)
        assert [event.leg for event in timeouts] == [leg.id]
        assert timeouts[0].seconds >= 0.3
        stats = clock.leg_stats(leg)
        assert stats is not None and stats.send_errors == 0  # sent into the void, survived


@in_loop
async def test_removing_a_leg_ends_its_playback_and_returns_its_stats() -> None:
    async with media_clock(shared_port=0) as (clock, _):
        caller, leg = await party(clock)
        async with caller:
            playback = clock.play_music_on_hold(leg)
            caller.play_tone(CALLER, 1.0)
            assert await caller.wait_for_audio_packets(SECOND)
            stats = await asyncio.wait_for(asyncio.wrap_future(clock.remove_leg(leg)), 5)
            assert stats is not None and stats.packets_received >= 25 and stats.packets_sent >= 50
            assert await asyncio.wait_for(asyncio.wrap_future(playback.done), 5) is False
            assert clock.leg_stats(leg) is None
            assert clock.stats().legs == 0
            assert clock.stats().packets_received >= stats.packets_received  # kept in the totals
            assert await asyncio.wait_for(asyncio.wrap_future(clock.remove_leg(leg)), 5) is None


@in_loop
async def test_a_leg_with_a_40_ms_ptime_sends_two_frames_a_packet() -> None:
    async with media_clock() as (clock, _):
        caller, leg = await party(clock, ptime=40)
        async with caller:
            clock.play_tone(leg, "dial")
            assert await caller.wait_for_audio_packets(20)
            packets = caller.audio_packets[:20]
            assert {len(p.payload) for p in packets} == {320}
            stamps = sorted(p.timestamp for p in packets)
            assert set(np.diff(stamps).tolist()) == {320}
            assert frames_with_tone(steady(caller.received_audio()), 450) >= 0.9


@in_loop
async def test_stopping_the_clock_ends_everything_and_refuses_new_work(tmp_path: Path) -> None:
    events = Events()
    clock = MediaClock(shared_port=0, on_event=events)  # events on the clock thread
    clock.start()
    leg = clock.add_leg(remote=("127.0.0.1", _closed_port()))
    playback = clock.play_tone(leg, "ringback")
    recording = clock.start_recording([leg], tmp_path / "r.wav")
    assert await wait_until(lambda: clock.stats().players == 1, timeout=5)
    clock.stop()
    assert playback.done.result(1) is False
    assert recording.done.result(5).path == tmp_path / "r.wav"
    assert any(isinstance(event, RecordingFinished) for event in events.seen)
    with pytest.raises(RuntimeError):
        clock.add_leg()
    assert not clock.running
