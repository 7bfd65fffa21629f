from __future__ import annotations

import pytest

from aqualine.telephony.sip import (
    Headers,
    Request,
    Response,
    ValidationFailure,
    parse_message,
    parse_uri,
    validate_request,
    validate_response,
)
from aqualine.telephony.sip.tests.samples import INVITE, OK_200, REGISTER, SDP, invite, raw

UAS_METHODS = frozenset({"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER"})


def request(data: bytes) -> Request:
    message = parse_message(data)
    assert isinstance(message, Request)
    return message


def check(data: bytes, **options: object) -> ValidationFailure | None:
    return validate_request(request(data), **options)  # type: ignore[arg-type]


def test_it_accepts_a_well_formed_invite() -> None:
    assert check(INVITE, allowed_methods=UAS_METHODS) is None


def test_it_accepts_a_well_formed_register() -> None:
    assert check(REGISTER) is None


@pytest.mark.parametrize("name", ["Via", "From", "To", "Call-ID", "CSeq"])
def test_it_rejects_a_request_missing_a_mandatory_header(name: str) -> None:
    assert check(invite(drop=(name,))) == ValidationFailure(400, f"Missing {name} header")


def test_it_treats_a_missing_max_forwards_as_70() -> None:
    assert check(invite(drop=("Max-Forwards",))) is None


def test_it_rejects_request_with_two_call_ids() -> None:
    failure = check(invite(add=("i: another@example.com",)))

    assert failure == ValidationFailure(400, "Multiple Call-ID headers")


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("To: <sip:other@example.net>", "To"),
        ("From: <sip:other@example.net>;tag=2", "From"),
        ("CSeq: 314160 INVITE", "CSeq"),
        ("Max-Forwards: 5", "Max-Forwards"),
        ("Content-Type: application/sdp", "Content-Type"),
        ("Expires: 60", "Expires"),
    ],
)
def test_it_rejects_repeated_single_valued_headers(line: str, name: str) -> None:
    assert check(invite(add=(line, line))) == ValidationFailure(400, f"Multiple {name} headers")


def test_it_rejects_two_content_lengths_even_when_one_matches() -> None:
    data = invite(add=("Content-Length: 13",))

    assert check(data) == ValidationFailure(400, "Multiple Content-Length headers")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("Via: SIP/2.0/UDP 192.0.2.15;;,;,,", "Bad Via header"),
        ('To: "Mr. J. User <sip:j.user@example.com>', "Bad To header"),
        ("From: Bell, Alexander <sip:a.g.bell@example.com>;tag=43", "Bad From header"),
        ("Call-ID: two words", "Bad Call-ID header"),
        ("CSeq: 36893488147419103232 INVITE", "Bad CSeq header"),
        ("Max-Forwards: 300", "Bad Max-Forwards header"),
        ("Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E", "Bad Contact header"),
        ("Route: sip:p1.example.com;lr", "Bad Route header"),
        ("Require: 100rel,", "Bad Require header"),
        ("Expires: 10000000000000000000000", "Bad Expires header"),
    ],
)
def test_it_rejects_malformed_core_headers_naming_them(line: str, reason: str) -> None:
    name = line.split(":")[0]
    data = invite(drop=(name,), add=(line,))

    assert check(data) == ValidationFailure(400, reason)


def test_it_rejects_a_content_length_larger_than_the_datagram_body() -> None:
    data = INVITE.replace(f"Content-Length: {len(SDP)}".encode(), b"Content-Length: 9999")

    assert check(data) == ValidationFailure(400, "Content-Length larger than body")


def test_it_truncates_a_body_longer_than_the_content_length_and_accepts_it() -> None:
    parsed = request(INVITE + b"\r\nstray bytes")

    assert parsed.body == SDP
    assert validate_request(parsed) is None


def test_a_uas_processes_max_forwards_zero_normally() -> None:
    assert check(invite(drop=("Max-Forwards",), add=("Max-Forwards: 0",))) is None


