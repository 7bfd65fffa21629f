"""The 49 RFC 4475 torture messages, each handled the way the RFC says a UAS must.

The messages live outside the repository, in ``../shared/testdata/rfc4475`` next to its root,
or wherever ``AQUALINE_RFC4475_DIR`` points; the tests are skipped when neither exists.

Each message is given to the parser and then to ``validate_request`` (or ``validate_response``)
as a UAS would, and the outcome is one of:

- ``ACCEPT``: a request that is processed normally (it may still be refused later by the
  application, e.g. the registrar challenging regaut01);
- a status code: a request answered with that error response;
- ``PROCESS``: a response that a UA would go on to match to its transaction;
- ``DROP``: a response that is discarded (a response is never answered).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aqualine.telephony.sip import (
    Request,
    Response,
    SipFramingError,
    SipParseError,
    StreamFramer,
    parse_message,
    response_for_parse_error,
    validate_request,
    validate_response,
)
from aqualine.telephony.sip.tests.samples import TORTURE_DIR

# The UAS profile of the switch for these tests: the methods it implements (MESSAGE
# included, so that mpart01 is processed rather than refused with 405) and the option tags
# it supports.
UAS_METHODS = frozenset(
    {"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "INFO", "MESSAGE", "NOTIFY"}
    | {"PRACK", "REFER", "SUBSCRIBE", "UPDATE"}
)
SUPPORTED = frozenset({"100rel", "replaces", "timer"})

ACCEPT = "accept"
PROCESS = "process"
DROP = "drop"

EXPECTED: dict[str, str | int] = {
    # 3.1.1 Valid messages: parsed and acted on normally.
    "wsinv": ACCEPT,
    "intmeth": 501,  # "Endpoints will generate a 501 listing the methods they understand"
    "esc01": ACCEPT,
    "escnull": ACCEPT,
    "esc02": 501,  # RE%47IST%45R is not REGISTER: "An endpoint would reject this with a 501"
    "lwsdisp": ACCEPT,
    "longreq": ACCEPT,
    "dblreq": ACCEPT,  # the REGISTER; the INVITE after it in the datagram is ignored
    "semiuri": ACCEPT,
    "transports": ACCEPT,
    "mpart01": ACCEPT,
    "unreason": PROCESS,
    "noreason": PROCESS,
    # 3.1.2 Invalid messages: requests get 400 (or the specific code), responses are dropped.
    "badinv01": 400,
    "clerr": 400,
    "ncl": 400,
    "scalar02": 400,
    "scalarlg": DROP,
    "quotbal": 400,
    "ltgtruri": 400,
    "lwsruri": 400,
    "lwsstart": 400,  # rejecting is acceptable; a liberal element may go on
    "trws": 400,  # rejecting is acceptable; a liberal element may go on
    "escruri": 400,
    "baddate": ACCEPT,  # a liberal element may go on: the Date is not read
    "regbadct": 400,
    "badaspec": ACCEPT,  # a liberal element may ignore the spaces inside <>
    "baddn": 400,
    "badvers": 505,
    "mismatch01": 400,
    "mismatch02": 501,  # "should respond with a 501"; 400 would also do
    "bigcode": DROP,
    # 3.2 Transaction layer: the RFC allows 400 or RFC 2543 matching; we answer 400.
    "badbranch": 400,
    # 3.3 Application layer, as a UAS.
    "insuf": 400,
    "unkscm": 416,
    "novelsc": 416,
    "unksm2": 400,  # a registrar needs a SIP or SIPS URI in the To of a REGISTER
    "bext01": 420,
    "invut": 415,
    "regaut01": ACCEPT,  # the registrar then challenges the unknown scheme with 401
    "multi01": 400,
    "mcl01": 400,
    "bcast": DROP,  # a UA drops a response with more than one Via
    "zeromf": ACCEPT,  # 483 is a proxy's answer; a UAS processes it normally
    "cparam01": ACCEPT,
    "cparam02": ACCEPT,
    "regescrt": ACCEPT,
    "sdp01": 406,
    # 3.4 Backward compatibility.
    "inv2543": ACCEPT,
}


@pytest.fixture(scope="module")
def torture_dir() -> Path:
    if not TORTURE_DIR.is_dir():
        if os.environ.get("CI"):  # CI has shared/ beside the checkout: never skip there
            pytest.fail(f"RFC 4475 messages not found in {TORTURE_DIR}")
        pytest.skip(f"RFC 4475 messages not found in {TORTURE_DIR}")
    return TORTURE_DIR


def load(directory: Path, name: str) -> bytes:
    return (directory / f"{name}.dat").read_bytes()


def uas_outcome(data: bytes) -> tuple[str | int, Response | None]:
    """What a UAS does with a datagram: the outcome and the response it sends, if any."""
    try:
        message = parse_message(data)
    except SipParseError as error:
        if error.kind != "request":
            return DROP, None
        response = response_for_parse_error(error)
        assert response is not None, "a request rejected by the parser must be answerable"
        return error.status, response
    if isinstance(message, Response):
        return (DROP if validate_response(message) else PROCESS), None
    failure = validate_request(message, allowed_methods=UAS_METHODS, supported=SUPPORTED)
    if failure is None:
        return ACCEPT, None
    return failure.status, failure.response(message)


def test_every_torture_message_has_an_expected_outcome(torture_dir: Path) -> None:
    names = {path.stem for path in torture_dir.glob("*.dat")}

    assert names == set(EXPECTED)
    assert len(names) == 49


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_uas_handles_the_torture_message_as_rfc4475_says(torture_dir: Path, name: str) -> None:
    outcome, response = uas_outcome(load(torture_dir, name))

    assert outcome == EXPECTED[name]
    if isinstance(outcome, int):
        assert response is not None and response.status == outcome
        answer = parse_message(response.serialize())
        assert isinstance(answer, Response)
        assert answer.headers.get_all("Via") == response.headers.get_all("Via") != []


@pytest.mark.parametrize(
    ("name", "header", "value"),
    [
        ("bext01", "Unsupported", "nothingSupportsThis, nothingSupportsThisEither"),
        ("invut", "Accept", "application/sdp"),
        ("sdp01", "Accept", "application/sdp"),
    ],
)
def test_error_responses_carry_the_header_that_explains_them(
    torture_dir: Path, name: str, header: str, value: str
) -> None:
    _, response = uas_outcome(load(torture_dir, name))

    assert response is not None
    assert response.headers.get(header) == value


@pytest.mark.parametrize("name", ["intmeth", "esc02", "mismatch02"])
def test_501_responses_list_the_methods_the_uas_understands(torture_dir: Path, name: str) -> None:
    _, response = uas_outcome(load(torture_dir, name))

    assert response is not None
    assert set((response.headers.get("Allow") or "").split(", ")) == UAS_METHODS


def test_valid_messages_are_read_as_the_rfc_describes(torture_dir: Path) -> None:
    wsinv = parse_message(load(torture_dir, "wsinv"))
    esc01 = parse_message(load(torture_dir, "esc01"))
    esc02 = parse_message(load(torture_dir, "esc02"))
    escnull = parse_message(load(torture_dir, "escnull"))
    intmeth = parse_message(load(torture_dir, "intmeth"))
    semiuri = parse_message(load(torture_dir, "semiuri"))
    assert isinstance(wsinv, Request) and isinstance(esc01, Request)
    assert isinstance(esc02, Request) and isinstance(escnull, Request)
    assert isinstance(intmeth, Request) and isinstance(semiuri, Request)

    assert wsinv.from_addr.display_name == 'J Rosenberg \\"'
    assert [via.host for via in wsinv.via] == [
        "192.0.2.2",
        "spindle.example.com",
        "192.168.255.111",
    ]
    assert (wsinv.max_forwards, wsinv.cseq.number, wsinv.headers.get("Subject")) == (68, 9, "")
    assert wsinv.headers.get("UnknownHeaderWithUnusualValue") == ";;,,;;,;"
    assert getattr(esc01.uri, "user", None) == "sips:user@example.com"
    assert getattr(esc01.from_addr.uri, "user", None) == "I have spaces"
    assert esc02.method == "RE%47IST%45R"
    assert esc02.to_addr.display_name == "%Z%45"
    assert len(esc02.headers.values("Contact")) == 2
    assert esc02.headers.get("C%6Fntact") == "<sip:alias2@host2.example.com>"
    contacts = escnull.contacts
    assert isinstance(contacts, list)
    assert [getattr(c.uri, "user", None) for c in contacts] == ["\x00", "\x00\x00"]
    assert intmeth.to_addr.display_name == "BEL:\x07 NUL:\x00 DEL:\x7f"
    assert intmeth.from_addr.params.unquoted("fromParam''~+*_!.-%") == "работающий"
    assert getattr(semiuri.uri, "user", None) == "user;par=u@example.net"


@pytest.mark.parametrize("name", sorted(n for n, o in EXPECTED.items() if o in (ACCEPT, PROCESS)))
def test_accepted_messages_survive_a_serialise_parse_round_trip(
    torture_dir: Path, name: str
) -> None:
    first = parse_message(load(torture_dir, name))
    second = parse_message(first.serialize())

    assert second.start_line() == first.start_line()
    assert second.body == first.body
    assert [h for h in second.headers if h[0] != "Content-Length"] == [
        h for h in first.headers if h[0] != "Content-Length"
    ]


# Over a stream, Content-Length decides where a message ends.  Without a usable one the
# stream cannot be framed; clerr declares 9999 bytes of body, so the framer waits for them.
STREAM_REFUSED = {"inv2543": "no Content-Length", "ncl": "negative", "mcl01": "two values"}
STREAM_WAITS = {"clerr"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_over_a_stream_each_message_is_framed_awaited_or_refused(
    torture_dir: Path, name: str
) -> None:
    data = load(torture_dir, name)
    framer = StreamFramer()
    frames: list[bytes] = []

    try:
        for offset in range(0, len(data), 7):
            frames += framer.feed(data[offset : offset + 7])
    except SipFramingError as error:
        assert name in STREAM_REFUSED or name == "dblreq"
        assert error.status == 400
        frames += error.messages
    if name in STREAM_REFUSED or name in STREAM_WAITS:
        assert frames == []
        assert name in STREAM_REFUSED or framer.buffered == len(data)
    else:
        assert frames[0] == data[: len(frames[0])]
        assert uas_outcome(frames[0])[0] == EXPECTED[name]


def test_over_a_stream_dblreq_is_two_requests_then_stray_bytes(torture_dir: Path) -> None:
    with pytest.raises(SipFramingError) as caught:
        StreamFramer().feed(load(torture_dir, "dblreq"))

    # The INVITE's body is 5 bytes longer than its Content-Length; on a stream those
    # bytes would start a third message, which has no Content-Length.
    frames = caught.value.messages
    assert [parse_message(frame).start_line().split()[0] for frame in frames] == [
        "REGISTER",
        "INVITE",
    ]
