"""SIP requests and responses, with typed accessors for the header fields the core uses.

The accessors parse on each call and raise :class:`SipParseError` (status 400, reason
``"Bad Via header"``, ``"Missing To header"``, ``"Multiple CSeq headers"``...) when a field is
malformed, absent where required, or repeated where it must be single.  Run
:func:`~aqualine.telephony.sip.validate.validate_request` first and they will not raise for
the fields it checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from aqualine.telephony.sip.errors import SipParseError
from aqualine.telephony.sip.fields import (
    WILDCARD,
    CSeq,
    MediaType,
    NameAddr,
    Via,
    Wildcard,
    parse_call_id,
    parse_contact,
    parse_cseq,
    parse_media_type,
    parse_name_addr,
    parse_option_tags,
    parse_route,
    parse_via,
)
from aqualine.telephony.sip.grammar import parse_uint
from aqualine.telephony.sip.headers import Headers, canonical_name
from aqualine.telephony.sip.status import reason_phrase
from aqualine.telephony.sip.uri import Uri

SIP_VERSION = "SIP/2.0"
_T = TypeVar("_T")
_V = TypeVar("_V")


def _as_headers(headers: Headers | Iterable[tuple[str, str]] | None) -> Headers:
    if isinstance(headers, Headers):
        return headers
    return Headers(headers or ())


class Message:
    """What requests and responses share: header fields, a body, a SIP version."""

    def __init__(
        self,
        headers: Headers | Iterable[tuple[str, str]] | None = None,
        body: bytes = b"",
        version: str = SIP_VERSION,
    ) -> None:
        self.headers = _as_headers(headers)
        self.body = body
        self.version = version

    # -- helpers ---------------------------------------------------------------------------

    def _single(self, name: str) -> str | None:
        values = self.headers.get_all(name)
        if len(values) > 1:
            raise SipParseError(f"Multiple {canonical_name(name)} headers")
        return values[0] if values else None

    def _required(self, name: str) -> str:
        value = self._single(name)
        if value is None:
            raise SipParseError(f"Missing {canonical_name(name)} header")
        return value

    @staticmethod
    def _parse(name: str, parser: Callable[[_V], _T], value: _V) -> _T:
        try:
            return parser(value)
        except SipParseError as exc:
            raise SipParseError(f"Bad {canonical_name(name)} header", detail=exc.detail) from None

    def _list(self, name: str, parser: Callable[[str], _T]) -> list[_T]:
        return [self._parse(name, parser, value) for value in self.headers.values(name)]

    def _tags(self, name: str) -> list[str]:
        return self._parse(name, parse_option_tags, self.headers.values(name))

    # -- accessors ---------------------------------------------------------------------------

    @property
    def via(self) -> list[Via]:
        """Every Via value, topmost first."""
        return self._list("Via", parse_via)

    @property
    def top_via(self) -> Via:
        values = self.headers.values("Via")
        if not values:
            raise SipParseError("Missing Via header")
        return self._parse("Via", parse_via, values[0])

    @property
    def from_addr(self) -> NameAddr:
        return self._parse("From", parse_name_addr, self._required("From"))

    @property
    def to_addr(self) -> NameAddr:
        return self._parse("To", parse_name_addr, self._required("To"))

    @property
    def call_id(self) -> str:
        return self._parse("Call-ID", parse_call_id, self._required("Call-ID"))

    @property
    def cseq(self) -> CSeq:
        return self._parse("CSeq", parse_cseq, self._required("CSeq"))

    @property
    def max_forwards(self) -> int | None:
        value = self._single("Max-Forwards")
        if value is None:
            return None
        return self._parse("Max-Forwards", lambda v: parse_uint(v, maximum=255), value)

    @property
    def content_length(self) -> int | None:
        value = self._single("Content-Length")
        return None if value is None else self._parse("Content-Length", parse_uint, value)

    @property
    def content_type(self) -> MediaType | None:
        value = self._single("Content-Type")
        return None if value is None else self._parse("Content-Type", parse_media_type, value)

    @property
    def expires(self) -> int | None:
        value = self._single("Expires")
        return None if value is None else self._parse("Expires", parse_uint, value)

    @property
    def contacts(self) -> list[NameAddr] | Wildcard:
        """The Contact values, or :data:`WILDCARD` for ``Contact: *`` (which must be alone)."""
        parsed = self._list("Contact", parse_contact)
        addresses = [c for c in parsed if isinstance(c, NameAddr)]
        if len(addresses) == len(parsed):
            return addresses
        if len(parsed) == 1:
            return WILDCARD
        raise SipParseError("Bad Contact header", detail="'*' mixed with other contacts")

    @property
    def routes(self) -> list[NameAddr]:
        return self._list("Route", parse_route)

    @property
    def record_routes(self) -> list[NameAddr]:
        return self._list("Record-Route", parse_route)

    @property
    def require(self) -> list[str]:
        return self._tags("Require")

    @property
    def proxy_require(self) -> list[str]:
        return self._tags("Proxy-Require")

    @property
    def supported(self) -> list[str]:
        return self._tags("Supported")

    @property
    def unsupported(self) -> list[str]:
        return self._tags("Unsupported")

    @property
    def allow(self) -> list[str]:
        return self._tags("Allow")

    @property
    def accept(self) -> list[MediaType] | None:
        """The Accept media ranges; ``None`` without Accept, ``[]`` for an empty Accept."""
        if "Accept" not in self.headers:
            return None
        return self._list("Accept", parse_media_type)

    # -- serialising -------------------------------------------------------------------------

    def start_line(self) -> str:
        raise NotImplementedError

    def serialize(self) -> bytes:
        """The message as bytes, with a Content-Length that matches the body."""
        lines = [self.start_line()]
        lines.extend(f"{name}: {value}" for name, value in self.headers if name != "Content-Length")
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + self.body

    def __bytes__(self) -> bytes:
        return self.serialize()


class Request(Message):
    """A SIP request: method, Request-URI, header fields, body."""

    def __init__(
        self,
        method: str,
        uri: Uri,
        headers: Headers | Iterable[tuple[str, str]] | None = None,
        body: bytes = b"",
        version: str = SIP_VERSION,
    ) -> None:
        super().__init__(headers, body, version)
        self.method = method
        self.uri = uri

    def start_line(self) -> str:
        return f"{self.method} {self.uri} {self.version}"

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.uri}>"


class Response(Message):
    """A SIP response: status code, reason phrase, header fields, body."""

    def __init__(
        self,
        status: int,
        reason: str | None = None,
        headers: Headers | Iterable[tuple[str, str]] | None = None,
        body: bytes = b"",
        version: str = SIP_VERSION,
    ) -> None:
        super().__init__(headers, body, version)
        if not 100 <= status <= 699:
            raise ValueError(f"status code out of range: {status}")
        self.status = status
        self.reason = reason_phrase(status) if reason is None else reason
        if "\r" in self.reason or "\n" in self.reason:
            raise ValueError("reason phrase contains CR or LF")

    def start_line(self) -> str:
        return f"{self.version} {self.status} {self.reason}"

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.reason}>"
