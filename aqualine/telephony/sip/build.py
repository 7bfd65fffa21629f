"""Building responses (RFC 3261 §8.2.6) and generating branches, tags and Call-IDs."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from aqualine.telephony.sip.errors import SipParseError
from aqualine.telephony.sip.fields import BRANCH_COOKIE, parse_name_addr
from aqualine.telephony.sip.grammar import is_word
from aqualine.telephony.sip.headers import Headers
from aqualine.telephony.sip.message import Request, Response

_COPIED_ONCE = ("From", "To", "Call-ID", "CSeq")


def new_branch() -> str:
    """A Via branch unique in space and time, with the RFC 3261 magic cookie."""
    return BRANCH_COOKIE + secrets.token_hex(10)


def new_tag() -> str:
    """A From/To tag (RFC 3261 §19.3: at least 32 bits of randomness)."""
    return secrets.token_hex(6)


def new_call_id(host: str | None = None) -> str:
    """A globally unique Call-ID, as ``random`` or ``random@host``."""
    value = secrets.token_hex(16)
    if host is None:
        return value
    if not is_word(host):
        raise ValueError(f"not usable in a Call-ID: {host!r}")
    return f"{value}@{host}"


def build_response(
    request: Request,
    status: int,
    reason: str | None = None,
    *,
    to_tag: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    copy_record_route: bool = False,
) -> Response:
    """A response to ``request`` as a UAS builds it (RFC 3261 §8.2.6).

    Via values (all, in order), From, To, Call-ID and CSeq are copied as written.  If the
    To has no tag one is added: ``to_tag`` when given, otherwise a new random one, except
    for 100 Trying (which gets a tag only when ``to_tag`` is given).  A 100 copies the
    Timestamp.  ``copy_record_route`` copies Record-Route, as responses that create a dialog
    need (§12.1.1).  ``headers`` are appended after these; ``reason`` defaults to the usual
    phrase.
    """
    return _response_from(
        request.headers,
        status,
        reason,
        to_tag=to_tag,
        extra=headers,
        body=body,
        copy_record_route=copy_record_route,
    )


def response_for_parse_error(error: SipParseError) -> Response | None:
    """The error response to a request the parser rejected, or ``None`` if none can be sent.

    Responses are never answered, and without a Via there is nowhere to send an answer.
    """
    if error.kind != "request" or error.headers is None or "Via" not in error.headers:
        return None
    return _response_from(error.headers, error.status, error.reason)


def _response_from(
    source: Headers,
    status: int,
    reason: str | None,
    *,
    to_tag: str | None = None,
    extra: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    copy_record_route: bool = False,
) -> Response:
    out = Headers()
    for via in source.get_all("Via"):
        out.add("Via", via)
    if copy_record_route:
        for route in source.get_all("Record-Route"):
            out.add("Record-Route", route)
    for name in _COPIED_ONCE:
        value = source.get(name)
        if value is not None:
            out.add(name, _with_to_tag(value, status, to_tag) if name == "To" else value)
    if status == 100 and (timestamp := source.get("Timestamp")) is not None:
        out.add("Timestamp", timestamp)
    for name, value in extra:
        out.add(name, value)
    return Response(status, reason, out, body)


def _with_to_tag(value: str, status: int, to_tag: str | None) -> str:
    try:
        to = parse_name_addr(value)
    except SipParseError:
        return value  # a malformed To is echoed as it came
    if to.tag is not None:
        return value
    if to_tag is None:
        if status == 100:
            return value
        to_tag = new_tag()
    return f"{value};tag={to_tag}"
