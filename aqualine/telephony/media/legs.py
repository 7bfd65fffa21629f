"""The clock thread's per-leg bookkeeping: the Python side of a leg (sockets, addresses,
DTMF, playback, RTCP counters), the numbers every tick works on in bulk (one numpy array each,
indexed by leg slot), and the state of players and recordings. Owned by the media engine.
"""

from __future__ import annotations

import socket
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from aqualine.telephony.media.dtmf import DtmfSender
from aqualine.telephony.media.g711 import G711Codec, Samples
from aqualine.telephony.media.handles import Address, Latch, Leg
from aqualine.telephony.media.jitter import FRAME
from aqualine.telephony.media.recorder import RecordingResult
from aqualine.telephony.media.rtcp import ReceptionReporter
from aqualine.telephony.media.rtp import DtmfDetector

Ints = npt.NDArray[np.int64]


@dataclass(eq=False)
class PlayerState:
    id: int
    leg: int
    samples: Samples
    loop: bool
    exclusive: bool
    done: Future[bool]
    row: int = -1
    position: int = 0

    def fill(self, out: npt.NDArray[np.int16]) -> bool:
        """Write the next frame into ``out``; True when a non-looping playback has ended."""
        samples = self.samples
        size = len(samples)
        start = self.position
        end = start + FRAME
        if end <= size:
            out[:] = samples[start:end]
            self.position = end
            if end < size:
                return False
            self.position = 0
            return not self.loop
        if not self.loop:
            rest = size - start
            out[:rest] = samples[start:]
            out[rest:] = 0
            self.position = size
            return True
        filled = 0
        while filled < FRAME:
            take = min(FRAME - filled, size - start)
            out[filled : filled + take] = samples[start : start + take]
            filled += take
            start = (start + take) % size
        self.position = start
        return False


@dataclass(eq=False)
class DtmfJob:
    sender: DtmfSender
    done: Future[bool]


@dataclass(eq=False)
class LegState:
    handle: Leg
    codec: G711Codec
    payload_type: int
    dtmf_payload_type: int | None
    ptime: int
    latch: Latch
    rtcp_mux: bool
    sock: socket.socket | None
    rtcp_sock: socket.socket | None
    sending: bool
    cname: str
    slot: int = -1
    sdp_remote: Address | None = None
    remote: Address | None = None
    previous_remote: Address | None = None
    """The address latched before a re-INVITE moved the media: never learned again."""
    rtcp_port: int | None = None
    rtcp_learned: Address | None = None
    latched: bool = False
    connected: bool = False
    key: int | None = None
    detector: DtmfDetector = field(default_factory=DtmfDetector)
    dtmf_jobs: deque[DtmfJob] = field(default_factory=deque)
    player: PlayerState | None = None
    reporter: ReceptionReporter = field(default_factory=ReceptionReporter)
    pending: list[bytes] = field(default_factory=list)
    reported_packets: int = 0
    dtmf_received: int = 0
    wrong_source: int = 0
    malformed: int = 0
    other_payload: int = 0
    rtcp_received: int = 0
    rtcp_sent: int = 0
    send_errors: int = 0
    socket_errors: int = 0

    @property
    def id(self) -> int:
        return self.handle.id

    @property
    def shared(self) -> bool:
        return self.handle.shared

    def rtcp_destination(self) -> Address | None:
        if self.remote is None:
            return None
        if self.rtcp_mux:
            return self.remote
        if self.rtcp_learned is not None:
            return self.rtcp_learned
        host, port = self.remote
        if self.rtcp_port is not None and not self.latched:
            return host, self.rtcp_port
        return host, port + 1


@dataclass(eq=False)
class RecordingState:
    id: int
    rows: tuple[int, ...]
    channel_legs: tuple[tuple[int, ...], ...]
    done: Future[RecordingResult]


class LegArrays:
    """Per-slot numbers the tick works on in bulk."""

    _SPEC: Final = {
        "in_use": (np.bool_, 0),
        "shared": (np.bool_, 0),
        "can_send": (np.bool_, 0),
        "special": (np.bool_, 0),
        "latched": (np.bool_, 0),
        "timed_out": (np.bool_, 0),
        "marker": (np.bool_, 0),
        "transit_ok": (np.bool_, 0),
        "audio_pt": (np.int64, -1),
        "codec": (np.int64, 0),
        "seq_out": (np.int64, 0),
        "ts_out": (np.int64, 0),
        "tx_packets": (np.int64, 0),
        "tx_octets": (np.int64, 0),
        "last_rx_tick": (np.int64, 0),
        "next_rtcp": (np.int64, 0),
        "transit": (np.int64, 0),
        "jitter": (np.float64, 0),
    }

    def __init__(self, capacity: int) -> None:
        self.capacity = 0
        self.grow(capacity)

    def grow(self, capacity: int) -> None:
        old = self.capacity
        for name, (dtype, fill) in self._SPEC.items():
            fresh: np.ndarray = np.full(capacity, fill, dtype=dtype)
            if old:
                fresh[:old] = getattr(self, name)
            setattr(self, name, fresh)
        self.capacity = capacity

    def clear(self, slot: int) -> None:
        for name, (_dtype, fill) in self._SPEC.items():
            getattr(self, name)[slot] = fill

    # typed views for mypy
    in_use: npt.NDArray[np.bool_]
    shared: npt.NDArray[np.bool_]
    can_send: npt.NDArray[np.bool_]
    special: npt.NDArray[np.bool_]
    latched: npt.NDArray[np.bool_]
    timed_out: npt.NDArray[np.bool_]
    marker: npt.NDArray[np.bool_]
    transit_ok: npt.NDArray[np.bool_]
    audio_pt: Ints
    codec: Ints
    seq_out: Ints
    ts_out: Ints
    tx_packets: Ints
    tx_octets: Ints
    last_rx_tick: Ints
    next_rtcp: Ints
    transit: Ints
    jitter: npt.NDArray[np.float64]


@dataclass
class Totals:
    """Counters of legs that have been removed, so that clock totals never go down."""

    received: int = 0
    sent: int = 0
    lost: int = 0
    underruns: int = 0
    late: int = 0
    duplicates: int = 0
    wrong_source: int = 0
    malformed: int = 0
    send_errors: int = 0
