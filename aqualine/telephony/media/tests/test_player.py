"""RtpLeg on loopback. Waits are on conditions with deadlines, never on elapsed time."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Coroutine
from typing import Any

import numpy as np
import pytest

from aqualine.telephony.media.g711 import PCMA, PCMU
from aqualine.telephony.media.player import FRAME_SAMPLES, PortUnavailable, RtpLeg
from aqualine.telephony.media.rtp import (
    RTCP_BYE,
    RTCP_RR,
    RTCP_SDES,
    RTCP_SR,
    RtpPacket,
    build_rtp,
    parse_rtcp,
    parse_sender_report,
)
from aqualine.telephony.testing.audio import (
    decode_rtp,
    describe,
    dominant_frequency,
    frames_with_tone,
    tone,
)
from aqualine.telephony.testing.wait import run, wait_until

IP_RECVERR = getattr(socket, "IP_RECVERR", 11)  # Linux value; Python 3.11 does not name it


def in_loop(test: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    def runner() -> None:
        run(test(), timeout=60)

    runner.__name__ = test.__name__
    return runner


def closed_udp_port() -> int:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = int(probe.getsockname()[1])
    probe.close()
    return port


def since_first(values: list[int], modulus: int) -> list[int]:
    """Numbers relative to the first one, wrap-around safe (legs start at random values)."""
    return [(value - values[0]) % modulus for value in values]


async def pair(**receiver_options: Any) -> tuple[RtpLeg, RtpLeg, list[RtpPacket]]:
    """A sender that knows the receiver's address and a receiver that will latch onto it."""
    received: list[RtpPacket] = []
    receiver = await RtpLeg.open("127.0.0.1", on_rtp=received.append, **receiver_options)
    sender = await RtpLeg.open("127.0.0.1", remote=receiver.local_address)
    return sender, receiver, received


@in_loop
async def test_a_tone_played_by_one_leg_is_heard_by_the_other() -> None:
    sender, receiver, received = await pair()
    async with sender, receiver:
        assert await asyncio.wait_for(sender.play(tone(440, 2.0)), 10) is True
        await wait_until(lambda: receiver.stats.audio_packets_received >= 100, timeout=2)
        assert sender.stats.packets_sent == 100
        assert receiver.stats.audio_packets_received >= 90
        audio = decode_rtp(received, PCMU.payload_type)
        assert dominant_frequency(audio) == pytest.approx(440, abs=3), describe(audio)
        assert frames_with_tone(audio, 440) >= 0.9, describe(audio)


@in_loop
async def test_packets_carry_20ms_of_audio_with_consecutive_numbers_and_timestamps() -> None:
    sender, receiver, received = await pair()
    async with sender, receiver:
        await asyncio.wait_for(sender.play(tone(440, 0.5)), 10)
        await wait_until(lambda: len(received) >= 25, timeout=2)
        assert len(received) == 25
        ordered = sorted(received, key=lambda p: p.timestamp)
        assert {len(p.payload) for p in ordered} == {FRAME_SAMPLES}
        assert [p.timestamp - ordered[0].timestamp for p in ordered] == [160 * i for i in range(25)]
        assert [(p.sequence - ordered[0].sequence) % 65536 for p in ordered] == list(range(25))
        assert [p.marker for p in ordered] == [True] + [False] * 24
        assert {p.ssrc for p in ordered} == {sender.ssrc}


@in_loop
async def test_the_receiver_latches_onto_the_first_senders_address() -> None:
    sender, receiver, _ = await pair()
    async with sender, receiver:
        assert receiver.remote is None
        await sender.play(tone(440, 0.1))
        await wait_until(lambda: receiver.latched, timeout=2)
        assert receiver.remote == sender.local_address


@in_loop
async def test_packets_from_another_address_are_ignored_once_latched() -> None:
    sender, receiver, received = await pair()
    async with sender, receiver, await RtpLeg.open(remote=receiver.local_address) as intruder:
        await sender.play(tone(440, 0.1))
        await wait_until(lambda: receiver.latched, timeout=2)
        await intruder.play(tone(1000, 0.2))
        await wait_until(lambda: receiver.stats.packets_from_others >= 10, timeout=2)
        assert receiver.remote == sender.local_address
        assert {p.ssrc for p in received} == {sender.ssrc}


