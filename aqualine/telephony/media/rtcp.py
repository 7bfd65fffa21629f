"""RTCP reports of the media clock's legs (RFC 3550 §6.4): SR or RR with one report block.

The clock sends each leg's compound report (SR if the leg sent RTP since the last report,
else RR; then SDES CNAME) every few seconds, staggered over ticks. What it receives is parsed
with :func:`~aqualine.telephony.media.rtp.parse_rtcp` (malformed datagrams are counted, never
fatal); a sender report's NTP time is kept for the LSR/DLSR fields of our next report block.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from aqualine.telephony.media.rtp import (
    RTCP_BYE,
    RTCP_RR,
    RTCP_SR,
    RtcpPacket,
    build_bye,
    build_sdes_cname,
    ntp_timestamp,
    try_parse_rtcp,
)

_HEADER: Final = struct.Struct("!BBH")
_SENDER_INFO: Final = struct.Struct("!IQIII")
_BLOCK: Final = struct.Struct("!IIIIII")


@dataclass(frozen=True, slots=True)
class ReportBlock:
    """What we know of one remote source (RFC 3550 §6.4.1)."""

    ssrc: int
    fraction_lost: int
    """Lost since the previous report, as a fraction of 256."""
    cumulative_lost: int
    highest_sequence: int
    jitter: int
    """Interarrival jitter in timestamp units."""
    last_sr: int = 0
    """Middle 32 bits of the NTP time of the last SR from this source (0: none)."""
    delay_since_last_sr: int = 0
    """In units of 1/65536 s."""

    def to_bytes(self) -> bytes:
        lost = max(-0x800000, min(0x7FFFFF, self.cumulative_lost)) & 0xFFFFFF
        return _BLOCK.pack(
            self.ssrc & 0xFFFFFFFF,
            (max(0, min(255, self.fraction_lost)) << 24) | lost,
            self.highest_sequence & 0xFFFFFFFF,
            max(0, self.jitter) & 0xFFFFFFFF,
            self.last_sr & 0xFFFFFFFF,
            self.delay_since_last_sr & 0xFFFFFFFF,
        )


@dataclass(slots=True)
class ReceptionReporter:
    """Turns cumulative counters into report blocks (fraction lost since the last one)."""

    expected_prior: int = 0
    received_prior: int = 0
    last_sr: int = 0
    last_sr_at: float = 0.0
    """Monotonic time the last SR arrived."""

    def block(
        self,
        ssrc: int,
        *,
        expected: int,
        received: int,
        highest_sequence: int,
        jitter: float,
        now: float,
    ) -> ReportBlock:
        expected_interval = expected - self.expected_prior
        lost_interval = expected_interval - (received - self.received_prior)
        self.expected_prior = expected
        self.received_prior = received
        fraction = 0
        if expected_interval > 0 and lost_interval > 0:
            fraction = (lost_interval << 8) // expected_interval
        delay = round((now - self.last_sr_at) * 65536) if self.last_sr else 0
        return ReportBlock(
            ssrc=ssrc,
            fraction_lost=fraction,
            cumulative_lost=expected - received,
            highest_sequence=max(0, highest_sequence),
            jitter=round(jitter),
            last_sr=self.last_sr,
            delay_since_last_sr=delay,
        )

    def received_packets(self, packets: list[RtcpPacket], now: float) -> bool:
        """Note what came in; True when it holds a BYE."""
        bye = False
        for packet in packets:
            if packet.packet_type == RTCP_SR and len(packet.body) >= _SENDER_INFO.size:
                ntp = int.from_bytes(packet.body[4:12], "big")
                self.last_sr = (ntp >> 16) & 0xFFFFFFFF
                self.last_sr_at = now
            elif packet.packet_type == RTCP_BYE:
                bye = True
        return bye


def _packet(packet_type: int, count: int, body: bytes) -> bytes:
    return _HEADER.pack(0x80 | count, packet_type, len(body) // 4) + body


def build_report(
    ssrc: int,
    *,
    cname: str,
    unix_time: float,
    rtp_timestamp: int,
    packets_sent: int,
    octets_sent: int,
    sent_since_last: bool,
    blocks: tuple[ReportBlock, ...] = (),
    bye: bool = False,
) -> bytes:
    """A compound report: SR (if we sent since the last report) or RR, then SDES CNAME."""
    body = b"".join(block.to_bytes() for block in blocks[:31])
    if sent_since_last:
        info = _SENDER_INFO.pack(
            ssrc & 0xFFFFFFFF,
            ntp_timestamp(unix_time),
            rtp_timestamp & 0xFFFFFFFF,
            packets_sent & 0xFFFFFFFF,
            octets_sent & 0xFFFFFFFF,
        )
        first = _packet(RTCP_SR, len(blocks[:31]), info + body)
    else:
        first = _packet(RTCP_RR, len(blocks[:31]), struct.pack("!I", ssrc & 0xFFFFFFFF) + body)
    parts = [first, build_sdes_cname(ssrc, cname)]
    if bye:
        parts.append(build_bye(ssrc))
    return b"".join(parts)


def parse_incoming(data: bytes) -> list[RtcpPacket] | None:
    """Parse a received datagram; None when it is not valid RTCP."""
    return try_parse_rtcp(data)


def report_blocks_of(packet: RtcpPacket) -> list[ReportBlock]:
    """The report blocks of a received SR or RR (for tests and diagnostics)."""
    if packet.packet_type == RTCP_SR:
        offset = _SENDER_INFO.size
    elif packet.packet_type == RTCP_RR:
        offset = 4
    else:
        return []
    blocks = []
    for index in range(packet.count):
        start = offset + index * _BLOCK.size
        if start + _BLOCK.size > len(packet.body):
            break
        ssrc, lost_word, highest, jitter, lsr, dlsr = _BLOCK.unpack_from(packet.body, start)
        cumulative = lost_word & 0xFFFFFF
        if cumulative & 0x800000:
            cumulative -= 0x1000000
        blocks.append(ReportBlock(ssrc, lost_word >> 24, cumulative, highest, jitter, lsr, dlsr))
    return blocks
