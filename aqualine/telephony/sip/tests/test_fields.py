from __future__ import annotations

from collections.abc import Callable

import pytest

from aqualine.telephony.sip import (
    WILDCARD,
    NameAddr,
    Params,
    SipParseError,
    SipUri,
    parse_message,
    parse_uri,
)
from aqualine.telephony.sip.fields import (
    parse_call_id,
    parse_contact,
    parse_cseq,
    parse_media_type,
    parse_name_addr,
    parse_route,
    parse_via,
)
from aqualine.telephony.sip.tests.samples import REGISTER, invite

# -- Via -------------------------------------------------------------------------------------


def test_it_parses_a_via_with_its_parameters() -> None:
    via = parse_via(
        "SIP/2.0/udp pc33.example.com:5066;branch=z9hG4bK776asdhds;received=192.0.2.1;"
        "rport=5067;maddr=239.255.255.1;ttl=16"
    )

    assert (via.protocol, via.version, via.transport) == ("SIP", "2.0", "UDP")
    assert (via.host, via.port, via.sent_by) == ("pc33.example.com", 5066, "pc33.example.com:5066")
    assert via.branch == "z9hG4bK776asdhds"
    assert via.has_rfc3261_branch
    assert via.received == "192.0.2.1"
    assert via.has_rport and via.rport == 5067
    assert via.maddr == "239.255.255.1"
    assert via.ttl == 16


def test_it_parses_a_via_with_whitespace_everywhere_the_grammar_allows() -> None:
    via = parse_via("SIP  / 2.0  / TCP     spindle.example.com   ;  branch  =   z9hG4bK9ikj8  ")

    assert (via.transport, via.host, via.branch) == ("TCP", "spindle.example.com", "z9hG4bK9ikj8")


def test_it_parses_an_empty_rport_and_an_ipv6_sent_by() -> None:
    via = parse_via("SIP/2.0/TLS [2001:db8::9]:5061;rport;branch=z9hG4bKx")

    assert via.host == "2001:db8::9"
    assert via.port == 5061
    assert via.has_rport and via.rport is None
    assert str(via) == "SIP/2.0/TLS [2001:db8::9]:5061;rport;branch=z9hG4bKx"


def test_it_reads_an_unbracketed_ipv6_address_in_received() -> None:
    via = parse_via("SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3;received=2001:db8::9:255")

    assert via.received == "2001:db8::9:255"
    assert parse_via("SIP/2.0/UDP h;received=192.0.2.1;rport=5060").received == "192.0.2.1"


def test_a_bare_magic_cookie_is_not_an_rfc3261_branch() -> None:
    assert not parse_via("SIP/2.0/UDP h;branch=z9hG4bK").has_rfc3261_branch
    assert not parse_via("SIP/2.0/UDP h;branch=390skdjuw").has_rfc3261_branch
    assert not parse_via("SIP/2.0/UDP iftgw.example.com").has_rfc3261_branch


@pytest.mark.parametrize(
    "value",
    [
        "SIP/2.0/UDP 192.0.2.15;;,;,,",
        "SIP/2.0 192.0.2.15",
        "SIP/2.0/UDP",
        "SIP/2.0/UDP192.0.2.15",
        "SIP/2.0/UDP host:99999",
        "SIP/2.0/UDP host;rport=abc",
        "SIP/2.0/UDP host;ttl=300",
        "SIP/2.0/UDP host;branch=",
        "SIP/2.0/UDP host;branch=a;branch=b",
        "SIP/2.0/UDP host junk",
    ],
)
def test_it_rejects_malformed_vias(value: str) -> None:
    with pytest.raises(SipParseError):
        parse_via(value)


# -- From, To, Contact, Route -----------------------------------------------------------------


def test_it_decodes_quoted_display_names_with_escapes() -> None:
    addr = parse_name_addr('"J Rosenberg \\\\\\""       <sip:jdrosen@example.com> ; tag = 98asjd8')

    assert addr.display_name == 'J Rosenberg \\"'
    assert addr.tag == "98asjd8"
    assert addr.uri == SipUri(host="example.com", user="jdrosen")