def test_it_rejects_a_cseq_method_that_differs_from_the_request_method() -> None:
    data = invite(drop=("CSeq",), add=("CSeq: 314159 OPTIONS",))

    assert check(data) == ValidationFailure(400, "CSeq method does not match the request method")


def test_it_answers_unknown_require_tags_with_420_listing_them() -> None:
    data = invite(add=("Require: timer, foo", "Require: 100rel, bar", "Proxy-Require: baz"))

    failure = check(data, supported={"timer", "100rel"})

    assert failure == ValidationFailure(420, "Bad Extension", (("Unsupported", "foo, bar"),))


def test_it_accepts_require_tags_it_supports_and_ignores_proxy_require() -> None:
    data = invite(add=("Require: timer", "Proxy-Require: noProxiesSupportThis"))

    assert check(data, supported={"timer"}) is None


def test_it_does_not_apply_require_to_ack_and_cancel() -> None:
    for method in ("ACK", "CANCEL"):
        data = invite(drop=("CSeq",), add=(f"CSeq: 314159 {method}", "Require: foo"))
        data = data.replace(b"INVITE sip:", method.encode() + b" sip:", 1)
        assert check(data) is None


def test_it_answers_an_unsupported_body_type_on_invite_with_415_and_accept() -> None:
    data = invite(drop=("Content-Type",), add=("Content-Type: application/unknownformat",))

    failure = check(data)

    assert failure == ValidationFailure(
        415, "Unsupported Media Type", (("Accept", "application/sdp"),)
    )


def test_it_answers_a_compressed_body_with_415_and_accept_encoding() -> None:
    failure = check(invite(add=("Content-Encoding: gzip",)))

    assert failure is not None
    assert failure.status == 415
    assert failure.headers == (("Accept-Encoding", "identity"),)


def test_it_rejects_a_body_without_content_type() -> None:
    assert check(invite(drop=("Content-Type",))) == ValidationFailure(
        400, "Missing Content-Type header"
    )


def test_it_leaves_bodies_of_other_methods_to_the_application() -> None:
    data = raw(
        "MESSAGE sip:kumiko@example.org SIP/2.0",
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-d87543",
        "To: <sip:kumiko@example.org>",
        "From: <sip:fluffy@example.com>;tag=2fb0dcc9",
        "Call-ID: 3d9485ad0c49859b",
        "CSeq: 1 MESSAGE",
        "Content-Type: text/plain",
        "Content-Length: 5",
        body=b"Hello",
    )

    assert check(data) is None


@pytest.mark.parametrize(
    ("accept", "status"),
    [
        ("text/nobodyKnowsThis", 406),
        ("", 406),
        ("application/sdp", None),
        ("application/*;q=0.5, text/html", None),
        ("*/*", None),
    ],
)
def test_it_answers_406_when_an_invite_does_not_accept_sdp(accept: str, status: int) -> None:
    failure = check(invite(add=(f"Accept: {accept}",)))

    assert (failure.status if failure else None) == status


@pytest.mark.parametrize(
    ("uri", "status"),
    [
        ("nobodyKnowsThisScheme:totallyopaquecontent", 416),
        ("soap.beep://192.0.2.103:3002", 416),
        ("tel:+1-201-555-0123", None),
        ("sips:bob@biloxi.example.com", None),
    ],
)
def test_it_answers_416_to_request_uris_of_unsupported_schemes(uri: str, status: int) -> None:
    data = INVITE.replace(b"sip:bob@biloxi.example.com SIP/2.0", f"{uri} SIP/2.0".encode())

    failure = check(data)

    assert (failure.status if failure else None) == status


def test_it_rejects_a_request_uri_with_headers() -> None:
    data = INVITE.replace(b"bob@biloxi.example.com SIP", b"bob@biloxi.example.com?Route=x SIP")

    assert check(data) == ValidationFailure(400, "Request-URI must not contain headers")


def test_it_rejects_a_branch_that_is_only_the_magic_cookie() -> None:
    data = INVITE.replace(b"branch=z9hG4bK776asdhds", b"branch=z9hG4bK")

    assert check(data) == ValidationFailure(400, "Bad Via branch")


