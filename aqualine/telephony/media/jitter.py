"""Jitter buffers of every leg of the media clock, in numpy arrays (one row per leg slot).

Each leg has a ring of ``frames`` 20 ms frames of decoded samples. Audio is placed by its RTP
*timestamp*, not its sequence number, so reordering, loss, duplicates and any packet size
(10, 20, 30, 60 ms) come out right, and both wrap-arounds (16-bit sequence numbers, 32-bit
timestamps) are handled with modular arithmetic. The first packet of a source *syncs* the leg:
that packet is played ``depth`` ticks later, and every tick :meth:`JitterBuffer.pull` plays the
next frame of every leg at once.

* A packet for a frame already played is *late* and dropped; after ``late_resync`` late packets
  in a row (the sender's clock jumped back, or it stalled and is now behind) the next packet
  re-syncs the leg.
* A packet more than ``frames - 1`` frames ahead (a new talkspurt after a long silence, a
  timestamp jump, drift) re-syncs the leg; so does a new SSRC.
* A frame that is due but missing while later audio is already buffered is an *underrun*
  (silence is played in its place) -- unless the leg is *quiet*: the clock marks a leg quiet
  while a DTMF event or comfort noise stands for its audio. A stream that simply stops (end of
  a call, silence suppression) causes no underruns; a stream that is merely delayed shows up
  as *late* packets instead.

:meth:`JitterBuffer.put` takes a batch of whole 20 ms frames that line up with their leg's
frame grid (what nearly every G.711 sender sends) and stores all of them in a few vectorised
steps; any other packet goes through :meth:`JitterBuffer.put_samples`, one at a time.

Reception statistics follow RFC 3550 A.3: extended highest sequence number, expected and
received packets (duplicates are not counted), so ``lost = expected - received``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

FRAME: Final = 160
"""Samples in one 20 ms frame at 8 kHz: the media clock's tick."""

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Frames = npt.NDArray[np.int16]

_TS_MODULUS: Final = 1 << 32
_TS_HALF: Final = 1 << 31


def timestamp_delta(timestamps: Ints | int, reference: Ints | int) -> Ints:
    """Signed distance ``timestamps - reference`` of 32-bit RTP timestamps, wrap-aware."""
    result: Ints = (
        (np.asarray(timestamps, dtype=np.int64) - reference + _TS_HALF) % _TS_MODULUS
    ) - (_TS_HALF)
    return result


def sequence_delta(sequences: Ints | int, reference: Ints | int) -> Ints:
    """Signed distance of 16-bit sequence numbers, wrap-aware (-32768..32767)."""
    result: Ints = ((np.asarray(sequences, dtype=np.int64) - reference + 0x8000) & 0xFFFF) - 0x8000
    return result


@dataclass(frozen=True)
class ReceptionStats:
    """One leg's jitter-buffer and reception counters (cumulative over its sources)."""

    received: int
    """Packets that arrived (audio, also late, and sequence-only ones such as DTMF), without
    duplicates."""
    expected: int
    """From the sequence numbers: highest - first + 1, summed over the leg's sources."""
    late: int
    duplicates: int
    underruns: int
    played: int
    """Frames played out that carried received audio."""
    resyncs: int
    highest_sequence: int
    """Extended highest sequence number of the current source (-1 before any packet)."""

    @property
    def lost(self) -> int:
        return max(0, self.expected - self.received)


