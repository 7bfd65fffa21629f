from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import pytest

from aqualine.telephony.sip import (
    Headers,
    Request,
    Response,
    SipParseError,
    SipUri,
    parse_message,
    parse_uri,
)
from aqualine.telephony.sip.tests.samples import INVITE, OK_200, OPTIONS_FOLDED, SDP, invite, raw


def parse_request(data: bytes) -> Request:
    message = parse_message(data)
    assert isinstance(message, Request)
    return message


def parse_response(data: bytes) -> Response:
    message = parse_message(data)
    assert isinstance(message, Response)
    return message


def test_it_parses_a_request() -> None:
    request = parse_request(INVITE)

    assert request.method == "INVITE"
    assert request.uri == SipUri(host="biloxi.example.com", user="bob")
    assert request.version == "SIP/2.0"
    assert request.call_id == "a84b4c76e66710@pc33.atlanta.example.com"
    assert request.body == SDP


def test_it_parses_a_response() -> None:
    response = parse_response(OK_200)

    assert (response.status, response.reason) == (200, "OK")
    assert response.to_addr.tag == "a6c85cf"
    assert response.top_via.received == "192.0.2.1"
    assert response.body == SDP


def test_it_keeps_an_empty_or_utf8_reason_phrase() -> None:
    assert parse_response(raw("SIP/2.0 100 ", "l: 0")).reason == ""
    assert parse_response(raw("SIP/2.0 180", "l: 0")).reason == ""
    assert parse_response(raw("SIP/2.0 200 простое", "l: 0")).reason == "простое"


def test_it_joins_folded_lines_and_resolves_compact_forms() -> None:
    request = parse_request(OPTIONS_FOLDED)

    assert request.top_via.host == "proxy.example.com"
    assert request.top_via.port == 5061
    assert request.headers.values("Accept") == ["application/sdp", "application/pkcs7-mime"]
    assert request.call_id == "a84b4c76e66710"
    assert request.content_length == 0


def test_it_ignores_crlfs_before_the_start_line() -> None:
    assert parse_request(b"\r\n\r\n" + INVITE).method == "INVITE"


def test_it_accepts_bare_lf_line_endings() -> None:
    request = parse_request(INVITE.replace(b"\r\n", b"\n"))

    assert request.cseq.number == 314159
    assert request.body == SDP.replace(b"\r\n", b"\n")[: len(SDP)]


def test_it_drops_bytes_beyond_the_content_length_of_a_datagram() -> None:
    request = parse_request(INVITE + b"garbage after the body")

    assert request.body == SDP


def test_without_content_length_the_body_runs_to_the_end_of_the_datagram() -> None:
    request = parse_request(invite(body=b"").replace(b"Content-Length: 0\r\n", b"") + SDP)

    assert request.content_length is None
    assert request.body == SDP


def test_it_leaves_a_too_large_content_length_for_validation() -> None:
    request = parse_request(INVITE.replace(f"Content-Length: {len(SDP)}".encode(), b"l: 9999"))

    assert request.content_length == 9999
    assert request.body == SDP


def test_it_parses_request_uris_of_other_schemes() -> None:
    request = parse_request(INVITE.replace(b"sip:bob@biloxi.example.com SIP", b"urn:x:y SIP"))

    assert str(request.uri) == "urn:x:y"


@pytest.mark.parametrize(
    ("first_line", "reason"),
    [
        ("INVITE  sip:bob@biloxi.example.com SIP/2.0", "Bad Request-Line"),
        ("INVITE sip:bob@biloxi.example.com SIP/2.0 ", "Bad Request-Line"),
        ("INVITE sip:bob@biloxi.example.com; lr SIP/2.0", "Bad Request-Line"),
        ("INVITE sip:bob@biloxi.example.com", "Bad Request-Line"),
        ("INVITE sip:bob@biloxi.example.com HTTP/1.1", "Bad Request-Line"),
        ("INV(ITE sip:bob@biloxi.example.com SIP/2.0", "Bad Request-Line"),
        ("INVITE <sip:bob@biloxi.example.com> SIP/2.0", "Bad Request-URI"),
        ("INVITE sip:bob@bi_loxi.example.com SIP/2.0", "Bad Request-URI"),
    ],
)
def test_it_rejects_malformed_request_lines_with_400(first_line: str, reason: str) -> None:
    data = INVITE.replace(INVITE.split(b"\r\n", 1)[0], first_line.encode())

    with pytest.raises(SipParseError) as caught:
        parse_message(data)
    error = caught.value
    assert (error.status, error.reason, error.kind) == (400, reason, "request")
    assert error.headers is not None
    assert error.headers.get("Call-ID") == "a84b4c76e66710@pc33.atlanta.example.com"
    assert [name for name, _ in error.headers] == ["Via", "To", "From", "Call-ID", "CSeq"]


def test_it_rejects_an_unsupported_sip_version_with_505() -> None:
    with pytest.raises(SipParseError) as caught:
        parse_message(INVITE.replace(b"SIP/2.0\r\n", b"SIP/7.0\r\n", 1))

    assert caught.value.status == 505
    assert caught.value.headers is not None and "Via" in caught.value.headers


