"""Parsing SIP messages from bytes (RFC 3261 §7, §18.3 for datagrams).

The parser checks the message's structure: the start line, the header field lines (names,
folding, UTF-8) and the body's extent.  Header field *values* are parsed lazily by the
accessors of :class:`~aqualine.telephony.sip.message.Message`, and checked as a whole by
:mod:`aqualine.telephony.sip.validate`.
"""

from __future__ import annotations

import re

from aqualine.telephony.sip.errors import MessageKind, SipParseError
from aqualine.telephony.sip.grammar import parse_uint
from aqualine.telephony.sip.headers import Headers
from aqualine.telephony.sip.message import SIP_VERSION, Request, Response
from aqualine.telephony.sip.uri import parse_uri

HEAD_END_RE = re.compile(rb"\r?\n\r?\n")
_LINE_RE = re.compile(rb"\r?\n")
_HEADER_LINE_RE = re.compile(r"([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*:[ \t]*(.*)")
_REQUEST_LINE_RE = re.compile(
    r"([A-Za-z0-9\-.!%*_+`'~]+) ([^ \t]+) [Ss][Ii][Pp]/([0-9]+)\.([0-9]+)"
)
_STATUS_LINE_RE = re.compile(r"[Ss][Ii][Pp]/([0-9]+)\.([0-9]+) ([0-9]+)(?: (.*))?")
_REQUEST_START_RE = re.compile(rb"[A-Za-z0-9\-.!%*_+`'~]+ ")
_RESPONSE_START_RE = re.compile(rb"[Ss][Ii][Pp]/")
_VERSION_RE = re.compile(rb"[Ss][Ii][Pp]/[0-9]+\.[0-9]+")

# The header fields an error response copies from the request (RFC 3261 §8.2.6.2).
ERROR_RESPONSE_HEADERS = ("Via", "From", "To", "Call-ID", "CSeq")


def parse_message(data: bytes, *, max_size: int | None = None) -> Request | Response:
    """Parse one SIP message, as received in a UDP datagram or cut by a StreamFramer.

    CRLFs before the start line are ignored.  The body is what follows the header fields;
    when a single valid Content-Length says it is shorter, the extra bytes are dropped
    (RFC 3261 §18.3).  A Content-Length larger than the body is left for
    :func:`~aqualine.telephony.sip.validate.validate_request` to answer with 400.

    Raises :class:`SipParseError`; see its ``kind`` and ``headers`` for how to answer.
    """
    start = len(data) - len(data.lstrip(b"\r\n"))
    kind = message_kind(data, start)
    try:
        if max_size is not None and len(data) > max_size:
            raise SipParseError(
                "Message Too Large", status=513, detail=f"{len(data)} > {max_size} bytes"
            )
        return _parse(data, start, kind)
    except SipParseError as exc:
        exc.kind = kind
        if kind == "request" and exc.headers is None:
            exc.headers = salvage_headers(data[start:])
        raise


def message_kind(data: bytes, start: int = 0) -> MessageKind:
    """Whether ``data`` (from ``start``) begins like a response, a request, or neither."""
    if _RESPONSE_START_RE.match(data, start):
        return "response"
    if _REQUEST_START_RE.match(data, start):
        return "request"
    end = data.find(b"\n", start)
    first_line = data[start : len(data) if end < 0 else end].rstrip(b"\r")
    if _VERSION_RE.fullmatch(first_line.rsplit(b" ", 1)[-1]) and b" " in first_line:
        return "request"
    return "unknown"


def _parse(data: bytes, start: int, kind: MessageKind) -> Request | Response:
    if start >= len(data):
        raise SipParseError("Empty message")
    end = HEAD_END_RE.search(data, start)
    if end is None:
        raise SipParseError("Incomplete message", detail="no empty line after the header fields")
    first, *lines = _LINE_RE.split(data[start : end.start()])
    headers = parse_header_lines(lines)
    try:
        start_line = first.decode("utf-8")
    except UnicodeDecodeError:
        raise SipParseError("Bad start line", detail="not UTF-8") from None
    if "\r" in start_line:
        raise SipParseError("Bad start line", detail="bare CR")
    message = (
        _parse_status_line(start_line, headers)
        if kind == "response"
        else _parse_request_line(start_line, headers)
    )
    body = data[end.end() :]
    declared = declared_length(headers)
    if declared is not None and declared < len(body):
        body = body[:declared]
    message.body = body
    return message


def _parse_request_line(line: str, headers: Headers) -> Request:
    match = _REQUEST_LINE_RE.fullmatch(line)
    if match is None:
        raise SipParseError("Bad Request-Line", detail=repr(line[:80]))
    method, uri_text, major, minor = match.groups()
    if (major, minor) != ("2", "0"):
        raise SipParseError("Version Not Supported", status=505, detail=f"SIP/{major}.{minor}")
    try:
        uri = parse_uri(uri_text)
    except SipParseError as exc:
        raise SipParseError("Bad Request-URI", detail=exc.detail) from None
    return Request(method, uri, headers, version=SIP_VERSION)


def _parse_status_line(line: str, headers: Headers) -> Response:
    match = _STATUS_LINE_RE.fullmatch(line)
    if match is None:
        raise SipParseError("Bad Status-Line", detail=repr(line[:80]))
    major, minor, code, reason = match.groups()
    if (major, minor) != ("2", "0"):
        raise SipParseError("Version Not Supported", status=505, detail=f"SIP/{major}.{minor}")
    if len(code) != 3 or not 100 <= int(code) <= 699:
        raise SipParseError("Bad Status-Line", detail=f"status code {code[:20]}")
    return Response(int(code), reason or "", headers, version=SIP_VERSION)


def parse_header_lines(lines: list[bytes], *, strict: bool = True) -> Headers:
    """Turn header field lines into :class:`Headers`, joining folded continuation lines.

    With ``strict=False`` lines that cannot be read are skipped instead of raising.
    """
    headers = Headers()
    name: str | None = None
    parts: list[str] = []

    def flush() -> None:
        if name is not None:
            headers.add(name, " ".join(parts).strip(" \t"))

    for raw in lines:
        try:
            if b"\r" in raw:
                raise SipParseError("Bad header line", detail="bare CR")
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise SipParseError("Bad header line", detail="not UTF-8") from None
            if line[:1] in (" ", "\t"):
                if name is None:
                    raise SipParseError("Bad header line", detail="continuation of nothing")
                parts.append(line.strip(" \t"))
                continue
            match = _HEADER_LINE_RE.fullmatch(line)
            if match is None:
                raise SipParseError("Bad header line", detail=repr(line[:80]))
        except SipParseError:
            if strict:
                raise
            flush()
            name, parts = None, []
            continue
        flush()
        name, parts = match.group(1), [match.group(2)]
    flush()
    return headers


def declared_length(headers: Headers) -> int | None:
    """The Content-Length if there is exactly one and it is a valid number, else ``None``."""
    values = headers.get_all("Content-Length")
    if len(values) != 1:
        return None
    try:
        return parse_uint(values[0])
    except SipParseError:
        return None


def salvage_headers(data: bytes) -> Headers | None:
    """Best effort: the Via, From, To, Call-ID and CSeq lines of a message that failed."""
    end = HEAD_END_RE.search(data)
    head = data if end is None else data[: end.start()]
    lines = _LINE_RE.split(head)[1:]
    wanted = Headers(
        (name, value)
        for name, value in parse_header_lines(lines, strict=False)
        if name in ERROR_RESPONSE_HEADERS
    )
    return wanted if len(wanted) else None
