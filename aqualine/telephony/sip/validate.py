"""What a UAS checks in a request before acting on it (RFC 3261 §8.2), and a UA in a response.

:func:`validate_request` returns the first problem as a :class:`ValidationFailure` holding
the status code and reason to answer with (and extra header fields such as Unsupported or
Accept), or ``None`` when the request may be processed.  It never raises.

It plays a UAS, not a proxy: Max-Forwards 0 is not an error (483 is a proxy's answer) and
Proxy-Require is not checked.  Values RFC 4475 lets a liberal element accept are accepted:
a Date that is not in GMT (it is not read at all) and whitespace just inside ``<...>``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass

from aqualine.telephony.sip.build import build_response
from aqualine.telephony.sip.errors import SipParseError
from aqualine.telephony.sip.fields import BRANCH_COOKIE
from aqualine.telephony.sip.message import SIP_VERSION, Message, Request, Response
from aqualine.telephony.sip.uri import AbsoluteUri, SipUri

# Methods defined by RFC 3261 and its extensions: refusing one of these is 405, refusing
# a method nobody defined is 501 (RFC 3261 §8.2.1, §21.5.2).
KNOWN_METHODS = frozenset(
    {
        "ACK",
        "BYE",
        "CANCEL",
        "INFO",
        "INVITE",
        "MESSAGE",
        "NOTIFY",
        "OPTIONS",
        "PRACK",
        "PUBLISH",
        "REFER",
        "REGISTER",
        "SUBSCRIBE",
        "UPDATE",
    }
)
MANDATORY_HEADERS = ("Via", "From", "To", "Call-ID", "CSeq")
SINGLE_VALUED_HEADERS = (
    "From",
    "To",
    "Call-ID",
    "CSeq",
    "Max-Forwards",
    "Content-Length",
    "Content-Type",
    "Expires",
)
# The body types a UAS takes in requests of each method, unless told otherwise.
DEFAULT_BODY_TYPES: Mapping[str, Collection[str]] = {"INVITE": ("application/sdp",)}


@dataclass(frozen=True)
class ValidationFailure:
    """Why a request must be refused: the status and reason to answer with."""

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...] = ()

    def response(self, request: Request) -> Response | None:
        """The response to send, or ``None`` for an ACK (which is never answered)."""
        if request.method == "ACK":
            return None
        return build_response(request, self.status, self.reason, headers=self.headers)


def _check_fields(message: Message) -> str | None:
    """Parse the header fields the core relies on; return the first error's reason."""
    checks: list[Callable[[], object]] = [
        lambda: message.via,
        lambda: message.from_addr,
        lambda: message.to_addr,
        lambda: message.call_id,
        lambda: message.cseq,
        lambda: message.max_forwards,
        lambda: message.content_length,
        lambda: message.content_type,
        lambda: message.expires,
        lambda: message.contacts,
        lambda: message.routes,
        lambda: message.record_routes,
        lambda: message.require,
        lambda: message.supported,
        lambda: message.accept,
    ]
    for check in checks:
        try:
            check()
        except SipParseError as exc:
            return exc.reason
    return None


def _structure_problem(message: Message) -> str | None:
    """Missing, repeated or malformed core header fields; a body shorter than declared."""
    for name in MANDATORY_HEADERS:
        if name not in message.headers:
            return f"Missing {name} header"
    for name in SINGLE_VALUED_HEADERS:
        if message.headers.count(name) > 1:
            return f"Multiple {name} headers"
    problem = _check_fields(message)
    if problem is not None:
        return problem
    length = message.content_length
    if length is not None and length > len(message.body):
        return "Content-Length larger than body"
    return None


