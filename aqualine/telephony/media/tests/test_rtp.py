from __future__ import annotations

import struct

import pytest

from aqualine.telephony.media.rtp import (
    RTCP_BYE,
    RTCP_RR,
    RTCP_SDES,
    RTCP_SR,
    DtmfDetector,
    RtcpError,
    RtpError,
    RtpHeaderExtension,
    RtpPacket,
    SequenceUnwrapper,
    TelephoneEvent,
    build_bye,
    build_receiver_report,
    build_rtp,
    build_sdes_cname,
    build_sender_report,
    digit_to_event,
    dtmf_event_sequence,
    event_to_digit,
    looks_like_rtcp,
    ntp_timestamp,
    pack_rtp_header_into,
    parse_rtcp,
    parse_rtp,
    parse_sender_report,
    parse_telephone_event,
    sequence_delta,
    try_parse_rtcp,
    try_parse_rtp,
)

# --- RTP -----------------------------------------------------------------------------------------


def test_a_plain_packet_has_the_rfc_3550_fixed_header() -> None:
    data = build_rtp(0, 0x1234, 0xDEADBEEF, 0x01020304, b"\xff" * 160, marker=True)
    assert data[:12] == bytes.fromhex("80 80 1234 deadbeef 01020304")
    assert len(data) == 172


def test_a_built_packet_parses_back_to_the_same_fields() -> None:
    packet = parse_rtp(build_rtp(8, 65535, 2**32 - 1, 42, b"abc"))
    assert packet == RtpPacket(8, 65535, 2**32 - 1, 42, b"abc")


def test_csrcs_extension_and_padding_round_trip() -> None:
    packet = RtpPacket(
        payload_type=96,
        sequence=7,
        timestamp=160,
        ssrc=9,
        payload=b"payload",
        marker=True,
        csrcs=(1, 2, 3),
        extension=RtpHeaderExtension(0xBEDE, b"\x10\xaa\x00\x00"),
        padding=5,
    )
    data = packet.to_bytes()
    assert data[0] == 0x80 | 0x20 | 0x10 | 3
    assert data[-1] == 5
    assert parse_rtp(data) == packet


def test_the_header_extension_is_skipped_to_find_the_payload() -> None:
    header = bytes.fromhex("90 00 0001 00000000 00000001")
    extension = struct.pack("!HH", 0x1000, 2) + b"\x01" * 8
    packet = parse_rtp(header + extension + b"voice")
    assert packet.payload == b"voice"
    assert packet.extension == RtpHeaderExtension(0x1000, b"\x01" * 8)


def test_padding_octets_are_removed_from_the_payload() -> None:
    data = bytes.fromhex("a0 00 0001 00000000 00000001") + b"voice" + b"\x00\x00\x03"
    assert parse_rtp(data).payload == b"voice"


def test_the_header_helper_writes_into_a_preallocated_buffer() -> None:
    buffer = bytearray(24)
    pack_rtp_header_into(buffer, 12, 0, 65536 + 5, 2**32 + 7, 3, marker=True)
    assert parse_rtp(bytes(buffer[12:])) == RtpPacket(0, 5, 7, 3, marker=True)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "too short"),
        (bytes.fromhex("80 00 0001 00000000"), "too short"),
        (bytes.fromhex("40 00 0001 00000000 00000001"), "version"),
        (bytes.fromhex("c0 00 0001 00000000 00000001"), "version"),
        (bytes.fromhex("82 00 0001 00000000 00000001 00000002"), "CSRC"),
        (bytes.fromhex("90 00 0001 00000000 00000001 1000"), "extension"),
        (bytes.fromhex("90 00 0001 00000000 00000001 1000 0005 00000000"), "extension"),
        (bytes.fromhex("a0 00 0001 00000000 00000001 00"), "padding"),
        (bytes.fromhex("a0 00 0001 00000000 00000001 0102 09"), "padding"),
    ],
)
def test_malformed_packets_raise_a_typed_error(data: bytes, reason: str) -> None:
    with pytest.raises(RtpError, match=reason):
        parse_rtp(data)
    assert try_parse_rtp(data) is None


def test_rtp_errors_are_value_errors_so_callers_can_catch_either() -> None:
    assert issubclass(RtpError, ValueError)


