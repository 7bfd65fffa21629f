"""RTP (RFC 3550) packets, RFC 4733 telephone events (DTMF) and minimal RTCP.

Parsing never trusts the wire: anything malformed raises :class:`RtpError` / :class:`RtcpError`
(both ``ValueError``), and the ``try_`` variants return ``None`` instead. The fast-path helpers
(:func:`pack_rtp_header_into`, :data:`RTP_HEADER`) are for the batched media clock.
"""

from __future__ import annotations

import math
import struct
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

RTP_VERSION: Final = 2
RTP_HEADER: Final = struct.Struct("!BBHII")
"""The fixed 12-byte RTP header: V/P/X/CC, M/PT, sequence, timestamp, SSRC."""
RTP_HEADER_SIZE: Final = RTP_HEADER.size

BytesLike = bytes | bytearray | memoryview


class RtpError(ValueError):
    """A datagram is not a well-formed RTP packet (or RFC 4733 payload)."""


class RtcpError(ValueError):
    """A datagram is not a well-formed (compound) RTCP packet."""


# --- RTP -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RtpHeaderExtension:
    """The RFC 3550 §5.3.1 header extension: a profile word and opaque 32-bit-aligned data."""

    profile: int
    data: bytes = b""


@dataclass(frozen=True, slots=True)
class RtpPacket:
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes = b""
    marker: bool = False
    csrcs: tuple[int, ...] = ()
    extension: RtpHeaderExtension | None = None
    padding: int = 0
    """Padding octets on the wire (including the final count octet); 0 for none."""

    def __post_init__(self) -> None:
        if not 0 <= self.payload_type <= 127:
            raise ValueError(f"payload type out of range: {self.payload_type}")
        if not 0 <= self.sequence <= 0xFFFF:
            raise ValueError(f"sequence number out of range: {self.sequence}")
        if not 0 <= self.timestamp <= 0xFFFFFFFF:
            raise ValueError(f"timestamp out of range: {self.timestamp}")
        if not 0 <= self.ssrc <= 0xFFFFFFFF:
            raise ValueError(f"SSRC out of range: {self.ssrc}")
        if len(self.csrcs) > 15:
            raise ValueError("at most 15 CSRCs")
        if not 0 <= self.padding <= 255:
            raise ValueError(f"padding out of range: {self.padding}")
        if self.extension is not None and len(self.extension.data) % 4:
            raise ValueError("header extension data must be a multiple of 4 octets")

    def to_bytes(self) -> bytes:
        first = RTP_VERSION << 6 | len(self.csrcs)
        if self.padding:
            first |= 0x20
        if self.extension is not None:
            first |= 0x10
        parts = [
            RTP_HEADER.pack(
                first,
                (0x80 if self.marker else 0) | self.payload_type,
                self.sequence,
                self.timestamp,
                self.ssrc,
            )
        ]
        if self.csrcs:
            parts.append(struct.pack(f"!{len(self.csrcs)}I", *self.csrcs))
        if self.extension is not None:
            extension = self.extension
            parts.append(struct.pack("!HH", extension.profile, len(extension.data) // 4))
            parts.append(extension.data)
        parts.append(self.payload)
        if self.padding:
            parts.append(bytes(self.padding - 1) + bytes([self.padding]))
        return b"".join(parts)


def build_rtp(
    payload_type: int,
    sequence: int,
    timestamp: int,
    ssrc: int,
    payload: BytesLike,
    *,
    marker: bool = False,
) -> bytes:
    """A plain RTP packet (no CSRC, extension or padding): header + payload."""
    return pack_rtp_header(payload_type, sequence, timestamp, ssrc, marker=marker) + bytes(payload)


def pack_rtp_header(
    payload_type: int, sequence: int, timestamp: int, ssrc: int, *, marker: bool = False
) -> bytes:
    """The 12-byte header of a plain RTP packet; numbers are taken modulo their field size."""
    return RTP_HEADER.pack(
        0x80,
        (0x80 if marker else 0) | (payload_type & 0x7F),
        sequence & 0xFFFF,
        timestamp & 0xFFFFFFFF,
        ssrc & 0xFFFFFFFF,
    )


def pack_rtp_header_into(
    buffer: bytearray | memoryview,
    offset: int,
    payload_type: int,
    sequence: int,
    timestamp: int,
    ssrc: int,
    *,
    marker: bool = False,
) -> None:
    """Write a plain 12-byte RTP header into a preallocated buffer (for batched sending)."""
    RTP_HEADER.pack_into(
        buffer,
        offset,
        0x80,
        (0x80 if marker else 0) | (payload_type & 0x7F),
        sequence & 0xFFFF,
        timestamp & 0xFFFFFFFF,
        ssrc & 0xFFFFFFFF,
    )


def looks_like_rtcp(data: BytesLike) -> bool:
    """RFC 5761 §4 demultiplexing: the second octet of RTCP is 192..223 (RTP PT 64..95)."""
    return len(data) >= 2 and data[0] >> 6 == RTP_VERSION and 192 <= data[1] <= 223


def parse_rtp(data: BytesLike) -> RtpPacket:
    """Parse one RTP packet; raise :class:`RtpError` if it is malformed."""
    size = len(data)
    if size < RTP_HEADER_SIZE:
        raise RtpError(f"RTP packet too short: {size} octets")
    first, second, sequence, timestamp, ssrc = RTP_HEADER.unpack_from(data)
    if first >> 6 != RTP_VERSION:
        raise RtpError(f"not RTP version 2: version {first >> 6}")
    csrc_count = first & 0x0F
    offset = RTP_HEADER_SIZE + 4 * csrc_count
    if offset > size:
        raise RtpError(f"{csrc_count} CSRCs do not fit in {size} octets")
    csrcs = struct.unpack_from(f"!{csrc_count}I", data, RTP_HEADER_SIZE) if csrc_count else ()
    extension = None
    if first & 0x10:
        if offset + 4 > size:
            raise RtpError("header extension header truncated")
        profile, words = struct.unpack_from("!HH", data, offset)
        start = offset + 4
        offset = start + 4 * words
        if offset > size:
            raise RtpError(f"header extension of {words} words overruns the packet")
        extension = RtpHeaderExtension(profile, bytes(data[start:offset]))
    end = size
    padding = 0
    if first & 0x20:
        padding = data[size - 1]
        if padding == 0 or offset + padding > size:
            raise RtpError(f"bad padding count {padding}")
        end = size - padding
    return RtpPacket(
        payload_type=second & 0x7F,
        sequence=sequence,
        timestamp=timestamp,
        ssrc=ssrc,
        payload=bytes(data[offset:end]),
        marker=bool(second & 0x80),
        csrcs=tuple(csrcs),
        extension=extension,
        padding=padding,
    )


def try_parse_rtp(data: BytesLike) -> RtpPacket | None:
    """Like :func:`parse_rtp` but ``None`` for malformed input."""
    try:
        return parse_rtp(data)
    except RtpError:
        return None


def sequence_delta(newer: int, older: int) -> int:
    """Signed distance between two 16-bit sequence numbers (-32768..32767), wrap-aware."""
    return ((newer - older + 0x8000) & 0xFFFF) - 0x8000


class SequenceUnwrapper:
    """Extends 16-bit sequence numbers to unbounded integers, tolerating reordering."""

    def __init__(self) -> None:
        self._last: int | None = None

    def extend(self, sequence: int) -> int:
        if self._last is None:
            self._last = sequence
            return sequence
        extended = self._last + sequence_delta(sequence, self._last & 0xFFFF)
        self._last = max(self._last, extended)
        return extended


# --- RFC 4733 telephone events -------------------------------------------------------------------

TELEPHONE_EVENT: Final = struct.Struct("!BBH")
DTMF_DIGITS: Final = "0123456789*#ABCD"
"""RFC 4733 §3.2 DTMF events 0..15, in event-code order."""


@dataclass(frozen=True, slots=True)
class TelephoneEvent:
    """The 4-octet RFC 4733 payload: event code, end bit, volume (-dBm0) and duration."""

    event: int
    end: bool = False
    volume: int = 10
    duration: int = 0
    """In RTP timestamp units since the event's (shared) timestamp."""

    def __post_init__(self) -> None:
        if not 0 <= self.event <= 255:
            raise ValueError(f"event code out of range: {self.event}")
        if not 0 <= self.volume <= 63:
            raise ValueError(f"volume out of range: {self.volume}")
        if not 0 <= self.duration <= 0xFFFF:
            raise ValueError(f"duration out of range: {self.duration}")

    def to_bytes(self) -> bytes:
        return TELEPHONE_EVENT.pack(
            self.event, (0x80 if self.end else 0) | self.volume, self.duration
        )

    @property
    def digit(self) -> str | None:
        return event_to_digit(self.event)


def parse_telephone_event(payload: BytesLike) -> TelephoneEvent:
    """Parse an RFC 4733 payload (the first event block; the reserved bit is ignored)."""
    if len(payload) < TELEPHONE_EVENT.size:
        raise RtpError(f"telephone-event payload too short: {len(payload)} octets")
    event, flags, duration = TELEPHONE_EVENT.unpack_from(payload)
    return TelephoneEvent(event, bool(flags & 0x80), flags & 0x3F, duration)


def event_to_digit(event: int) -> str | None:
    return DTMF_DIGITS[event] if 0 <= event < len(DTMF_DIGITS) else None


def digit_to_event(digit: str) -> int:
    index = DTMF_DIGITS.find(digit.upper()) if len(digit) == 1 else -1
    if index < 0:
        raise ValueError(f"not a DTMF digit: {digit!r}")
    return index


def dtmf_event_sequence(
    event: int,
    *,
    duration: int = 800,
    packet_interval: int = 160,
    volume: int = 10,
    end_repeats: int = 3,
) -> list[TelephoneEvent]:
    """The payloads a sender emits for one key press, one per packet interval.

    Updates carry the growing duration; the final duration goes out ``end_repeats`` times with
    the end bit (RFC 4733 §2.5.1.4). All packets share one RTP timestamp; the first one carries
    the marker bit. ``duration`` and ``packet_interval`` are in timestamp units (8 kHz: 800 =
    100 ms, 160 = 20 ms).
    """
    if duration <= 0 or packet_interval <= 0 or end_repeats <= 0:
        raise ValueError("duration, packet interval and end repeats must be positive")
    updates = [
        TelephoneEvent(event, False, volume, elapsed)
        for elapsed in range(packet_interval, duration, packet_interval)
    ]
    return updates + [TelephoneEvent(event, True, volume, duration)] * end_repeats


@dataclass(frozen=True, slots=True)
class DtmfDigit:
    digit: str
    event: int
    duration: int
    """In RTP timestamp units, as last reported by the sender."""
    timestamp: int
    ssrc: int
    volume: int = 10


@dataclass(slots=True)
class _OpenPress:
    event: int
    ssrc: int
    timestamp: int
    segment_timestamp: int
    volume: int
    earlier: int = 0
    duration: int = 0

    def continued_by(self, ssrc: int, timestamp: int, event: TelephoneEvent) -> bool:
        expected = (self.segment_timestamp + self.duration) & 0xFFFFFFFF
        return (
            ssrc == self.ssrc
            and event.event == self.event
            and self.duration > 0
            and timestamp == expected
        )


class DtmfDetector:
    """Turns a stream of RFC 4733 packets into key presses, each reported exactly once.

    A key press is identified by (SSRC, RTP timestamp): its start packet, its updates and its
    (usually three) redundant end packets all carry the same timestamp. A press is reported when
    the first packet with the end bit arrives; every later packet with the same identity is
    ignored. If a different press starts while one is still open (all its end packets were
    lost), the open one is reported at that moment; :meth:`flush` reports an open press, e.g.
    at hang-up. A long press that a sender splits into segments (RFC 4733 §2.5.1.3: same event,
    next timestamp = previous timestamp + previous duration) counts once.
    """

    def __init__(self, history: int = 32) -> None:
        self._reported: deque[tuple[int, int]] = deque(maxlen=history)
        self._open: _OpenPress | None = None

    def feed(self, packet: RtpPacket) -> list[DtmfDigit]:
        """Feed one telephone-event packet; return the presses it completes (0, 1 or 2).

        Raises :class:`RtpError` for a payload that is not a telephone event.
        """
        return self.feed_event(packet.ssrc, packet.timestamp, parse_telephone_event(packet.payload))

    def feed_event(self, ssrc: int, timestamp: int, event: TelephoneEvent) -> list[DtmfDigit]:
        key = (ssrc, timestamp)
        if key in self._reported:
            return []
        done: list[DtmfDigit] = []
        press = self._open
        if press is not None and key != (press.ssrc, press.segment_timestamp):
            if press.continued_by(ssrc, timestamp, event):
                self._reported.append((press.ssrc, press.segment_timestamp))
                press.earlier += press.duration
                press.duration = 0
                press.segment_timestamp = timestamp
            else:
                done.extend(self.flush())
                press = None
        if event_to_digit(event.event) is None:  # flash, tones, ...: not a key press
            return done
        if press is None:
            press = self._open = _OpenPress(event.event, ssrc, timestamp, timestamp, event.volume)
        press.duration = max(press.duration, event.duration)
        press.volume = event.volume
        if event.end:
            done.extend(self.flush())
        return done

    def flush(self) -> list[DtmfDigit]:
        """Report the open press, if any (one whose end packets have not arrived)."""
        press = self._open
        if press is None:
            return []
        self._open = None
        self._reported.append((press.ssrc, press.segment_timestamp))
        digit = DTMF_DIGITS[press.event]
        total = press.earlier + press.duration
        return [DtmfDigit(digit, press.event, total, press.timestamp, press.ssrc, press.volume)]


# --- RTCP ----------------------------------------------------------------------------------------

RTCP_SR: Final = 200
RTCP_RR: Final = 201
RTCP_SDES: Final = 202
RTCP_BYE: Final = 203
RTCP_APP: Final = 204
_RTCP_HEADER: Final = struct.Struct("!BBH")
_SENDER_INFO: Final = struct.Struct("!IQIII")
_NTP_UNIX_OFFSET: Final = 2_208_988_800  # seconds from 1900-01-01 to 1970-01-01


@dataclass(frozen=True, slots=True)
class RtcpPacket:
    """One packet of a compound RTCP datagram; ``body`` excludes the header and padding."""

    packet_type: int
    count: int
    body: bytes

    @property
    def ssrc(self) -> int | None:
        return int.from_bytes(self.body[:4], "big") if len(self.body) >= 4 else None


@dataclass(frozen=True, slots=True)
class SenderReport:
    ssrc: int
    ntp_timestamp: int
    rtp_timestamp: int
    packet_count: int
    octet_count: int


def parse_rtcp(data: BytesLike) -> list[RtcpPacket]:
    """Split a (compound) RTCP datagram into packets; raise :class:`RtcpError` if malformed."""
    packets: list[RtcpPacket] = []
    offset = 0
    size = len(data)
    if size < 4:
        raise RtcpError(f"RTCP datagram too short: {size} octets")
    while offset < size:
        if offset + 4 > size:
            raise RtcpError("trailing octets after the last RTCP packet")
        first, packet_type, words = _RTCP_HEADER.unpack_from(data, offset)
        if first >> 6 != RTP_VERSION:
            raise RtcpError(f"not RTCP version 2: version {first >> 6}")
        end = offset + 4 * (words + 1)
        if end > size:
            raise RtcpError(f"RTCP packet of {words + 1} words overruns the datagram")
        body_end = end
        if first & 0x20:
            padding = data[end - 1]
            if padding == 0 or offset + 4 + padding > end:
                raise RtcpError(f"bad RTCP padding count {padding}")
            body_end = end - padding
        packets.append(RtcpPacket(packet_type, first & 0x1F, bytes(data[offset + 4 : body_end])))
        offset = end
    return packets


def try_parse_rtcp(data: BytesLike) -> list[RtcpPacket] | None:
    try:
        return parse_rtcp(data)
    except RtcpError:
        return None


def parse_sender_report(packet: RtcpPacket) -> SenderReport:
    if packet.packet_type != RTCP_SR or len(packet.body) < _SENDER_INFO.size:
        raise RtcpError("not a sender report")
    ssrc = int.from_bytes(packet.body[:4], "big")
    ntp, rtp_timestamp, packets, octets = struct.unpack_from("!QIII", packet.body, 4)
    return SenderReport(ssrc, ntp, rtp_timestamp, packets, octets)


def ntp_timestamp(unix_time: float) -> int:
    """64-bit NTP timestamp (32.32 fixed point since 1900) for a Unix time."""
    seconds = math.floor(unix_time)
    fraction = min(int((unix_time - seconds) * (1 << 32)), 0xFFFFFFFF)
    return ((seconds + _NTP_UNIX_OFFSET) << 32 | fraction) & 0xFFFFFFFFFFFFFFFF


def _rtcp_packet(packet_type: int, count: int, body: bytes) -> bytes:
    if len(body) % 4:
        raise ValueError("RTCP body must be 32-bit aligned")
    return _RTCP_HEADER.pack(0x80 | count, packet_type, len(body) // 4) + body


def build_sender_report(
    ssrc: int, *, unix_time: float, rtp_timestamp: int, packet_count: int, octet_count: int
) -> bytes:
    """An SR without report blocks (RFC 3550 §6.4.1)."""
    body = _SENDER_INFO.pack(
        ssrc,
        ntp_timestamp(unix_time),
        rtp_timestamp & 0xFFFFFFFF,
        packet_count & 0xFFFFFFFF,
        octet_count & 0xFFFFFFFF,
    )
    return _rtcp_packet(RTCP_SR, 0, body)


def build_receiver_report(ssrc: int) -> bytes:
    """An RR without report blocks: what a leg that has sent nothing yet puts first."""
    return _rtcp_packet(RTCP_RR, 0, struct.pack("!I", ssrc))


def build_sdes_cname(ssrc: int, cname: str) -> bytes:
    """An SDES packet with one chunk holding a CNAME item (required in every compound)."""
    text = cname.encode("utf-8")[:255]
    chunk = struct.pack("!IBB", ssrc, 1, len(text)) + text
    chunk += bytes(4 - len(chunk) % 4)  # the null item ending the list, up to a 32-bit boundary
    return _rtcp_packet(RTCP_SDES, 1, chunk)


def build_bye(ssrcs: int | Sequence[int], reason: str = "") -> bytes:
    sources = [ssrcs] if isinstance(ssrcs, int) else list(ssrcs)
    if len(sources) > 31:
        raise ValueError("at most 31 sources in one BYE")
    body = struct.pack(f"!{len(sources)}I", *sources)
    if reason:
        text = reason.encode("utf-8")[:255]
        tail = bytes([len(text)]) + text
        body += tail + bytes(-len(tail) % 4)
    return _rtcp_packet(RTCP_BYE, len(sources), body)