@in_loop
async def test_without_learning_only_the_signalled_address_is_heard() -> None:
    received: list[RtpPacket] = []
    async with (
        await RtpLeg.open() as expected,
        await RtpLeg.open() as other,
        await RtpLeg.open(
            remote=expected.local_address, learn_remote=False, on_rtp=received.append
        ) as leg,
    ):
        other.set_remote(*leg.local_address)
        expected.set_remote(*leg.local_address)
        await asyncio.gather(other.play(tone(1000, 0.1)), expected.play(tone(440, 0.1)))
        await wait_until(lambda: len(received) >= 5 and leg.stats.packets_from_others >= 5)
        assert {p.ssrc for p in received} == {expected.ssrc}
        assert leg.remote == expected.local_address


@in_loop
async def test_dtmf_sent_as_rfc_4733_arrives_as_each_digit_once() -> None:
    sender, receiver, _ = await pair()
    async with sender, receiver:
        await asyncio.wait_for(sender.send_dtmf("1234*#"), 10)
        sent = sender.stats.packets_sent
        await wait_until(lambda: receiver.stats.dtmf_packets_received >= sent, timeout=2)
        digits = ""
        while not receiver.dtmf.empty():
            digits += receiver.dtmf.get_nowait().digit
        assert digits == "1234*#"


@in_loop
async def test_dtmf_replaces_audio_while_it_is_sent_and_audio_resumes_after() -> None:
    sender, receiver, received = await pair()
    async with sender, receiver:
        playing = sender.play(tone(440, 1.0))
        await sender.send_dtmf("5")
        assert await asyncio.wait_for(playing, 10)
        await wait_until(lambda: len(received) >= 50, timeout=2)
        assert await asyncio.wait_for(receiver.dtmf.get(), 2) is not None
        order = since_first([p.sequence for p in received], 2**16)
        kinds = [p.payload_type for _, p in sorted(zip(order, received, strict=True))]
        assert kinds == [101] * 7 + [0] * 43  # 7 event packets took the place of 7 frames
        audio = [p.timestamp for p in received if p.payload_type == 0]
        assert max(since_first(audio, 2**32)) == 160 * 42  # and the audio clock kept running


@in_loop
async def test_sending_to_a_closed_port_does_not_kill_the_leg() -> None:
    received: list[RtpPacket] = []
    async with (
        await RtpLeg.open(remote=("127.0.0.1", closed_udp_port())) as leg,
        await RtpLeg.open(on_rtp=received.append) as listener,
    ):
        assert await asyncio.wait_for(leg.play(tone(440, 0.2)), 10)
        leg.rtp_socket.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)  # report ICMP errors too
        assert await asyncio.wait_for(leg.play(tone(440, 0.2)), 10)
        await wait_until(lambda: leg.stats.socket_errors > 0, timeout=2)
        assert leg.stats.socket_errors > 0
        leg.set_remote(*listener.local_address)
        assert await asyncio.wait_for(leg.play(tone(440, 0.4)), 10)
        await wait_until(lambda: len(received) >= 20, timeout=2)
        assert len(received) >= 18
        assert frames_with_tone(decode_rtp(received), 440) >= 0.9
        listener.set_remote(*leg.local_address)
        await listener.play(tone(1000, 0.1))
        await wait_until(lambda: leg.stats.audio_packets_received >= 5, timeout=2)
        assert leg.stats.audio_packets_received >= 4


@in_loop
async def test_malformed_datagrams_are_counted_and_do_not_stop_reception() -> None:
    sender, receiver, received = await pair()
    async with sender, receiver:
        junk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            for datagram in (b"", b"\x00", b"\x80" * 11, bytes.fromhex("8f00000100000000")):
                junk.sendto(datagram, receiver.local_address)
        finally:
            junk.close()
        await wait_until(lambda: receiver.stats.packets_malformed >= 3, timeout=2)
        assert not receiver.latched
        await sender.play(tone(440, 0.1))
        await wait_until(lambda: len(received) >= 5, timeout=2)
        assert receiver.remote == sender.local_address


@in_loop
async def test_a_failing_packet_callback_does_not_stop_reception() -> None:
    calls: list[int] = []

    def explode(packet: RtpPacket) -> None:
        calls.append(packet.sequence)
        raise RuntimeError("callback bug")

    receiver = await RtpLeg.open(on_rtp=explode)
    async with receiver, await RtpLeg.open(remote=receiver.local_address) as sender:
        await sender.play(tone(440, 0.2))
        await wait_until(lambda: len(calls) >= 10, timeout=2)
        assert receiver.stats.audio_packets_received >= 9


