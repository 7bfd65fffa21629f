"""What the media clock hands out: leg, playback and recording handles, its events, its stats.

Everything here is immutable and safe to pass between the clock thread and the asyncio side.
Completion is reported through :class:`concurrent.futures.Future` objects, which the asyncio
side awaits with ``await asyncio.wrap_future(future)``.
"""

from __future__ import annotations

import enum
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from aqualine.telephony.media.recorder import RecordingResult

Address = tuple[str, int]


class Latch(enum.StrEnum):
    """Which source addresses a leg accepts RTP from before its first packet (symmetric RTP).

    After the first accepted packet the leg is *latched* to that packet's source address: it
    sends there and ignores RTP from anywhere else.
    """

    STRICT = "strict"
    """Only the address given in SDP (:meth:`MediaClock.set_remote`)."""
    HOST = "host"
    """The SDP host from any port (a NAT that keeps the address but changes the port). On the
    shared port an unknown port is learned only while no other leg waits for the same host."""
    ANY = "any"
    """Any source (a phone behind NAT that put a private address in its SDP). Dedicated legs
    only: a shared port cannot tell whose packet an unknown address sends."""


@dataclass(frozen=True)
class Leg:
    """One call leg's RTP endpoint: put ``host``/``port`` in the SDP answer or offer."""

    id: int
    host: str
    port: int
    rtcp_port: int | None
    """None when the leg multiplexes RTCP on the RTP port (or has no RTCP)."""
    shared: bool
    """True when the port is the clock's shared port (other legs use it too)."""
    ssrc: int

    @property
    def address(self) -> Address:
        return self.host, self.port


@dataclass(frozen=True)
class Playback:
    """A prompt, tone or music being played to a leg.

    ``done`` becomes True when the audio ended by itself, False when it was stopped or
    replaced, or its leg went away; a looping playback only ends so.
    """

    id: int
    leg: int
    done: Future[bool]


@dataclass(frozen=True)
class Recording:
    """A recording being written; ``done`` holds the result once the file is closed."""

    id: int
    path: Path
    channels: int
    done: Future[RecordingResult]


# --- events ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DtmfReceived:
    """A key press arrived as RFC 4733 events (reported once, at its end)."""

    type: ClassVar[str] = "media.dtmf"
    leg: int
    digit: str
    duration_ms: int


@dataclass(frozen=True)
class PlaybackFinished:
    type: ClassVar[str] = "media.playback_finished"
    leg: int
    playback: int
    completed: bool
    """False when it was stopped or replaced."""


@dataclass(frozen=True)
class DtmfSent:
    type: ClassVar[str] = "media.dtmf_sent"
    leg: int
    digits: str
    completed: bool


@dataclass(frozen=True)
class RemoteLatched:
    """The leg now sends to (and only accepts RTP from) this address."""

    type: ClassVar[str] = "media.latched"
    leg: int
    address: Address


@dataclass(frozen=True)
class MediaTimeout:
    """No RTP from the remote for ``seconds`` (sent once; again after RTP resumes and stops)."""

    type: ClassVar[str] = "media.timeout"
    leg: int
    seconds: float


@dataclass(frozen=True)
class RemoteBye:
    """The remote sent an RTCP BYE."""

    type: ClassVar[str] = "media.rtcp_bye"
    leg: int


@dataclass(frozen=True)
class RecordingFinished:
    type: ClassVar[str] = "media.recording_finished"
    recording: int
    result: RecordingResult


MediaEvent = (
    DtmfReceived
    | PlaybackFinished
    | DtmfSent
    | RemoteLatched
    | MediaTimeout
    | RemoteBye
    | RecordingFinished
)


# --- statistics ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LegStats:
    leg: int
    packets_received: int
    """RTP packets accepted (audio and DTMF; duplicates not counted)."""
    packets_expected: int
    packets_lost: int
    late: int
    """Arrived after their frame was played (dropped)."""
    duplicates: int
    underruns: int
    """Frames due while receiving that had not arrived (silence was played)."""
    frames_played: int
    resyncs: int
    packets_sent: int
    octets_sent: int
    """Payload octets, as in an RTCP SR."""
    dtmf_received: int
    wrong_source: int
    """RTP dropped because it came from another address than the leg accepts."""
    malformed: int
    other_payload: int
    """Well-formed RTP of a payload type the leg does not expect (e.g. CN counts here too)."""
    rtcp_received: int
    rtcp_sent: int
    send_errors: int
    socket_errors: int
    jitter_ms: float
    """RFC 3550 interarrival jitter, measured at tick resolution."""
    remote: Address | None
    latched: bool


@dataclass(frozen=True)
class ClockStats:
    """The clock as a whole. Timing figures cover the window since the last reset."""

    running: bool
    ticks: int
    legs: int
    players: int
    recordings: int
    window_seconds: float
    cpu_seconds: float
    """CPU time the clock thread used in the window (``time.thread_time``)."""
    lateness_mean_ms: float
    lateness_p99_ms: float
    lateness_max_ms: float
    """How late the clock thread woke up after each tick's deadline."""
    work_mean_ms: float
    work_p99_ms: float
    work_max_ms: float
    """Time spent per wake-up (all due ticks)."""
    skipped_ticks: int
    """Ticks dropped because the clock was more than ``max_catch_up`` ticks behind."""
    packets_received: int
    packets_sent: int
    packets_lost: int
    underruns: int
    late: int
    duplicates: int
    wrong_source: int
    unknown_source: int
    """Datagrams on the shared port from an address no leg accepts."""
    malformed: int
    send_errors: int
    recorder_backlog: int

    @property
    def cpu_percent(self) -> float:
        return 100.0 * self.cpu_seconds / self.window_seconds if self.window_seconds else 0.0