def test_it_decodes_quoted_pairs_of_control_characters() -> None:
    addr = parse_name_addr('"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f" <sip:x@example.com>')

    assert addr.display_name == "BEL:\x07 NUL:\x00 DEL:\x7f"


def test_it_reads_token_display_names_with_or_without_space_before_the_bracket() -> None:
    assert parse_name_addr("A. G. Bell <sip:agb@example.com>").display_name == "A. G. Bell"
    assert parse_name_addr("caller<sip:caller@example.com>;tag=323").display_name == "caller"


def test_in_addr_spec_form_parameters_belong_to_the_header() -> None:
    contact = parse_name_addr("sip:+19725552222@gw1.example.net;unknownparam")

    assert isinstance(contact.uri, SipUri)
    assert contact.uri.params == Params()
    assert "unknownparam" in contact.params


def test_inside_angle_brackets_parameters_belong_to_the_uri() -> None:
    contact = parse_name_addr("<sip:+19725552222@gw1.example.net;unknownparam>")

    assert isinstance(contact.uri, SipUri)
    assert "unknownparam" in contact.uri.params
    assert contact.params == Params()


def test_it_tolerates_whitespace_just_inside_angle_brackets() -> None:
    addr = parse_name_addr('"Watson, Thomas" < sip:t.watson@example.org >')

    assert addr.display_name == "Watson, Thomas"
    assert addr.uri == parse_uri("sip:t.watson@example.org")


def test_it_accepts_uris_of_any_scheme_in_addresses() -> None:
    assert str(parse_name_addr("<http://www.example.com>;tag=3").uri) == "http://www.example.com"
    assert str(parse_name_addr("isbn:2983792873").uri) == "isbn:2983792873"


@pytest.mark.parametrize(
    "value",
    [
        '"Mr. J. User <sip:j.user@example.com>',
        "Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
        "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
        "<sip:a@example.com",
        "<sip:a @example.com>",
        "<sip:joe@example.org>;;;;",
        "<sip:a@example.com>;tag=1;tag=2",
        '"name" sip:a@example.com',
        "<sip:a@example.com> trailing",
        "",
        "<>",
    ],
)
def test_it_rejects_malformed_addresses(value: str) -> None:
    with pytest.raises(SipParseError):
        parse_name_addr(value)


def test_it_serialises_an_address_in_name_addr_form() -> None:
    addr = NameAddr(parse_uri("sip:a@example.com;lr"), 'Say "hi"', Params([("tag", "x")]))

    assert str(addr) == '"Say \\"hi\\"" <sip:a@example.com;lr>;tag=x'
    assert parse_name_addr(str(addr)) == addr
    assert addr.with_tag("y").tag == "y"


def test_it_reads_contact_expires_and_q_and_the_wildcard() -> None:
    contact = parse_contact("<sip:bob@192.0.2.4>;expires=3600;q=0.7")

    assert isinstance(contact, NameAddr)
    assert (contact.expires, contact.q) == (3600, 0.7)
    assert parse_contact(" * ") is WILDCARD


@pytest.mark.parametrize(
    "value",
    [
        "<sip:u@h>;expires=280297596632815",
        "<sip:u@h>;expires=soon",
        "<sip:u@h>;q=1.5",
        "<sip:u@h>;q=0.1234",
    ],
)
def test_it_rejects_contact_parameters_out_of_range(value: str) -> None:
    with pytest.raises(SipParseError):
        parse_contact(value)


def test_a_message_gives_its_contacts_as_a_list_or_the_wildcard() -> None:
    register = parse_message(REGISTER)
    contacts = register.contacts

    assert isinstance(contacts, list)
    assert [str(c.uri) for c in contacts] == ["sip:bob@192.0.2.4", "sip:bob@198.51.100.7"]
    assert contacts[0].expires == 7200
    assert contacts[1].q == 0.5
    register.headers.set("Contact", "*")
    assert register.contacts is WILDCARD
    register.headers.add("Contact", "<sip:bob@192.0.2.4>")
    with pytest.raises(SipParseError, match="Bad Contact header"):
        _ = register.contacts