def test_packet_fields_out_of_range_are_refused_when_building() -> None:
    with pytest.raises(ValueError):
        RtpPacket(128, 0, 0, 0)
    with pytest.raises(ValueError):
        RtpPacket(0, 65536, 0, 0)
    with pytest.raises(ValueError):
        RtpPacket(0, 0, 0, 0, csrcs=tuple(range(16)))


def test_rtcp_is_told_apart_from_rtp_on_a_multiplexed_port() -> None:
    assert looks_like_rtcp(build_receiver_report(1))
    assert not looks_like_rtcp(build_rtp(0, 1, 1, 1, b"x"))
    assert not looks_like_rtcp(build_rtp(101, 1, 1, 1, b"x", marker=True))


def test_sequence_distance_wraps_around() -> None:
    assert sequence_delta(2, 65534) == 4
    assert sequence_delta(65534, 2) == -4
    unwrapper = SequenceUnwrapper()
    assert [unwrapper.extend(s) for s in (65534, 65535, 0, 65533, 1)] == [
        65534,
        65535,
        65536,
        65533,
        65537,
    ]


# --- RFC 4733 ------------------------------------------------------------------------------------


def test_telephone_event_payload_layout() -> None:
    event = TelephoneEvent(event=11, end=True, volume=10, duration=800)
    assert event.to_bytes() == bytes.fromhex("0b 8a 0320")
    assert parse_telephone_event(event.to_bytes()) == event
    assert event.digit == "#"


def test_the_reserved_bit_is_ignored_when_parsing() -> None:
    assert parse_telephone_event(bytes.fromhex("05 4a 00a0")) == TelephoneEvent(5, False, 10, 160)


def test_a_short_telephone_event_payload_is_malformed() -> None:
    with pytest.raises(RtpError):
        parse_telephone_event(b"\x01\x02\x03")


def test_digits_map_to_rfc_4733_event_codes() -> None:
    assert [digit_to_event(d) for d in "09*#ad"] == [0, 9, 10, 11, 12, 15]
    assert event_to_digit(16) is None
    with pytest.raises(ValueError):
        digit_to_event("x")


def test_a_key_press_is_sent_as_updates_then_three_end_packets() -> None:
    events = dtmf_event_sequence(5, duration=800, packet_interval=160)
    assert [(e.duration, e.end) for e in events] == [
        (160, False),
        (320, False),
        (480, False),
        (640, False),
        (800, True),
        (800, True),
        (800, True),
    ]


def _packets(
    event: int, timestamp: int, *, first_sequence: int = 1, ssrc: int = 7
) -> list[RtpPacket]:
    return [
        RtpPacket(101, first_sequence + i, timestamp, ssrc, e.to_bytes(), marker=i == 0)
        for i, e in enumerate(dtmf_event_sequence(event))
    ]


def test_a_digit_is_detected_once_despite_three_end_packets() -> None:
    detector = DtmfDetector()
    digits = [d for packet in _packets(1, 1000) for d in detector.feed(packet)]
    assert [(d.digit, d.duration, d.timestamp) for d in digits] == [("1", 800, 1000)]


def test_the_same_digit_pressed_twice_is_reported_twice() -> None:
    detector = DtmfDetector()
    packets = _packets(1, 1000) + _packets(1, 3000, first_sequence=20)
    assert "".join(d.digit for p in packets for d in detector.feed(p)) == "11"


def test_end_packets_arriving_again_after_reordering_are_not_reported_again() -> None:
    detector = DtmfDetector()
    first = _packets(2, 1000)
    second = _packets(3, 3000, first_sequence=20)
    stream = [*first[:5], *second[:2], first[5], *second[2:], first[6], first[3]]
    assert "".join(d.digit for p in stream for d in detector.feed(p)) == "23"


def test_a_press_whose_end_packets_were_all_lost_is_reported_when_the_next_one_starts() -> None:
    detector = DtmfDetector()
    lost_ends = _packets(4, 1000)[:4]
    reported = [d.digit for p in lost_ends for d in detector.feed(p)]
    assert reported == []
    next_press = _packets(5, 3000, first_sequence=20)
    assert [d.digit for d in detector.feed(next_press[0])] == ["4"]
    assert [d.digit for p in next_press[1:] for d in detector.feed(p)] == ["5"]


