"""RFC 4733 DTMF for the media clock: a per-leg sender paced by the clock's ticks, and the
receiving side's detector (:class:`~aqualine.telephony.media.rtp.DtmfDetector`, re-exported).

:class:`DtmfSender` turns a digit string into one 20 ms slot per tick: the event packets of each
key press (start with the marker bit, updates with growing duration, the end packet sent three
times, all with the timestamp of the press's first packet), then a gap of silence before the
next digit. While a sender has slots left the leg sends them *instead of* audio, as RFC 4733
§2.5.1.2 recommends.

Received events are turned into key presses by :class:`DtmfDetector`: each press is reported
once, when its first end packet arrives (the retransmitted ends are ignored), or when the next
press starts if every end packet was lost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from aqualine.telephony.media.rtp import (
    DtmfDetector,
    DtmfDigit,
    TelephoneEvent,
    digit_to_event,
    dtmf_event_sequence,
    parse_telephone_event,
)

__all__ = ["DtmfDetector", "DtmfDigit", "DtmfPacket", "DtmfSender", "parse_telephone_event"]

FRAME_SAMPLES: Final = 160
MIN_DURATION_MS: Final = 40
MAX_DURATION_MS: Final = 5000


@dataclass(frozen=True, slots=True)
class DtmfPacket:
    """One telephone-event packet to send now: payload, marker bit, and the RTP timestamp."""

    payload: bytes
    marker: bool
    timestamp: int


@dataclass(frozen=True, slots=True)
class _Slot:
    event: TelephoneEvent | None  # None: a gap (no event packet; audio or nothing)
    first: bool = False


class DtmfSender:
    """The RFC 4733 packets for a digit string, one slot per 20 ms tick."""

    def __init__(
        self,
        digits: str,
        *,
        duration_ms: int = 100,
        gap_ms: int = 60,
        volume: int = 10,
        clock_rate: int = 8000,
    ) -> None:
        if not MIN_DURATION_MS <= duration_ms <= MAX_DURATION_MS:
            raise ValueError(f"duration must be {MIN_DURATION_MS}..{MAX_DURATION_MS} ms")
        if gap_ms < 0:
            raise ValueError("gap must not be negative")
        events = [digit_to_event(digit) for digit in digits]
        if not events:
            raise ValueError("no digits to send")
        self.digits = digits
        duration = round(duration_ms / 1000 * clock_rate)
        gap = math.ceil(gap_ms / 20)
        self._slots: list[_Slot] = []
        for event in events:
            payloads = dtmf_event_sequence(
                event, duration=duration, packet_interval=FRAME_SAMPLES, volume=volume
            )
            self._slots += [_Slot(p, first=i == 0) for i, p in enumerate(payloads)]
            self._slots += [_Slot(None)] * max(gap, 1)
        self._position = 0
        self._event_timestamp = 0

    @property
    def finished(self) -> bool:
        return self._position >= len(self._slots)

    @property
    def remaining(self) -> int:
        return len(self._slots) - self._position

    def step(self, timestamp: int) -> DtmfPacket | None:
        """The packet for this tick (whose audio timestamp is ``timestamp``), or None for a
        gap. Call once per tick until :attr:`finished`."""
        if self.finished:
            raise RuntimeError("the digits have all been sent")
        slot = self._slots[self._position]
        self._position += 1
        if slot.event is None:
            return None
        if slot.first:
            self._event_timestamp = timestamp & 0xFFFFFFFF
        return DtmfPacket(slot.event.to_bytes(), slot.first, self._event_timestamp)
