"""Cutting a TCP/TLS byte stream into SIP messages (RFC 3261 §18.3, RFC 5626 §3.5.1)."""

from __future__ import annotations

from typing import NoReturn

from aqualine.telephony.sip.errors import SipFramingError, SipParseError
from aqualine.telephony.sip.grammar import parse_uint
from aqualine.telephony.sip.parser import (
    HEAD_END_RE,
    message_kind,
    parse_header_lines,
    salvage_headers,
)

DEFAULT_MAX_MESSAGE_SIZE = 65536
_LINE_SPLIT = b"\n"


class StreamFramer:
    """Accumulates the bytes of one stream connection and returns complete messages.

    Content-Length is mandatory on streams and says where each message ends.  CRLFs between
    messages (keep-alive "pings" and "pongs") are skipped.  When a message cannot be framed
    (no or invalid Content-Length, or larger than ``max_message_size``), :meth:`feed` raises
    :class:`SipFramingError`, whose ``headers`` may allow a 400/513 answer; the stream cannot
    be resynchronised afterwards, so the connection should be closed.  The messages framed
    before the error by the same call are in the error's ``messages``.  Every later call
    raises a :class:`SipFramingError` too.

    Two Content-Length fields with the same value still frame the message (validation will
    reject it with 400, and the stream stays usable); different values are a framing error.
    """

    def __init__(self, *, max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE) -> None:
        self.max_message_size = max_message_size
        self._buffer = bytearray()
        self._scan_from = 0  # where to resume looking for the end of the header fields
        self._message_end: int | None = None  # known once the header fields are complete
        self._error: SipFramingError | None = None

    @property
    def buffered(self) -> int:
        """How many bytes are waiting for the rest of their message."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return the complete messages they finish, in order."""
        if self._error is not None:
            raise SipFramingError(
                "Stream already failed", status=self._error.status, detail=self._error.reason
            )
        self._buffer += data
        messages: list[bytes] = []
        while True:
            if self._message_end is None:
                self._skip_keepalives()
                try:
                    found = self._find_message_end()
                except SipFramingError as error:
                    error.messages = messages
                    raise
                if not found:
                    return messages
            assert self._message_end is not None
            if len(self._buffer) < self._message_end:
                return messages
            messages.append(bytes(self._buffer[: self._message_end]))
            del self._buffer[: self._message_end]
            self._message_end = None
            self._scan_from = 0

    def _skip_keepalives(self) -> None:
        skip = 0
        size = len(self._buffer)
        while skip < size and self._buffer[skip] in (0x0D, 0x0A):
            if self._buffer[skip] == 0x0D and skip + 1 < size and self._buffer[skip + 1] != 0x0A:
                break  # a bare CR starts something that is not a keep-alive
            skip += 1
        if skip and (skip < size or self._buffer[skip - 1] == 0x0A):
            del self._buffer[:skip]
            self._scan_from = 0

    def _find_message_end(self) -> bool:
        end = HEAD_END_RE.search(self._buffer, self._scan_from)
        if end is None:
            if len(self._buffer) > self.max_message_size:
                self._fail("Message Too Large", 513, "header fields exceed the size limit")
            self._scan_from = max(0, len(self._buffer) - 3)
            return False
        head = bytes(self._buffer[: end.start()])
        lines = head.split(_LINE_SPLIT)[1:]
        lengths = {
            value
            for name, value in parse_header_lines(
                [line.rstrip(b"\r") for line in lines], strict=False
            )
            if name == "Content-Length"
        }
        if not lengths:
            self._fail("Missing Content-Length", 400, "Content-Length is mandatory on streams")
        if len(lengths) > 1:
            self._fail("Bad Content-Length", 400, "conflicting Content-Length values")
        try:
            length = parse_uint(lengths.pop())
        except SipParseError:
            self._fail("Bad Content-Length", 400, "not a number or too large")
        if end.end() + length > self.max_message_size:
            self._fail("Message Too Large", 513, "message exceeds the size limit")
        self._message_end = end.end() + length
        return True

    def _fail(self, reason: str, status: int, detail: str) -> NoReturn:
        error = SipFramingError(reason, status=status, detail=detail)
        head = bytes(self._buffer)
        error.kind = message_kind(head)
        if error.kind == "request":
            error.headers = salvage_headers(head)
        self._error = error
        raise error
