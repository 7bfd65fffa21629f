"""SDP (RFC 4566) bodies and the offer/answer model (RFC 3264) for a G.711 B2BUA.

The switch terminates every call leg itself, so it only ever needs one audio stream per
leg, carried as PCMU or PCMA, with RFC 4733 telephone-events for DTMF:

- :func:`parse_sdp` turns a body into a :class:`SessionDescription` (typed, immutable
  dataclasses); lines it does not interpret are kept and written back by
  :meth:`SessionDescription.to_bytes` (always CRLF line ends).
- :func:`negotiate_answer` answers an offer received in an INVITE, re-INVITE or UPDATE.
- :func:`build_offer` writes our own offer (outbound calls, re-INVITEs, hold) and
  :func:`parse_answer` reads what the other side answered to it.

Both directions of the negotiation produce a :class:`NegotiatedAudio`: where to send RTP,
which payload types to use and in which direction media flows.

Errors: anything wrong with the text of a body raises :class:`SdpError` (answer 400); a
well-formed offer with nothing we can accept raises :class:`SdpNegotiationError` (a
subclass, answer 488 Not Acceptable Here).  Both carry the status code to answer with.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

__all__ = [
    "DEFAULT_PTIME",
    "STATIC_PAYLOAD_TYPES",
    "Answer",
    "Attribute",
    "Codec",
    "Connection",
    "Direction",
    "MediaDescription",
    "NegotiatedAudio",
    "Origin",
    "RtpMap",
    "SdpError",
    "SdpLine",
    "SdpNegotiationError",
    "SessionDescription",
    "Timing",
    "build_offer",
    "build_offer_sdp",
    "format_event_list",
    "negotiate_answer",
    "parse_answer",
    "parse_event_list",
    "parse_sdp",
]

#: Packetization we send and ask for, in milliseconds (the media clock ticks every 20 ms).
DEFAULT_PTIME = 20
#: The o= username and s= line of the bodies we write.
ORIGIN_USERNAME = "aqualine"
SESSION_NAME = "aqualine"
#: Transport protocols whose audio streams we can carry (plain RTP; AVPF is AVP-compatible).
RTP_PROTOCOLS = frozenset({"RTP/AVP", "RTP/AVPF"})
#: The codecs the media layer implements, by encoding name.
KNOWN_CODECS = frozenset({"PCMU", "PCMA"})
TELEPHONE_EVENT = "telephone-event"
#: RFC 4733 events we understand: DTMF 0-9, *, #, A-D (0-15) and flash (16).
OUR_EVENTS = frozenset(range(17))
#: RFC 4733 §2.5.1.3: without a=fmtp the receiver can only count on events 0-15.
DEFAULT_EVENTS = frozenset(range(16))


class SdpError(ValueError):
    """An SDP body (or a value in it) does not follow the grammar.

    ``status`` is the SIP status code to reject the request carrying it with.
    """

    status: ClassVar[int] = 400


class SdpNegotiationError(SdpError):
    """A valid offer (or answer) leaves no audio stream that both sides can use.

    The caller answers 488 Not Acceptable Here.  Being a subclass of :class:`SdpError`, it
    must be caught first where the two are told apart.
    """

    status: ClassVar[int] = 488


class Direction(StrEnum):
    """The direction attributes of RFC 3264 §5.1, always from the describing side's view."""

    SENDRECV = "sendrecv"
    SENDONLY = "sendonly"
    RECVONLY = "recvonly"
    INACTIVE = "inactive"

    @property
    def sends(self) -> bool:
        return self in (Direction.SENDRECV, Direction.SENDONLY)

    @property
    def receives(self) -> bool:
        return self in (Direction.SENDRECV, Direction.RECVONLY)

    @classmethod
    def from_flags(cls, *, sends: bool, receives: bool) -> Direction:
        if sends and receives:
            return cls.SENDRECV
        if sends:
            return cls.SENDONLY
        if receives:
            return cls.RECVONLY
        return cls.INACTIVE

    def reversed(self) -> Direction:
        """The same stream seen from the other end (sendonly <-> recvonly)."""
        return Direction.from_flags(sends=self.receives, receives=self.sends)


# --- the description ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SdpLine:
    """A line kept as it came (i=, u=, e=, p=, b=, z=, k=, r= without t=, unknown types)."""

    kind: str
    value: str

    def to_text(self) -> str:
        return f"{self.kind}={self.value}"


