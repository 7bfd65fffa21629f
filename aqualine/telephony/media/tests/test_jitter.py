"""The jitter buffer on its own: frames are marked with their number so that what is played out
can be read back. No sockets, no clock: ticks are counted by hand."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from aqualine.telephony.media.jitter import FRAME, JitterBuffer

DEPTH = 2
SSRC = 0x1234


def frames(values: Sequence[int], size: int = FRAME) -> np.ndarray:
    """One frame per value, every sample of it equal to the value."""
    return np.repeat(np.array(values, dtype=np.int16)[:, np.newaxis], size, axis=1)


def put(
    buffer: JitterBuffer,
    packets: Sequence[int],
    *,
    slot: int = 0,
    ssrc: int = SSRC,
    first_seq: int = 100,
    first_ts: int = 8000,
) -> None:
    """Packets given by frame number n: sequence first_seq + n, timestamp first_ts + 160 n,
    every sample equal to n + 1 (so that silence, 0, is never a frame)."""
    count = len(packets)
    numbers = np.array(packets, dtype=np.int64)
    buffer.put(
        np.full(count, slot, dtype=np.int64),
        np.full(count, ssrc, dtype=np.int64),
        (first_seq + numbers) & 0xFFFF,
        (first_ts + numbers * FRAME) & 0xFFFFFFFF,
        frames([n + 1 for n in packets]),
    )


class Player:
    """Pulls one frame a tick and remembers what each slot played (first sample, 0 = none)."""

    def __init__(self, buffer: JitterBuffer) -> None:
        self.buffer = buffer
        self.out = np.zeros((buffer.capacity, FRAME), dtype=np.int16)
        self.tick = 0
        self.played: list[list[int]] = [[] for _ in range(buffer.capacity)]

    def pull(self, ticks: int = 1) -> None:
        for _ in range(ticks):
            self.buffer.pull(self.out, self.tick)
            assert (self.out == self.out[:, :1]).all(), "a frame was played out of pieces"
            for slot in range(self.buffer.capacity):
                self.played[slot].append(int(self.out[slot, 0]))
            self.tick += 1

    def heard(self, slot: int = 0) -> list[int]:
        """Frame numbers played (silence left out)."""
        return [value - 1 for value in self.played[slot] if value]


@pytest.fixture
def buffer() -> JitterBuffer:
    return JitterBuffer(4, depth=DEPTH, frames=8)


def test_packets_in_order_are_played_in_order_after_the_depth(buffer: JitterBuffer) -> None:
    player = Player(buffer)
    for n in range(10):
        put(buffer, [n])
        player.pull()
    player.pull(DEPTH)
    assert player.played[0] == [0] * DEPTH + [n + 1 for n in range(10)]
    stats = buffer.stats(0)
    assert (stats.received, stats.expected, stats.lost) == (10, 10, 0)
    assert (stats.underruns, stats.late, stats.duplicates, stats.played) == (0, 0, 0, 10)


def test_reordered_packets_are_played_in_timestamp_order(buffer: JitterBuffer) -> None:
    player = Player(buffer)
    put(buffer, [0])
    put(buffer, [2, 1])
    player.pull()
    put(buffer, [4, 3])
    player.pull(6)
    assert player.heard() == [0, 1, 2, 3, 4]
    assert buffer.stats(0).underruns == 0
    assert buffer.stats(0).lost == 0


def test_a_lost_packet_is_silence_an_underrun_and_counted_lost(buffer: JitterBuffer) -> None:
    player = Player(buffer)
    for n in (0, 1, 3, 4):
        put(buffer, [n])
        player.pull()
    player.pull(DEPTH + 1)
    assert player.played[0][DEPTH : DEPTH + 5] == [1, 2, 0, 4, 5]
    stats = buffer.stats(0)
    assert (stats.received, stats.expected, stats.lost) == (4, 5, 1)
    assert stats.underruns == 1


def test_a_packet_after_its_frame_was_played_is_late_and_dropped(buffer: JitterBuffer) -> None:
    player = Player(buffer)
    put(buffer, [0])
    player.pull(DEPTH + 2)  # frames 0 and 1 are due: 1 was missing, and nothing came after it
    put(buffer, [1, 2])
    player.pull(3)
    assert player.heard() == [0, 2]
    stats = buffer.stats(0)
    assert stats.late == 1
    assert stats.received == 3  # it did arrive: late is not lost
    assert stats.lost == 0


def test_a_stream_that_stops_causes_no_underruns(buffer: JitterBuffer) -> None:
    player = Player(buffer)
    put(buffer, [0, 1, 2])
    player.pull(20)
    assert player.heard() == [0, 1, 2]
    assert buffer.stats(0).underruns == 0


def test_duplicates_are_played_once_and_counted(buffer: JitterBuffer) -> None:
    player = Player(buffer)
    put(buffer, [0, 1, 1])  # in one batch
    put(buffer, [1, 2])  # and again later
    player.pull(DEPTH + 3)
    assert player.heard() == [0, 1, 2]
    stats = buffer.stats(0)
    assert stats.duplicates == 2
    assert (stats.received, stats.expected, stats.lost) == (3, 3, 0)


@pytest.mark.parametrize("first_seq", [65533, 0xFFFF])
def test_sequence_numbers_and_timestamps_wrap_around(buffer: JitterBuffer, first_seq: int) -> None:
    player = Player(buffer)
    first_ts = 2**32 - 3 * FRAME  # the timestamp wraps at the fourth packet
    for n in range(8):
        put(buffer, [n], first_seq=first_seq, first_ts=first_ts)
        player.pull()
    put(buffer, [9, 8], first_seq=first_seq, first_ts=first_ts)
    player.pull(DEPTH + 2)
    assert player.heard() == list(range(10))
    stats = buffer.stats(0)
    assert (stats.received, stats.expected, stats.lost) == (10, 10, 0)
    assert stats.highest_sequence == first_seq + 9
    assert stats.resyncs == 0


def test_a_new_ssrc_resyncs_the_leg(buffer: JitterBuffer) -> None:
    player = Player(buffer)
    put(buffer, [0, 1])
    player.pull(DEPTH + 2)
    put(buffer, [0, 1], ssrc=99, first_seq=5000, first_ts=123456)
    player.pull(DEPTH + 2)
    assert player.heard() == [0, 1, 0, 1]
    stats = buffer.stats(0)
    assert stats.resyncs == 1
    assert (stats.received, stats.expected) == (4, 4)


def test_a_jump_far_ahead_resyncs_instead_of_overwriting(buffer: JitterBuffer) -> None:
    player = Player(buffer)
    put(buffer, [0])
    player.pull()
    put(buffer, [500, 501])  # 10 s later: a new talkspurt, say
    player.pull(DEPTH + 2)
    assert player.heard() == [500, 501]
    assert buffer.stats(0).resyncs == 1


def test_a_sender_that_fell_behind_is_resynced_after_a_few_late_packets() -> None:
    buffer = JitterBuffer(1, depth=DEPTH, frames=8, late_resync=3)
    player = Player(buffer)
    put(buffer, [0])
    player.pull(DEPTH + 6)  # the sender stalls for 6 frames, then carries on from where it was
    for n in range(1, 7):
        put(buffer, [n])
        player.pull()
    player.pull(DEPTH)
    heard = player.heard()
    assert heard[0] == 0
    assert heard[1:] == [4, 5, 6]  # 1, 2, 3 were late; the packet after the third re-synced
    stats = buffer.stats(0)
    assert stats.late == 3
    assert stats.resyncs == 1


def test_legs_are_independent_in_one_batch() -> None:
    buffer = JitterBuffer(3, depth=DEPTH, frames=8)
    player = Player(buffer)
    put(buffer, [0, 1], slot=0)
    put(buffer, [0], slot=2, ssrc=7, first_seq=60000, first_ts=99)
    player.pull(DEPTH + 2)
    assert player.heard(0) == [0, 1]
    assert player.heard(1) == []
    assert player.heard(2) == [0]


@pytest.mark.parametrize("size", [80, 240, 480])
def test_packets_of_other_sizes_are_played_as_continuous_audio(size: int) -> None:
    buffer = JitterBuffer(1, depth=DEPTH, frames=8)
    out = np.zeros((1, FRAME), dtype=np.int16)
    signal = np.arange(1, 20 * FRAME + 1, dtype=np.int16)
    played = []
    tick = 0
    for start in range(0, len(signal), size):
        buffer.put_samples(0, SSRC, start // size, 1000 + start, signal[start : start + size])
        while (tick + 1) * FRAME <= start + size:
            buffer.pull(out, tick)
            played.append(out[0].copy())
            tick += 1
    for _ in range(DEPTH + 3):
        buffer.pull(out, tick)
        played.append(out[0].copy())
        tick += 1
    audio = np.concatenate(played)
    audio = audio[audio != 0]
    assert np.array_equal(audio, signal)
    assert buffer.stats(0).underruns == 0
    assert buffer.stats(0).duplicates == 0


def test_quiet_legs_do_not_count_underruns(buffer: JitterBuffer) -> None:
    player = Player(buffer)
    put(buffer, [0])
    buffer.mark_quiet(0, until_tick=100)  # a DTMF event stands in for frames 1..4
    put(buffer, [5])
    player.pull(DEPTH + 6)
    assert player.heard() == [0, 5]
    assert buffer.stats(0).underruns == 0


def test_a_reset_slot_starts_from_nothing(buffer: JitterBuffer) -> None:
    player = Player(buffer)
    put(buffer, [0, 1, 3])
    player.pull(DEPTH + 4)
    buffer.reset(0)
    stats = buffer.stats(0)
    assert (stats.received, stats.expected, stats.underruns, stats.highest_sequence) == (
        0,
        0,
        0,
        -1,
    )
    put(buffer, [7])
    player.pull(DEPTH + 1)
    assert player.heard()[-1] == 7


def test_a_buffer_grows_keeping_what_it_holds(buffer: JitterBuffer) -> None:
    player = Player(buffer)
    put(buffer, [0, 1], slot=3)
    buffer.grow(16)
    player = Player(buffer)
    player.pull(DEPTH + 2)
    assert player.heard(3) == [0, 1]
    assert buffer.capacity == 16


def test_sequence_only_packets_count_for_loss_statistics(buffer: JitterBuffer) -> None:
    put(buffer, [0])
    assert buffer.count_packet(0, SSRC, 101)  # a DTMF packet between audio packets
    put(buffer, [2])
    stats = buffer.stats(0)
    assert (stats.received, stats.expected, stats.lost) == (3, 3, 0)
    assert not buffer.count_packet(0, 555, 7)  # another source's events: not counted


def test_after_a_resync_the_rest_of_the_batch_is_stored_in_bulk(
    buffer: JitterBuffer, monkeypatch: pytest.MonkeyPatch
) -> None:
    one_by_one: list[int] = []
    original = buffer.put_samples

    def counting(slot: int, *args: object) -> str:
        one_by_one.append(slot)
        return original(slot, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(buffer, "put_samples", counting)
    player = Player(buffer)
    put(buffer, [0, 1, 2, 3, 4], slot=0)
    put(buffer, [0, 1, 2], slot=1, ssrc=5)
    put(buffer, [400, 401, 402], slot=0)  # a jump: re-syncs leg 0
    player.pull(DEPTH + 3)
    assert one_by_one == [0, 1, 0]  # one packet a leg a batch took the slow way
    assert player.heard(0) == [400, 401, 402]
    assert player.heard(1) == [0, 1, 2]
