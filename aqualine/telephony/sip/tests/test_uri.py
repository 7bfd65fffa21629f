from __future__ import annotations

import pytest

from aqualine.telephony.sip import AbsoluteUri, Params, SipParseError, SipUri, TelUri
from aqualine.telephony.sip.uri import parse_uri, uris_equal


def sip(text: str) -> SipUri:
    uri = parse_uri(text)
    assert isinstance(uri, SipUri)
    return uri


def test_it_parses_every_part_of_a_sip_uri() -> None:
    uri = sip("sip:alice:secretword@atlanta.example.com:5061;transport=tcp;lr?subject=project&x=1")

    assert uri.scheme == "sip"
    assert uri.user == "alice"
    assert uri.password == "secretword"
    assert uri.host == "atlanta.example.com"
    assert uri.port == 5061
    assert uri.params == Params([("transport", "tcp"), ("lr", None)])
    assert uri.transport == "tcp"
    assert uri.lr
    assert uri.headers == (("subject", "project"), ("x", "1"))


def test_it_parses_a_uri_without_user_or_port() -> None:
    uri = sip("sip:registrar.example.com")

    assert (uri.user, uri.host, uri.port, uri.headers) == (None, "registrar.example.com", None, ())


def test_it_lowercases_the_scheme_and_knows_sips() -> None:
    assert sip("SIP:alice@example.com").scheme == "sip"
    assert sip("sips:alice@example.com").scheme == "sips"


def test_it_decodes_escapes_in_user_and_parameters() -> None:
    uri = sip("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31")

    assert uri.user == "caller"
    assert "lr" in uri.params
    # Unescaping is done once: %25%34%31 is "%41", not "A" (RFC 4475 esc01).
    assert uri.params["name"] == "value%41"


def test_it_keeps_an_escaped_uri_inside_the_user_part() -> None:
    uri = sip("sip:sips%3Auser%40example.com@example.net")

    assert uri.user == "sips:user@example.com"
    assert uri.host == "example.net"
    assert str(uri) == "sip:sips%3Auser%40example.com@example.net"


def test_it_decodes_escaped_nulls_without_shortening_the_user() -> None:
    assert sip("sip:null-%00-null@example.com").user == "null-\x00-null"


def test_it_allows_semicolons_and_unusual_characters_in_the_user_part() -> None:
    assert sip("sip:user;par=u%40example.net@example.com").user == "user;par=u@example.net"
    uri = sip(
        "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too."
        "(doesn't-it)@example.com"
    )
    assert uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    assert uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    assert uri.host == "example.com"


def test_it_parses_bracketed_ipv6_hosts_with_and_without_port() -> None:
    assert sip("sip:alice@[2001:db8::10]:5070").host == "2001:db8::10"
    assert sip("sip:alice@[2001:db8::10]:5070").port == 5070
    assert sip("sip:[::1];transport=udp").host == "::1"
    assert str(sip("sip:[::1]:5060")) == "sip:[::1]:5060"


def test_it_parses_ipv4_hosts() -> None:
    assert sip("sip:bob@192.0.2.4:5060").host == "192.0.2.4"


@pytest.mark.parametrize(
    "text",
    [
        "sip:alice@1.2.3.999",
        "sip:alice@-bad.example.com",
        "sip:alice@bad..example.com",
        "sip:alice@under_score.example.com",
        "sip:alice@",
        "sip:@example.com",
        "sip:alice@[2001:db8::zz]",
        "sip:alice@[2001:db8::1",
        "sip:alice@example.com:65536",
        "sip:alice@example.com:",
        "sip:alice@example.com:12ab",
        "sip:al%4ice@example.com",
        "sip:al%zzice@example.com",
        "sip:alice@example.com;;lr",
        "sip:alice@example.com;lr;LR",
        "sip:alice@example.com;maddr=",
        "sip:alice@example.com?subject",
        "sip:ali ce@example.com",
        "sip:alice@example.com>",
        "<sip:alice@example.com>",
        "alice@example.com",
        "sip:alice@10.0.0",
    ],
)
def test_it_rejects_malformed_uris(text: str) -> None:
    with pytest.raises(SipParseError) as caught:
        parse_uri(text)
    assert caught.value.status == 400


def test_it_parses_global_and_local_tel_uris() -> None:
    global_uri = parse_uri("tel:+1-201-555-0123;ext=1234")
    local_uri = parse_uri("tel:7042;phone-context=example.com")

    assert isinstance(global_uri, TelUri)
    assert global_uri.is_global
    assert global_uri.digits == "+12015550123"
    assert global_uri.params["ext"] == "1234"
    assert isinstance(local_uri, TelUri)
    assert not local_uri.is_global
    assert local_uri.params["phone-context"] == "example.com"
    assert str(local_uri) == "tel:7042;phone-context=example.com"