@dataclass(frozen=True, slots=True)
class Origin:
    """The o= line."""

    username: str
    session_id: str
    session_version: int
    nettype: str
    addrtype: str
    address: str

    def to_text(self) -> str:
        return (
            f"o={self.username} {self.session_id} {self.session_version} "
            f"{self.nettype} {self.addrtype} {self.address}"
        )


@dataclass(frozen=True, slots=True)
class Connection:
    """A c= line.  ``address`` may carry a multicast /ttl suffix, kept as written."""

    nettype: str
    addrtype: str
    address: str

    @property
    def host(self) -> str:
        """The address without any multicast /ttl/count suffix."""
        return self.address.split("/", 1)[0]

    @property
    def is_unspecified(self) -> bool:
        """0.0.0.0 (RFC 2543 hold, still sent by old gear), or its IPv6 twin ``::``."""
        return self.host in ("0.0.0.0", "::")  # noqa: S104 - compared with, never bound

    def to_text(self) -> str:
        return f"c={self.nettype} {self.addrtype} {self.address}"


@dataclass(frozen=True, slots=True)
class Timing:
    """A t= line and the r= lines that follow it."""

    start: int = 0
    stop: int = 0
    repeats: tuple[str, ...] = ()

    def to_lines(self) -> list[str]:
        return [f"t={self.start} {self.stop}", *(f"r={r}" for r in self.repeats)]


@dataclass(frozen=True, slots=True)
class Attribute:
    """An a= line: a property attribute (``value`` is None) or a value attribute."""

    name: str
    value: str | None = None

    def to_text(self) -> str:
        return f"a={self.name}" if self.value is None else f"a={self.name}:{self.value}"


@dataclass(frozen=True, slots=True)
class RtpMap:
    """An a=rtpmap value, or the RFC 3551 entry of a static payload type."""

    payload_type: int
    encoding: str
    clock_rate: int
    channels: int | None = None

    def to_value(self) -> str:
        value = f"{self.payload_type} {self.encoding}/{self.clock_rate}"
        return value if self.channels is None else f"{value}/{self.channels}"

    def matches(self, encoding: str, clock_rate: int = 8000) -> bool:
        """Whether this is ``encoding`` (case-insensitive) at ``clock_rate``, mono."""
        return (
            self.encoding.casefold() == encoding.casefold()
            and self.clock_rate == clock_rate
            and self.channels in (None, 1)
        )


#: RFC 3551 §6 static payload types (audio and video), recognised without an a=rtpmap.
STATIC_PAYLOAD_TYPES: dict[int, RtpMap] = {
    pt: RtpMap(pt, name, rate, channels)
    for pt, name, rate, channels in (
        (0, "PCMU", 8000, None),
        (3, "GSM", 8000, None),
        (4, "G723", 8000, None),
        (5, "DVI4", 8000, None),
        (6, "DVI4", 16000, None),
        (7, "LPC", 8000, None),
        (8, "PCMA", 8000, None),
        (9, "G722", 8000, None),
        (10, "L16", 44100, 2),
        (11, "L16", 44100, None),
        (12, "QCELP", 8000, None),
        (13, "CN", 8000, None),
        (14, "MPA", 90000, None),
        (15, "G728", 8000, None),
        (16, "DVI4", 11025, None),
        (17, "DVI4", 22050, None),
        (18, "G729", 8000, None),
        (25, "CelB", 90000, None),
        (26, "JPEG", 90000, None),
        (28, "nv", 90000, None),
        (31, "H261", 90000, None),
        (32, "MPV", 90000, None),
        (33, "MP2T", 90000, None),
        (34, "H263", 90000, None),
    )
}


_DIRECTIONS = frozenset(d.value for d in Direction)


def _decimal(text: str, max_digits: int) -> int | None:
    """``text`` as a number if it is 1 to ``max_digits`` ASCII digits, else None."""
    if 0 < len(text) <= max_digits and text.isascii() and text.isdigit():
        return int(text)
    return None


def _direction_in(attributes: Iterable[Attribute]) -> Direction | None:
    found: Direction | None = None
    for attribute in attributes:
        if attribute.value is None and attribute.name in _DIRECTIONS:
            found = Direction(attribute.name)  # the last one wins, as most stacks do
    return found


