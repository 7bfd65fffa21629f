"""Typed values of the header fields the core works with, and their parsers.

Each ``parse_*`` function takes one header field value (one element of a list header)
and raises :class:`SipParseError` when it does not follow RFC 3261 §25.1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from aqualine.telephony.sip.errors import SipParseError
from aqualine.telephony.sip.grammar import (
    TOKEN_RE,
    WS_RE,
    Cursor,
    is_token,
    is_word,
    parse_uint,
    quote_string,
)
from aqualine.telephony.sip.params import Params, parse_header_params
from aqualine.telephony.sip.uri import Uri, format_host, parse_host, parse_port, parse_uri

BRANCH_COOKIE = "z9hG4bK"
_ADDR_SPEC_RE = re.compile(r"[^;,\s]+")
_HOST_RE = re.compile(r"\[[^\]\s]*\]|[A-Za-z0-9\-.]+")
_QVALUE_RE = re.compile(r"0(\.[0-9]{0,3})?|1(\.0{0,3})?")
_ANGLE_WS = " \t"


@dataclass(frozen=True)
class NameAddr:
    """A ``name-addr`` or ``addr-spec`` with header parameters: From, To, Contact, Route...

    ``display_name`` is decoded (quotes and backslash escapes removed).  Parameter values
    are as written (see :meth:`Params.unquoted`).
    """

    uri: Uri
    display_name: str | None = None
    params: Params = field(default_factory=Params)

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")

    @property
    def expires(self) -> int | None:
        """The ``expires`` parameter of a Contact, in seconds."""
        value = self.params.get("expires")
        return None if value is None else parse_uint(value, what="expires parameter")

    @property
    def q(self) -> float | None:
        """The ``q`` (preference) parameter of a Contact, between 0 and 1."""
        value = self.params.get("q")
        return None if value is None else _parse_qvalue(value)

    def with_tag(self, tag: str) -> NameAddr:
        return NameAddr(self.uri, self.display_name, self.params.with_("tag", tag))

    def __str__(self) -> str:
        name = "" if self.display_name is None else quote_string(self.display_name) + " "
        return f"{name}<{self.uri}>{self.params.header_text()}"


@dataclass(frozen=True)
class Wildcard:
    """The ``Contact: *`` of a REGISTER that removes every binding."""

    def __str__(self) -> str:
        return "*"


WILDCARD = Wildcard()


@dataclass(frozen=True)
class Via:
    """One Via header field value: sent-protocol, sent-by and parameters."""

    transport: str
    host: str
    port: int | None = None
    params: Params = field(default_factory=Params)
    protocol: str = "SIP"
    version: str = "2.0"

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")

    @property
    def has_rfc3261_branch(self) -> bool:
        """Whether the branch starts with the magic cookie and has something after it."""
        branch = self.branch
        return branch is not None and branch.startswith(BRANCH_COOKIE) and branch != BRANCH_COOKIE

    @property
    def received(self) -> str | None:
        return self.params.get("received")

    @property
    def has_rport(self) -> bool:
        return "rport" in self.params

    @property
    def rport(self) -> int | None:
        """The port filled into ``rport`` (RFC 3581); ``None`` if absent or empty."""
        value = self.params.get("rport")
        return None if value is None else parse_port(value)

    @property
    def maddr(self) -> str | None:
        return self.params.get("maddr")

    @property
    def ttl(self) -> int | None:
        value = self.params.get("ttl")
        return None if value is None else parse_uint(value, maximum=255, what="ttl")

    @property
    def sent_by(self) -> str:
        host = format_host(self.host)
        return host if self.port is None else f"{host}:{self.port}"

    def __str__(self) -> str:
        protocol = f"{self.protocol}/{self.version}/{self.transport}"
        return f"{protocol} {self.sent_by}{self.params.header_text()}"


@dataclass(frozen=True)
class CSeq:
    number: int
    method: str

    def __str__(self) -> str:
        return f"{self.number} {self.method}"


@dataclass(frozen=True)
class MediaType:
    """A media type (Content-Type) or media range (Accept), type and subtype lower-cased."""

    type: str
    subtype: str
    params: Params = field(default_factory=Params)

    @property
    def mime(self) -> str:
        return f"{self.type}/{self.subtype}"

    def matches(self, mime: str) -> bool:
        """Whether this media range covers ``mime`` (``*/*``, ``application/*``)."""
        kind, _, sub = mime.lower().partition("/")
        return self.type in ("*", kind) and self.subtype in ("*", sub)

    def __str__(self) -> str:
        return f"{self.mime}{self.params.header_text()}"


def parse_name_addr(value: str, *, name_addr_only: bool = False) -> NameAddr:
    """Parse ``(name-addr / addr-spec) *(SEMI generic-param)``.

    Whitespace just inside ``<`` and ``>`` is tolerated (RFC 4475 badaspec allows a
    liberal element to ignore it).  In the ``addr-spec`` form the URI ends at the first
    ``;``, and a URI with headers (``?``) is refused: it must be enclosed in ``<>``.
    """
    cursor = Cursor(value)
    cursor.skip_ws()
    display: str | None = None
    if cursor.peek() == '"':
        display = cursor.quoted()
        cursor.skip_ws()
        if cursor.peek() != "<":
            raise cursor.error("expected '<' after display name")
    elif cursor.peek() != "<":
        start = cursor.pos
        words: list[str] = []
        while (word := cursor.match(TOKEN_RE)) is not None:
            words.append(word)
            if not cursor.skip_ws():
                break
        if words and cursor.peek() == "<":
            display = " ".join(words)
        else:
            cursor.pos = start
    if cursor.peek() == "<":
        uri = _bracketed_uri(cursor)
    elif name_addr_only:
        raise cursor.error("expected '<'")
    else:
        text = cursor.match(_ADDR_SPEC_RE)
        if text is None:
            raise cursor.error("expected a URI")
        if "?" in text:
            raise cursor.error("a URI with headers must be enclosed in '<>'")
        uri = parse_uri(text)
    params = parse_header_params(cursor)
    cursor.finish()
    return NameAddr(uri=uri, display_name=display, params=params)


def _bracketed_uri(cursor: Cursor) -> Uri:
    close = cursor.text.find(">", cursor.pos)
    if close < 0:
        raise cursor.error("unterminated '<'")
    inner = cursor.text[cursor.pos + 1 : close].strip(_ANGLE_WS)
    if WS_RE.search(inner):
        raise cursor.error("whitespace inside a URI")
    uri = parse_uri(inner)
    cursor.pos = close + 1
    return uri


def parse_contact(value: str) -> NameAddr | Wildcard:
    """One Contact value: ``*`` or a name-addr/addr-spec with contact parameters."""
    if value.strip(" \t") == "*":
        return WILDCARD
    contact = parse_name_addr(value)
    expires = contact.params.get("expires")
    if expires is not None:
        parse_uint(expires, what="expires parameter")
    q = contact.params.get("q")
    if q is not None:
        _parse_qvalue(q)
    return contact


def _parse_qvalue(value: str) -> float:
    if _QVALUE_RE.fullmatch(value) is None:
        raise SipParseError("Malformed value", detail=f"bad q value {value[:20]!r}")
    return float(value)


def parse_via(value: str) -> Via:
    """``sent-protocol LWS sent-by *( SEMI via-params )``."""
    cursor = Cursor(value)
    cursor.skip_ws()
    protocol = cursor.token("protocol name")
    cursor.expect("/")
    version = cursor.token("protocol version")
    cursor.expect("/")
    transport = cursor.token("transport")
    if not cursor.skip_ws():
        raise cursor.error("expected whitespace before sent-by")
    host_text = cursor.match(_HOST_RE)
    if host_text is None:
        raise cursor.error("expected a host")
    host = parse_host(host_text)
    port: int | None = None
    if cursor.accept(":"):
        port_text = cursor.match(TOKEN_RE) or ""
        port = parse_port(port_text)
    params = parse_header_params(cursor)
    cursor.finish()
    rport = params.get("rport")
    if rport is not None:
        parse_port(rport)
    ttl = params.get("ttl")
    if ttl is not None:
        parse_uint(ttl, maximum=255, what="ttl")
    return Via(
        transport=transport.upper(),
        host=host,
        port=port,
        params=params,
        protocol=protocol.upper(),
        version=version,
    )


def parse_cseq(value: str) -> CSeq:
    """``1*DIGIT LWS Method``; the number must fit in 32 bits (RFC 3261 §8.1.1.5)."""
    cursor = Cursor(value)
    cursor.skip_ws()
    digits = cursor.token("sequence number")
    if not cursor.skip_ws():
        raise cursor.error("expected whitespace after the sequence number")
    method = cursor.token("method")
    cursor.finish()
    return CSeq(parse_uint(digits, what="CSeq number"), method)


def parse_call_id(value: str) -> str:
    """``word [ "@" word ]``."""
    text = value.strip(" \t")
    left, at, right = text.partition("@")
    if not is_word(left) or (at and not is_word(right)):
        raise SipParseError("Malformed value", detail=f"bad Call-ID {text[:60]!r}")
    return text


def parse_media_type(value: str) -> MediaType:
    """``m-type SLASH m-subtype *(SEMI m-parameter)`` (also parses Accept ranges)."""
    cursor = Cursor(value)
    cursor.skip_ws()
    kind = cursor.token("media type")
    cursor.expect("/")
    sub = cursor.token("media subtype")
    params = parse_header_params(cursor)
    cursor.finish()
    return MediaType(kind.lower(), sub.lower(), params)


def parse_option_tags(values: list[str]) -> list[str]:
    """Option tags of Require, Proxy-Require, Supported, Unsupported: tokens."""
    for tag in values:
        if not is_token(tag):
            raise SipParseError("Malformed value", detail=f"bad option tag {tag[:40]!r}")
    return values


def parse_route(value: str) -> NameAddr:
    """A Route or Record-Route value: a name-addr (the URI in ``<>``) with parameters."""
    return parse_name_addr(value, name_addr_only=True)
