"""SIP, SIPS and tel URIs: parsing, serialising and comparing (RFC 3261 §19.1, RFC 3966).

Components are stored %-decoded (``sip:%61lice@h`` has the user ``alice``) because RFC 3261
compares them that way; serialising escapes again whatever a component cannot hold
literally.  One simplification follows from this: a reserved character written escaped
(``%3B``) and the same character written literally (``;``) compare equal here, where
§19.1.4 strictly calls them different.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Literal

from aqualine.telephony.sip.errors import SipParseError
from aqualine.telephony.sip.grammar import (
    HEADER_CHARS,
    PARAM_CHARS,
    PASSWORD_CHARS,
    USER_CHARS,
    check_chars,
    escape,
    parse_uint,
    unescape,
)
from aqualine.telephony.sip.params import Params, check_no_duplicates

_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*:")
_OPAQUE_BAD_RE = re.compile(r'[\x00-\x20\x7f<>"]')
_ASCII_DIGITS = frozenset("0123456789")
_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
_IPV6_CHARS = frozenset("0123456789abcdefABCDEF:.")
_TEL_GLOBAL_CHARS = frozenset("0123456789-.()")
_TEL_LOCAL_CHARS = frozenset("0123456789abcdefABCDEF*#-.()")
_VISUAL_SEPARATORS = str.maketrans("", "", "-.()")
# RFC 3261 §19.1.4: these URI parameters must match when present in either URI.
_SIGNIFICANT_PARAMS = ("user", "ttl", "method", "maddr", "transport")


def _uri_error(detail: str) -> SipParseError:
    return SipParseError("Malformed URI", detail=detail)


def parse_host(text: str) -> str:
    """Validate a host (hostname, IPv4 address or ``[IPv6]``); return it without brackets."""
    if text.startswith("["):
        inner = text[1:-1]
        if not text.endswith("]") or not inner or any(c not in _IPV6_CHARS for c in inner):
            raise _uri_error(f"bad IPv6 reference {text[:60]!r}")
        try:
            ipaddress.IPv6Address(inner)
        except ValueError:
            raise _uri_error(f"bad IPv6 address {text[:60]!r}") from None
        return inner
    labels = (text[:-1] if text.endswith(".") else text).split(".")
    if all(label and all(c in _ASCII_DIGITS for c in label) for label in labels):
        try:
            ipaddress.IPv4Address(text)
        except ValueError:
            raise _uri_error(f"bad IPv4 address {text[:60]!r}") from None
        return text
    for label in labels:
        if (
            not label
            or label[0] == "-"
            or label[-1] == "-"
            or any(c not in _LABEL_CHARS for c in label)
        ):
            raise _uri_error(f"bad host name {text[:60]!r}")
    if labels[-1][0] in _ASCII_DIGITS:
        raise _uri_error(f"bad host name {text[:60]!r}")
    return text


def format_host(host: str) -> str:
    """A host as written in a URI or Via: IPv6 addresses get their brackets."""
    return f"[{host}]" if ":" in host else host


def parse_port(text: str) -> int:
    if not text or len(text) > 5:
        raise _uri_error(f"bad port {text[:20]!r}")
    return parse_uint(text, maximum=65535, what="port")


def hosts_equal(a: str, b: str) -> bool:
    """Compare hosts case-insensitively, and IP addresses by value (``::1`` = ``0::1``)."""
    if a.lower() == b.lower():
        return True
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return False


@dataclass(frozen=True)
class SipUri:
    """A ``sip:`` or ``sips:`` URI.  ``user``, ``password``, parameters and headers are decoded."""

    host: str
    user: str | None = None
    password: str | None = None
    port: int | None = None
    params: Params = field(default_factory=Params)
    headers: tuple[tuple[str, str], ...] = ()
    scheme: Literal["sip", "sips"] = "sip"

    @property
    def transport(self) -> str | None:
        """The ``transport`` parameter, lower-cased."""
        value = self.params.get("transport")
        return value.lower() if value else None

    @property
    def lr(self) -> bool:
        """Whether the URI carries the loose-routing ``lr`` parameter."""
        return "lr" in self.params

    @property
    def maddr(self) -> str | None:
        return self.params.get("maddr")

    @property
    def host_port(self) -> str:
        host = format_host(self.host)
        return host if self.port is None else f"{host}:{self.port}"

    def __str__(self) -> str:
        parts = [self.scheme, ":"]
        if self.user is not None:
            parts.append(escape(self.user, USER_CHARS))
            if self.password is not None:
                parts += [":", escape(self.password, PASSWORD_CHARS)]
            parts.append("@")
        parts.append(self.host_port)
        for name, value in self.params.pairs():
            parts += [";", escape(name, PARAM_CHARS)]
            if value is not None:
                parts += ["=", escape(value, PARAM_CHARS)]
        if self.headers:
            parts.append("?")
            parts.append(
                "&".join(
                    f"{escape(n, HEADER_CHARS)}={escape(v, HEADER_CHARS)}" for n, v in self.headers
                )
            )
        return "".join(parts)


@dataclass(frozen=True)
class TelUri:
    """A ``tel:`` URI (RFC 3966): a global (``+...``) or local number and its parameters."""

    number: str
    params: Params = field(default_factory=Params)
    scheme: Literal["tel"] = "tel"

    @property
    def is_global(self) -> bool:
        return self.number.startswith("+")

    @property
    def digits(self) -> str:
        """The number without visual separators, lower-cased (``+1-201`` gives ``+1201``)."""
        return self.number.translate(_VISUAL_SEPARATORS).lower()

    def __str__(self) -> str:
        parts = ["tel:", self.number]
        for name, value in self.params.pairs():
            parts += [";", escape(name, PARAM_CHARS)]
            if value is not None:
                parts += ["=", escape(value, PARAM_CHARS)]
        return "".join(parts)


@dataclass(frozen=True)
class AbsoluteUri:
    """A URI of any other scheme, kept opaque (``http:``, ``urn:``, ``isbn:``...)."""

    scheme: str
    opaque: str

    def __str__(self) -> str:
        return f"{self.scheme}:{self.opaque}"


Uri = SipUri | TelUri | AbsoluteUri


def parse_uri(text: str) -> Uri:
    """Parse a URI as written in a Request-URI or between ``<`` and ``>``.

    ``sip``, ``sips`` and ``tel`` URIs are parsed fully; other schemes become an
    :class:`AbsoluteUri`.  Raises :class:`SipParseError` (400) on malformed input.
    """
    match = _SCHEME_RE.match(text)
    if match is None:
        raise _uri_error(f"no scheme in {text[:60]!r}")
    scheme = match.group()[:-1].lower()
    rest = text[match.end() :]
    if scheme == "sip":
        return _parse_sip("sip", rest)
    if scheme == "sips":
        return _parse_sip("sips", rest)
    if scheme == "tel":
        return _parse_tel(rest)
    if not rest or _OPAQUE_BAD_RE.search(rest):
        raise _uri_error(f"bad {scheme!r} URI {text[:60]!r}")
    return AbsoluteUri(scheme, rest)


def _parse_sip(scheme: Literal["sip", "sips"], rest: str) -> SipUri:
    user: str | None = None
    password: str | None = None
    at = rest.find("@")
    if at >= 0:
        userinfo, rest = rest[:at], rest[at + 1 :]
        raw_user, colon, raw_password = userinfo.partition(":")
        if not raw_user:
            raise _uri_error("empty user part")
        check_chars(raw_user, USER_CHARS, "user")
        user = unescape(raw_user)
        if colon:
            check_chars(raw_password, PASSWORD_CHARS, "password")
            password = unescape(raw_password)
    rest, question, header_text = rest.partition("?")
    hostport, *param_texts = rest.split(";")
    if hostport.startswith("["):
        close = hostport.find("]")
        after = hostport[close + 1 :]
        if close < 0 or (after and not after.startswith(":")):
            raise _uri_error(f"bad host {hostport[:60]!r}")
        host_text, has_port, port_text = hostport[: close + 1], bool(after), after[1:]
    else:
        host_text, colon, port_text = hostport.partition(":")
        has_port = bool(colon)
    host = parse_host(host_text)
    port = parse_port(port_text) if has_port else None
    params = Params(_parse_uri_params(param_texts))
    headers: list[tuple[str, str]] = []
    if question:
        for item in header_text.split("&"):
            name, equals, value = item.partition("=")
            if not name or not equals:
                raise _uri_error(f"bad URI header {item[:60]!r}")
            check_chars(name, HEADER_CHARS, "URI header")
            check_chars(value, HEADER_CHARS, "URI header")
            headers.append((unescape(name), unescape(value)))
    return SipUri(
        host=host,
        user=user,
        password=password,
        port=port,
        params=params,
        headers=tuple(headers),
        scheme=scheme,
    )


def _parse_uri_params(texts: list[str]) -> list[tuple[str, str | None]]:
    pairs: list[tuple[str, str | None]] = []
    for text in texts:
        name, equals, value = text.partition("=")
        if not name or (equals and not value):
            raise _uri_error(f"bad URI parameter {text[:60]!r}")
        check_chars(name, PARAM_CHARS, "URI parameter")
        check_chars(value, PARAM_CHARS, "URI parameter")
        pairs.append((unescape(name), unescape(value) if equals else None))
    check_no_duplicates(pairs, "URI")
    return pairs


def _parse_tel(rest: str) -> TelUri:
    number, *param_texts = rest.split(";")
    if number.startswith("+"):
        ok = len(number) > 1 and all(c in _TEL_GLOBAL_CHARS for c in number[1:])
    else:
        ok = bool(number) and all(c in _TEL_LOCAL_CHARS for c in number)
    if not ok or not any(c in _ASCII_DIGITS or c in "*#" for c in number):
        raise _uri_error(f"bad telephone number {number[:60]!r}")
    return TelUri(number=number, params=Params(_parse_uri_params(param_texts)))


def uris_equal(a: Uri, b: Uri) -> bool:
    """Compare two URIs by RFC 3261 §19.1.4 (SIP/SIPS) or RFC 3966 §4 (tel).

    This is not ``==`` (which compares structure): it is not transitive, because a parameter
    present in only one SIP URI is ignored unless it is user, ttl, method, maddr or
    transport.
    """
    if isinstance(a, SipUri) and isinstance(b, SipUri):
        return _sip_uris_equal(a, b)
    if isinstance(a, TelUri) and isinstance(b, TelUri):
        return a.digits == b.digits and _folded(a.params) == _folded(b.params)
    if isinstance(a, AbsoluteUri) and isinstance(b, AbsoluteUri):
        return a.scheme.lower() == b.scheme.lower() and a.opaque == b.opaque
    return False


def _folded(params: Params) -> dict[str, str | None]:
    return {n.lower(): (v.lower() if v is not None else None) for n, v in params.pairs()}


def _sip_uris_equal(a: SipUri, b: SipUri) -> bool:
    if (a.scheme, a.user, a.password, a.port) != (b.scheme, b.user, b.password, b.port):
        return False
    if not hosts_equal(a.host, b.host):
        return False
    pa, pb = _folded(a.params), _folded(b.params)
    for name in _SIGNIFICANT_PARAMS:
        if (name in pa) != (name in pb):
            return False
    for name in pa.keys() & pb.keys():
        if pa[name] != pb[name]:
            return False
    ha = sorted((n.lower(), v) for n, v in a.headers)
    hb = sorted((n.lower(), v) for n, v in b.headers)
    return ha == hb