class JitterBuffer:
    """Jitter buffers for ``capacity`` leg slots. Not thread-safe: the clock thread owns it."""

    def __init__(
        self, capacity: int, *, depth: int = 3, frames: int = 16, late_resync: int = 5
    ) -> None:
        if not 1 <= depth < frames:
            raise ValueError("need 1 <= depth < frames")
        if late_resync < 1:
            raise ValueError("late_resync must be at least 1")
        self.depth = depth
        self.frames = frames
        self.late_resync = late_resync
        self.capacity = 0
        self._allocate(capacity)

    # --- slots ---------------------------------------------------------------------------

    def _allocate(self, capacity: int) -> None:
        old = self.capacity
        if capacity < old:
            raise ValueError("a jitter buffer does not shrink")

        def grow(name: str, shape: tuple[int, ...], dtype: type, fill: int) -> Any:
            fresh: np.ndarray = np.full(shape, fill, dtype=dtype)
            if old:
                fresh[:old] = getattr(self, name)
            return fresh

        self.ring: Frames = grow("ring", (capacity, self.frames, FRAME), np.int16, 0)
        self.filled: Bools = grow("filled", (capacity, self.frames), np.bool_, 0)
        self.synced: Bools = grow("synced", (capacity,), np.bool_, 0)
        self.ssrc: Ints = grow("ssrc", (capacity,), np.int64, -1)
        self.anchor: Ints = grow("anchor", (capacity,), np.int64, 0)
        self.play: Ints = grow("play", (capacity,), np.int64, 0)
        self.quiet_until: Ints = grow("quiet_until", (capacity,), np.int64, 0)
        self.late_run: Ints = grow("late_run", (capacity,), np.int64, 0)
        self.need_resync: Bools = grow("need_resync", (capacity,), np.bool_, 0)
        self.seq_first: Ints = grow("seq_first", (capacity,), np.int64, -1)
        self.seq_max: Ints = grow("seq_max", (capacity,), np.int64, -1)
        self.expected_before: Ints = grow("expected_before", (capacity,), np.int64, 0)
        self.received: Ints = grow("received", (capacity,), np.int64, 0)
        self.late: Ints = grow("late", (capacity,), np.int64, 0)
        self.duplicates: Ints = grow("duplicates", (capacity,), np.int64, 0)
        self.underruns: Ints = grow("underruns", (capacity,), np.int64, 0)
        self.played: Ints = grow("played", (capacity,), np.int64, 0)
        self.resyncs: Ints = grow("resyncs", (capacity,), np.int64, 0)
        self.capacity = capacity
        self._row_base: Ints = np.arange(capacity, dtype=np.int64) * self.frames
        self._flat_ring = self.ring.reshape(capacity * self.frames, FRAME)
        self._flat_filled = self.filled.reshape(capacity * self.frames)

    def grow(self, capacity: int) -> None:
        if capacity > self.capacity:
            self._allocate(capacity)

    def reset(self, slot: int) -> None:
        """Forget everything about a slot (a leg was added or removed there)."""
        self.filled[slot] = False
        self.synced[slot] = False
        self.ssrc[slot] = -1
        self.anchor[slot] = 0
        self.play[slot] = 0
        self.quiet_until[slot] = 0
        self.late_run[slot] = 0
        self.need_resync[slot] = False
        self.seq_first[slot] = -1
        self.seq_max[slot] = -1
        for counter in (
            self.expected_before,
            self.received,
            self.late,
            self.duplicates,
            self.underruns,
            self.played,
            self.resyncs,
        ):
            counter[slot] = 0

    def stats(self, slot: int) -> ReceptionStats:
        expected = int(self.expected_before[slot])
        if self.seq_first[slot] >= 0:
            expected += int(self.seq_max[slot] - self.seq_first[slot] + 1)
        return ReceptionStats(
            received=int(self.received[slot]),
            expected=expected,
            late=int(self.late[slot]),
            duplicates=int(self.duplicates[slot]),
            underruns=int(self.underruns[slot]),
            played=int(self.played[slot]),
            resyncs=int(self.resyncs[slot]),
            highest_sequence=int(self.seq_max[slot]),
        )

    def expected(self) -> Ints:
        """Expected packets of every slot (see :class:`ReceptionStats`)."""
        current = np.where(self.seq_first >= 0, self.seq_max - self.seq_first + 1, 0)
        result: Ints = self.expected_before + current
        return result

    def mark_quiet(self, slot: int, until_tick: int) -> None:
        """Missing frames of this leg are not underruns until ``until_tick`` (DTMF, CN)."""
        self.quiet_until[slot] = max(int(self.quiet_until[slot]), until_tick)

    # --- sequence numbers --------------------------------------------------------------------

    def _start_source(self, slot: int, ssrc: int, sequence: int) -> None:
        if self.seq_first[slot] >= 0:
            self.expected_before[slot] += self.seq_max[slot] - self.seq_first[slot] + 1
        self.ssrc[slot] = ssrc
        self.seq_first[slot] = sequence
        self.seq_max[slot] = sequence

    def count_packet(self, slot: int, ssrc: int, sequence: int) -> bool:
        """Count a packet that carries no audio (e.g. DTMF) in the sequence statistics.

        Returns False (and counts nothing) for a packet of another source than the current
        one once the leg is synced: it does not re-sync the audio.
        """
        if self.seq_first[slot] < 0 or (not self.synced[slot] and self.ssrc[slot] != ssrc):
            self._start_source(slot, ssrc, sequence)
        elif self.ssrc[slot] != ssrc:
            return False
        else:
            extended = int(self.seq_max[slot] + sequence_delta(sequence, self.seq_max[slot]))
            self.seq_max[slot] = max(int(self.seq_max[slot]), extended)
        self.received[slot] += 1
        return True

    # --- storing -------------------------------------------------------------------------

    def put(
        self,
        slots: Ints,
        ssrcs: Ints,
        sequences: Ints,
        timestamps: Ints,
        frames: Frames,
    ) -> None:
        """Store one 20 ms frame per packet for a batch of packets (any legs, any order).

        ``frames`` has shape (packets, 160). Packets that cannot take the vectorised path
        (first of a source, misaligned, out of the window) are handed to
        :meth:`put_samples` -- only the first of each leg: once it has re-synced its leg,
        that leg's other packets of the batch usually fit and are stored vectorised.
        """
        pending = np.arange(len(slots))
        while len(pending):
            slow = pending[
                self._put_vectorised(
                    slots[pending],
                    ssrcs[pending],
                    sequences[pending],
                    timestamps[pending],
                    frames[pending],
                )
            ]
            if not len(slow):
                return
            # The first odd packet of each leg, one by one (it may re-sync the leg); the rest
            # of those legs' packets are then tried again, vectorised, against the new state.
            _, first = np.unique(slots[slow], return_index=True)
            firsts = slow[np.sort(first)]
            for index in firsts.tolist():
                self.put_samples(
                    int(slots[index]),
                    int(ssrcs[index]),
                    int(sequences[index]),
                    int(timestamps[index]),
                    frames[index],
                )
            pending = slow[np.isin(slow, firsts, invert=True)]

    def _put_vectorised(
        self,
        slots: Ints,
        ssrcs: Ints,
        sequences: Ints,
        timestamps: Ints,
        frames: Frames,
    ) -> npt.NDArray[np.intp]:
        """Store the packets that fit the window; count the late ones; return the indexes of
        the rest (first of a source, misaligned, beyond the window)."""
        play_ts = self.anchor[slots] + self.play[slots] * FRAME
        delta = timestamp_delta(timestamps, play_ts)
        same = self.synced[slots] & (self.ssrc[slots] == ssrcs) & ~self.need_resync[slots]
        fits = same & (delta >= 0) & (delta <= (self.frames - 1) * FRAME) & (delta % FRAME == 0)
        late = same & (delta < 0)
        counted = fits | late
        if counted.any():
            self._count_sequences(slots[counted], sequences[counted])
        if fits.any():
            self._store(slots[fits], delta[fits] // FRAME, frames[fits])
        if late.any():
            late_slots = slots[late]
            add = np.bincount(late_slots, minlength=self.capacity)
            self.late += add
            self.received += add  # late is not lost (RFC 3550 counts it received)
            self.late_run += add
            self.need_resync |= self.late_run >= self.late_resync
        return np.flatnonzero(~counted)

    def _count_sequences(self, slots: Ints, sequences: Ints) -> None:
        """Extend the highest sequence number (reception counts are kept by the caller)."""
        extended = self.seq_max[slots] + sequence_delta(sequences, self.seq_max[slots])
        np.maximum.at(self.seq_max, slots, extended)

    def _store(self, slots: Ints, ahead: Ints, frames: Frames) -> None:
        """Write whole frames ``ahead`` frames after each leg's play position."""
        keys = self._row_base[slots] + (self.play[slots] + ahead) % self.frames
        _, first = np.unique(keys, return_index=True)
        repeated = np.ones(len(keys), dtype=np.bool_)
        repeated[first] = False
        duplicate = repeated | self._flat_filled[keys]
        self._flat_ring[keys] = frames
        self._flat_filled[keys] = True
        received = np.bincount(slots[~duplicate], minlength=self.capacity)
        self.received += received
        if duplicate.any():
            self.duplicates += np.bincount(slots[duplicate], minlength=self.capacity)
        self.late_run[slots] = 0

    def put_samples(
        self, slot: int, ssrc: int, sequence: int, timestamp: int, samples: Frames
    ) -> str:
        """Store one packet's samples (any length); returns what happened to it.

        The result is one of ``"stored"``, ``"duplicate"``, ``"late"`` or ``"resync"`` (the
        packet re-synced the leg and was stored).
        """
        outcome = "stored"
        if (
            not self.synced[slot]
            or self.ssrc[slot] != ssrc
            or self.need_resync[slot]
            or self.seq_first[slot] < 0
        ):
            self._sync(slot, ssrc, sequence, timestamp, new_source=self.ssrc[slot] != ssrc)
            outcome = "resync"
        else:
            extended = int(self.seq_max[slot] + sequence_delta(sequence, self.seq_max[slot]))
            self.seq_max[slot] = max(int(self.seq_max[slot]), extended)
        size = len(samples)
        delta = int(timestamp_delta(timestamp, self.anchor[slot] + self.play[slot] * FRAME))
        if delta < 0:
            self.late[slot] += 1
            self.received[slot] += 1
            self.late_run[slot] += 1
            if self.late_run[slot] >= self.late_resync:
                self.need_resync[slot] = True
            return "late"
        window = self.frames * FRAME
        realign = delta % FRAME != 0 and size % FRAME == 0 and not self.filled[slot].any()
        if delta + size > window or realign:
            self._sync(slot, ssrc, sequence, timestamp, new_source=False)
            outcome = "resync"
            delta = self.depth * FRAME
            samples = samples[: window - delta]
            size = len(samples)
        frame = int(self.play[slot]) + delta // FRAME
        offset = delta % FRAME
        whole = offset == 0 and size == FRAME
        fresh = not whole  # parts of frames cannot be told from duplicates: count them received
        written = 0
        while written < size:
            row = frame % self.frames
            take = min(FRAME - offset, size - written)
            if not self.filled[slot, row]:
                self.ring[slot, row] = 0
                self.filled[slot, row] = True
                fresh = True
            self.ring[slot, row, offset : offset + take] = samples[written : written + take]
            written += take
            offset = 0
            frame += 1
        if fresh:
            self.received[slot] += 1
        else:
            self.duplicates[slot] += 1
            outcome = "duplicate" if outcome == "stored" else outcome
        self.late_run[slot] = 0
        return outcome

    def _sync(self, slot: int, ssrc: int, sequence: int, timestamp: int, new_source: bool) -> None:
        """Make this packet's timestamp frame 0, played ``depth`` ticks from now."""
        if self.synced[slot]:
            self.resyncs[slot] += 1
        if new_source or self.seq_first[slot] < 0:
            self._start_source(slot, ssrc, sequence)
        self.synced[slot] = True
        self.anchor[slot] = timestamp
        self.play[slot] = -self.depth
        self.filled[slot] = False
        self.late_run[slot] = 0
        self.need_resync[slot] = False

    # --- playing -------------------------------------------------------------------------

    def pull(self, out: Frames, tick: int) -> Bools:
        """Play one frame of every slot into ``out[:capacity]``; return which had audio.

        Slots that are not synced, and frames that did not arrive, give silence.
        """
        slots_out = out[: self.capacity]
        keys = self._row_base + self.play % self.frames
        np.take(self._flat_ring, keys, axis=0, out=slots_out)
        have = self._flat_filled[keys] & self.synced
        slots_out[~have] = 0
        self._flat_filled[keys] = False
        missing = self.synced & ~have & (self.play >= 0) & (tick >= self.quiet_until)
        if missing.any():  # a hole counts only if later audio is already waiting behind it
            missing &= self.filled.any(axis=1)
            self.underruns += missing
        self.played += have
        self.play += self.synced
        return have
