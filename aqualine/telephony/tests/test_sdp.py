"""SDP parsing, writing and offer/answer for the G.711 B2BUA."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aqualine.telephony.sdp import (
    Attribute,
    Codec,
    Connection,
    Direction,
    NegotiatedAudio,
    SdpError,
    SdpNegotiationError,
    SessionDescription,
    build_offer,
    build_offer_sdp,
    format_event_list,
    negotiate_answer,
    parse_answer,
    parse_event_list,
    parse_sdp,
)


def crlf(text: str) -> bytes:
    """A body as phones send it: CRLF line ends, no indentation."""
    lines = [line.strip() for line in text.strip().splitlines()]
    return ("\r\n".join(lines) + "\r\n").encode()


def answer(
    offer: bytes | str,
    *,
    local_ip: str = "10.1.1.1",
    supported: tuple[str, ...] = ("PCMU", "PCMA"),
    direction_override: Direction | str | None = None,
) -> tuple[SessionDescription, NegotiatedAudio]:
    """Answer an offer; the answer comes back parsed from the bytes we would send."""
    result = negotiate_answer(
        offer,
        local_ip=local_ip,
        local_port=40000,
        session_id=7,
        session_version=1,
        supported=supported,
        direction_override=direction_override,
    )
    return parse_sdp(result.to_bytes()), result.audio


# --- bodies from real phones (written by hand after what each sends) --------------------

YEALINK = crlf("""
    v=0
    o=- 20044 20044 IN IP4 192.168.10.21
    s=SDP data
    c=IN IP4 192.168.10.21
    t=0 0
    m=audio 11796 RTP/AVP 0 8 9 18 101
    a=rtpmap:0 PCMU/8000
    a=rtpmap:8 PCMA/8000
    a=rtpmap:9 G722/8000
    a=rtpmap:18 G729/8000
    a=fmtp:18 annexb=no
    a=ptime:20
    a=sendrecv
    a=rtpmap:101 telephone-event/8000
    a=fmtp:101 0-15
""")

LINPHONE = crlf("""
    v=0
    o=agent7 3102 1874 IN IP4 192.168.10.33
    s=Talk
    c=IN IP4 192.168.10.33
    t=0 0
    a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics
    a=record:off
    m=audio 7078 RTP/AVP 96 97 98 8 0 18 101 99 100
    a=rtpmap:96 opus/48000/2
    a=fmtp:96 useinbandfec=1
    a=rtpmap:97 speex/16000
    a=fmtp:97 vbr=on
    a=rtpmap:98 speex/8000
    a=fmtp:98 vbr=on
    a=fmtp:18 annexb=yes
    a=rtpmap:101 telephone-event/48000
    a=rtpmap:99 telephone-event/16000
    a=rtpmap:100 telephone-event/8000
    a=rtcp:7079
    a=rtcp-fb:* trr-int 1000
    a=rtcp-fb:* ccm tmmbr
    m=video 9078 RTP/AVP 102
    a=rtpmap:102 VP8/90000
    a=rtcp-fb:102 nack pli
    a=rtcp-fb:102 ccm fir
    a=rtcp:9079
""")

PJSUA = crlf("""
    v=0
    o=- 3898573218 3898573218 IN IP4 10.0.0.5
    s=pjmedia
    b=AS:84
    t=0 0
    a=X-nat:0
    m=audio 4000 RTP/AVP 98 97 99 104 3 0 8 9 96
    c=IN IP4 10.0.0.5
    b=AS:64000
    b=RS:0
    a=rtpmap:98 speex/16000
    a=rtpmap:97 speex/8000
    a=rtpmap:99 speex/32000
    a=rtpmap:104 iLBC/8000
    a=fmtp:104 mode=30
    a=rtpmap:3 GSM/8000
    a=rtpmap:0 PCMU/8000
    a=rtpmap:8 PCMA/8000
    a=rtpmap:9 G722/8000
    a=sendrecv
    a=rtcp:4001 IN IP4 10.0.0.5
    a=ssrc:1457219842 cname:5a1c4e2d0f3b4a6e
    a=rtpmap:96 telephone-event/8000
    a=fmtp:96 0-16
""")

SIPP = crlf("""
    v=0
    o=user1 53655765 2353687637 IN IP4 127.0.0.1
    s=-
    c=IN IP4 127.0.0.1
    t=0 0
    m=audio 6000 RTP/AVP 0
    a=rtpmap:0 PCMU/8000
