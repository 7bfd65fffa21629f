"""RFC 4733 DTMF as the clock sends it (one slot a tick) and as it reads it back."""

from __future__ import annotations

import pytest

from aqualine.telephony.media.dtmf import DtmfDetector, DtmfPacket, DtmfSender
from aqualine.telephony.media.rtp import TelephoneEvent, parse_telephone_event

SSRC = 0xCAFE


def run(sender: DtmfSender, first_timestamp: int = 1000) -> list[DtmfPacket | None]:
    """Step the sender like the clock does: the audio timestamp advances 160 a tick."""
    slots: list[DtmfPacket | None] = []
    timestamp = first_timestamp
    while not sender.finished:
        slots.append(sender.step(timestamp))
        timestamp = (timestamp + 160) & 0xFFFFFFFF
    return slots


def events(slots: list[DtmfPacket | None]) -> list[tuple[int, TelephoneEvent, bool]]:
    return [(p.timestamp, parse_telephone_event(p.payload), p.marker) for p in slots if p]


def test_one_key_press_is_a_start_updates_and_three_end_packets() -> None:
    slots = run(DtmfSender("5", duration_ms=100, gap_ms=60))
    sent = events(slots)
    assert [e.event for _, e, _ in sent] == [5] * 7
    assert [e.duration for _, e, _ in sent] == [160, 320, 480, 640, 800, 800, 800]
    assert [e.end for _, e, _ in sent] == [False] * 4 + [True] * 3
    assert [marker for _, _, marker in sent] == [True] + [False] * 6
    assert {timestamp for timestamp, _, _ in sent} == {1000}  # all of the press's timestamp
    assert slots[7:] == [None] * 3  # then 60 ms without events


def test_each_press_takes_the_timestamp_of_the_tick_it_starts_on() -> None:
    sent = events(run(DtmfSender("12", duration_ms=60, gap_ms=40), first_timestamp=2**32 - 320))
    firsts = [(timestamp, e.event) for timestamp, e, marker in sent if marker]
    assert firsts == [(2**32 - 320, 1), ((2**32 - 320 + 7 * 160) % 2**32, 2)]


def test_retransmitted_end_packets_give_one_digit_each() -> None:
    detector = DtmfDetector()
    pressed = []
    for timestamp, event, _ in events(run(DtmfSender("1234*#", duration_ms=80, gap_ms=40))):
        pressed += detector.feed_event(SSRC, timestamp, event)
    assert "".join(digit.digit for digit in pressed) == "1234*#"
    assert {digit.duration for digit in pressed} == {640}


def test_a_press_whose_end_packets_were_all_lost_is_reported_when_the_next_one_starts() -> None:
    detector = DtmfDetector()
    sent = events(run(DtmfSender("78", duration_ms=60, gap_ms=40)))
    pressed = []
    for timestamp, event, _ in sent:
        if event.event == 7 and event.end:
            continue  # lost on the way
        pressed += detector.feed_event(SSRC, timestamp, event)
    assert [digit.digit for digit in pressed] == ["7", "8"]


def test_a_duplicated_stream_still_gives_each_digit_once() -> None:
    detector = DtmfDetector()
    sent = events(run(DtmfSender("90", duration_ms=60, gap_ms=40)))
    pressed = []
    for timestamp, event, _ in sent + sent:  # the whole stream again, e.g. a looping proxy
        pressed += detector.feed_event(SSRC, timestamp, event)
    assert [digit.digit for digit in pressed] == ["9", "0"]


@pytest.mark.parametrize(
    ("digits", "options"),
    [("", {}), ("x", {}), ("1", {"duration_ms": 10}), ("1", {"gap_ms": -1})],
)
def test_bad_requests_are_refused(digits: str, options: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        DtmfSender(digits, **options)


def test_stepping_a_finished_sender_is_an_error() -> None:
    sender = DtmfSender("1", duration_ms=40, gap_ms=0)
    run(sender)
    assert sender.remaining == 0
    with pytest.raises(RuntimeError):
        sender.step(0)