@pytest.mark.parametrize(
    "first_line",
    [
        "SIP/2.0 4294967301 better not break the receiver",
        "SIP/2.0 099 Too Low",
        "SIP/2.0 700 Too High",
        "SIP/2.0 20 Short",
        "SIP/2.0 OK 200",
        "SIP/3.0 200 OK",
    ],
)
def test_it_rejects_malformed_status_lines_as_responses(first_line: str) -> None:
    data = OK_200.replace(b"SIP/2.0 200 OK", first_line.encode(), 1)

    with pytest.raises(SipParseError) as caught:
        parse_message(data)
    assert caught.value.kind == "response"
    assert caught.value.headers is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "Empty message"),
        (b"\r\n\r\n", "Empty message"),
        (INVITE.split(b"\r\n\r\n")[0], "Incomplete message"),
        (invite(add=("No colon here",)), "Bad header line"),
        (invite(add=("Bad Name: x",)), "Bad header line"),
        (invite(add=(": no name",)), "Bad header line"),
        (raw("OPTIONS sip:a@b.example.com SIP/2.0", " continued", "l: 0"), "Bad header line"),
        (invite().replace(b"Bob <", b"B\xffob <"), "Bad header line"),
        (invite().replace(b"Bob <", b"Bob\r<"), "Bad header line"),
        (b"OPTIONS sip:a@b.example.com SIP/2.\xff0\r\nl: 0\r\n\r\n", "Bad start line"),
    ],
)
def test_it_rejects_malformed_structure_with_400(data: bytes, reason: str) -> None:
    with pytest.raises(SipParseError) as caught:
        parse_message(data)

    assert (caught.value.status, caught.value.reason) == (400, reason)


def test_garbage_is_neither_a_request_nor_a_response() -> None:
    with pytest.raises(SipParseError) as caught:
        parse_message(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")

    assert caught.value.kind == "unknown"
    assert caught.value.headers is None


def test_it_refuses_messages_over_the_size_limit_with_513() -> None:
    with pytest.raises(SipParseError) as caught:
        parse_message(INVITE, max_size=100)

    assert caught.value.status == 513
    assert caught.value.headers is not None


def test_serialising_writes_long_names_and_a_correct_content_length() -> None:
    request = parse_request(OPTIONS_FOLDED)
    request.body = b"hello"
    request.headers.add("Content-Type", "text/plain")

    data = request.serialize()

    assert data.startswith(b"OPTIONS sip:carol@chicago.example.com SIP/2.0\r\nVia: SIP/2.0/TCP")
    assert b"\r\nContent-Length: 5\r\n\r\nhello" in data
    assert data.count(b"Content-Length") == 1
    assert b"\r\nl:" not in data
    assert bytes(request) == data


@pytest.mark.parametrize("data", [INVITE, OK_200, OPTIONS_FOLDED])
def test_a_serialised_message_parses_back_to_the_same_message(data: bytes) -> None:
    first = parse_message(data)
    second = parse_message(first.serialize())

    assert second.start_line() == first.start_line()
    assert list(second.headers)[:-1] == [h for h in first.headers if h[0] != "Content-Length"]
    assert second.body == first.body


def test_a_request_built_in_code_serialises() -> None:
    request = Request(
        "OPTIONS",
        parse_uri("sip:carol@chicago.example.com"),
        Headers([("Via", "SIP/2.0/UDP h.example.com;branch=z9hG4bKx"), ("CSeq", "1 OPTIONS")]),
    )

    assert request.serialize() == (
        b"OPTIONS sip:carol@chicago.example.com SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP h.example.com;branch=z9hG4bKx\r\n"
        b"CSeq: 1 OPTIONS\r\n"
        b"Content-Length: 0\r\n\r\n"
    )


def test_a_response_refuses_impossible_status_codes_and_reasons() -> None:
    with pytest.raises(ValueError, match="status code"):
        Response(99)
    with pytest.raises(ValueError, match="CR or LF"):
        Response(200, "OK\r\nX: y")
    assert Response(486).reason == "Busy Here"
    assert Response(499).reason == "Request Failure"


def _elapsed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    with contextlib.suppress(SipParseError):
        action()
    return time.perf_counter() - start


def test_a_100_kb_header_line_parses_quickly() -> None:
    data = invite(add=("Subject: " + "x" * 100_000,))

    assert _elapsed(lambda: parse_request(data).headers.get("Subject")) < 1.0


@pytest.mark.parametrize(
    "line",
    [
        "To: " + '"' * 100_000,
        "To: " + '"' + "\\" * 100_000,
        "To: " + "a " * 50_000,
        "Contact: " + "<" * 100_000,
        "Contact: " + "<sip:a@b.example.com>," * 5_000,
        "Via: SIP/2.0/UDP h" + ";x" * 50_000,
        "Contact: <sip:" + "a." * 50_000 + "com>",
        "Expires: " + "9" * 100_000,
    ],
)
def test_a_100_kb_pathological_value_fails_or_parses_quickly(line: str) -> None:
    data = invite(drop=("To",), add=(line,) if line.startswith("To") else (line, "To: <sip:b@c>"))

    def parse_and_read() -> None:
        message = parse_request(data)
        _ = (message.to_addr, message.contacts, message.via, message.expires)

    assert _elapsed(parse_and_read) < 1.0


def test_a_100_kb_request_line_fails_quickly() -> None:
    data = b"INVITE sip:" + b"a" * 100_000 + b"@b SIP/2.0 x\r\n\r\n"

    assert _elapsed(lambda: parse_message(data)) < 1.0