@dataclass(frozen=True, slots=True)
class MediaDescription:
    """An m= section."""

    media: str
    port: int
    proto: str
    formats: tuple[str, ...]
    port_count: int | None = None
    connection: Connection | None = None
    attributes: tuple[Attribute, ...] = ()
    other_lines: tuple[SdpLine, ...] = ()

    @property
    def is_rejected(self) -> bool:
        """Port 0: the stream is refused or removed (RFC 3264 §6, §8.2)."""
        return self.port == 0

    @property
    def is_rtp(self) -> bool:
        return "RTP/" in self.proto.upper()

    @property
    def direction(self) -> Direction | None:
        """The direction attribute written in this section, if any."""
        return _direction_in(self.attributes)

    def attribute_values(self, name: str) -> list[str]:
        return [a.value for a in self.attributes if a.name == name and a.value is not None]

    @property
    def rtpmaps(self) -> dict[int, RtpMap]:
        maps: dict[int, RtpMap] = {}
        for value in self.attribute_values("rtpmap"):
            rtpmap = _parse_rtpmap(value)
            maps.setdefault(rtpmap.payload_type, rtpmap)
        return maps

    def fmtp(self, fmt: str | int) -> str | None:
        """The a=fmtp parameters of one format."""
        for value in self.attribute_values("fmtp"):
            head, _, params = value.partition(" ")
            if head == str(fmt):
                return params.strip()
        return None

    @property
    def ptime(self) -> int | None:
        values = self.attribute_values("ptime")
        return _parse_ptime(values[0]) if values else None

    @property
    def rtcp_port(self) -> int | None:
        """The RFC 3605 a=rtcp port, when the sender does not use RTP port + 1."""
        values = self.attribute_values("rtcp")
        if not values:
            return None
        port = _decimal(values[0].split(" ", 1)[0], 5)
        return port if port is not None and 0 < port < 65536 else None

    def codec_of(self, fmt: str) -> RtpMap | None:
        """What an RTP format stands for: its a=rtpmap, else its RFC 3551 static meaning."""
        pt = _decimal(fmt, 3)
        if pt is None:
            return None
        return self.rtpmaps.get(pt) or STATIC_PAYLOAD_TYPES.get(pt)

    def to_lines(self) -> list[str]:
        port = str(self.port) if self.port_count is None else f"{self.port}/{self.port_count}"
        lines = [" ".join(["m=" + self.media, port, self.proto, *self.formats])]
        if self.connection is not None:
            lines.append(self.connection.to_text())
        lines.extend(_other_lines_text(self.other_lines, _MEDIA_ORDER))
        lines.extend(a.to_text() for a in self.attributes)
        return lines


@dataclass(frozen=True, slots=True)
class SessionDescription:
    """A whole SDP body."""

    origin: Origin
    session_name: str = "-"
    connection: Connection | None = None
    timings: tuple[Timing, ...] = (Timing(),)
    attributes: tuple[Attribute, ...] = ()
    media: tuple[MediaDescription, ...] = ()
    other_lines: tuple[SdpLine, ...] = ()
    version: int = 0

    @property
    def direction(self) -> Direction | None:
        """The session-level direction attribute, if any."""
        return _direction_in(self.attributes)

    def direction_of(self, media: MediaDescription) -> Direction:
        """A stream's direction: media level over session level, sendrecv by default."""
        return media.direction or self.direction or Direction.SENDRECV

    def connection_of(self, media: MediaDescription) -> Connection | None:
        """A stream's connection: media-level c= over session-level c=."""
        return media.connection or self.connection

    def to_text(self) -> str:
        lines = [f"v={self.version}", self.origin.to_text(), f"s={self.session_name}"]
        early = [line for line in self.other_lines if line.kind in "iuep"]
        late = [line for line in self.other_lines if line.kind not in "iuep"]
        lines.extend(_other_lines_text(early, _SESSION_ORDER))
        if self.connection is not None:
            lines.append(self.connection.to_text())
        bandwidth = [line for line in late if line.kind == "b"]
        lines.extend(_other_lines_text(bandwidth, _SESSION_ORDER))
        for timing in self.timings:
            lines.extend(timing.to_lines())
        rest = [line for line in late if line.kind != "b"]
        lines.extend(_other_lines_text(rest, _SESSION_ORDER))
        lines.extend(a.to_text() for a in self.attributes)
        for media in self.media:
            lines.extend(media.to_lines())
        return "".join(line + "\r\n" for line in lines)

    def to_bytes(self) -> bytes:
        # surrogateescape gives back the undecodable bytes that parse_sdp let through
        return self.to_text().encode("utf-8", "surrogateescape")


_SESSION_ORDER = {"i": 0, "u": 1, "e": 2, "p": 3, "b": 4, "z": 6, "k": 7}
_MEDIA_ORDER = {"i": 0, "b": 2, "k": 3}


