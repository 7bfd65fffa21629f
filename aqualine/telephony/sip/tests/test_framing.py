from __future__ import annotations

import pytest

from aqualine.telephony.sip import SipFramingError, StreamFramer, parse_message
from aqualine.telephony.sip.tests.samples import INVITE, OK_200, OPTIONS_FOLDED, REGISTER, invite


def test_it_returns_a_complete_message_fed_at_once() -> None:
    assert StreamFramer().feed(INVITE) == [INVITE]


def test_it_waits_for_the_rest_of_a_message_fed_byte_by_byte() -> None:
    framer = StreamFramer()
    messages: list[bytes] = []

    for index in range(len(INVITE)):
        messages += framer.feed(INVITE[index : index + 1])
        if index < len(INVITE) - 1:
            assert messages == []

    assert messages == [INVITE]
    assert framer.buffered == 0


def test_it_cuts_several_messages_from_one_chunk_and_keeps_the_partial_rest() -> None:
    framer = StreamFramer()
    stream = INVITE + REGISTER + OK_200

    assert framer.feed(stream[:-10]) == [INVITE, REGISTER]
    assert framer.buffered == len(OK_200) - 10
    assert framer.feed(stream[-10:]) == [OK_200]


def test_it_finds_a_body_split_across_chunks() -> None:
    framer = StreamFramer()
    head_end = INVITE.index(b"\r\n\r\n") + 4

    assert framer.feed(INVITE[: head_end + 3]) == []
    assert framer.feed(INVITE[head_end + 3 : -1]) == []
    assert framer.feed(INVITE[-1:]) == [INVITE]


def test_it_ignores_crlf_keepalives_between_and_before_messages() -> None:
    framer = StreamFramer()

    assert framer.feed(b"\r\n\r\n") == []
    assert framer.feed(b"\r\n") == []
    assert framer.feed(b"\r") == []
    assert framer.feed(b"\n" + INVITE + b"\r\n\r\n" + REGISTER + b"\r\n") == [INVITE, REGISTER]
    assert framer.buffered <= 2


def test_it_uses_the_compact_content_length_of_folded_messages() -> None:
    assert StreamFramer().feed(OPTIONS_FOLDED + OPTIONS_FOLDED) == [OPTIONS_FOLDED] * 2


def test_every_framed_message_parses() -> None:
    frames = StreamFramer().feed(INVITE + REGISTER + OK_200 + OPTIONS_FOLDED)

    assert [parse_message(frame).start_line().split()[0] for frame in frames] == [
        "INVITE",
        "REGISTER",
        "SIP/2.0",
        "OPTIONS",
    ]


def test_a_missing_content_length_is_a_framing_error_with_headers_to_answer() -> None:
    framer = StreamFramer()
    data = invite(body=b"").replace(b"Content-Length: 0\r\n", b"")

    with pytest.raises(SipFramingError) as caught:
        framer.feed(data)

    error = caught.value
    assert (error.status, error.reason, error.kind) == (400, "Missing Content-Length", "request")
    assert error.headers is not None
    assert error.headers.get("CSeq") == "314159 INVITE"
    with pytest.raises(SipFramingError):
        framer.feed(REGISTER)


def test_messages_framed_before_an_error_come_with_the_error() -> None:
    framer = StreamFramer()

    with pytest.raises(SipFramingError) as caught:
        framer.feed(INVITE + REGISTER + b"junk\r\n\r\n")

    assert caught.value.messages == [INVITE, REGISTER]
    with pytest.raises(SipFramingError, match="Stream already failed") as later:
        framer.feed(INVITE)
    assert later.value.messages == []


@pytest.mark.parametrize(
    "lines",
    [
        ("Content-Length: -999",),
        ("Content-Length: ten",),
        ("Content-Length: 13", "Content-Length: 5"),
    ],
)
def test_an_invalid_content_length_is_a_framing_error(lines: tuple[str, ...]) -> None:
    replacement = "".join(line + "\r\n" for line in lines).encode()
    data = invite(body=b"").replace(b"Content-Length: 0\r\n", replacement)

    with pytest.raises(SipFramingError) as caught:
        StreamFramer().feed(data)
    assert caught.value.status == 400


def test_two_equal_content_lengths_still_frame_the_message() -> None:
    data = invite(body=b"abc", add=("l: 3",))

    assert StreamFramer().feed(data + REGISTER) == [data, REGISTER]


def test_a_response_that_cannot_be_framed_is_not_answered() -> None:
    with pytest.raises(SipFramingError) as caught:
        StreamFramer().feed(OK_200.replace(b"Content-Length", b"X-Length"))

    assert caught.value.kind == "response"
    assert caught.value.headers is None


def test_header_fields_beyond_the_size_limit_are_refused_with_513() -> None:
    framer = StreamFramer(max_message_size=1000)

    with pytest.raises(SipFramingError) as caught:
        for _ in range(30):
            framer.feed(b"INVITE sip:a@b SIP/2.0\r\nSubject: " + b"x" * 50)
    assert caught.value.status == 513


def test_a_declared_body_beyond_the_size_limit_is_refused_with_513() -> None:
    data = invite(body=b"").replace(b"Content-Length: 0", b"Content-Length: 5000000")

    with pytest.raises(SipFramingError) as caught:
        StreamFramer(max_message_size=65536).feed(data)
    assert caught.value.status == 513


def test_a_slow_trickle_of_header_bytes_is_scanned_in_linear_time() -> None:
    framer = StreamFramer(max_message_size=1_000_000)
    chunk = b"X-Filler: " + b"y" * 40 + b"\r\n"

    for _ in range(10_000):
        assert framer.feed(chunk) == []
    assert framer.feed(b"Content-Length: 0\r\n\r\n") != []
