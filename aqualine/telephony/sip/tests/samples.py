"""Well-formed SIP messages and a helper to write more, for the tests of the message layer."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[4]
# The RFC 4475 torture messages: next to the repository, or where the variable points.
TORTURE_DIR = Path(
    os.environ.get("AQUALINE_RFC4475_DIR") or REPO_ROOT.parent / "shared" / "testdata" / "rfc4475"
)

SDP = (
    b"v=0\r\n"
    b"o=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\n"
    b"s=-\r\n"
    b"c=IN IP4 192.0.2.10\r\n"
    b"t=0 0\r\n"
    b"m=audio 49170 RTP/AVP 0 8\r\n"
)


def raw(*lines: str, body: bytes = b"") -> bytes:
    """A message from its start line and header lines, CRLF-terminated, then ``body``."""
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body


INVITE_LINES = (
    "INVITE sip:bob@biloxi.example.com SIP/2.0",
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds",
    "Max-Forwards: 70",
    "To: Bob <sip:bob@biloxi.example.com>",
    'From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774',
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com",
    "CSeq: 314159 INVITE",
    "Contact: <sip:alice@pc33.atlanta.example.com>",
    "Content-Type: application/sdp",
    f"Content-Length: {len(SDP)}",
)
INVITE = raw(*INVITE_LINES, body=SDP)


def invite(*, drop: tuple[str, ...] = (), add: tuple[str, ...] = (), body: bytes = SDP) -> bytes:
    """The sample INVITE without the header lines starting with ``drop``, plus ``add``."""
    lines = [
        line
        for line in INVITE_LINES
        if not any(line.lower().startswith(prefix.lower() + ":") for prefix in drop)
        and not line.startswith("Content-Length:")
    ]
    return raw(*lines, *add, f"Content-Length: {len(body)}", body=body)


REGISTER = raw(
    "REGISTER sip:registrar.example.com SIP/2.0",
    "Via: SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKnashds7;rport",
    "Max-Forwards: 70",
    "To: Bob <sip:bob@example.com>",
    "From: Bob <sip:bob@example.com>;tag=456248",
    "Call-ID: 843817637684230@998sdasdh09",
    "CSeq: 1826 REGISTER",
    "Contact: <sip:bob@192.0.2.4>;expires=7200, <sip:bob@198.51.100.7>;q=0.5",
    "Content-Length: 0",
)

OPTIONS_FOLDED = raw(
    "OPTIONS sip:carol@chicago.example.com SIP/2.0",
    "v: SIP/2.0/TCP",
    "  proxy.example.com:5061 ;",
    "  branch=z9hG4bKhjhs8ass877",
    "Max-Forwards: 70",
    "t: <sip:carol@chicago.example.com>",
    "f: Alice <sip:alice@atlanta.example.com>;tag=1928301774",
    "i: a84b4c76e66710",
    "CSeq: 63104 OPTIONS",
    "Accept: application/sdp,",
    "  application/pkcs7-mime",
    "l: 0",
)

OK_200 = raw(
    "SIP/2.0 200 OK",
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;received=192.0.2.1",
    "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf",
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774",
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com",
    "CSeq: 314159 INVITE",
    "Contact: <sip:bob@192.0.2.4>",
    "Content-Type: application/sdp",
    f"Content-Length: {len(SDP)}",
    body=SDP,
)

ALL = (INVITE, REGISTER, OPTIONS_FOLDED, OK_200)
