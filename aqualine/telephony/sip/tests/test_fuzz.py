"""Property tests: whatever the bytes, the message layer answers with SipParseError or a result."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aqualine.telephony.sip import (
    Request,
    SipFramingError,
    SipParseError,
    StreamFramer,
    build_response,
    parse_message,
    parse_uri,
    response_for_parse_error,
    validate_request,
    validate_response,
)
from aqualine.telephony.sip.fields import parse_contact, parse_name_addr, parse_route, parse_via
from aqualine.telephony.sip.tests import samples
from aqualine.telephony.sip.tests.samples import TORTURE_DIR

FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SEEDS: list[bytes] = list(samples.ALL)
if TORTURE_DIR.is_dir():
    SEEDS += [path.read_bytes() for path in sorted(TORTURE_DIR.glob("*.dat"))]

# Bytes that matter to the grammar, to splice into valid messages.
SPECIAL = [
    b";",
    b",",
    b'"',
    b"\\",
    b"<",
    b">",
    b"%",
    b"%4",
    b"%zz",
    b":",
    b"@",
    b"[",
    b"]",
    b"=",
    b"?",
    b"&",
    b"/",
    b"*",
    b" ",
    b"\t",
    b"\r\n",
    b"\r\n ",
    b"\r",
    b"\n",
    b"\x00",
    b"\xff",
    b"\xc3",
    b"sip:",
    b"tel:",
    b"[::1]",
    b"SIP/2.0",
    b"z9hG4bK",
    b"9" * 40,
    b"Content-Length: 3\r\n",
    b"l: 99999\r\n",
]


@st.composite
def mutated_messages(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        position = draw(st.integers(min_value=0, max_value=len(data)))
        operation = draw(st.sampled_from(["delete", "splice", "random", "duplicate"]))
        if operation == "delete":
            del data[position : position + draw(st.integers(min_value=1, max_value=12))]
        elif operation == "splice":
            data[position:position] = draw(st.sampled_from(SPECIAL))
        elif operation == "random":
            size = draw(st.integers(min_value=0, max_value=4))
            data[position : position + size] = draw(st.binary(min_size=1, max_size=6))
        else:
            start = draw(st.integers(min_value=0, max_value=len(data)))
            data[position:position] = data[start : start + 40]
    return bytes(data)


def exercise(data: bytes) -> None:
    """Do with ``data`` what the switch will do; only SipParseError may escape."""
    try:
        message = parse_message(data)
    except SipParseError as error:
        response = response_for_parse_error(error)
        if response is not None:
            parse_message(response.serialize())
        return
    if isinstance(message, Request):
        failure = validate_request(
            message, allowed_methods={"INVITE", "ACK", "OPTIONS", "REGISTER"}, supported={"timer"}
        )
        if failure is None:
            # After validation the core's accessors must not raise.
            _ = (message.via, message.from_addr, message.to_addr, message.call_id)
            _ = (message.cseq, message.contacts, message.routes, message.max_forwards)
            build_response(message, 200).serialize()
        else:
            response = failure.response(message)
            if response is not None:
                parse_message(response.serialize())
    else:
        validate_response(message)
    parse_message(message.serialize())


@FUZZ
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_raise_nothing_but_sip_parse_error(data: bytes) -> None:
    with contextlib.suppress(SipParseError):
        exercise(data)


@FUZZ
@given(mutated_messages())
def test_mutated_messages_raise_nothing_but_sip_parse_error(data: bytes) -> None:
    with contextlib.suppress(SipParseError):
        exercise(data)


@FUZZ
@given(st.text(max_size=300))
def test_uri_parsing_of_arbitrary_text_raises_nothing_but_sip_parse_error(text: str) -> None:
    try:
        uri = parse_uri(text)
    except SipParseError:
        return
    assert parse_uri(str(uri)) == uri


@FUZZ
@given(
    st.text(alphabet="abc%;=@:?&[]/+$,.-_!~*'()1234567890 <>\"\\#", max_size=60),
    st.sampled_from(["sip:", "sips:", "tel:", "SIP:"]),
)
def test_parsed_uris_serialise_to_text_that_parses_back_equal(tail: str, scheme: str) -> None:
    try:
        uri = parse_uri(scheme + tail)
    except SipParseError:
        return
    assert parse_uri(str(uri)) == uri


@FUZZ
@given(mutated_messages(), st.lists(st.integers(min_value=1, max_value=64), min_size=1))
def test_a_stream_of_any_bytes_raises_nothing_but_framing_errors(
    data: bytes, cuts: list[int]
) -> None:
    framer = StreamFramer()
    offset = 0
    try:
        for size in cuts * (len(data) // max(1, sum(cuts)) + 1):
            for frame in framer.feed(data[offset : offset + size]):
                exercise_quietly(frame)
            offset += size
    except SipFramingError:
        pass


def exercise_quietly(frame: bytes) -> None:
    with contextlib.suppress(SipParseError):
        exercise(frame)


@FUZZ
@given(
    st.lists(st.sampled_from(samples.ALL), min_size=1, max_size=5),
    st.lists(st.sampled_from([b"", b"\r\n", b"\r\n\r\n"]), min_size=5, max_size=5),
    st.lists(st.integers(min_value=1, max_value=200), min_size=1, max_size=10),
)
def test_framing_valid_messages_in_any_chunks_gives_them_back(
    messages: list[bytes], keepalives: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(
        keepalive + message for keepalive, message in zip(keepalives, messages, strict=False)
    )
    framer = StreamFramer()
    frames: list[bytes] = []
    offset = 0
    index = 0
    while offset < len(stream):
        size = cuts[index % len(cuts)]
        frames += framer.feed(stream[offset : offset + size])
        offset += size
        index += 1

    assert frames == messages


@FUZZ
@given(mutated_messages())
def test_parsed_header_values_serialise_to_text_that_parses_back_equal(data: bytes) -> None:
    try:
        message = parse_message(data)
    except SipParseError:
        return
    parsers: dict[str, Callable[[str], object]] = {
        "From": parse_name_addr,
        "To": parse_name_addr,
        "Contact": parse_contact,
        "Route": parse_route,
        "Via": parse_via,
    }
    for name, parser in parsers.items():
        for value in message.headers.values(name):
            try:
                parsed = parser(value)
            except SipParseError:
                continue
            assert parser(str(parsed)) == parsed
