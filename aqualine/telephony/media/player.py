"""Part-1 media: one call leg's RTP endpoint on the asyncio loop.

:class:`RtpLeg` owns one UDP socket (and optionally the RTCP socket on port + 1) for one call
leg. It plays int16 sample arrays as 20 ms G.711 packets paced on absolute deadlines of the
loop's monotonic clock, counts and optionally hands over what it receives, latches onto the
remote's real address (symmetric RTP, for callers behind NAT), turns RFC 4733 packets into
digits on an :class:`asyncio.Queue`, and sends RFC 4733 digits itself.

Sockets are not connected: replies go with ``sendto`` to the remote address, and an ICMP port
unreachable (which would make a connected socket fail its next call with "connection refused")
is at most counted. A later part moves playback to one media clock thread for all legs; the
codec tables and packet helpers used here are shared with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import math
import secrets
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final

import numpy.typing as npt

from aqualine.telephony.media.g711 import PCMU, G711Codec, as_int16
from aqualine.telephony.media.rtp import (
    DtmfDetector,
    DtmfDigit,
    RtpError,
    RtpPacket,
    TelephoneEvent,
    build_bye,
    build_receiver_report,
    build_sdes_cname,
    build_sender_report,
    digit_to_event,
    dtmf_event_sequence,
    looks_like_rtcp,
    pack_rtp_header,
    try_parse_rtcp,
    try_parse_rtp,
)

FRAME_SAMPLES: Final = 160
FRAME_SECONDS: Final = 0.020
DEFAULT_DTMF_PAYLOAD_TYPE: Final = 101
RTCP_INTERVAL: Final = 5.0

log = logging.getLogger(__name__)

Address = tuple[str, int]
RtpCallback = Callable[[RtpPacket], None]


class PortUnavailable(OSError):
    """No local UDP port (pair) could be bound for a leg."""


@dataclass
class LegStats:
    packets_sent: int = 0
    bytes_sent: int = 0
    """Whole RTP packets (header + payload), as handed to the socket."""
    payload_octets_sent: int = 0
    packets_received: int = 0
    """Valid RTP packets from the remote (audio, telephone events and anything else)."""
    bytes_received: int = 0
    audio_packets_received: int = 0
    dtmf_packets_received: int = 0
    packets_from_others: int = 0
    """Dropped because they came from another address than the latched remote."""
    packets_malformed: int = 0
    rtcp_packets_sent: int = 0
    rtcp_packets_received: int = 0
    send_errors: int = 0
    socket_errors: int = 0
    """Errors the socket reported asynchronously (e.g. ICMP port unreachable)."""
    ticks: int = 0
    skipped_frames: int = 0
    """Frames dropped unsent because the loop woke up more than ``max_burst`` frames late."""
    max_lateness: float = 0.0
    total_lateness: float = 0.0

    @property
    def mean_lateness(self) -> float:
        return self.total_lateness / self.ticks if self.ticks else 0.0


@dataclass
class _Playback:
    encoded: bytes
    loop: bool
    done: asyncio.Future[bool]
    position: int = 0


@dataclass
class _DtmfSlot:
    """One 20 ms slot of an outgoing digit string: a telephone-event packet or a gap."""

    event: TelephoneEvent | None
    first: bool = False
    done: asyncio.Future[None] | None = None


class _Endpoint(asyncio.DatagramProtocol):
    def __init__(
        self, on_datagram: Callable[[bytes, Address], None], on_error: Callable[[Exception], None]
    ) -> None:
        self.on_datagram = on_datagram
        self.on_error = on_error
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        try:
            self.on_datagram(data, (str(addr[0]), int(addr[1])))
        except Exception:  # a bad packet or callback must never stop the leg
            log.exception("RTP leg failed to handle a datagram from %s", addr)

    def error_received(self, exc: Exception) -> None:
        self.on_error(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(None)


def canonical_ip(host: str) -> str:
    """The canonical text of an IP literal; host names are refused (resolve them first)."""
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        raise ValueError(f"not an IP address: {host!r} (resolve host names before use)") from None


def _checked_address(host: str, port: int) -> Address:
    if not 0 < port <= 65535:
        raise ValueError(f"bad remote port {port}")
    return canonical_ip(host), port


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET


def _bind(family: socket.AddressFamily, host: str, port: int) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _bind_pair(
    family: socket.AddressFamily, host: str, port: int, rtcp: bool
) -> tuple[socket.socket, socket.socket | None]:
    rtp_sock = _bind(family, host, port)
    if not rtcp:
        return rtp_sock, None
    bound = rtp_sock.getsockname()[1]
    try:
        if bound % 2 or bound >= 65535:
            raise PortUnavailable(f"RTP port {bound} has no even/odd RTCP partner")
        return rtp_sock, _bind(family, host, bound + 1)
    except OSError:
        rtp_sock.close()
        raise


def bind_rtp_ports(
    host: str,
    *,
    port: int = 0,
    port_range: tuple[int, int] | None = None,
    rtcp: bool = False,
    attempts: int = 64,
) -> tuple[socket.socket, socket.socket | None]:
    """Bind the RTP socket (and the RTCP one on port + 1, RTP on an even port).

    ``port`` 0 lets the kernel choose; ``port_range`` (inclusive) tries its ports in random order.
    """
    family = _family(host)
    if port_range is not None:
        low, high = port_range
        if not 0 < low <= high <= 65535:
            raise ValueError(f"bad port range {port_range}")
        first = low + (low % 2 if rtcp else 0)
        candidates = list(range(first, high + 1, 2 if rtcp else 1))
        secrets.SystemRandom().shuffle(candidates)
        for candidate in candidates:
            with contextlib.suppress(OSError):
                return _bind_pair(family, host, candidate, rtcp)
        raise PortUnavailable(f"no free RTP port in {low}-{high} on {host}")
    if port:
        return _bind_pair(family, host, port, rtcp)
    for _ in range(attempts):
        with contextlib.suppress(OSError):
            return _bind_pair(family, host, 0, rtcp)
    raise PortUnavailable(f"no free RTP port pair on {host} after {attempts} attempts")


class RtpLeg:
    """The RTP endpoint of one call leg. Create it with :meth:`open`, end it with :meth:`close`."""

    def __init__(
        self,
        codec: G711Codec,
        *,
        payload_type: int | None,
        learn_remote: bool,
        dtmf_payload_type: int | None,
        max_burst: int,
        on_rtp: RtpCallback | None,
        ssrc: int | None,
        cname: str | None,
        rtcp_interval: float = RTCP_INTERVAL,
    ) -> None:
        if max_burst < 1:
            raise ValueError("max_burst must be at least 1")
        if dtmf_payload_type is not None and dtmf_payload_type == (
            codec.payload_type if payload_type is None else payload_type
        ):
            raise ValueError("audio and telephone-event need different payload types")
        if rtcp_interval <= 0:
            raise ValueError("rtcp_interval must be positive")
        self.rtcp_interval = rtcp_interval
        self.codec = codec
        self.payload_type = codec.payload_type if payload_type is None else payload_type
        self.dtmf_payload_type = dtmf_payload_type
        self.learn_remote = learn_remote
        self.max_burst = max_burst
        self.ssrc = secrets.randbits(32) if ssrc is None else ssrc
        self.cname = cname or f"aqualine-{self.ssrc:08x}"
        self.stats = LegStats()
        self.dtmf: asyncio.Queue[DtmfDigit] = asyncio.Queue()
        self._on_rtp = on_rtp
        self._detector = DtmfDetector()
        self._remote: Address | None = None
        self._rtcp_remote: Address | None = None
        self._latched = False
        self._sequence = secrets.randbits(16)
        self._timestamp = secrets.randbits(32)
        self._playback: _Playback | None = None
        self._dtmf_slots: deque[_DtmfSlot] = deque()
        self._event_timestamp = 0
        self._sender: asyncio.Task[None] | None = None
        self._last_tick_at: float | None = None
        self._talkspurt = True
        self._rtcp_task: asyncio.Task[None] | None = None
        self._rtp_transport: asyncio.DatagramTransport | None = None
        self._rtcp_transport: asyncio.DatagramTransport | None = None
        self._endpoints: list[_Endpoint] = []
        self._closing = False
        self.local_address: Address = ("", 0)
        self.rtcp_port: int | None = None

    @classmethod
    async def open(
        cls,
        local_ip: str = "127.0.0.1",
        codec: G711Codec = PCMU,
        *,
        port: int = 0,
        port_range: tuple[int, int] | None = None,
        remote: Address | None = None,
        learn_remote: bool = True,
        payload_type: int | None = None,
        dtmf_payload_type: int | None = DEFAULT_DTMF_PAYLOAD_TYPE,
        rtcp: bool = False,
        rtcp_interval: float = RTCP_INTERVAL,
        max_burst: int = 3,
        on_rtp: RtpCallback | None = None,
        ssrc: int | None = None,
        cname: str | None = None,
    ) -> RtpLeg:
        """Bind a leg on ``local_ip``.

        ``remote`` is the address from the peer's SDP. With ``learn_remote`` (symmetric RTP) the
        leg switches to the source address of the first valid RTP packet it receives and from
        then on ignores packets from anywhere else; without it, only packets from ``remote`` are
        accepted once one is set. ``payload_type`` overrides the codec's static one;
        ``dtmf_payload_type`` is the negotiated telephone-event type (None: not negotiated).
        ``on_rtp`` is called with every accepted RTP packet (it must be quick). With ``rtcp`` a
        second socket on port + 1 sends a report every ``rtcp_interval`` seconds and a BYE on
        close, and ignores what it receives. ``max_burst`` bounds how many packets go out back to
        back when the event loop wakes up late; older frames are skipped (time keeps running).
        """
        leg = cls(
            codec,
            payload_type=payload_type,
            learn_remote=learn_remote,
            dtmf_payload_type=dtmf_payload_type,
            max_burst=max_burst,
            on_rtp=on_rtp,
            ssrc=ssrc,
            cname=cname,
            rtcp_interval=rtcp_interval,
        )
        host = canonical_ip(local_ip)
        if remote is not None:
            remote = _checked_address(*remote)  # refuse bad input before binding anything
        rtp_sock, rtcp_sock = bind_rtp_ports(host, port=port, port_range=port_range, rtcp=rtcp)
        try:
            await leg._attach(rtp_sock, rtcp_sock)
        except BaseException:
            rtp_sock.close()
            if rtcp_sock is not None:
                rtcp_sock.close()
            raise
        if remote is not None:
            leg.set_remote(*remote)
        return leg

    async def _attach(self, rtp_sock: socket.socket, rtcp_sock: socket.socket | None) -> None:
        loop = asyncio.get_running_loop()
        endpoint = _Endpoint(self._on_rtp_datagram, self._on_socket_error)
        transport, _ = await loop.create_datagram_endpoint(lambda: endpoint, sock=rtp_sock)
        self._rtp_transport = transport
        self._endpoints.append(endpoint)
        name = rtp_sock.getsockname()
        self.local_address = (str(name[0]), int(name[1]))
        if rtcp_sock is not None:
            endpoint = _Endpoint(self._on_rtcp_datagram, self._on_socket_error)
            transport, _ = await loop.create_datagram_endpoint(lambda: endpoint, sock=rtcp_sock)
            self._rtcp_transport = transport
            self._endpoints.append(endpoint)
            self.rtcp_port = int(rtcp_sock.getsockname()[1])
            self._rtcp_task = loop.create_task(self._run_rtcp())

    # --- addresses ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self.local_address[1]

    @property
    def rtp_socket(self) -> Any:
        """The RTP socket (asyncio's socket wrapper), e.g. to set options; None when closed."""
        transport = self._rtp_transport
        return None if transport is None else transport.get_extra_info("socket")

    @property
    def remote(self) -> Address | None:
        return self._remote

    @property
    def latched(self) -> bool:
        """True once packets from addresses other than :attr:`remote` are being ignored."""
        return self._latched

    @property
    def closed(self) -> bool:
        return self._closing

    def set_remote(self, host: str, port: int, *, rtcp_port: int | None = None) -> None:
        """Send to this address (from SDP; again on a re-INVITE). Host must be an IP literal.

        With ``learn_remote`` the leg will latch anew onto the next packet's source.
        """
        address = _checked_address(host, port)
        self._remote = address
        self._rtcp_remote = (address[0], rtcp_port if rtcp_port is not None else port + 1)
        self._latched = not self.learn_remote

    # --- receiving ---------------------------------------------------------------------------

    def _on_rtp_datagram(self, data: bytes, source: Address) -> None:
        if self._latched and source != self._remote:
            self.stats.packets_from_others += 1
            return
        if looks_like_rtcp(data):  # rtcp-mux peers: nothing to do with it here
            self.stats.rtcp_packets_received += 1
            return
        packet = try_parse_rtp(data)
        if packet is None:
            self.stats.packets_malformed += 1
            return
        if not self._latched and self.learn_remote:
            self._remote = source
            self._rtcp_remote = (source[0], source[1] + 1)
            self._latched = True
        stats = self.stats
        stats.packets_received += 1
        stats.bytes_received += len(data)
        if packet.payload_type == self.dtmf_payload_type:
            stats.dtmf_packets_received += 1
            try:
                digits = self._detector.feed(packet)
            except RtpError:
                stats.packets_malformed += 1
                return
            for digit in digits:
                self.dtmf.put_nowait(digit)
        elif packet.payload_type == self.payload_type:
            stats.audio_packets_received += 1
        if self._on_rtp is not None:
            self._on_rtp(packet)

    def _on_rtcp_datagram(self, data: bytes, source: Address) -> None:
        if try_parse_rtcp(data) is None:
            self.stats.packets_malformed += 1
            return
        self.stats.rtcp_packets_received += 1
        remote = self._remote
        if self.learn_remote and self._latched and remote is not None and source[0] == remote[0]:
            self._rtcp_remote = source

    def _on_socket_error(self, exc: Exception) -> None:
        self.stats.socket_errors += 1
        log.debug("RTP leg %s: socket error %r", self.local_address, exc)

    # --- sending -----------------------------------------------------------------------------

    @property
    def playing(self) -> bool:
        return self._playback is not None

    def play(self, samples: npt.ArrayLike, *, loop: bool = False) -> asyncio.Future[bool]:
        """Start sending mono int16 samples (replacing what is playing) as 20 ms packets.

        The returned future becomes True when the samples have all been sent, False when the
        playback was stopped, replaced or the leg closed. A looping playback only ends so.
        """
        self._check_open()
        array = as_int16(samples)
        if array.ndim != 1:
            raise ValueError("play() takes mono samples of shape (n,)")
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._end_playback(False)
        if array.size == 0:
            done.set_result(True)
            return done
        self._playback = _Playback(self.codec.encode(array), loop, done)
        self._ensure_sender()
        return done

    def stop_playback(self) -> None:
        self._end_playback(False)

    def send_dtmf(
        self, digits: str, *, duration_ms: int = 100, gap_ms: int = 60, volume: int = 10
    ) -> asyncio.Future[None]:
        """Send digits as RFC 4733 events (replacing audio meanwhile); done when all are sent."""
        self._check_open()
        if self.dtmf_payload_type is None:
            raise RuntimeError("telephone-event was not negotiated for this leg")
        events = [digit_to_event(digit) for digit in digits]
        duration = max(1, round(duration_ms / 1000 * self.codec.clock_rate))
        gap = math.ceil(gap_ms / 1000 / FRAME_SECONDS)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        slots: list[_DtmfSlot] = []
        for event in events:
            payloads = dtmf_event_sequence(
                event, duration=duration, packet_interval=FRAME_SAMPLES, volume=volume
            )
            slots += [
                _DtmfSlot(payload, first=index == 0) for index, payload in enumerate(payloads)
            ]
            slots += [_DtmfSlot(None) for _ in range(gap)]
        if not slots:
            done.set_result(None)
            return done
        slots[-1].done = done
        self._dtmf_slots.extend(slots)
        self._ensure_sender()
        return done

    def _check_open(self) -> None:
        if self._closing:
            raise RuntimeError("the RTP leg is closed")

    def _end_playback(self, completed: bool) -> None:
        playback = self._playback
        self._playback = None
        if playback is not None and not playback.done.done():
            playback.done.set_result(completed)

    def _has_work(self) -> bool:
        return self._playback is not None or bool(self._dtmf_slots)

    def _ensure_sender(self) -> None:
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._run_sender())

    async def _run_sender(self) -> None:
        try:
            await self._pace()
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug here must not leave callers waiting forever
            log.exception("RTP leg %s: sender failed", self.local_address)
            self._end_playback(False)
            self._cancel_dtmf()

    def _cancel_dtmf(self) -> None:
        while self._dtmf_slots:
            slot = self._dtmf_slots.popleft()
            if slot.done is not None and not slot.done.done():
                slot.done.cancel()

    async def _pace(self) -> None:
        """Send one frame per 20 ms on absolute deadlines; catch up at most ``max_burst``."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        if self._last_tick_at is not None:  # keep the RTP clock running while idle
            idle = round((start - self._last_tick_at) / FRAME_SECONDS) - 1
            self._timestamp = (self._timestamp + max(0, idle) * FRAME_SAMPLES) & 0xFFFFFFFF
        self._talkspurt = True
        tick = 0
        stats = self.stats
        while self._has_work():
            deadline = start + tick * FRAME_SECONDS
            delay = deadline - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            now = loop.time()
            lateness = max(0.0, now - deadline)
            stats.ticks += 1
            stats.total_lateness += lateness
            stats.max_lateness = max(stats.max_lateness, lateness)
            due = max(tick + 1, math.floor((now - start) / FRAME_SECONDS) + 1)
            if due - tick > self.max_burst:
                self._skip(due - tick - self.max_burst)
                tick = due - self.max_burst
            while tick < due and self._has_work():
                self._send_tick()
                self._last_tick_at = start + tick * FRAME_SECONDS
                tick += 1

    def _skip(self, frames: int) -> None:
        self.stats.skipped_frames += frames
        self._timestamp = (self._timestamp + frames * FRAME_SAMPLES) & 0xFFFFFFFF
        playback = self._playback
        if playback is None:
            return
        playback.position += frames * FRAME_SAMPLES
        if playback.loop:
            playback.position %= len(playback.encoded)
        elif playback.position >= len(playback.encoded):
            self._end_playback(True)

    def _send_tick(self) -> None:
        slot = self._dtmf_slots.popleft() if self._dtmf_slots else None
        frame = self._next_frame()
        if slot is not None and slot.event is not None and self.dtmf_payload_type is not None:
            if slot.first:
                self._event_timestamp = self._timestamp
            payload = slot.event.to_bytes()
            self._send(self.dtmf_payload_type, self._event_timestamp, payload, slot.first)
        elif frame is not None:
            self._send(self.payload_type, self._timestamp, frame, self._talkspurt)
            self._talkspurt = False
        self._timestamp = (self._timestamp + FRAME_SAMPLES) & 0xFFFFFFFF
        if slot is not None and slot.done is not None and not slot.done.done():
            slot.done.set_result(None)

    def _next_frame(self) -> bytes | None:
        playback = self._playback
        if playback is None:
            return None
        encoded = playback.encoded
        start = playback.position
        frame = encoded[start : start + FRAME_SAMPLES]
        playback.position = start + FRAME_SAMPLES
        if playback.loop:
            while len(frame) < FRAME_SAMPLES:
                frame += encoded[: FRAME_SAMPLES - len(frame)]
            playback.position %= len(encoded)
        elif playback.position >= len(encoded):
            frame += bytes([self.codec.silence]) * (FRAME_SAMPLES - len(frame))
            self._end_playback(True)
        return frame

    def _send(self, payload_type: int, timestamp: int, payload: bytes, marker: bool) -> None:
        remote = self._remote
        transport = self._rtp_transport
        if remote is None or transport is None:
            return
        header = pack_rtp_header(payload_type, self._sequence, timestamp, self.ssrc, marker=marker)
        packet = header + payload
        self._sequence = (self._sequence + 1) & 0xFFFF
        try:
            transport.sendto(packet, remote)
        except (OSError, ValueError) as exc:
            self.stats.send_errors += 1
            log.debug("RTP leg %s: send to %s failed: %r", self.local_address, remote, exc)
            return
        self.stats.packets_sent += 1
        self.stats.bytes_sent += len(packet)
        self.stats.payload_octets_sent += len(payload)

    # --- RTCP --------------------------------------------------------------------------------

    async def _run_rtcp(self) -> None:
        while True:
            await asyncio.sleep(self.rtcp_interval)
            self._send_rtcp()

    def _send_rtcp(self, *, bye: bool = False) -> None:
        transport = self._rtcp_transport
        remote = self._rtcp_remote
        if transport is None or remote is None:
            return
        stats = self.stats
        if stats.packets_sent:
            first = build_sender_report(
                self.ssrc,
                unix_time=time.time(),
                rtp_timestamp=self._timestamp,
                packet_count=stats.packets_sent,
                octet_count=stats.payload_octets_sent,
            )
        else:
            first = build_receiver_report(self.ssrc)
        parts = [first, build_sdes_cname(self.ssrc, self.cname)]
        if bye:
            parts.append(build_bye(self.ssrc))
        try:
            transport.sendto(b"".join(parts), remote)
        except (OSError, ValueError):
            stats.send_errors += 1
            return
        stats.rtcp_packets_sent += 1

    # --- closing -----------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop sending, say BYE over RTCP if enabled, and release the sockets."""
        if self._closing:
            await asyncio.gather(*(endpoint.lost for endpoint in self._endpoints))
            return
        self._closing = True
        current = asyncio.current_task()
        tasks = [task for task in (self._sender, self._rtcp_task) if task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            if task is not current:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._end_playback(False)
        self._cancel_dtmf()
        self._send_rtcp(bye=True)
        for transport in (self._rtp_transport, self._rtcp_transport):
            if transport is not None:
                transport.close()
        await asyncio.gather(*(endpoint.lost for endpoint in self._endpoints))

    async def __aenter__(self) -> RtpLeg:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return (
            f"<RtpLeg {self.local_address[0]}:{self.port} {self.codec.name} "
            f"remote={self._remote} latched={self._latched}>"
        )