@in_loop
async def test_a_looping_playback_runs_until_stopped() -> None:
    sender, receiver, received = await pair()
    async with sender, receiver:
        playing = sender.play(tone(440, 0.03), loop=True)  # shorter than one packet
        await wait_until(lambda: len(received) >= 10, timeout=2)
        assert not playing.done()
        sender.stop_playback()
        assert await playing is False
        assert not sender.playing
        audio = decode_rtp(received)
        assert frames_with_tone(audio[: 10 * FRAME_SAMPLES], 440, frame=0.05) >= 0.9


@in_loop
async def test_a_new_playback_replaces_the_current_one() -> None:
    sender, receiver, _ = await pair()
    async with sender, receiver:
        first = sender.play(tone(440, 5.0))
        second = sender.play(tone(1000, 0.1))
        assert await first is False
        assert await asyncio.wait_for(second, 10) is True


@in_loop
async def test_an_empty_playback_is_done_at_once() -> None:
    async with await RtpLeg.open() as leg:
        assert await leg.play(np.zeros(0, dtype=np.int16)) is True


@in_loop
async def test_a_late_event_loop_is_caught_up_without_a_burst_of_packets() -> None:
    sender, receiver, received = await pair()
    async with sender, receiver:
        playing = sender.play(tone(440, 1.0))
        await wait_until(lambda: len(received) >= 5, timeout=2)
        time.sleep(0.3)  # the point: block the event loop for 15 frames
        assert await asyncio.wait_for(playing, 10) is True
        stats = sender.stats
        await wait_until(lambda: len(received) >= stats.packets_sent, timeout=2)
        assert stats.skipped_frames >= 5
        assert stats.packets_sent + stats.skipped_frames == 50
        stamps = since_first([p.timestamp for p in received], 2**32)
        assert max(stamps) == 49 * FRAME_SAMPLES  # the RTP clock kept real time


@in_loop
async def test_pcma_legs_use_payload_type_8_and_are_heard() -> None:
    received: list[RtpPacket] = []
    async with (
        await RtpLeg.open(codec=PCMA, on_rtp=received.append) as receiver,
        await RtpLeg.open(codec=PCMA, remote=receiver.local_address) as sender,
    ):
        await sender.play(tone(1000, 0.5))
        await wait_until(lambda: receiver.stats.audio_packets_received >= 25, timeout=2)
        assert {p.payload_type for p in received} == {8}
        assert dominant_frequency(decode_rtp(received)) == pytest.approx(1000, abs=3)


@in_loop
async def test_a_negotiated_dynamic_payload_type_is_used_for_audio() -> None:
    received: list[RtpPacket] = []
    async with (
        await RtpLeg.open(payload_type=96, on_rtp=received.append) as receiver,
        await RtpLeg.open(payload_type=96, remote=receiver.local_address) as sender,
    ):
        await sender.play(tone(440, 0.1))
        await wait_until(lambda: receiver.stats.audio_packets_received >= 5, timeout=2)
        assert {p.payload_type for p in received} == {96}


@in_loop
async def test_closing_ends_playback_and_releases_the_port() -> None:
    leg = await RtpLeg.open(remote=("127.0.0.1", closed_udp_port()))
    playing = leg.play(tone(440, 10.0))
    port = leg.port
    await leg.close()
    await leg.close()  # closing twice is harmless
    assert playing.result() is False
    assert leg.closed
    with pytest.raises(RuntimeError):
        leg.play(tone(440, 0.1))
    again = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    again.bind(("127.0.0.1", port))
    again.close()


@in_loop
async def test_closing_cancels_digits_not_yet_sent() -> None:
    leg = await RtpLeg.open(remote=("127.0.0.1", closed_udp_port()))
    sending = leg.send_dtmf("123456")
    await leg.close()
    assert sending.cancelled()


@in_loop
async def test_a_leg_binds_inside_a_port_range_with_rtcp_on_the_next_odd_port() -> None:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    base = int(probe.getsockname()[1]) // 2 * 2
    probe.close()
    low, high = max(1024, base - 40), min(65534, base + 40)
    async with await RtpLeg.open(port_range=(low, high), rtcp=True) as leg:
        assert low <= leg.port <= high and leg.port % 2 == 0
        assert leg.rtcp_port == leg.port + 1