def test_it_accepts_rfc2543_requests_without_branch_tag_or_max_forwards() -> None:
    data = invite(drop=("Via", "From", "Max-Forwards", "Contact")).replace(
        b"\r\nTo:", b"\r\nVia: SIP/2.0/UDP iftgw.example.com\r\nFrom: <sip:a@b.example.com>\r\nTo:"
    )

    assert check(data) is None


def test_it_answers_405_to_known_and_501_to_unknown_methods_with_allow() -> None:
    def with_method(method: str) -> bytes:
        data = invite(drop=("CSeq",), add=(f"CSeq: 1 {method}",))
        return data.replace(b"INVITE sip:", method.encode() + b" sip:", 1)

    allow = (("Allow", "ACK, BYE, CANCEL, INVITE, OPTIONS, REGISTER"),)
    options = {"allowed_methods": UAS_METHODS}

    assert check(with_method("SUBSCRIBE"), **options) == ValidationFailure(
        405, "Method Not Allowed", allow
    )
    assert check(with_method("RE%47IST%45R"), **options) == ValidationFailure(
        501, "Not Implemented", allow
    )


def test_an_unknown_method_with_a_mismatched_cseq_gets_501() -> None:
    data = INVITE.replace(b"INVITE sip:", b"NEWMETHOD sip:", 1)

    assert check(data, allowed_methods=UAS_METHODS) == ValidationFailure(
        501, "Not Implemented", (("Allow", "ACK, BYE, CANCEL, INVITE, OPTIONS, REGISTER"),)
    )


def test_it_requires_a_sip_uri_in_the_to_of_a_register() -> None:
    data = REGISTER.replace(b"To: Bob <sip:bob@example.com>", b"To: isbn:2983792873")

    assert check(data) == ValidationFailure(400, "To of a REGISTER must be a SIP or SIPS URI")


def test_it_answers_505_to_a_request_of_another_version() -> None:
    built = request(INVITE)
    built.version = "SIP/3.0"

    assert validate_request(built) == ValidationFailure(505, "Version Not Supported")


def test_it_never_raises_on_headers_set_in_code() -> None:
    built = Request(
        "INVITE",
        parse_uri("sip:a@example.com"),
        Headers([("Via", "nonsense"), ("To", "<"), ("From", '"'), ("i", "x"), ("CSeq", "a b")]),
    )

    assert validate_request(built) == ValidationFailure(400, "Bad Via header")


def test_a_failure_builds_its_response_except_for_ack() -> None:
    parsed = request(invite(add=("Require: foo",)))
    failure = validate_request(parsed)
    assert failure is not None

    response = failure.response(parsed)

    assert response is not None
    assert (response.status, response.reason) == (420, "Bad Extension")
    assert response.headers.get("Unsupported") == "foo"
    assert response.call_id == parsed.call_id
    parsed.method = "ACK"
    assert failure.response(parsed) is None


def response(data: bytes) -> Response:
    message = parse_message(data)
    assert isinstance(message, Response)
    return message


def test_it_lets_a_ua_process_a_well_formed_response() -> None:
    assert validate_response(response(OK_200)) is None


def test_a_ua_discards_a_response_with_two_vias() -> None:
    data = OK_200.replace(
        b"\r\nTo:", b"\r\nVia: SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK1\r\nTo:"
    )

    assert validate_response(response(data)) == "More than one Via in a response"


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (b"CSeq: 314159 INVITE", b"CSeq: 9292394834772304023312 OPTIONS", "Bad CSeq header"),
        (b"Call-ID: ", b"X-Call-ID: ", "Missing Call-ID header"),
        (b"Content-Length: ", b"Content-Length: 9", "Content-Length larger than body"),
    ],
)
def test_a_ua_discards_a_malformed_response(old: bytes, new: bytes, reason: str) -> None:
    assert validate_response(response(OK_200.replace(old, new))) == reason
