from __future__ import annotations

import pytest

from aqualine.telephony.sip import (
    BRANCH_COOKIE,
    Request,
    Response,
    SipParseError,
    build_response,
    new_branch,
    new_call_id,
    new_tag,
    parse_message,
    response_for_parse_error,
)
from aqualine.telephony.sip.grammar import is_token, is_word
from aqualine.telephony.sip.tests.samples import INVITE, OK_200, invite, raw

TWO_VIAS = invite(
    drop=("Via",),
    add=(
        "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1, SIP/2.0/UDP a.example.com;branch=z9",
        "Via: SIP/2.0/UDP origin.example.com;branch=z9hG4bKo1",
        "Record-Route: <sip:proxy.example.com;lr>",
        "Timestamp: 54",
    ),
)


def request(data: bytes = INVITE) -> Request:
    message = parse_message(data)
    assert isinstance(message, Request)
    return message


def test_it_copies_via_from_to_call_id_and_cseq_in_order() -> None:
    original = request(TWO_VIAS)

    response = build_response(original, 486)

    assert (response.status, response.reason) == (486, "Busy Here")
    assert response.headers.get_all("Via") == original.headers.get_all("Via")
    assert response.headers.get("From") == original.headers.get("From")
    assert response.headers.get("Call-ID") == original.headers.get("Call-ID")
    assert response.headers.get("CSeq") == original.headers.get("CSeq")
    assert [name for name, _ in response.headers] == ["Via", "Via", "From", "To", "Call-ID", "CSeq"]


def test_it_adds_a_random_to_tag_unless_the_to_has_one() -> None:
    first = build_response(request(), 404)
    second = build_response(request(), 404)
    tagged = request(invite(drop=("To",), add=("To: <sip:bob@biloxi.example.com>;tag=abc",)))

    assert first.to_addr.tag is not None and is_token(first.to_addr.tag)
    assert first.to_addr.tag != second.to_addr.tag
    assert build_response(tagged, 200, to_tag="zzz").to_addr.tag == "abc"


def test_it_uses_the_to_tag_it_is_given() -> None:
    response = build_response(request(), 180, to_tag="dialog-1")

    assert response.headers.get("To") == "Bob <sip:bob@biloxi.example.com>;tag=dialog-1"


def test_a_100_trying_gets_no_tag_and_copies_the_timestamp() -> None:
    response = build_response(request(TWO_VIAS), 100)

    assert response.to_addr.tag is None
    assert response.headers.get("Timestamp") == "54"
    assert "Timestamp" not in build_response(request(TWO_VIAS), 180).headers


def test_it_copies_record_route_only_when_asked() -> None:
    original = request(TWO_VIAS)

    assert "Record-Route" not in build_response(original, 200).headers
    response = build_response(original, 200, copy_record_route=True)
    assert response.headers.get("Record-Route") == "<sip:proxy.example.com;lr>"


def test_it_appends_extra_headers_a_body_and_a_custom_reason() -> None:
    response = build_response(
        request(),
        200,
        "Fine",
        headers=[("Contact", "<sip:switch@192.0.2.9>"), ("Content-Type", "application/sdp")],
        body=b"v=0\r\n",
    )

    assert response.reason == "Fine"
    assert response.headers.get("Contact") == "<sip:switch@192.0.2.9>"
    assert response.serialize().endswith(b"Content-Length: 5\r\n\r\nv=0\r\n")


def test_a_built_response_parses_back() -> None:
    response = build_response(request(TWO_VIAS), 603, headers=[("Retry-After", "300")])

    parsed = parse_message(response.serialize())

    assert isinstance(parsed, Response)
    assert parsed.status == 603
    assert list(parsed.headers) == [*response.headers, ("Content-Length", "0")]


def test_a_malformed_to_is_echoed_as_it_came() -> None:
    original = request(invite(drop=("To",), add=('To: "Mr. J. User <sip:j.user@example.com>',)))

    response = build_response(original, 400)

    assert response.headers.get("To") == '"Mr. J. User <sip:j.user@example.com>'


def test_a_parse_error_of_a_request_becomes_an_error_response() -> None:
    with pytest.raises(SipParseError) as caught:
        parse_message(INVITE.replace(b"SIP/2.0\r\n", b"SIP/7.0\r\n", 1))

    response = response_for_parse_error(caught.value)

    assert response is not None
    assert (response.status, response.reason) == (505, "Version Not Supported")
    assert response.headers.get("CSeq") == "314159 INVITE"
    assert response.to_addr.tag is not None


def test_a_parse_error_of_a_response_or_without_via_gets_no_answer() -> None:
    with pytest.raises(SipParseError) as response_error:
        parse_message(OK_200.replace(b"200 OK", b"2000 OK"))
    with pytest.raises(SipParseError) as no_via_error:
        parse_message(raw("INVITE <sip:a@b.example.com> SIP/2.0", "CSeq: 1 INVITE", "l: 0"))

    assert response_for_parse_error(response_error.value) is None
    assert response_for_parse_error(no_via_error.value) is None


def test_branches_carry_the_magic_cookie_and_never_repeat() -> None:
    branches = {new_branch() for _ in range(1000)}

    assert len(branches) == 1000
    assert all(b.startswith(BRANCH_COOKIE) and len(b) > 20 and is_token(b) for b in branches)


def test_tags_and_call_ids_are_unique_tokens_and_words() -> None:
    assert len({new_tag() for _ in range(1000)}) == 1000
    assert is_word(new_call_id())
    assert new_call_id("switch.example.com").endswith("@switch.example.com")
    with pytest.raises(ValueError, match="Call-ID"):
        new_call_id("bad host")