def _other_lines_text(lines: Iterable[SdpLine], order: dict[str, int]) -> list[str]:
    # RFC 4566 §5 fixes the order of the known types; unknown ones go just before a=.
    return [line.to_text() for line in sorted(lines, key=lambda line: order.get(line.kind, 50))]


# --- parsing -----------------------------------------------------------------------------

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`{|}~0-9A-Za-z]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_RTPMAP = re.compile(r"(\d{1,3}) +([^/\s]+)/(\d{1,6})(?:/(\d{1,2}))?", re.ASCII)
_PTIME = re.compile(r"(\d{1,4})(?:\.\d{0,6})?", re.ASCII)
_PORT = re.compile(r"(\d{1,5})(?:/(\d{1,5}))?", re.ASCII)
_MAX_INT = 2**63


def _parse_rtpmap(value: str) -> RtpMap:
    match = _RTPMAP.fullmatch(value.strip())
    if match is None or int(match[1]) > 127 or int(match[3]) == 0:
        raise SdpError(f"bad a=rtpmap value {value!r}")
    channels = int(match[4]) if match[4] is not None else None
    return RtpMap(int(match[1]), match[2], int(match[3]), channels)


def _parse_ptime(value: str) -> int:
    match = _PTIME.fullmatch(value.strip())
    if match is None or int(match[1]) == 0:
        raise SdpError(f"bad a=ptime value {value!r}")
    return int(match[1])


def _parse_int(text: str, what: str) -> int:
    value = _decimal(text, 19)
    if value is None or value >= _MAX_INT:
        raise SdpError(f"bad {what} {text!r}")
    return value


def _parse_connection(value: str) -> Connection:
    parts = value.split()
    if len(parts) != 3 or not all(_TOKEN.fullmatch(p) for p in parts[:2]):
        raise SdpError(f"bad c= line {value!r}")
    return Connection(parts[0], parts[1], parts[2])


def _parse_origin(value: str) -> Origin:
    parts = value.split()
    if len(parts) != 6:
        raise SdpError(f"bad o= line {value!r}")
    return Origin(
        username=parts[0],
        session_id=parts[1],
        session_version=_parse_int(parts[2], "o= session version"),
        nettype=parts[3],
        addrtype=parts[4],
        address=parts[5],
    )


def _parse_media_line(value: str) -> MediaDescription:
    parts = value.split()
    if len(parts) < 3 or not _TOKEN.fullmatch(parts[0]):
        raise SdpError(f"bad m= line {value!r}")
    port_match = _PORT.fullmatch(parts[1])
    if port_match is None or int(port_match[1]) > 65535:
        raise SdpError(f"bad port in m= line {value!r}")
    port = int(port_match[1])
    count = int(port_match[2]) if port_match[2] is not None else None
    if count == 0:
        raise SdpError(f"bad port count in m= line {value!r}")
    formats = tuple(parts[3:])
    if not formats and port != 0:
        raise SdpError(f"m= line without formats {value!r}")
    media = MediaDescription(parts[0], port, parts[2], formats, port_count=count)
    if media.is_rtp:
        for fmt in formats:
            pt = _decimal(fmt, 3)
            if pt is None or pt > 127:
                raise SdpError(f"bad RTP payload type {fmt!r} in m= line")
    return media


def _parse_attribute(value: str) -> Attribute:
    name, colon, rest = value.partition(":")
    if not _TOKEN.fullmatch(name):
        raise SdpError(f"bad attribute name in a={value!r}")
    attribute = Attribute(name, rest if colon else None)
    # Check now the values that negotiation reads, so that it never meets them broken.
    if name == "rtpmap":
        _parse_rtpmap(rest)
    elif name == "ptime":
        _parse_ptime(rest)
    return attribute


def _decode(body: bytes | str) -> str:
    if isinstance(body, bytes):
        # Bytes that are not UTF-8 (a GBK session name...) are carried through untouched.
        return body.decode("utf-8", "surrogateescape")
    try:
        body.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as exc:
        raise SdpError("body holds characters that cannot be encoded") from exc
    return body


@dataclass
class _MediaBuilder:
    media: MediaDescription
    connection: Connection | None = None
    attributes: list[Attribute] = field(default_factory=list)
    other: list[SdpLine] = field(default_factory=list)

    def build(self) -> MediaDescription:
        return MediaDescription(
            media=self.media.media,
            port=self.media.port,
            proto=self.media.proto,
            formats=self.media.formats,
            port_count=self.media.port_count,
            connection=self.connection,
            attributes=tuple(self.attributes),
            other_lines=tuple(self.other),
        )


def parse_sdp(body: bytes | str) -> SessionDescription:
    """Parse an SDP body.

    Tolerates LF-only line ends, blank lines, trailing whitespace, a missing s= or t= line
    and unknown line types (kept).  Raises :class:`SdpError` for anything else.
    """
    text = _decode(body)
    lines = [line.rstrip(" \t\r") for line in text.split("\n")]
    lines = [line for line in lines if line]
    if not lines:
        raise SdpError("empty SDP body")

    version: int | None = None
    origin: Origin | None = None
    session_name: str | None = None
    connection: Connection | None = None
    timings: list[Timing] = []
    attributes: list[Attribute] = []
    other: list[SdpLine] = []
    media: list[_MediaBuilder] = []

    for number, line in enumerate(lines):
        if len(line) < 2 or line[1] != "=" or not (line[0].isascii() and line[0].isalpha()):
            raise SdpError(f"line {number + 1} is not <type>=<value>: {line[:40]!r}")
        if _CONTROL.search(line):
            raise SdpError(f"control character in line {number + 1}")
        kind, value = line[0], line[2:]
        if number == 0:
            if kind != "v":
                raise SdpError("SDP must start with v=")
            if value.strip() != "0":
                raise SdpError(f"unsupported SDP version {value!r}")
            version = 0
            continue
        if kind == "m":
            media.append(_MediaBuilder(_parse_media_line(value)))
        elif media:
            current = media[-1]
            if kind == "c" and current.connection is None:
                current.connection = _parse_connection(value)
            elif kind == "a":
                current.attributes.append(_parse_attribute(value))
            elif kind in "vost":
                raise SdpError(f"{kind}= line inside a media section")
            else:
                current.other.append(SdpLine(kind, value))
        elif kind == "v":
            raise SdpError("second v= line")
        elif kind == "o":
            if origin is not None:
                raise SdpError("second o= line")
            origin = _parse_origin(value)
        elif kind == "s":
            if session_name is not None:
                raise SdpError("second s= line")
            session_name = value
        elif kind == "c":
            if connection is not None:
                raise SdpError("second session-level c= line")
            connection = _parse_connection(value)
        elif kind == "t":
            parts = value.split()
            if len(parts) != 2:
                raise SdpError(f"bad t= line {value!r}")
            timings.append(Timing(_parse_int(parts[0], "time"), _parse_int(parts[1], "time")))
        elif kind == "r" and timings:
            last = timings[-1]
            timings[-1] = Timing(last.start, last.stop, (*last.repeats, value))
        elif kind == "a":
            attributes.append(_parse_attribute(value))
        else:
            other.append(SdpLine(kind, value))

    if version is None:  # pragma: no cover - the first line is always checked above
        raise SdpError("missing v= line")
    if origin is None:
        raise SdpError("missing o= line")
    return SessionDescription(
        origin=origin,
        session_name=session_name if session_name is not None else "-",
        connection=connection,
        timings=tuple(timings) or (Timing(),),
        attributes=tuple(attributes),
        media=tuple(m.build() for m in media),
        other_lines=tuple(other),
        version=version,
    )


def _as_description(body: SessionDescription | bytes | str) -> SessionDescription:
    return body if isinstance(body, SessionDescription) else parse_sdp(body)


# --- telephone-event lists ---------------------------------------------------------------


def parse_event_list(value: str) -> frozenset[int]:
    """Parse an RFC 4733 event list such as ``0-15,66,70``.  Raises :class:`SdpError`."""
    events: set[int] = set()
    for item in value.replace(" ", "").split(","):
        low, dash, high = item.partition("-")
        first = _decimal(low, 3)
        last = _decimal(high, 3) if dash else first
        if first is None or last is None or first > last or last > 255:
            raise SdpError(f"bad telephone-event list {value!r}")
        events.update(range(first, last + 1))
    return frozenset(events)


def format_event_list(events: Iterable[int]) -> str:
    """Write events as the shortest list of ranges: ``{0, 1, 2, 16}`` -> ``0-2,16``."""
    ordered = sorted(set(events))
    parts: list[str] = []
    start = 0
    while start < len(ordered):
        end = start
        while end + 1 < len(ordered) and ordered[end + 1] == ordered[end] + 1:
            end += 1
        low, high = ordered[start], ordered[end]
        parts.append(str(low) if low == high else f"{low}-{high}")
        start = end + 1
    return ",".join(parts)


# --- offer/answer ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Codec:
    """An audio codec with the payload type it travels under on this leg."""

    name: str
    payload_type: int
    clock_rate: int = 8000


@dataclass(frozen=True, slots=True)
class NegotiatedAudio:
    """What one offer/answer exchange settled for the audio stream of a leg.

    ``direction`` is ours (``sends``: we may send RTP to ``remote_address``:``remote_port``;
    ``receives``: the other side will send to us).  ``remote_direction`` is what the other
    side declared.  ``ptime`` is the packetization the other side asked to receive (20 when
    it did not say).  ``remote_zero_address`` is the RFC 2543 hold: the remote's address was
    0.0.0.0 and nothing may be sent to it.
    """

    media_index: int
    remote_address: str
    remote_port: int
    address_type: str
    codec: Codec
    telephone_event_pt: int | None
    ptime: int
    direction: Direction
    remote_direction: Direction
    remote_zero_address: bool = False
    remote_rtcp_port: int | None = None

    @property
    def held_by_remote(self) -> bool:
        """The other side put the call on hold: it no longer wants to hear us."""
        return self.remote_zero_address or not self.remote_direction.receives


@dataclass(frozen=True, slots=True)
class Answer:
    """The answer to an offer: the SDP to send and the parameters it settles."""

    sdp: SessionDescription
    audio: NegotiatedAudio

    def to_bytes(self) -> bytes:
        return self.sdp.to_bytes()


def _address_type(ip: str) -> str:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError as exc:
        raise ValueError(f"local_ip must be an IP address, not {ip!r}") from exc
    return "IP6" if address.version == 6 else "IP4"


def _check_port(port: int) -> None:
    if not 0 < port < 65536:
        raise ValueError(f"local_port must be 1-65535, not {port}")


def _check_supported(supported: Sequence[str]) -> frozenset[str]:
    names = frozenset(name.upper() for name in supported)
    unknown = names - KNOWN_CODECS
    if unknown or not names:
        raise ValueError(f"supported codecs must be among {sorted(KNOWN_CODECS)}: {supported}")
    return names


def _find_audio_codec(media: MediaDescription, names: frozenset[str]) -> Codec | None:
    for fmt in media.formats:
        rtpmap = media.codec_of(fmt)
        if rtpmap is None:
            continue
        for name in names:
            if rtpmap.matches(name):
                return Codec(name, rtpmap.payload_type, rtpmap.clock_rate)
    return None


def _find_telephone_event(media: MediaDescription) -> int | None:
    for fmt in media.formats:
        rtpmap = media.codec_of(fmt)
        if rtpmap is not None and rtpmap.matches(TELEPHONE_EVENT):
            return rtpmap.payload_type
    return None


def _is_usable_audio(media: MediaDescription) -> bool:
    return media.media == "audio" and not media.is_rejected and media.proto.upper() in RTP_PROTOCOLS


def _rejected(media: MediaDescription) -> MediaDescription:
    # RFC 3264 §6: same position, port 0, at least one of the offered formats.
    return MediaDescription(media.media, 0, media.proto, media.formats or ("0",))


def _audio_section(
    *,
    port: int,
    proto: str,
    codecs: Sequence[Codec],
    telephone_event_pt: int | None,
    events: frozenset[int],
    direction: Direction,
    ptime: int | None,
) -> MediaDescription:
    formats = [str(c.payload_type) for c in codecs]
    attributes = [Attribute("rtpmap", f"{c.payload_type} {c.name}/{c.clock_rate}") for c in codecs]
    if telephone_event_pt is not None:
        formats.append(str(telephone_event_pt))
        attributes.append(Attribute("rtpmap", f"{telephone_event_pt} {TELEPHONE_EVENT}/8000"))
        attributes.append(Attribute("fmtp", f"{telephone_event_pt} {format_event_list(events)}"))
    if ptime is not None:
        attributes.append(Attribute("ptime", str(ptime)))
    attributes.append(Attribute(direction.value))
    return MediaDescription("audio", port, proto, tuple(formats), attributes=tuple(attributes))


def _our_session(
    *,
    local_ip: str,
    session_id: int,
    session_version: int,
    media: Sequence[MediaDescription],
    timings: tuple[Timing, ...] = (Timing(),),
) -> SessionDescription:
    if session_id < 0 or session_version < 0:
        raise ValueError("session_id and session_version must not be negative")
    addrtype = _address_type(local_ip)
    return SessionDescription(
        origin=Origin(ORIGIN_USERNAME, str(session_id), session_version, "IN", addrtype, local_ip),
        session_name=SESSION_NAME,
        connection=Connection("IN", addrtype, local_ip),
        timings=timings,
        media=tuple(media),
    )


def _offered_events(media: MediaDescription, pt: int) -> frozenset[int]:
    fmtp = media.fmtp(pt)
    if fmtp is None:
        return DEFAULT_EVENTS
    try:
        return parse_event_list(fmtp)
    except SdpError:
        return DEFAULT_EVENTS  # a garbled list is no reason to refuse the call


def negotiate_answer(
    offer: SessionDescription | bytes | str,
    *,
    local_ip: str,
    local_port: int,
    session_id: int,
    session_version: int,
    supported: Sequence[str] = ("PCMU", "PCMA"),
    direction_override: Direction | str | None = None,
) -> Answer:
    """Answer an offer (RFC 3264 §6) with one audio stream.

    The first audio stream with a usable transport (RTP/AVP or RTP/AVPF, port not 0) and a
    codec in ``supported`` is accepted; the codec is the first such one in the *offer's*
    order, answered alone (plus telephone-event when offered, under the offerer's payload
    type), so that neither side switches codec mid-call.  Every other stream - video,
    further audio, port 0 - is answered with port 0 in its place.

    Our direction is what both the offer and ``direction_override`` (our wish: e.g.
    sendonly while we hold the call) allow: an offer sendonly is answered recvonly,
    recvonly with sendonly, inactive with inactive.  An offer whose address is 0.0.0.0
    (RFC 2543 hold) is never sent to.

    Raises :class:`SdpError` for a malformed body and :class:`SdpNegotiationError` when
    no stream can be accepted (answer 488).
    """
    description = _as_description(offer)
    names = _check_supported(supported)
    _check_port(local_port)
    wish = Direction(direction_override) if direction_override is not None else None

    chosen: tuple[int, Codec, MediaDescription] | None = None
    for index, media in enumerate(description.media):
        if not _is_usable_audio(media):
            continue
        codec = _find_audio_codec(media, names)
        if codec is not None:
            chosen = (index, codec, media)
            break
    if chosen is None:
        raise SdpNegotiationError("no audio stream with a codec in common")
    index, codec, offered = chosen

    connection = description.connection_of(offered)
    if connection is None:
        raise SdpError(f"no c= line for media stream {index}")
    remote_direction = description.direction_of(offered)
    zero = connection.is_unspecified
    wanted = wish or Direction.SENDRECV
    direction = Direction.from_flags(
        sends=wanted.sends and remote_direction.receives and not zero,
        receives=wanted.receives and remote_direction.sends,
    )
    te_pt = _find_telephone_event(offered)
    events = _offered_events(offered, te_pt) & OUR_EVENTS if te_pt is not None else frozenset()
    if te_pt is not None and not events:
        te_pt = None

    sections = [_rejected(media) for media in description.media]
    sections[index] = _audio_section(
        port=local_port,
        proto=offered.proto,
        codecs=[codec],
        telephone_event_pt=te_pt,
        events=events,
        direction=direction,
        ptime=DEFAULT_PTIME,
    )
    sdp = _our_session(
        local_ip=local_ip,
        session_id=session_id,
        session_version=session_version,
        media=sections,
        timings=description.timings,
    )
    audio = NegotiatedAudio(
        media_index=index,
        remote_address=connection.host,
        remote_port=offered.port,
        address_type=connection.addrtype,
        codec=codec,
        telephone_event_pt=te_pt,
        ptime=offered.ptime or DEFAULT_PTIME,
        direction=direction,
        remote_direction=remote_direction,
        remote_zero_address=zero,
        remote_rtcp_port=offered.rtcp_port,
    )
    return Answer(sdp, audio)


_STATIC_PT = {"PCMU": 0, "PCMA": 8}


def build_offer_sdp(
    *,
    local_ip: str,
    local_port: int,
    session_id: int,
    session_version: int,
    codecs: Sequence[str] = ("PCMU", "PCMA"),
    telephone_event_pt: int | None = 101,
    direction: Direction | str = Direction.SENDRECV,
    ptime: int | None = DEFAULT_PTIME,
) -> SessionDescription:
    """Our offer as a :class:`SessionDescription`; see :func:`build_offer`."""
    _check_port(local_port)
    _check_supported(codecs)
    if telephone_event_pt is not None and not 96 <= telephone_event_pt <= 127:
        raise ValueError("telephone_event_pt must be a dynamic payload type (96-127)")
    ordered = list(dict.fromkeys(name.upper() for name in codecs))
    media = _audio_section(
        port=local_port,
        proto="RTP/AVP",
        codecs=[Codec(name, _STATIC_PT[name]) for name in ordered],
        telephone_event_pt=telephone_event_pt,
        events=OUR_EVENTS,
        direction=Direction(direction),
        ptime=ptime,
    )
    return _our_session(
        local_ip=local_ip,
        session_id=session_id,
        session_version=session_version,
        media=[media],
    )


def build_offer(
    *,
    local_ip: str,
    local_port: int,
    session_id: int,
    session_version: int,
    codecs: Sequence[str] = ("PCMU", "PCMA"),
    telephone_event_pt: int | None = 101,
    direction: Direction | str = Direction.SENDRECV,
    ptime: int | None = DEFAULT_PTIME,
) -> bytes:
    """Our offer: one audio stream with ``codecs`` in order of preference.

    Used for outbound calls and re-INVITEs: put the call on hold with ``direction``
    sendonly (RFC 3264 §8.4; inactive if we were already only receiving), take it off hold
    with sendrecv and ``session_version`` + 1.
    """
    return build_offer_sdp(
        local_ip=local_ip,
        local_port=local_port,
        session_id=session_id,
        session_version=session_version,
        codecs=codecs,
        telephone_event_pt=telephone_event_pt,
        direction=direction,
        ptime=ptime,
    ).to_bytes()


def parse_answer(
    offer_we_sent: SessionDescription | bytes | str,
    answer: SessionDescription | bytes | str,
) -> NegotiatedAudio:
    """Read the answer to an offer of ours (one made by :func:`build_offer` or similar).

    The answer must have as many m= lines as the offer (RFC 3264 §6), accept our audio
    stream and pick one of the codecs we offered.  Raises :class:`SdpError` for a malformed
    body and :class:`SdpNegotiationError` for an answer we cannot use.
    """
    offer = _as_description(offer_we_sent)
    reply = _as_description(answer)
    if len(offer.media) != len(reply.media):
        raise SdpNegotiationError(
            f"answer has {len(reply.media)} m= lines for the {len(offer.media)} offered"
        )
    index = next((i for i, m in enumerate(offer.media) if _is_usable_audio(m)), None)
    if index is None:
        raise SdpNegotiationError("our offer had no audio stream")
    ours, theirs = offer.media[index], reply.media[index]
    if theirs.is_rejected or theirs.media != "audio" or theirs.proto.upper() != ours.proto.upper():
        raise SdpNegotiationError("the answer rejected our audio stream")

    offered: dict[int, RtpMap] = {}
    for fmt in ours.formats:
        rtpmap = ours.codec_of(fmt)
        if rtpmap is not None:
            offered[rtpmap.payload_type] = rtpmap
    codec: Codec | None = None
    te_pt: int | None = None
    for fmt in theirs.formats:
        pt = _decimal(fmt, 3)
        if pt is None or pt not in offered:
            continue  # RFC 3264 §6.1: the answer uses the payload types of the offer
        rtpmap = theirs.codec_of(fmt) or offered[pt]
        if te_pt is None and rtpmap.matches(TELEPHONE_EVENT):
            te_pt = rtpmap.payload_type
        for name in KNOWN_CODECS:
            if codec is None and rtpmap.matches(name):
                codec = Codec(name, rtpmap.payload_type, rtpmap.clock_rate)
    if codec is None:
        raise SdpNegotiationError("the answer picked none of the codecs we offered")

    connection = reply.connection_of(theirs)
    if connection is None:
        raise SdpError(f"no c= line for media stream {index}")
    remote_direction = reply.direction_of(theirs)
    offered_direction = offer.direction_of(ours)
    zero = connection.is_unspecified
    direction = Direction.from_flags(
        sends=offered_direction.sends and remote_direction.receives and not zero,
        receives=offered_direction.receives and remote_direction.sends,
    )
    return NegotiatedAudio(
        media_index=index,
        remote_address=connection.host,
        remote_port=theirs.port,
        address_type=connection.addrtype,
        codec=codec,
        telephone_event_pt=te_pt,
        ptime=theirs.ptime or DEFAULT_PTIME,
        direction=direction,
        remote_direction=remote_direction,
        remote_zero_address=zero,
        remote_rtcp_port=theirs.rtcp_port,
    )