""")

# A carrier trunk: IPv6, static payload types without rtpmap, LF-only line ends.
TRUNK_IPV6 = (
    "v=0\n"
    "o=SBC 1699 1700 IN IP6 2001:db8::10\n"
    "s=SBC call\n"
    "c=IN IP6 2001:db8::10\n"
    "t=0 0\n"
    "m=audio 20000 RTP/AVP 8 0 101\n"
    "a=rtpmap:101 telephone-event/8000\n"
    "a=fmtp:101 0-15\n"
    "a=ptime:30\n"
)


def test_it_reads_every_field_of_a_yealink_offer() -> None:
    sdp = parse_sdp(YEALINK)
    assert sdp.version == 0
    assert sdp.origin.username == "-"
    assert sdp.origin.session_id == "20044"
    assert sdp.origin.session_version == 20044
    assert (sdp.origin.nettype, sdp.origin.addrtype, sdp.origin.address) == (
        "IN",
        "IP4",
        "192.168.10.21",
    )
    assert sdp.session_name == "SDP data"
    assert sdp.connection == Connection("IN", "IP4", "192.168.10.21")
    assert (sdp.timings[0].start, sdp.timings[0].stop) == (0, 0)
    [audio] = sdp.media
    assert (audio.media, audio.port, audio.proto) == ("audio", 11796, "RTP/AVP")
    assert audio.formats == ("0", "8", "9", "18", "101")
    assert audio.rtpmaps[101].encoding == "telephone-event"
    assert audio.fmtp(18) == "annexb=no"
    assert audio.fmtp("101") == "0-15"
    assert audio.ptime == 20
    assert audio.direction is Direction.SENDRECV


def test_it_answers_a_yealink_with_pcmu_and_its_telephone_events() -> None:
    sdp, audio = answer(YEALINK)
    assert audio.codec == Codec("PCMU", 0)
    assert audio.telephone_event_pt == 101
    assert (audio.remote_address, audio.remote_port) == ("192.168.10.21", 11796)
    assert audio.direction is Direction.SENDRECV
    [media] = sdp.media
    assert media.formats == ("0", "101")
    assert media.port == 40000
    assert media.fmtp(101) == "0-15"
    assert media.ptime == 20
    assert sdp.connection == Connection("IN", "IP4", "10.1.1.1")


def test_it_answers_linphone_with_the_first_g711_codec_in_the_offer_order() -> None:
    _, audio = answer(LINPHONE)
    assert audio.codec == Codec("PCMA", 8)


def test_it_picks_the_8000_hz_telephone_event_among_several_rates() -> None:
    sdp, audio = answer(LINPHONE)
    assert audio.telephone_event_pt == 100
    assert sdp.media[0].formats == ("8", "100")
    assert "100 telephone-event/8000" in sdp.media[0].attribute_values("rtpmap")


def test_it_rejects_linphone_video_with_port_zero_in_place() -> None:
    sdp, _ = answer(LINPHONE)
    assert [m.media for m in sdp.media] == ["audio", "video"]
    assert sdp.media[1].port == 0
    assert sdp.media[1].formats == ("102",)
    assert sdp.media[1].attributes == ()


def test_it_reads_the_rtcp_port_linphone_announces() -> None:
    _, audio = answer(LINPHONE)
    assert audio.remote_rtcp_port == 7079


def test_it_keeps_session_level_attributes_linphone_sends() -> None:
    sdp = parse_sdp(LINPHONE)
    assert Attribute("record", "off") in sdp.attributes
    assert sdp.attributes[0].name == "rtcp-xr"


def test_it_answers_pjsua_using_the_media_level_connection() -> None:
    sdp = parse_sdp(PJSUA)
    assert sdp.connection is None
    _, audio = answer(PJSUA)
    assert (audio.remote_address, audio.remote_port) == ("10.0.0.5", 4000)
    assert audio.codec == Codec("PCMU", 0)
    assert audio.telephone_event_pt == 96
    assert audio.remote_rtcp_port == 4001


def test_it_answers_events_we_understand_out_of_the_offered_list() -> None:
    sdp, _ = answer(PJSUA)
    assert sdp.media[0].fmtp(96) == "0-16"


def test_it_answers_sipp_with_its_only_codec() -> None:
    sdp, audio = answer(SIPP)
    assert audio.codec == Codec("PCMU", 0)
    assert audio.telephone_event_pt is None
    assert sdp.media[0].formats == ("0",)
    assert sdp.media[0].attribute_values("fmtp") == []


def test_it_recognises_static_payload_types_without_rtpmap() -> None:
    sipp_pcma = SIPP.replace(b"RTP/AVP 0", b"RTP/AVP 8").replace(b"a=rtpmap:0 PCMU/8000\r\n", b"")
    sdp, audio = answer(sipp_pcma)
    assert audio.codec == Codec("PCMA", 8)
    assert sdp.media[0].attribute_values("rtpmap") == ["8 PCMA/8000"]


def test_it_answers_an_ipv6_trunk_from_an_ipv6_address() -> None:
    sdp, audio = answer(TRUNK_IPV6, local_ip="2001:db8::1")
    assert audio.remote_address == "2001:db8::10"
    assert audio.address_type == "IP6"
    assert audio.codec == Codec("PCMA", 8)
    assert audio.ptime == 30
    assert sdp.origin.addrtype == "IP6"
    assert sdp.connection == Connection("IN", "IP6", "2001:db8::1")


def test_it_tolerates_lf_line_ends_and_trailing_whitespace() -> None:
    sloppy = YEALINK.decode().replace("\r\n", "  \n").replace("a=ptime:20", "a=ptime:20\t")
    assert parse_sdp(sloppy) == parse_sdp(YEALINK)


def test_it_tolerates_blank_lines_and_a_missing_trailing_line_end() -> None:
    assert parse_sdp(SIPP.rstrip() + b"\r\n\r\n") == parse_sdp(SIPP)
    assert parse_sdp(SIPP.rstrip()) == parse_sdp(SIPP)


def test_it_accepts_str_and_bytes_alike() -> None:
    assert parse_sdp(PJSUA.decode()) == parse_sdp(PJSUA)


@pytest.mark.parametrize("body", [YEALINK, LINPHONE, PJSUA, SIPP])
def test_it_writes_back_what_it_read_byte_for_byte(body: bytes) -> None:
    assert parse_sdp(body).to_bytes() == body


def test_it_writes_crlf_line_ends() -> None:
    written = parse_sdp(TRUNK_IPV6).to_bytes()
    assert written.count(b"\r\n") == len(TRUNK_IPV6.splitlines())
    assert b"\n" not in written.replace(b"\r\n", b"")


def test_it_keeps_unknown_and_uninterpreted_lines() -> None:
    body = crlf("""
        v=0
        o=- 1 1 IN IP4 10.0.0.9
        s=-
        i=session info
        u=http://example.com/x
        e=ops@example.com
        c=IN IP4 10.0.0.9
        b=CT:128
        t=0 0
        r=604800 3600 0 90000
        z=2882844526 -1h
        y=something new
        m=audio 5004 RTP/AVP 0
        i=the audio
        b=AS:64
        k=prompt
        x=unknown media line
        a=rtpmap:0 PCMU/8000
    """)
    sdp = parse_sdp(body)
    assert [(line.kind, line.value) for line in sdp.other_lines] == [
        ("i", "session info"),
        ("u", "http://example.com/x"),
        ("e", "ops@example.com"),
        ("b", "CT:128"),
        ("z", "2882844526 -1h"),
        ("y", "something new"),
    ]
    assert sdp.timings[0].repeats == ("604800 3600 0 90000",)
    assert [line.kind for line in sdp.media[0].other_lines] == ["i", "b", "k", "x"]
    assert sdp.to_bytes() == body


def test_it_carries_bytes_that_are_not_utf8_through_untouched() -> None:
    body = SIPP.replace(b"s=-", "s=客服热线".encode("gbk"))
    assert parse_sdp(body).to_bytes() == body


def test_it_lets_a_media_level_direction_override_the_session_level_one() -> None:
    body = SIPP.replace(b"t=0 0\r\n", b"t=0 0\r\na=sendonly\r\n")
    sdp = parse_sdp(body)
    assert sdp.direction is Direction.SENDONLY
    assert sdp.direction_of(sdp.media[0]) is Direction.SENDONLY
    overridden = parse_sdp(body + b"a=inactive\r\n")
    assert overridden.direction_of(overridden.media[0]) is Direction.INACTIVE


def test_it_takes_sendrecv_when_no_direction_is_written() -> None:
    sdp = parse_sdp(SIPP)
    assert sdp.direction is None
    assert sdp.media[0].direction is None
    assert sdp.direction_of(sdp.media[0]) is Direction.SENDRECV


def test_it_prefers_the_media_level_connection_over_the_session_level_one() -> None:
    body = SIPP.replace(b"a=rtpmap:0", b"c=IN IP4 127.0.0.2\r\na=rtpmap:0")
    sdp = parse_sdp(body)
    assert sdp.connection_of(sdp.media[0]) == Connection("IN", "IP4", "127.0.0.2")
    _, audio = answer(body)
    assert audio.remote_address == "127.0.0.2"


def test_it_tolerates_a_missing_session_name_and_timing() -> None:
    sdp = parse_sdp(b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN IP4 1.2.3.4\r\nm=audio 9 RTP/AVP 0\r\n")
    assert sdp.session_name == "-"
    assert (sdp.timings[0].start, sdp.timings[0].stop) == (0, 0)


# --- hold --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offered", "answered"),
    [
        ("sendrecv", Direction.SENDRECV),
        ("sendonly", Direction.RECVONLY),
        ("recvonly", Direction.SENDONLY),
        ("inactive", Direction.INACTIVE),
    ],
)
def test_it_answers_each_direction_with_its_mirror(offered: str, answered: Direction) -> None:
    sdp, audio = answer(SIPP + f"a={offered}\r\n".encode())
    assert audio.direction is answered
    assert sdp.media[0].direction is answered


def test_it_mirrors_directions_for_the_other_end() -> None:
    assert Direction.SENDONLY.reversed() is Direction.RECVONLY
    assert Direction.RECVONLY.reversed() is Direction.SENDONLY
    assert Direction.SENDRECV.reversed() is Direction.SENDRECV
    assert Direction.INACTIVE.reversed() is Direction.INACTIVE


def test_it_answers_sendonly_with_recvonly() -> None:
    _, audio = answer(YEALINK.replace(b"a=sendrecv", b"a=sendonly"))
    assert audio.direction is Direction.RECVONLY
    assert audio.held_by_remote
    assert not audio.direction.sends


def test_it_does_not_send_to_an_rfc2543_hold_address() -> None:
    held = YEALINK.replace(b"c=IN IP4 192.168.10.21", b"c=IN IP4 0.0.0.0")
    sdp, audio = answer(held)
    assert audio.remote_zero_address
    assert audio.held_by_remote
    assert audio.direction is Direction.RECVONLY
    assert sdp.media[0].direction is Direction.RECVONLY


def test_it_answers_an_rfc2543_hold_that_is_also_recvonly_with_inactive() -> None:
    held = SIPP.replace(b"127.0.0.1\r\nt=", b"0.0.0.0\r\nt=") + b"a=recvonly\r\n"
    _, audio = answer(held)
    assert audio.direction is Direction.INACTIVE


def test_it_does_not_count_a_normal_offer_as_hold() -> None:
    _, audio = answer(YEALINK)
    assert not audio.held_by_remote
    assert not audio.remote_zero_address


@pytest.mark.parametrize(
    ("offered", "ours", "answered"),
    [
        ("sendrecv", "sendonly", Direction.SENDONLY),  # we hold the call: music to them
        ("sendrecv", "inactive", Direction.INACTIVE),
        ("sendonly", "sendonly", Direction.INACTIVE),  # both on hold
        ("recvonly", "sendrecv", Direction.SENDONLY),
        ("sendrecv", "recvonly", Direction.RECVONLY),
    ],
)
def test_it_answers_with_what_both_the_offer_and_our_wish_allow(
    offered: str, ours: str, answered: Direction
) -> None:
    _, audio = answer(SIPP + f"a={offered}\r\n".encode(), direction_override=ours)
    assert audio.direction is answered


def test_it_builds_a_hold_offer_as_sendonly() -> None:
    sdp = parse_sdp(
        build_offer(
            local_ip="10.1.1.1",
            local_port=40000,
            session_id=7,
            session_version=2,
            direction="sendonly",
        )
    )
    assert sdp.media[0].direction is Direction.SENDONLY
    assert sdp.origin.session_version == 2
    assert sdp.connection == Connection("IN", "IP4", "10.1.1.1")


# --- RFC 4317 situations, answered the way a one-audio-stream B2BUA answers them -------------

AUDIO_AND_VIDEO = crlf("""
    v=0
    o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com
    s=
    c=IN IP4 host.atlanta.example.com
    t=0 0
    m=audio 49170 RTP/AVP 0 8 97
    a=rtpmap:0 PCMU/8000
    a=rtpmap:8 PCMA/8000
    a=rtpmap:97 iLBC/8000
    m=video 51372 RTP/AVP 31 32
    a=rtpmap:31 H261/90000
    a=rtpmap:32 MPV/90000