@in_loop
async def test_closing_a_leg_with_rtcp_sends_a_report_with_cname_and_bye() -> None:
    rtcp_listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtcp_listener.bind(("127.0.0.1", 0))
    rtcp_listener.setblocking(False)
    try:
        leg = await RtpLeg.open(rtcp=True)
        leg.set_remote("127.0.0.1", closed_udp_port(), rtcp_port=rtcp_listener.getsockname()[1])
        await leg.play(tone(440, 0.1))
        await leg.close()
        data = await asyncio.wait_for(asyncio.get_running_loop().sock_recv(rtcp_listener, 2048), 5)
    finally:
        rtcp_listener.close()
    packets = parse_rtcp(data)
    assert [p.packet_type for p in packets] == [RTCP_SR, RTCP_SDES, RTCP_BYE]
    assert packets[0].ssrc == leg.ssrc


@in_loop
async def test_a_leg_with_rtcp_sends_sender_reports_periodically() -> None:
    rtcp_listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtcp_listener.bind(("127.0.0.1", 0))
    rtcp_listener.setblocking(False)
    loop = asyncio.get_running_loop()
    try:
        async with await RtpLeg.open(rtcp=True, rtcp_interval=0.05) as leg:
            leg.set_remote("127.0.0.1", closed_udp_port(), rtcp_port=rtcp_listener.getsockname()[1])
            first = parse_rtcp(await asyncio.wait_for(loop.sock_recv(rtcp_listener, 2048), 5))
            assert [p.packet_type for p in first] == [RTCP_RR, RTCP_SDES]
            await leg.play(tone(440, 0.1))
            counts: list[int] = []
            while not counts or counts[-1] < 5:  # reports sent during playback count fewer
                data = await asyncio.wait_for(loop.sock_recv(rtcp_listener, 2048), 5)
                report = parse_rtcp(data)[0]
                if report.packet_type == RTCP_SR:
                    counts.append(parse_sender_report(report).packet_count)
            assert counts[-1] == 5 and counts == sorted(counts)
    finally:
        rtcp_listener.close()


@in_loop
async def test_rtcp_arriving_on_the_rtp_port_is_not_taken_for_audio() -> None:
    sender, receiver, received = await pair()
    async with sender, receiver:
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            probe.sendto(bytes.fromhex("80c90001 00000001"), receiver.local_address)
            probe.sendto(build_rtp(0, 1, 160, 1, b"\xff" * 160), receiver.local_address)
        finally:
            probe.close()
        await wait_until(lambda: len(received) >= 1, timeout=2)
        assert receiver.stats.rtcp_packets_received == 1


def test_remote_addresses_must_be_ip_literals() -> None:
    async def scenario() -> None:
        async with await RtpLeg.open() as leg:
            with pytest.raises(ValueError, match="not an IP address"):
                leg.set_remote("pbx.example.com", 5004)
            leg.set_remote("::ffff:127.0.0.1", 5004)
            with pytest.raises(ValueError, match="port"):
                leg.set_remote("127.0.0.1", 0)
        with pytest.raises(ValueError, match="not an IP address"):
            await RtpLeg.open(remote=("localhost", 5004))

    run(scenario())


def test_audio_and_telephone_events_cannot_share_a_payload_type() -> None:
    async def scenario() -> None:
        with pytest.raises(ValueError, match="payload types"):
            await RtpLeg.open(payload_type=101, dtmf_payload_type=101)

    run(scenario())


def test_a_busy_fixed_port_is_reported() -> None:
    async def scenario() -> None:
        async with await RtpLeg.open() as leg:
            with pytest.raises(OSError):
                await RtpLeg.open(port=leg.port)
            with pytest.raises(PortUnavailable):
                await RtpLeg.open(port_range=(leg.port, leg.port))

    run(scenario())


def test_ipv6_loopback_legs_hear_each_other() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        probe = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        probe.bind(("::1", 0))
        probe.close()
    except OSError:
        pytest.skip("no IPv6 loopback")

    async def scenario() -> None:
        received: list[RtpPacket] = []
        async with (
            await RtpLeg.open("::1", on_rtp=received.append) as receiver,
            await RtpLeg.open("::1", remote=receiver.local_address) as sender,
        ):
            await sender.play(tone(440, 0.2))
            await wait_until(lambda: len(received) >= 10, timeout=2)
            assert receiver.remote == sender.local_address

    run(scenario())