@pytest.mark.parametrize("text", ["tel:", "tel:+", "tel:call-me", "tel:+1 201"])
def test_it_rejects_malformed_tel_uris(text: str) -> None:
    with pytest.raises(SipParseError):
        parse_uri(text)


@pytest.mark.parametrize(
    ("text", "scheme"),
    [
        ("http://www.example.com", "http"),
        ("isbn:2983792873", "isbn"),
        ("soap.beep://192.0.2.103:3002", "soap.beep"),
        ("nobodyKnowsThisScheme:totallyopaquecontent", "nobodyknowsthisscheme"),
    ],
)
def test_it_keeps_uris_of_other_schemes_opaque(text: str, scheme: str) -> None:
    uri = parse_uri(text)

    assert isinstance(uri, AbsoluteUri)
    assert uri.scheme == scheme
    assert str(uri).lower() == text.lower()


@pytest.mark.parametrize(
    "text",
    [
        "sip:alice@atlanta.example.com",
        "sips:alice:pw@[2001:db8::1]:5061;transport=tls;lr",
        "sip:user;par=u%40example.net@example.com",
        "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
        "sip:%00@host5.example.com",
        "tel:+1-201-555-0123;phone-context=+1",
    ],
)
def test_serialising_a_parsed_uri_gives_back_the_same_text(text: str) -> None:
    assert str(parse_uri(text)) == text


def test_it_escapes_only_what_a_component_cannot_hold() -> None:
    uri = SipUri(host="example.com", user="a b@c", params=Params([("x", "1;2")]))

    assert str(uri) == "sip:a%20b%40c@example.com;x=1%3B2"
    assert parse_uri(str(uri)) == uri


# RFC 3261 §19.1.4: pairs of equivalent URIs...
EQUIVALENT = [
    ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"),
    ("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"),
    (
        "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
        "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com",
    ),
    (
        "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
        "sip:alice@atlanta.com?priority=urgent&subject=project%20x",
    ),
    ("sip:alice@[2001:db8::1]", "sip:alice@[2001:DB8:0::1]"),
]
# ...and of different ones.
DIFFERENT = [
    ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"),
    ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"),
    ("sip:alice@atlanta.com", "sips:alice@atlanta.com"),
    ("sip:alice:pw@atlanta.com", "sip:alice@atlanta.com"),
    ("sip:alice@atlanta.com;maddr=239.255.255.1", "sip:alice@atlanta.com"),
    ("sip:alice@atlanta.com;newparam=5", "sip:alice@atlanta.com;newparam=6"),
]


@pytest.mark.parametrize(("a", "b"), EQUIVALENT)
def test_it_finds_rfc3261_equivalent_uris_equal(a: str, b: str) -> None:
    assert uris_equal(parse_uri(a), parse_uri(b))
    assert uris_equal(parse_uri(b), parse_uri(a))


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_it_finds_rfc3261_different_uris_different(a: str, b: str) -> None:
    assert not uris_equal(parse_uri(a), parse_uri(b))
    assert not uris_equal(parse_uri(b), parse_uri(a))


def test_it_compares_tel_uris_without_visual_separators() -> None:
    assert uris_equal(parse_uri("tel:+1-201-555-0123"), parse_uri("tel:+1.201.555.0123"))
    assert not uris_equal(parse_uri("tel:+12015550123"), parse_uri("tel:+12015550124"))
    assert not uris_equal(parse_uri("tel:7042;phone-context=a.com"), parse_uri("tel:7042"))


def test_uris_of_different_schemes_are_never_equal() -> None:
    assert not uris_equal(parse_uri("sip:+12015550123@example.com"), parse_uri("tel:+12015550123"))
    assert uris_equal(parse_uri("HTTP://x"), parse_uri("http://x"))


def test_params_look_up_names_case_insensitively_and_stay_immutable() -> None:
    params = Params([("Transport", "TCP"), ("lr", None)])

    assert params["transport"] == "TCP"
    assert "LR" in params
    assert list(params) == ["Transport", "lr"]
    assert params.with_("ttl", "5").get("ttl") == "5"
    assert "ttl" not in params
    assert "lr" not in params.without("LR")
    assert params.with_("TRANSPORT", "udp").pairs() == (("TRANSPORT", "udp"), ("lr", None))
    assert hash(params) == hash(Params([("transport", "TCP"), ("LR", None)]))
