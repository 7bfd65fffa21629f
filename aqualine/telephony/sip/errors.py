"""The error raised for malformed SIP messages and header values."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from aqualine.telephony.sip.headers import Headers

MessageKind = Literal["request", "response", "unknown"]


class SipParseError(ValueError):
    """A SIP message, or one of its header values, does not follow the grammar.

    ``status`` and ``reason`` are what a UAS answers a request with (400 unless a more
    specific code applies: 505 for an unsupported SIP version, 513 for a message that is
    too large...).  ``detail`` says what exactly was wrong, for logs.

    When :func:`~aqualine.telephony.sip.parser.parse_message` raises, ``kind`` tells whether
    the bytes were a request or a response (a response is never answered), and ``headers``
    holds whatever could be salvaged of the Via, From, To, Call-ID and CSeq header fields,
    which is what an error response needs (see ``response_for_parse_error``).
    """

    def __init__(
        self,
        reason: str,
        *,
        status: int = 400,
        detail: str = "",
        kind: MessageKind = "unknown",
        headers: Headers | None = None,
    ) -> None:
        super().__init__(f"{status} {reason}" + (f": {detail}" if detail else ""))
        self.status = status
        self.reason = reason
        self.detail = detail
        self.kind: MessageKind = kind
        self.headers = headers


class SipFramingError(SipParseError):
    """A stream (TCP/TLS) cannot be cut into messages any more; close the connection.

    ``messages`` holds the complete messages that the failing ``feed`` call framed before
    the error: they are still to be processed.
    """

    messages: list[bytes]

    def __init__(
        self,
        reason: str,
        *,
        status: int = 400,
        detail: str = "",
        kind: MessageKind = "unknown",
        headers: Headers | None = None,
    ) -> None:
        super().__init__(reason, status=status, detail=detail, kind=kind, headers=headers)
        self.messages = []