def test_routes_must_be_in_name_addr_form() -> None:
    assert parse_route("<sip:p1.example.com;lr>").uri == parse_uri("sip:p1.example.com;lr")
    with pytest.raises(SipParseError):
        parse_route("sip:p1.example.com")


# -- CSeq, Call-ID, Content-Type ----------------------------------------------------------------


def test_it_parses_cseq_with_leading_zeros_and_folding_whitespace() -> None:
    cseq = parse_cseq("0009   INVITE")

    assert (cseq.number, cseq.method) == (9, "INVITE")
    assert str(cseq) == "9 INVITE"


@pytest.mark.parametrize(
    "value",
    ["36893488147419103232 REGISTER", "4294967296 INVITE", "1", "INVITE 1", "-1 INVITE", "1INVITE"],
)
def test_it_rejects_malformed_cseqs(value: str) -> None:
    with pytest.raises(SipParseError):
        parse_cseq(value)


def test_it_accepts_every_word_character_in_a_call_id() -> None:
    call_id = "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"

    assert parse_call_id(call_id) == call_id


@pytest.mark.parametrize("value", ["", "a b", "a@b@c", "@host", "host@", "a;b"])
def test_it_rejects_malformed_call_ids(value: str) -> None:
    with pytest.raises(SipParseError):
        parse_call_id(value)


def test_it_parses_media_types_with_parameters() -> None:
    media = parse_media_type("Multipart/Mixed ; boundary=7a9cbec02ceef655")

    assert media.mime == "multipart/mixed"
    assert media.params["boundary"] == "7a9cbec02ceef655"
    assert parse_media_type("application/*").matches("application/sdp")
    assert not parse_media_type("text/plain").matches("application/sdp")
    with pytest.raises(SipParseError):
        parse_media_type("application")


# -- accessors of a message ----------------------------------------------------------------------


def test_message_accessors_give_typed_values() -> None:
    message = parse_message(
        invite(add=("Require: 100rel", "Supported: timer, 100rel", "Expires: 0120", "Accept:"))
    )

    assert message.max_forwards == 70
    assert message.content_type is not None and message.content_type.mime == "application/sdp"
    assert message.expires == 120
    assert message.require == ["100rel"]
    assert message.supported == ["timer", "100rel"]
    assert message.proxy_require == []
    assert message.accept == []
    assert message.from_addr.tag == "1928301774"
    assert message.to_addr.tag is None


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("Max-Forwards: 256", "Bad Max-Forwards header"),
        ("Expires: 4294967296", "Bad Expires header"),
        ("Supported: 100rel, bad tag", "Bad Supported header"),
        ("Route: <sip:p1.example.com;lr>,", "Bad Route header"),
    ],
)
def test_accessors_name_the_header_they_cannot_parse(line: str, reason: str) -> None:
    message = parse_message(invite(drop=("Max-Forwards",), add=(line,)))
    accessors: dict[str, Callable[[], object]] = {
        "Bad Max-Forwards header": lambda: message.max_forwards,
        "Bad Expires header": lambda: message.expires,
        "Bad Supported header": lambda: message.supported,
        "Bad Route header": lambda: message.routes,
    }

    with pytest.raises(SipParseError) as caught:
        accessors[reason]()
    assert caught.value.reason == reason
    assert caught.value.status == 400


def test_required_accessors_report_missing_and_repeated_headers() -> None:
    message = parse_message(invite(drop=("Call-ID",), add=("CSeq: 2 INVITE",)))

    with pytest.raises(SipParseError, match="Missing Call-ID header"):
        _ = message.call_id
    with pytest.raises(SipParseError, match="Multiple CSeq headers"):
        _ = message.cseq