""")


def test_rfc4317_audio_and_video_offer_gets_audio_accepted_and_video_refused() -> None:
    sdp, audio = answer(AUDIO_AND_VIDEO)
    assert [(m.media, m.port) for m in sdp.media] == [("audio", 40000), ("video", 0)]
    assert audio.codec == Codec("PCMU", 0)
    # a host name in c= is passed on for the caller to resolve
    assert audio.remote_address == "host.atlanta.example.com"


def test_rfc4317_an_empty_session_name_is_kept() -> None:
    assert parse_sdp(AUDIO_AND_VIDEO).session_name == ""


def test_rfc4317_answerer_picks_a_later_codec_when_it_lacks_the_first() -> None:
    _, audio = answer(AUDIO_AND_VIDEO, supported=("PCMA",))
    assert audio.codec == Codec("PCMA", 8)


def test_rfc4317_offer_with_no_codec_in_common_is_not_acceptable() -> None:
    only_ilbc = AUDIO_AND_VIDEO.replace(b"RTP/AVP 0 8 97", b"RTP/AVP 97")
    with pytest.raises(SdpNegotiationError) as caught:
        answer(only_ilbc)
    assert caught.value.status == 488


def test_rfc4317_second_audio_stream_for_events_is_refused_in_place() -> None:
    two_audio = crlf("""
        v=0
        o=alice 2890844526 2890844526 IN IP4 192.0.2.10
        s=-
        c=IN IP4 192.0.2.10
        t=0 0
        m=audio 49170 RTP/AVP 0 97
        a=rtpmap:0 PCMU/8000
        a=rtpmap:97 iLBC/8000
        m=audio 49172 RTP/AVP 98
        a=rtpmap:98 telephone-event/8000
        a=sendonly
    """)
    sdp, audio = answer(two_audio)
    assert [(m.media, m.port) for m in sdp.media] == [("audio", 40000), ("audio", 0)]
    assert audio.media_index == 0
    assert audio.telephone_event_pt is None


def test_rfc4317_hold_and_resume() -> None:
    held = SIPP + b"a=sendonly\r\n"
    _, on_hold = answer(held)
    resumed = held.replace(b"53655765 2353687637", b"53655765 2353687638").replace(
        b"a=sendonly", b"a=sendrecv"
    )
    _, off_hold = answer(resumed)
    assert on_hold.direction is Direction.RECVONLY
    assert off_hold.direction is Direction.SENDRECV


def test_rfc4317_hold_with_two_streams_holds_audio_and_keeps_video_refused() -> None:
    held = AUDIO_AND_VIDEO.replace(b"t=0 0\r\n", b"t=0 0\r\na=sendonly\r\n")
    sdp, audio = answer(held)
    assert audio.direction is Direction.RECVONLY
    assert sdp.media[1].port == 0


def test_rfc4317_deleted_stream_stays_deleted_in_the_answer() -> None:
    deleted = AUDIO_AND_VIDEO.replace(b"m=video 51372", b"m=video 0")
    sdp, _ = answer(deleted)
    assert len(sdp.media) == 2
    assert sdp.media[1].port == 0
    assert sdp.media[1].formats == ("31", "32")


def test_rfc4317_3pcc_offer_with_unspecified_address_is_answered_without_sending() -> None:
    _, audio = answer(AUDIO_AND_VIDEO.replace(b"host.atlanta.example.com\r\nt=", b"0.0.0.0\r\nt="))
    assert audio.remote_zero_address
    assert not audio.direction.sends
    assert audio.direction.receives


# --- more negotiation --------------------------------------------------------------------


def test_it_skips_a_refused_audio_stream_and_takes_the_next() -> None:
    body = SIPP.replace(b"m=audio 6000 RTP/AVP 0", b"m=audio 0 RTP/AVP 0") + crlf("""
        m=audio 6002 RTP/AVP 8
    """)
    sdp, audio = answer(body)
    assert audio.media_index == 1
    assert audio.remote_port == 6002
    assert [m.port for m in sdp.media] == [0, 40000]


def test_it_refuses_srtp_only_offers() -> None:
    with pytest.raises(SdpNegotiationError):
        answer(SIPP.replace(b"RTP/AVP", b"RTP/SAVP"))


def test_it_answers_avpf_with_avpf() -> None:
    sdp, _ = answer(SIPP.replace(b"RTP/AVP", b"RTP/AVPF"))
    assert sdp.media[0].proto == "RTP/AVPF"


def test_it_refuses_an_offer_without_any_media() -> None:
    with pytest.raises(SdpNegotiationError):
        answer(b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n")


def test_it_refuses_pcmu_at_the_wrong_clock_rate() -> None:
    with pytest.raises(SdpNegotiationError):
        answer(SIPP.replace(b"RTP/AVP 0", b"RTP/AVP 96").replace(b"0 PCMU/8000", b"96 PCMU/16000"))


def test_it_accepts_g711_under_a_dynamic_payload_type_and_keeps_that_number() -> None:
    body = SIPP.replace(b"RTP/AVP 0", b"RTP/AVP 96").replace(b"0 PCMU/8000", b"96 pcmu/8000")
    sdp, audio = answer(body)
    assert audio.codec == Codec("PCMU", 96)
    assert sdp.media[0].formats == ("96",)


def test_it_answers_default_events_when_the_offer_lists_none() -> None:
    body = SIPP.replace(b"RTP/AVP 0", b"RTP/AVP 0 101") + b"a=rtpmap:101 telephone-event/8000\r\n"
    sdp, audio = answer(body)
    assert audio.telephone_event_pt == 101
    assert sdp.media[0].fmtp(101) == "0-15"


def test_it_leaves_out_telephone_events_that_carry_nothing_we_understand() -> None:
    body = SIPP.replace(b"RTP/AVP 0", b"RTP/AVP 0 101") + (
        b"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 32-49\r\n"
    )
    sdp, audio = answer(body)
    assert audio.telephone_event_pt is None
    assert sdp.media[0].formats == ("0",)


def test_it_is_not_put_off_by_a_garbled_event_list() -> None:
    body = SIPP.replace(b"RTP/AVP 0", b"RTP/AVP 0 101") + (
        b"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-x\r\n"
    )
    sdp, _ = answer(body)
    assert sdp.media[0].fmtp(101) == "0-15"


def test_it_copies_the_offer_timing_into_the_answer() -> None:
    sdp, _ = answer(SIPP.replace(b"t=0 0", b"t=3034423619 3042462419"))
    assert (sdp.timings[0].start, sdp.timings[0].stop) == (3034423619, 3042462419)


def test_it_writes_our_session_identity_into_the_answer() -> None:
    result = negotiate_answer(
        SIPP, local_ip="10.1.1.1", local_port=40000, session_id=99, session_version=3
    )
    assert result.sdp.origin.session_id == "99"
    assert result.sdp.origin.session_version == 3
    assert result.to_bytes().startswith(b"v=0\r\no=aqualine 99 3 IN IP4 10.1.1.1\r\ns=aqualine\r\n")


def test_it_says_a_missing_connection_is_a_malformed_body() -> None:
    body = SIPP.replace(b"c=IN IP4 127.0.0.1\r\n", b"")
    with pytest.raises(SdpError) as caught:
        answer(body)
    assert not isinstance(caught.value, SdpNegotiationError)
    assert caught.value.status == 400


@pytest.mark.parametrize(
    "kwargs",
    [
        {"local_ip": "phone.example.com"},
        {"local_port": 0},
        {"supported": ("G729",)},
        {"supported": ()},
        {"direction_override": "hold"},
        {"session_id": -1},
    ],
)
def test_it_refuses_bad_arguments_as_programming_errors(kwargs: dict[str, object]) -> None:
    arguments: dict[str, object] = {
        "local_ip": "10.1.1.1",
        "local_port": 40000,
        "session_id": 1,
        "session_version": 1,
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError) as caught:
        negotiate_answer(SIPP, **arguments)  # type: ignore[arg-type]
    assert not isinstance(caught.value, SdpError)


# --- our offers and their answers ---------------------------------------------------------


def offer(**kwargs: object) -> bytes:
    arguments: dict[str, object] = {
        "local_ip": "10.1.1.1",
        "local_port": 30000,
        "session_id": 5,
        "session_version": 1,
    }
    arguments.update(kwargs)
    return build_offer(**arguments)  # type: ignore[arg-type]


def test_it_builds_an_offer_with_codecs_in_preference_order() -> None:
    assert offer() == crlf("""
        v=0
        o=aqualine 5 1 IN IP4 10.1.1.1
        s=aqualine
        c=IN IP4 10.1.1.1
        t=0 0
        m=audio 30000 RTP/AVP 0 8 101
        a=rtpmap:0 PCMU/8000
        a=rtpmap:8 PCMA/8000
        a=rtpmap:101 telephone-event/8000
        a=fmtp:101 0-16
        a=ptime:20
        a=sendrecv
    """)


def test_it_builds_an_offer_for_pcma_first_without_events() -> None:
    sdp = parse_sdp(offer(codecs=("PCMA", "pcmu"), telephone_event_pt=None, ptime=None))
    assert sdp.media[0].formats == ("8", "0")
    assert sdp.media[0].ptime is None
    assert sdp.media[0].attribute_values("fmtp") == []


def test_it_builds_an_ipv6_offer() -> None:
    sdp = parse_sdp(offer(local_ip="2001:db8::1"))
    assert sdp.origin.addrtype == "IP6"
    assert sdp.connection == Connection("IN", "IP6", "2001:db8::1")


def test_it_refuses_a_static_payload_type_for_telephone_events() -> None:
    with pytest.raises(ValueError):
        offer(telephone_event_pt=8)


def test_it_reads_the_answer_a_phone_gives_to_our_offer() -> None:
    ours = offer()
    theirs = crlf("""
        v=0
        o=- 1 1 IN IP4 192.168.10.21
        s=SDP data
        c=IN IP4 192.168.10.21
        t=0 0
        m=audio 11800 RTP/AVP 8 101
        a=rtpmap:8 PCMA/8000
        a=rtpmap:101 telephone-event/8000
        a=fmtp:101 0-15
        a=ptime:20
        a=sendrecv
    """)
    audio = parse_answer(ours, theirs)
    assert audio.codec == Codec("PCMA", 8)
    assert audio.telephone_event_pt == 101
    assert (audio.remote_address, audio.remote_port) == ("192.168.10.21", 11800)
    assert audio.direction is Direction.SENDRECV


def test_it_agrees_with_itself_across_an_offer_and_its_answer() -> None:
    ours = build_offer_sdp(local_ip="10.1.1.1", local_port=30000, session_id=5, session_version=1)
    reply = negotiate_answer(
        ours, local_ip="10.2.2.2", local_port=40000, session_id=6, session_version=1
    )
    audio = parse_answer(ours, reply.to_bytes())
    assert audio.codec == reply.audio.codec == Codec("PCMU", 0)
    assert audio.telephone_event_pt == reply.audio.telephone_event_pt == 101
    assert (audio.remote_address, audio.remote_port) == ("10.2.2.2", 40000)
    assert (reply.audio.remote_address, reply.audio.remote_port) == ("10.1.1.1", 30000)


def test_it_holds_by_offering_sendonly_and_hears_recvonly_back() -> None:
    ours = offer(direction="sendonly")
    reply = negotiate_answer(
        ours, local_ip="10.2.2.2", local_port=40000, session_id=6, session_version=2
    )
    audio = parse_answer(ours, reply.to_bytes())
    assert reply.audio.direction is Direction.RECVONLY
    assert audio.direction is Direction.SENDONLY
    assert audio.remote_direction is Direction.RECVONLY


def test_it_never_sends_more_than_it_offered_even_if_the_answer_says_sendrecv() -> None:
    audio = parse_answer(offer(direction="sendonly"), SIPP)
    assert audio.direction is Direction.SENDONLY


def test_it_stops_sending_when_the_answer_is_inactive() -> None:
    audio = parse_answer(offer(), SIPP + b"a=inactive\r\n")
    assert audio.direction is Direction.INACTIVE


def test_it_refuses_an_answer_with_another_number_of_streams() -> None:
    with pytest.raises(SdpNegotiationError):
        parse_answer(offer(), AUDIO_AND_VIDEO)


def test_it_refuses_an_answer_that_rejects_our_audio() -> None:
    with pytest.raises(SdpNegotiationError):
        parse_answer(offer(), SIPP.replace(b"m=audio 6000", b"m=audio 0"))


def test_it_refuses_an_answer_with_a_codec_we_did_not_offer() -> None:
    with pytest.raises(SdpNegotiationError):
        parse_answer(offer(codecs=("PCMA",)), SIPP)


def test_it_refuses_an_answer_with_another_transport() -> None:
    with pytest.raises(SdpNegotiationError):
        parse_answer(offer(), SIPP.replace(b"RTP/AVP", b"RTP/SAVP"))


# --- telephone-event lists ----------------------------------------------------------------


def test_it_reads_and_writes_telephone_event_lists() -> None:
    assert parse_event_list("0-15,66,70") == frozenset({*range(16), 66, 70})
    assert parse_event_list("0-11, 12") == frozenset(range(13))
    assert format_event_list({0, 1, 2, 3, 16, 32, 33}) == "0-3,16,32-33"
    assert format_event_list([]) == ""


@pytest.mark.parametrize("value", ["", "0-", "-3", "5-2", "0-300", "a", "1,,2", "٣"])
def test_it_refuses_garbled_telephone_event_lists(value: str) -> None:
    with pytest.raises(SdpError):
        parse_event_list(value)


# --- garbage -------------------------------------------------------------------------------

MALFORMED = {
    "empty": b"",
    "whitespace only": b" \r\n\r\n",
    "not SDP": b"hello world",
    "no v= first": SIPP.replace(b"v=0\r\n", b""),
    "version 1": SIPP.replace(b"v=0", b"v=1"),
    "no origin": SIPP.replace(b"o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n", b""),
    "short origin": SIPP.replace(b"IN IP4 127.0.0.1\r\ns=", b"IN IP4\r\ns="),
    "origin version not a number": SIPP.replace(b"2353687637", b"v2"),
    "two origins": SIPP.replace(b"s=-", b"o=- 1 1 IN IP4 1.1.1.1\r\ns=-"),
    "two session names": SIPP.replace(b"s=-", b"s=-\r\ns=again"),
    "second v=": SIPP.replace(b"s=-", b"s=-\r\nv=0"),
    "space before =": SIPP.replace(b"s=-", b"s =-"),
    "no =": SIPP.replace(b"s=-", b"s-"),
    "digit type": SIPP.replace(b"s=-", b"1=-"),
    "short connection": SIPP.replace(b"c=IN IP4 127.0.0.1", b"c=IN 127.0.0.1"),
    "two session connections": SIPP.replace(b"t=0 0", b"c=IN IP4 1.1.1.1\r\nt=0 0"),
    "bad timing": SIPP.replace(b"t=0 0", b"t=now"),
    "m= without port": SIPP.replace(b"m=audio 6000 RTP/AVP 0", b"m=audio"),
    "port not a number": SIPP.replace(b"6000", b"six"),
    "port too large": SIPP.replace(b"6000", b"70000"),
    "port count zero": SIPP.replace(b"6000", b"6000/0"),
    "m= without formats": SIPP.replace(b"RTP/AVP 0", b"RTP/AVP"),
    "payload type too large": SIPP.replace(b"RTP/AVP 0", b"RTP/AVP 200"),
    "payload type not a number": SIPP.replace(b"RTP/AVP 0", b"RTP/AVP PCMU"),
    "bad rtpmap": SIPP.replace(b"a=rtpmap:0 PCMU/8000", b"a=rtpmap:0 PCMU"),
    "rtpmap clock zero": SIPP.replace(b"PCMU/8000", b"PCMU/0"),
    "bad ptime": SIPP + b"a=ptime:fast\r\n",
    "zero ptime": SIPP + b"a=ptime:0\r\n",
    "empty attribute": SIPP + b"a=\r\n",
    "attribute name with space": SIPP + b"a=foo bar\r\n",
    "origin inside media": SIPP + b"o=- 1 1 IN IP4 1.1.1.1\r\n",
    "NUL byte": SIPP.replace(b"s=-", b"s=\x00"),
    "bare CR inside a line": SIPP.replace(b"s=-", b"s=a\rb"),
    "huge number": SIPP.replace(b"t=0 0", b"t=" + b"9" * 5000 + b" 0"),
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_it_refuses_malformed_bodies_with_sdp_error(body: bytes) -> None:
    with pytest.raises(SdpError) as caught:
        parse_sdp(body)
    assert caught.value.status == 400


def test_it_refuses_text_with_unencodable_characters() -> None:
    with pytest.raises(SdpError):
        parse_sdp(SIPP.decode().replace("s=-", "s=\ud800"))


# --- property tests ------------------------------------------------------------------------

FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SEEDS = [YEALINK, LINPHONE, PJSUA, SIPP, TRUNK_IPV6.encode(), AUDIO_AND_VIDEO]
SPLICE = [b"", b" ", b"=", b":", b"/", b"\r", b"\n", b"\x00", b"0", b"-1", b"999999", b"\xff"]


def attempt(body: bytes | str) -> None:
    """Whatever the body, only SdpError may come out of parsing and negotiating."""
    try:
        sdp = parse_sdp(body)
    except SdpError:
        return
    assert parse_sdp(sdp.to_bytes()) == sdp
    try:
        reply = negotiate_answer(
            sdp, local_ip="10.1.1.1", local_port=40000, session_id=1, session_version=1
        )
    except SdpError:
        pass
    else:
        parse_sdp(reply.to_bytes())
    ours = build_offer_sdp(local_ip="10.1.1.1", local_port=30000, session_id=1, session_version=1)
    with contextlib.suppress(SdpError):
        parse_answer(ours, sdp)


@FUZZ
@given(st.binary(max_size=400))
def test_it_meets_arbitrary_bytes_with_sdp_error_or_a_result(body: bytes) -> None:
    attempt(body)


@FUZZ
@given(st.text(max_size=400))
def test_it_meets_arbitrary_text_with_sdp_error_or_a_result(body: str) -> None:
    attempt(body)


@FUZZ
@given(
    seed=st.sampled_from(SEEDS),
    cuts=st.lists(
        st.tuples(st.integers(min_value=0), st.sampled_from(SPLICE), st.integers(0, 3)),
        min_size=1,
        max_size=4,
    ),
)
def test_it_meets_damaged_phone_bodies_with_sdp_error_or_a_result(
    seed: bytes, cuts: list[tuple[int, bytes, int]]
) -> None:
    body = seed
    for position, splice, dropped in cuts:
        at = position % (len(body) + 1)
        body = body[:at] + splice + body[at + dropped :]
    attempt(body)


@FUZZ
@given(
    seed=st.sampled_from(SEEDS),
    picks=st.lists(st.integers(min_value=0), min_size=1, max_size=6),
)
def test_it_meets_shuffled_and_repeated_lines_with_sdp_error_or_a_result(
    seed: bytes, picks: list[int]
) -> None:
    lines = seed.split(b"\r\n")
    attempt(b"v=0\r\n" + b"\r\n".join(lines[p % len(lines)] for p in picks))
    attempt(b"\r\n".join(lines[:2] + [lines[p % len(lines)] for p in picks]))


@FUZZ
@given(
    direction=st.sampled_from(list(Direction)),
    wish=st.sampled_from(list(Direction)),
    zero=st.booleans(),
)
def test_it_never_answers_more_than_the_offer_or_our_wish_allows(
    direction: Direction, wish: Direction, zero: bool
) -> None:
    body = SIPP + f"a={direction}\r\n".encode()
    if zero:
        body = body.replace(b"127.0.0.1\r\nt=", b"0.0.0.0\r\nt=")
    _, audio = answer(body, direction_override=wish)
    assert audio.direction.sends == (wish.sends and direction.receives and not zero)
    assert audio.direction.receives == (wish.receives and direction.sends)