def validate_request(
    request: Request,
    *,
    allowed_methods: Collection[str] | None = None,
    supported: Collection[str] = (),
    body_types: Mapping[str, Collection[str]] = DEFAULT_BODY_TYPES,
) -> ValidationFailure | None:
    """Check ``request`` the way a UAS must before processing it.

    ``allowed_methods``: the methods this UAS implements (``None`` skips the check); others
    get 405 if they are standard methods, else 501, with an Allow header.  ``supported``:
    the option tags this UAS understands; any other tag in Require gets 420 with an
    Unsupported header.  ``body_types``: for each method, the Content-Types it accepts in a
    body (others get 415 with Accept) and, as the type of its answer, must find in the
    request's Accept (else 406).  Checks run in the order of RFC 3261 §8.2: syntax (400, 505),
    method (405/501), URI scheme (416), extensions (420), content (415, 406).
    """
    try:
        return _validate(request, allowed_methods, supported, body_types)
    except SipParseError as exc:  # defensive: the checks above should have caught it
        return ValidationFailure(exc.status, exc.reason)


def _validate(
    request: Request,
    allowed_methods: Collection[str] | None,
    supported: Collection[str],
    body_types: Mapping[str, Collection[str]],
) -> ValidationFailure | None:
    if request.version.upper() != SIP_VERSION:
        return ValidationFailure(505, "Version Not Supported")
    problem = _structure_problem(request)
    if problem is not None:
        return ValidationFailure(400, problem)
    uri = request.uri
    if isinstance(uri, SipUri) and uri.headers:
        return ValidationFailure(400, "Request-URI must not contain headers")
    if request.top_via.branch == BRANCH_COOKIE:
        return ValidationFailure(400, "Bad Via branch")
    method = request.method
    if allowed_methods is not None and method not in allowed_methods:
        allow = (("Allow", ", ".join(sorted(allowed_methods))),)
        if method in KNOWN_METHODS:
            return ValidationFailure(405, "Method Not Allowed", allow)
        return ValidationFailure(501, "Not Implemented", allow)
    if request.cseq.method != method:
        return ValidationFailure(400, "CSeq method does not match the request method")
    if isinstance(uri, AbsoluteUri):
        return ValidationFailure(416, "Unsupported URI Scheme")
    if method == "REGISTER" and not isinstance(request.to_addr.uri, SipUri):
        return ValidationFailure(400, "To of a REGISTER must be a SIP or SIPS URI")
    if method not in ("ACK", "CANCEL"):
        unknown = [tag for tag in request.require if tag not in supported]
        if unknown:
            return ValidationFailure(420, "Bad Extension", (("Unsupported", ", ".join(unknown)),))
    return _content_problem(request, body_types)


def _content_problem(
    request: Request, body_types: Mapping[str, Collection[str]]
) -> ValidationFailure | None:
    accepted = [t.lower() for t in body_types.get(request.method, ())]
    content_type = request.content_type
    if request.body:
        if content_type is None:
            return ValidationFailure(400, "Missing Content-Type header")
        encodings = [e.lower() for e in request.headers.values("Content-Encoding")]
        if any(e != "identity" for e in encodings):
            return ValidationFailure(
                415, "Unsupported Media Type", (("Accept-Encoding", "identity"),)
            )
        if accepted and content_type.mime not in accepted:
            return ValidationFailure(415, "Unsupported Media Type", _accept_header(accepted))
    ranges = request.accept
    if (
        accepted
        and ranges is not None
        and not any(r.matches(mime) for r in ranges for mime in accepted)
    ):
        return ValidationFailure(406, "Not Acceptable", _accept_header(accepted))
    return None


def _accept_header(types: Iterable[str]) -> tuple[tuple[str, str], ...]:
    return (("Accept", ", ".join(types)),)


def validate_response(response: Response) -> str | None:
    """Why a UA must discard ``response``, or ``None`` if it may be processed.

    Besides the syntax of the core header fields, a response with more than one Via is
    discarded (RFC 3261 §8.1.3.3: it was meant for a proxy).  Never raises.
    """
    try:
        problem = _structure_problem(response)
        if problem is not None:
            return problem
        if len(response.headers.values("Via")) > 1:
            return "More than one Via in a response"
    except SipParseError as exc:  # defensive
        return exc.reason
    return None
