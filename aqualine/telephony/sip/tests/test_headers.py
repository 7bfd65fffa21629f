from __future__ import annotations

import pytest

from aqualine.telephony.sip import Headers, parse_message
from aqualine.telephony.sip.grammar import split_commas
from aqualine.telephony.sip.headers import canonical_name
from aqualine.telephony.sip.tests.samples import raw

COMPACT = {
    "i": "Call-ID",
    "m": "Contact",
    "e": "Content-Encoding",
    "l": "Content-Length",
    "c": "Content-Type",
    "f": "From",
    "s": "Subject",
    "k": "Supported",
    "t": "To",
    "v": "Via",
    "o": "Event",
    "r": "Refer-To",
    "b": "Referred-By",
    "u": "Allow-Events",
    "x": "Session-Expires",
}


@pytest.mark.parametrize(("compact", "long"), sorted(COMPACT.items()))
def test_it_stores_compact_forms_under_the_long_name(compact: str, long: str) -> None:
    headers = Headers([(compact.upper(), "value")])

    assert list(headers) == [(long, "value")]
    assert headers.get(long.lower()) == "value"
    assert headers.get(compact) == "value"


def test_it_gives_known_names_their_usual_spelling_and_keeps_unknown_ones() -> None:
    assert canonical_name("cseq") == "CSeq"
    assert canonical_name("CALL-ID") == "Call-ID"
    assert canonical_name("www-authenticate") == "WWW-Authenticate"
    assert canonical_name("X-Custom-Thing") == "X-Custom-Thing"
    assert canonical_name("C%6Fntact") == "C%6Fntact"


def test_it_keeps_field_lines_in_order_with_their_multiplicity() -> None:
    headers = Headers([("Via", "a"), ("To", "t"), ("v", "b, c"), ("via", "d")])

    assert list(headers) == [("Via", "a"), ("To", "t"), ("Via", "b, c"), ("Via", "d")]
    assert headers.count("VIA") == 3
    assert headers.get_all("Via") == ["a", "b, c", "d"]
    assert headers.values("Via") == ["a", "b", "c", "d"]


def test_it_splits_list_headers_but_not_inside_quotes_or_angle_brackets() -> None:
    headers = Headers(
        [
            ("Contact", '"Doe, John" <sip:jd@example.com;x=a,b>;q=0.5, <sip:k@example.com>'),
            ("Contact", '"say \\"hi\\", ok" <sip:q@example.com>'),
        ]
    )

    assert headers.values("Contact") == [
        '"Doe, John" <sip:jd@example.com;x=a,b>;q=0.5',
        "<sip:k@example.com>",
        '"say \\"hi\\", ok" <sip:q@example.com>',
    ]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WWW-Authenticate", 'Digest realm="example.com", nonce="abc", qop="auth,auth-int"'),
        ("Authorization", 'Digest username="bob", realm="example.com", response="x"'),
        ("Date", "Sat, 13 Nov 2010 23:29:00 GMT"),
        ("Subject", "lunch, maybe"),
        ("X-Unknown", "a, b"),
    ],
)
def test_it_never_splits_headers_whose_values_contain_commas(name: str, value: str) -> None:
    assert Headers([(name, value)]).values(name) == [value]


def test_an_empty_list_header_has_no_values_but_empty_elements_are_kept() -> None:
    headers = Headers([("Supported", ""), ("Require", "100rel,,timer")])

    assert headers.values("Supported") == []
    assert headers.values("Require") == ["100rel", "", "timer"]


def test_split_commas_survives_unbalanced_quotes_and_brackets() -> None:
    assert split_commas('"open, <never closed') == ['"open, <never closed']
    assert split_commas("<sip:a@b, c") == ["<sip:a@b, c"]
    assert split_commas("a\\,b") == ["a\\", "b"]


def test_set_replaces_every_line_in_place_and_remove_counts() -> None:
    headers = Headers([("To", "t"), ("Via", "a"), ("From", "f"), ("Via", "b")])

    headers.set("v", "c")
    assert list(headers) == [("To", "t"), ("Via", "c"), ("From", "f")]
    headers.set("Max-Forwards", "70")
    assert list(headers)[-1] == ("Max-Forwards", "70")
    assert headers.remove("via") == 1
    assert "Via" not in headers


def test_prepend_puts_a_new_top_via() -> None:
    headers = Headers([("Via", "old")])
    headers.prepend("Via", "new")

    assert headers.get_all("Via") == ["new", "old"]


def test_copies_are_independent_and_equality_ignores_name_spelling() -> None:
    headers = Headers([("call-id", "x")])
    clone = headers.copy()
    clone.add("To", "t")

    assert len(headers) == 1
    assert headers == Headers([("i", "x")])
    assert headers != clone


@pytest.mark.parametrize("name", ["", "Bad Name", "Colon:", "Ünicode"])
def test_it_refuses_invalid_header_names(name: str) -> None:
    with pytest.raises(ValueError, match="header name"):
        Headers().add(name, "x")


@pytest.mark.parametrize("value", ["a\r\nInjected: yes", "a\nb", "a\rb"])
def test_it_refuses_values_that_would_inject_header_lines(value: str) -> None:
    with pytest.raises(ValueError, match="CR or LF"):
        Headers().add("Subject", value)


def test_a_parsed_message_resolves_compact_forms_and_folding() -> None:
    message = parse_message(
        raw(
            "OPTIONS sip:a@example.com SIP/2.0",
            "v: SIP/2.0/UDP",
            "   host.example.com;branch=z9hG4bK1",
            "TO :",
            "  <sip:a@example.com>",
            "f: <sip:b@example.com>;tag=1",
            "i: abc",
            "CSeq: 1",
            "\tOPTIONS",
            "NewFangled: first part",
            " second part",
            "l: 0",
        )
    )

    assert [name for name, _ in message.headers] == [
        "Via",
        "To",
        "From",
        "Call-ID",
        "CSeq",
        "NewFangled",
        "Content-Length",
    ]
    assert message.headers.get("Via") == "SIP/2.0/UDP host.example.com;branch=z9hG4bK1"
    assert message.headers.get("To") == "<sip:a@example.com>"
    assert message.headers.get("CSeq") == "1 OPTIONS"
    assert message.headers.get("NewFangled") == "first part second part"
