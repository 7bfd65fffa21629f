"""REFER (RFC 3515) as an outbound leg receives it: reading the request, and the NOTIFYs that
report how the transfer went.

An agent's phone transfers the call it is in by sending REFER in the leg's dialog.  The leg
checks it with :func:`parse_refer` (400 for a missing, repeated or unreadable Refer-To; 501 for
what we do not implement: attended transfer with ``?Replaces=`` and non-INVITE references),
answers 202 and then reports the progress of the transfer as NOTIFYs of the implicit
subscription (:class:`ReferSubscription`), each carrying the status line of the outcome as a
``message/sipfrag`` body (RFC 3420): "100 Trying" at once, the final status when the session
knows it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aqualine.telephony.sip import (
    NameAddr,
    Request,
    SipParseError,
    SipUri,
    TelUri,
)
from aqualine.telephony.sip.fields import parse_name_addr

SIPFRAG_TYPE = "message/sipfrag;version=2.0"
SUBSCRIPTION_SECONDS = 60  # how long the implicit subscription lasts without a final NOTIFY


class ReferError(Exception):
    """A REFER we refuse: the status and reason of our answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class ReferRequest:
    """A transfer the phone asked for: where to and, if it said so, who asked.

    ``target_user`` is what to transfer to (a number, an extension or an agent ID): the user
    part of a SIP Refer-To, the number of a tel: one.  ``referred_by`` is the URI of the
    Referred-By header (RFC 3892), "" when absent or unreadable (it is informative only).
    """

    target_uri: str
    target_user: str
    referred_by: str = ""


def parse_refer(request: Request) -> ReferRequest:
    """What a REFER asks for; raises :class:`ReferError` with the answer to refuse it."""
    values = request.headers.get_all("Refer-To")  # the compact form "r" included
    if not values:
        raise ReferError(400, "Missing Refer-To")
    if len(values) > 1:
        raise ReferError(400, "More than one Refer-To")  # RFC 3515 §2.4.2
    try:
        refer_to = parse_name_addr(values[0])
    except SipParseError as exc:
        raise ReferError(400, f"Bad Refer-To ({exc.reason})") from None
    uri = refer_to.uri
    if isinstance(uri, TelUri):
        user = uri.digits
    elif isinstance(uri, SipUri):
        header_names = {name.lower() for name, _ in uri.headers}
        if "replaces" in header_names:
            # Attended transfer (RFC 3891) would have us INVITE the target with Replaces: a
            # function we do not implement (RFC 3261 §21.5.2), not a malformed request.  The
            # agent desktop's consult and complete_transfer do attended transfers.
            raise ReferError(501, "Attended transfer (Replaces) not supported")
        method = uri.params.get("method")
        if method is not None and method.upper() != "INVITE":
            raise ReferError(501, f"Refer-To method {method[:20]} not supported")
        user = uri.user or ""
    else:
        raise ReferError(400, "Refer-To must be a SIP or tel URI")
    if not user:
        raise ReferError(400, "Refer-To names no number")
    return ReferRequest(str(uri), user, _referred_by(request))


def _referred_by(request: Request) -> str:
    value = request.headers.get("Referred-By")  # the compact form "b" included
    if value is None:
        return ""
    try:
        referrer: NameAddr = parse_name_addr(value)
    except SipParseError:
        return ""
    return str(referrer.uri)


def sipfrag(status: int, reason: str) -> bytes:
    """The body of a NOTIFY: the status line of the transfer's outcome (RFC 3515 §2.4.5)."""
    if not 100 <= status <= 699:
        raise ValueError(f"not a SIP status: {status}")
    text = " ".join(reason.split()) or "Unknown"  # one line, whatever the caller passed
    return f"SIP/2.0 {status} {text}\r\n".encode()


class ReferSubscription:
    """The implicit subscription an accepted REFER makes (RFC 3515 §2.4.4): it lasts until
    the final NOTIFY, or :data:`SUBSCRIPTION_SECONDS` at most.

    ``event_id`` is the CSeq number of the REFER: the ``id`` of the NOTIFYs' Event header,
    which tells apart the subscriptions of several REFERs in one dialog (§2.4.6).
    """

    def __init__(self, event_id: int, *, now: float, seconds: float | None = None) -> None:
        self.event_id = event_id
        self.expires_at = now + (SUBSCRIPTION_SECONDS if seconds is None else seconds)
        self.terminated = False
        self.last = (100, "Trying")

    def notify_headers(
        self, status: int, reason: str, *, final: bool, now: float
    ) -> tuple[list[tuple[str, str]], bytes]:
        """Event and Subscription-State of the next NOTIFY, and its body; after a final one
        (or once the subscription has run out: ``reason=timeout``) it is terminated."""
        body = sipfrag(status, reason)
        remaining = math.ceil(self.expires_at - now)
        if final:
            state = "terminated;reason=noresource"
        elif remaining <= 0:
            state = "terminated;reason=timeout"
        else:
            state = f"active;expires={remaining}"
        self.terminated = state.startswith("terminated")
        self.last = (status, reason)
        headers = [("Event", f"refer;id={self.event_id}"), ("Subscription-State", state)]
        return headers, body


__all__ = [
    "SIPFRAG_TYPE",
    "SUBSCRIPTION_SECONDS",
    "ReferError",
    "ReferRequest",
    "ReferSubscription",
    "parse_refer",
    "sipfrag",
]