def test_flush_reports_a_press_that_is_still_open_at_hang_up() -> None:
    detector = DtmfDetector()
    for packet in _packets(9, 1000)[:2]:
        detector.feed(packet)
    assert [d.digit for d in detector.flush()] == ["9"]
    assert detector.flush() == []


def test_a_long_press_split_into_segments_counts_once() -> None:
    detector = DtmfDetector()
    first = TelephoneEvent(6, False, 10, 0xFFFF)
    rest = TelephoneEvent(6, True, 10, 800)
    assert detector.feed_event(7, 1000, first) == []
    digits = detector.feed_event(7, 1000 + 0xFFFF, rest)
    assert [(d.digit, d.duration, d.timestamp) for d in digits] == [("6", 0xFFFF + 800, 1000)]
    assert detector.feed_event(7, 1000 + 0xFFFF, rest) == []


def test_presses_from_different_sources_are_kept_apart() -> None:
    detector = DtmfDetector()
    a = _packets(1, 1000, ssrc=1)
    b = _packets(2, 1000, ssrc=2)
    digits = [d.digit for p in a[:5] + b + a[5:] for d in detector.feed(p)]
    assert sorted(digits) == ["1", "2"]


def test_events_that_are_not_keys_are_not_reported() -> None:
    detector = DtmfDetector()
    flash = RtpPacket(101, 1, 1000, 7, TelephoneEvent(16, True, 10, 800).to_bytes())
    assert detector.feed(flash) == []
    assert detector.flush() == []


def test_a_malformed_telephone_event_is_an_rtp_error_not_a_crash() -> None:
    with pytest.raises(RtpError):
        DtmfDetector().feed(RtpPacket(101, 1, 1000, 7, b"\x01"))


# --- RTCP ----------------------------------------------------------------------------------------


def test_a_sender_report_carries_ntp_time_and_counts() -> None:
    data = build_sender_report(
        0xCAFE, unix_time=0.5, rtp_timestamp=1600, packet_count=10, octet_count=1600
    )
    [packet] = parse_rtcp(data)
    assert (packet.packet_type, packet.count, packet.ssrc) == (RTCP_SR, 0, 0xCAFE)
    report = parse_sender_report(packet)
    assert report.ntp_timestamp == (2_208_988_800 << 32) | (1 << 31)
    assert (report.rtp_timestamp, report.packet_count, report.octet_count) == (1600, 10, 1600)


def test_ntp_timestamps_count_seconds_since_1900() -> None:
    assert ntp_timestamp(0.0) >> 32 == 2_208_988_800


def test_a_compound_report_with_cname_and_bye_parses_into_its_packets() -> None:
    data = build_receiver_report(5) + build_sdes_cname(5, "leg@aqualine") + build_bye(5, "hangup")
    assert len(data) % 4 == 0
    packets = parse_rtcp(data)
    assert [p.packet_type for p in packets] == [RTCP_RR, RTCP_SDES, RTCP_BYE]
    sdes = packets[1].body
    assert sdes[4:6] == bytes([1, len("leg@aqualine")]) and b"leg@aqualine" in sdes
    assert packets[2].count == 1 and packets[2].body[5:11] == b"hangup"


def test_cnames_of_every_length_stay_32_bit_aligned_with_a_null_terminator() -> None:
    for length in range(1, 12):
        data = build_sdes_cname(1, "x" * length)
        assert len(data) % 4 == 0
        assert data[-1] == 0
        assert parse_rtcp(data)[0].packet_type == RTCP_SDES


def test_an_rtcp_packet_with_padding_has_it_removed() -> None:
    data = bytes.fromhex("a0 c9 0002 00000005") + b"\x00\x00\x00\x04"
    [packet] = parse_rtcp(data)
    assert packet.body == bytes.fromhex("00000005")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x80\xc8",
        bytes.fromhex("40 c8 0000"),
        bytes.fromhex("80 c9 0005 00000001"),
        build_receiver_report(1) + b"\x80",
        bytes.fromhex("a0 c9 0001 00000000"),
    ],
)
def test_malformed_rtcp_raises_a_typed_error(data: bytes) -> None:
    with pytest.raises(RtcpError):
        parse_rtcp(data)
    assert try_parse_rtcp(data) is None


def test_a_report_that_is_not_a_sender_report_is_refused() -> None:
    with pytest.raises(RtcpError):
        parse_sender_report(parse_rtcp(build_receiver_report(1))[0])
