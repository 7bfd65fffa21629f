"""Outbound legs: the switch as the caller (UAC) of one INVITE dialog (RFC 3261 §8.1, §13.2).

An :class:`OutboundLeg` rings a registered extension (the ACD offering a call to an agent)
or a number through a trunk.  The caller of the API owns the media: it gives the local RTP
address, port and codecs (:class:`LocalMedia`), the leg puts them in its SDP offer and hands
back what the answer settled (:class:`~aqualine.telephony.sdp.NegotiatedAudio`).

Life of a leg::

    calling --1xx--> ringing --2xx (ACK sent)--> answered --BYE, either side--> ended
       |  \\             |
       |   `-- 3xx-6xx, timeout, transport error, unusable 2xx ----------------> ended
       `--------------- cancel() / ring timeout --> cancelling --487 or 2xx-----> ended

- the INVITE goes through the :class:`~aqualine.telephony.sip.transaction.TransactionLayer`;
  401/407 is answered once per realm with :class:`Credentials` (CSeq + 1, same Call-ID and
  From tag);
- a 2xx makes the dialog (route set from Record-Route reversed, remote target from Contact,
  remote tag from To) and is acknowledged end to end (new branch, the INVITE's CSeq
  number); a retransmitted 2xx gets the same ACK again, a 2xx from another fork an ACK and
  a BYE;
- a 2xx without a usable SDP answer, or one that arrives after we cancelled, is
  acknowledged and hung up at once; the leg fails;
- CANCEL is sent only once a provisional response has come (§9.1); until then the wish to
  cancel waits for one, or for the final response;
- in the dialog: BYE → 200 and ``on_ended``; re-INVITE → answered from our media (the new
  direction goes to ``on_media``: hold detection), its 2xx retransmitted until the ACK;
  INFO → 200; REFER → 202 and NOTIFYs when ``on_refer`` carries out transfers, else 603
  (:mod:`~aqualine.telephony.refer`); anything else → 405.

The switch routes responses through the transaction layer and in-dialog requests and ACKs
by Call-ID and our tag (:attr:`OutboundLeg.local_key`) to :meth:`OutboundLeg.on_request` /
:meth:`OutboundLeg.on_ack`.  Nothing a peer sends can raise out of a leg: a response that
cannot be used is logged and fails the leg.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import secrets
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from aqualine.telephony.config import SwitchConfig
from aqualine.telephony.digest import (
    DigestError,
    answer_challenge,
    choose_challenge,
    parse_challenge,
)
from aqualine.telephony.refer import (
    SIPFRAG_TYPE,
    ReferError,
    ReferRequest,
    ReferSubscription,
    parse_refer,
)
from aqualine.telephony.registrar import Binding
from aqualine.telephony.sdp import (
    Answer,
    NegotiatedAudio,
    SdpError,
    SdpNegotiationError,
    build_offer,
    negotiate_answer,
    parse_answer,
)
from aqualine.telephony.sip import (
    NameAddr,
    Request,
    Response,
    SipParseError,
    SipUri,
    build_response,
    new_branch,
    new_call_id,
    new_tag,
    parse_uri,
)
from aqualine.telephony.sip.dialog import (
    AnswerRetransmitter,
    Dialog,
    DialogKey,
    resolve_host,
    secrets_cseq,
)
from aqualine.telephony.sip.headers import Headers
from aqualine.telephony.sip.transaction import (
    ClientTransaction,
    InviteServerTransaction,
    ServerTransaction,
    Timers,
    TransactionLayer,
    build_cancel,
)
from aqualine.telephony.sip.transport import TCP, UDP, Address, Source, canonical_ip
from aqualine.telephony.sip.uri import Uri, format_host

log = logging.getLogger("aqualine.switch.legs")

SDP_TYPE = "application/sdp"
# What a leg accepts in its dialog (the switch answers OPTIONS and CANCEL itself).
LEG_ALLOWED_METHODS = ("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO")
MAX_AUTH_ROUNDS = 3  # 401/407 answered per INVITE chain (once per realm, again if stale)


class LegState(enum.StrEnum):
    CALLING = "calling"  # INVITE sent, no provisional response beyond 100 yet
    RINGING = "ringing"  # 180/183 (or another 1xx above 100)
    CANCELLING = "cancelling"  # we gave up; CANCEL sent, or waiting for a 1xx to send it
    ANSWERED = "answered"  # 2xx received and acknowledged: the dialog is confirmed
    ENDED = "ended"


class FailureKind(enum.StrEnum):
    """How the ACD reads a failed leg."""

    DECLINED = "declined"  # busy or declined by the person (486, 600, 603)
    UNREACHABLE = "unreachable"  # not registered, no reply, transport error, 404/408/480...
    NO_ANSWER = "no_answer"  # rang until the ring timeout
    CANCELLED = "cancelled"  # cancel() before the answer
    REJECTED = "rejected"  # anything else: auth failure, 488, 5xx, an unusable answer


_DECLINED = frozenset({486, 600, 603})
_UNREACHABLE = frozenset({404, 408, 410, 480, 484, 502, 503, 504, 604})


def classify_failure(status: int) -> FailureKind:
    if status in _DECLINED:
        return FailureKind.DECLINED
    if status in _UNREACHABLE:
        return FailureKind.UNREACHABLE
    return FailureKind.REJECTED


@dataclass(frozen=True)
class LegFailure:
    """Why a leg was not answered: the SIP status (ours when ``local``) and reason."""

    status: int
    reason: str
    kind: FailureKind
    local: bool = False  # decided here (no registration, unusable answer...), not by the peer

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reason": self.reason,
            "kind": self.kind.value,
            "local": self.local,
        }


class LegFailed(Exception):
    """What :attr:`OutboundLeg.answered` raises for a leg that was not answered."""

    def __init__(self, failure: LegFailure) -> None:
        super().__init__(f"{failure.status} {failure.reason}")
        self.failure = failure


@dataclass(frozen=True)
class LocalMedia:
    """Where we receive RTP and what we offer (the media engine's side of the leg)."""

    address: str
    port: int
    codecs: tuple[str, ...] = ("PCMU", "PCMA")
    telephone_event_pt: int | None = 101


@dataclass(frozen=True)
class Credentials:
    """What we answer a trunk's 401/407 challenge with."""

    username: str
    password: str


@dataclass(frozen=True)
class LegTarget:
    """Where the INVITE goes: its Request-URI, its To, and the next hop.

    ``address`` None means: from the Request-URI (maddr or host, port, transport).  With
    ``follow_flow`` every request of the dialog goes to ``address`` over ``transport`` while
    there is no route set: a registered phone is reached where its REGISTER came from
    (``received``/``rport``, its TCP connection), not at a Contact that may sit behind NAT.
    """

    uri: Uri
    to: NameAddr
    address: Address | None = None
    transport: str = UDP
    follow_flow: bool = False

    @classmethod
    def registered(cls, binding: Binding, *, domain: str) -> LegTarget:
        """An extension's registered contact, reached over the flow it registered on."""
        return cls(
            uri=binding.contact.uri,
            to=NameAddr(SipUri(host=domain, user=binding.number)),
            address=parse_address(binding.source),
            transport=binding.transport.upper(),
            follow_flow=True,
        )

    @classmethod
    def for_uri(
        cls, uri: str | Uri, *, transport: str | None = None, address: Address | None = None
    ) -> LegTarget:
        """A SIP URI (a number at a trunk): the next hop from the URI unless ``address``."""
        parsed = parse_uri(uri) if isinstance(uri, str) else uri
        if not isinstance(parsed, SipUri):
            raise ValueError(f"only sip: URIs can be called, not {parsed}")
        kind = (transport or parsed.transport or UDP).upper()
        if kind not in (UDP, TCP):
            raise ValueError(f"unsupported transport {kind}")
        to = SipUri(host=parsed.host, user=parsed.user, port=parsed.port, scheme=parsed.scheme)
        return cls(uri=parsed, to=NameAddr(to), address=address, transport=kind)

    async def next_hop(self) -> Address:
        if self.address is not None:
            return self.address
        uri = self.uri
        if not isinstance(uri, SipUri):
            raise OSError(f"no next hop for {uri}")
        port = uri.port or (5061 if uri.scheme == "sips" else 5060)
        return (await resolve_host(uri.maddr or uri.host), port)


def parse_address(text: str) -> Address:
    """``host:port`` or ``[v6]:port`` (as :func:`format_address` writes them) back to a tuple."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"not an address: {text!r}")
    return canonical_ip(host.strip("[]")), int(port)


Callback = Callable[..., None]


@dataclass(frozen=True)
class LegCallbacks:
    """Called on the event loop as the leg goes; exceptions are logged, never raised.

    ``on_failed`` is for a leg that never got answered; ``on_ended`` for an answered leg
    whose dialog ended.  ``on_media`` follows re-INVITEs (direction: hold, resume).
    ``on_refer`` gets the phone's blind transfers (REFER, accepted with 202 and "100 Trying");
    report the outcome with :meth:`OutboundLeg.notify_refer`.  Without it REFER gets 603.
    """

    on_ringing: Callable[[OutboundLeg, int], None] | None = None
    on_answered: Callable[[OutboundLeg, NegotiatedAudio], None] | None = None
    on_failed: Callable[[OutboundLeg, LegFailure], None] | None = None
    on_ended: Callable[[OutboundLeg, str], None] | None = None
    on_media: Callable[[OutboundLeg, NegotiatedAudio], None] | None = None
    on_refer: Callable[[OutboundLeg, ReferRequest], None] | None = None


class LegHost(Protocol):
    """What a leg needs of the switch."""

    @property
    def config(self) -> SwitchConfig: ...

    @property
    def layer(self) -> TransactionLayer: ...

    @property
    def timers(self) -> Timers: ...

    def via_address(self) -> tuple[str, int]: ...

    def contact_for(self, user: str, transport: str) -> str: ...

    def common_headers(self) -> list[tuple[str, str]]: ...

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None: ...

    def leg_started(self, leg: OutboundLeg) -> None: ...

    def leg_ended(self, leg: OutboundLeg) -> None: ...


def _now() -> datetime:
    return datetime.now(UTC)


def _mark_retrieved(future: asyncio.Future[Any]) -> None:
    if future.done() and not future.cancelled():
        future.exception()


class OutboundLeg:
    """One INVITE dialog the switch originates; see the module docstring.

    ``await leg.start()`` sends the INVITE and returns; then ``await leg.answered`` gives the
    negotiated audio or raises :class:`LegFailed`, and ``await leg.ended`` the end cause.
    """

    def __init__(
        self,
        host: LegHost,
        target: LegTarget | None,
        media: LocalMedia,
        *,
        caller: str = "",
        caller_name: str | None = None,
        callee: str = "",
        credentials: Credentials | None = None,
        ring_timeout: float | None = None,
        callbacks: LegCallbacks | None = None,
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.host = host
        self.target = target
        self.media = media
        self.caller = caller
        self.caller_name = caller_name
        self.callee = callee or _user_of(target.to.uri if target else None)
        self.credentials = credentials
        self.ring_timeout = ring_timeout
        self.callbacks = callbacks or LegCallbacks()
        self.extra_headers = list(headers)
        self.id = "l" + secrets.token_hex(8)
        self.call_id = new_call_id()
        self.local_tag = new_tag()
        self.transport = target.transport if target else UDP
        via_host, _ = host.via_address()
        self.local = NameAddr(SipUri(host=via_host, user=caller or None), caller_name)
        self.state = LegState.CALLING
        self.dialog: Dialog | None = None
        self.audio: NegotiatedAudio | None = None
        self.early_audio: NegotiatedAudio | None = None
        self.failure: LegFailure | None = None
        self.end_cause = ""
        self.ringing_status: int | None = None
        self.started_at: datetime | None = None
        self.answered_at: datetime | None = None
        self.ended_at: datetime | None = None
        self.session_id = secrets.randbelow(2**31)
        self.session_version = secrets.randbelow(2**20)
        self.local_sdp = b""
        self.invite: Request | None = None
        self.transaction: ClientTransaction | None = None
        self.bye_response: Response | None = None
        self.acks_sent = 0
        loop = asyncio.get_running_loop()
        self._answered: asyncio.Future[NegotiatedAudio] = loop.create_future()
        self._ended: asyncio.Future[str] = loop.create_future()
        self._started = False
        self._next_hop: Address | None = None
        self._provisional = False  # a 1xx (100 included) came for the current INVITE
        self._cancel_failure: LegFailure | None = None
        self._cancel_sent = False
        self._ring_timer: asyncio.TimerHandle | None = None
        self._ack: Request | None = None
        self._ack_destination: tuple[Address, str] | None = None
        self._auth_headers: dict[tuple[bool, str], tuple[str, str]] = {}
        self._auth_rounds = 0
        self._pending_2xx_cseq: int | None = None
        self._retransmitter: AnswerRetransmitter | None = None
        self._awaiting_answer_in_ack = False
        self._refer: ReferSubscription | None = None  # the latest REFER we accepted

    # --- what callers see ---------------------------------------------------------------------

    @property
    def answered(self) -> asyncio.Future[NegotiatedAudio]:
        """The negotiated audio once answered; raises :class:`LegFailed` otherwise."""
        return self._answered

    @property
    def ended(self) -> asyncio.Future[str]:
        """Resolves with the cause when the leg is over (answered or not)."""
        return self._ended

    @property
    def local_key(self) -> tuple[str, str]:
        """Call-ID and our tag: what the switch finds the leg by."""
        return (self.call_id, self.local_tag)

    @property
    def key(self) -> DialogKey | None:
        return self.dialog.key if self.dialog is not None else None

    def snapshot(self) -> dict[str, Any]:
        audio = self.audio
        return {
            "leg_id": self.id,
            "sip_call_id": self.call_id,
            "target": str(self.target.uri) if self.target else None,
            "caller": self.caller,
            "callee": self.callee,
            "state": self.state.value,
            "ringing_status": self.ringing_status,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "answered_at": self.answered_at.isoformat() if self.answered_at else None,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "failure": self.failure.as_dict() if self.failure else None,
            "end_cause": self.end_cause or None,
            "codec": audio.codec.name if audio else None,
            "remote_rtp": f"{audio.remote_address}:{audio.remote_port}" if audio else None,
            "local_rtp": f"{self.media.address}:{self.media.port}",
            "direction": audio.direction.value if audio else None,
            "held": bool(audio and audio.held_by_remote),
        }

    def __repr__(self) -> str:
        return f"<OutboundLeg {self.id} {self.callee or '?'} {self.state.value}>"

    # --- starting -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Send the INVITE and return; the leg goes on in the background.

        Without a target (an extension with no registration) the leg fails at once with 480
        and nothing is sent.
        """
        if self._started:
            raise RuntimeError("the leg was already started")
        self._started = True
        self.started_at = _now()
        if self._answered.done():
            return  # cancelled before it started
        if self.target is None:
            self._fail(LegFailure(480, "Not registered", FailureKind.UNREACHABLE, local=True))
            return
        media = self.media
        self.local_sdp = build_offer(  # a ValueError here is the caller's mistake
            local_ip=media.address,
            local_port=media.port,
            session_id=self.session_id,
            session_version=self.session_version,
            codecs=media.codecs,
            telephone_event_pt=media.telephone_event_pt,
        )
        self.host.leg_started(self)
        try:
            self._next_hop = await self.target.next_hop()
        except OSError as exc:
            log.info("leg %s: no next hop for %s: %s", self.id, self.target.uri, exc)
            self._fail(LegFailure(503, "Cannot resolve", FailureKind.UNREACHABLE, local=True))
            return
        if self._answered.done():
            return  # cancelled while the next hop was being resolved
        if self.ring_timeout is not None and self.ring_timeout > 0:
            loop = asyncio.get_running_loop()
            self._ring_timer = loop.call_later(self.ring_timeout, self._on_ring_timeout)
        await self._send_invite(self._build_invite(secrets_cseq()))
        log.info("leg %s: INVITE %s over %s", self.id, self.target.uri, self.transport)
        self.host.spawn(self._run())

    def _build_invite(self, cseq: int) -> Request:
        assert self.target is not None
        via_host, via_port = self.host.via_address()
        headers = Headers()
        sent_by = f"{format_host(via_host)}:{via_port}"
        headers.add("Via", f"SIP/2.0/{self.transport} {sent_by};branch={new_branch()};rport")
        headers.add("Max-Forwards", "70")
        headers.add("From", str(self.local.with_tag(self.local_tag)))
        headers.add("To", str(self.target.to))
        headers.add("Call-ID", self.call_id)
        headers.add("CSeq", f"{cseq} INVITE")
        headers.add("Contact", self.host.contact_for(self.caller or "aqualine", self.transport))
        headers.add("Allow", ", ".join(self.allowed_methods()))
        for name, value in self._request_headers():
            headers.add(name, value)
        for name, value in self._auth_headers.values():
            headers.add(name, value)
        for name, value in self.extra_headers:
            headers.add(name, value)
        headers.add("Content-Type", SDP_TYPE)
        return Request("INVITE", self.target.uri, headers, self.local_sdp)

    def _request_headers(self) -> list[tuple[str, str]]:
        agent = self.host.config.user_agent
        return [("User-Agent", agent)] if agent else []

    async def _send_invite(self, invite: Request) -> None:
        assert self._next_hop is not None
        self.invite = invite
        self._provisional = False
        self._cancel_sent = False
        self.transaction = await self.host.layer.request(
            invite, self._next_hop, self.transport, on_response=self._on_response
        )

    # --- responses to the INVITE --------------------------------------------------------------

    async def _run(self) -> None:
        """Wait for the final response of each INVITE sent (a second one after a challenge)."""
        try:
            while True:
                transaction = self.transaction
                assert transaction is not None
                response = await transaction.final
                if self._answered.done() and not 200 <= response.status < 300:
                    return  # given up on meanwhile (a 2xx still gets its ACK and BYE)
                if not await self._on_final(response):
                    return
        except asyncio.CancelledError:
            self._fail(LegFailure(500, "Switch stopped", FailureKind.REJECTED, local=True))
            raise
        except Exception:
            log.exception("leg %s: handling the answer to the INVITE failed", self.id)
            failure = LegFailure(500, "Internal error", FailureKind.REJECTED, local=True)
            if self.dialog is not None and self.state is not LegState.ENDED:
                self._fail(failure)
                await self._send_bye()
            else:
                self._fail(failure)

    async def _on_final(self, response: Response) -> bool:
        """Handle a final response; True when a new INVITE went out (after a challenge)."""
        status = response.status
        if 200 <= status < 300:
            await self._on_success(response)
            return False
        if status in (401, 407) and self.state is not LegState.CANCELLING:
            retry = self._authenticated_retry(response)
            if retry is not None:
                await self._send_invite(retry)
                log.info("leg %s: answered a %d challenge", self.id, status)
                return True
        if status == 408 and self._provisional and not self._cancel_sent:
            # The transaction gave up while the phone rang: stop the ringing.
            self._send_cancel()
        if self._cancel_failure is not None:
            self._fail(self._cancel_failure)
        else:
            self._fail(LegFailure(status, response.reason, classify_failure(status)))
        return False

    def _on_response(self, response: Response) -> None:
        """Provisional responses, and 2xx retransmitted (or from other forks)."""
        try:
            if response.status >= 200:
                self._on_2xx_again(response)
            elif self.invite is not None and response.cseq.number == self.invite.cseq.number:
                self._on_provisional(response)
        except Exception:
            log.exception("leg %s: a %d could not be handled", self.id, response.status)

    def _on_provisional(self, response: Response) -> None:
        self._provisional = True
        if self.state is LegState.CANCELLING:
            self._send_cancel()
            return
        status = response.status
        if status == 100 or self.state not in (LegState.CALLING, LegState.RINGING):
            return
        self.state = LegState.RINGING
        self.ringing_status = status
        if response.body and self.local_sdp:
            try:
                self.early_audio = parse_answer(self.local_sdp, response.body)
            except SdpError as exc:
                log.info("leg %s: ignoring the SDP of a %d: %s", self.id, status, exc)
        log.info("leg %s: %d %s", self.id, status, response.reason)
        self._notify(self.callbacks.on_ringing, status)

    def _on_2xx_again(self, response: Response) -> None:
        dialog, ack, where = self.dialog, self._ack, self._ack_destination
        if dialog is None or ack is None or where is None:
            return  # the first 2xx, still being handled by _run
        if response.to_addr.tag == dialog.remote_tag:
            self.host.layer.transport.resend_request(ack, *where)
            self.acks_sent += 1
        else:
            self.host.spawn(self._refuse_fork(response))

    async def _on_success(self, response: Response) -> None:
        problem: str | None = None
        try:
            dialog = self._dialog_for(response, lenient=False)
        except SipParseError as exc:
            problem = f"Malformed 2xx ({exc.reason})"
            try:
                dialog = self._dialog_for(response, lenient=True)
            except SipParseError:
                log.info("leg %s: cannot even acknowledge the 2xx: %s", self.id, exc.reason)
                self._fail(LegFailure(502, problem, FailureKind.REJECTED, local=True))
                return
        self.dialog = dialog
        audio: NegotiatedAudio | None = None
        if problem is None:
            audio, problem = self._read_answer(response)
        cancelled = self._cancel_failure is not None or self._answered.done()
        if audio is not None and not cancelled:
            self.audio = audio
            self.state = LegState.ANSWERED  # in-dialog requests are welcome from now on
            self.answered_at = _now()
            self._stop_ring_timer()
        await self._send_ack(dialog)
        if cancelled or problem is not None:
            if cancelled:
                failure = (
                    self._cancel_failure
                    or self.failure
                    or LegFailure(487, "Cancelled", FailureKind.CANCELLED, local=True)
                )
                log.info("leg %s: answered after we gave up: ACK and BYE", self.id)
            else:
                failure = LegFailure(488, problem or "?", FailureKind.REJECTED, local=True)
                log.info("leg %s: %s: ACK and BYE", self.id, problem)
            self._fail(failure)
            await self._send_bye()
            return
        assert audio is not None
        if not self._answered.done():
            self._answered.set_result(audio)
        log.info(
            "leg %s: answered (%s, RTP to %s:%d, %s)",
            self.id,
            audio.codec.name,
            audio.remote_address,
            audio.remote_port,
            audio.direction.value,
        )
        self._notify(self.callbacks.on_answered, audio)

    def _read_answer(self, response: Response) -> tuple[NegotiatedAudio | None, str | None]:
        if not response.body:
            if self.early_audio is not None:
                return self.early_audio, None  # tolerated: the answer came in a 18x
            return None, "No SDP answer"
        try:
            content_type = response.content_type
        except SipParseError:
            content_type = None
        if content_type is not None and content_type.mime != SDP_TYPE:
            return None, f"Answer is {content_type.mime}"
        try:
            return parse_answer(self.local_sdp, response.body), None
        except SdpError as exc:
            return None, f"Unusable SDP answer: {str(exc)[:80]}"

    def _dialog_for(self, response: Response, *, lenient: bool) -> Dialog:
        """The dialog a 2xx makes (§12.1.2); ``lenient`` ignores a bad Contact/Record-Route."""
        assert self.target is not None and self.invite is not None and self._next_hop
        to = response.to_addr
        remote_target: Uri = self.target.uri
        routes: list[str] = []
        try:
            contacts = response.contacts
            if isinstance(contacts, list) and contacts:
                remote_target = contacts[0].uri
            elif not lenient:
                raise SipParseError("Missing Contact header")
            _ = response.record_routes  # parses them: a bad one raises here
            routes = list(reversed(response.headers.values("Record-Route")))
        except SipParseError:
            if not lenient:
                raise
        return Dialog(
            call_id=self.call_id,
            local_tag=self.local_tag,
            remote_tag=to.tag or "",
            local=self.local,
            remote=to,
            remote_target=remote_target,
            route_set=routes,
            remote_cseq=0,
            source=Source(self.transport, self._next_hop),
            local_cseq=self.invite.cseq.number,
        )

    async def _send_ack(self, dialog: Dialog) -> None:
        """The ACK for a 2xx: a new transaction of its own, the INVITE's CSeq number."""
        assert self.invite is not None
        dialog.local_cseq = self.invite.cseq.number - 1  # build_request adds one
        via_host, via_port = self.host.via_address()
        ack = dialog.build_request(
            "ACK", via_host=via_host, via_port=via_port, headers=self._request_headers()
        )
        try:
            where = await self._destination(dialog)
            self._ack, self._ack_destination = ack, where
            await self.host.layer.transport.send_request(ack, *where)
            self.acks_sent += 1
        except OSError as exc:
            log.info("leg %s: sending the ACK failed: %s", self.id, exc)

    async def _destination(self, dialog: Dialog) -> tuple[Address, str]:
        target = self.target
        if target is not None and target.follow_flow and not dialog.route_set:
            assert self._next_hop is not None
            return self._next_hop, self.transport
        return await dialog.destination()

    async def _refuse_fork(self, response: Response) -> None:
        """A 2xx from another fork of the INVITE: acknowledge it and hang it up (§13.2.2.4)."""
        try:
            dialog = self._dialog_for(response, lenient=True)
        except SipParseError:
            return
        log.info("leg %s: a second 2xx (tag %s): ACK and BYE", self.id, dialog.remote_tag)
        assert self.invite is not None
        dialog.local_cseq = self.invite.cseq.number - 1
        via_host, via_port = self.host.via_address()
        ack = dialog.build_request("ACK", via_host=via_host, via_port=via_port)
        try:
            where = await self._destination(dialog)
            await self.host.layer.transport.send_request(ack, *where)
        except OSError:
            return
        await self._bye(dialog, wait=None)

    def _authenticated_retry(self, response: Response) -> Request | None:
        credentials, invite = self.credentials, self.invite
        if credentials is None or invite is None or self._auth_rounds >= MAX_AUTH_ROUNDS:
            return None
        proxy = response.status == 407
        values = response.headers.get_all("Proxy-Authenticate" if proxy else "WWW-Authenticate")
        try:
            value = choose_challenge(values)
            challenge = parse_challenge(value)
            key = (proxy, challenge.realm)
            if key in self._auth_headers and not challenge.stale:
                log.info("leg %s: credentials for %r refused", self.id, challenge.realm)
                return None
            authorization = answer_challenge(
                www_authenticate_value=value,
                method="INVITE",
                uri=str(invite.uri),
                username=credentials.username,
                password=credentials.password,
            )
        except DigestError as exc:
            log.info("leg %s: cannot answer the challenge: %s", self.id, exc)
            return None
        self._auth_rounds += 1
        header = "Proxy-Authorization" if proxy else "Authorization"
        self._auth_headers[key] = (header, authorization)
        return self._build_invite(invite.cseq.number + 1)

    # --- giving up before the answer ----------------------------------------------------------

    async def cancel(self, cause: str = "Cancelled", *, wait: float | None = None) -> None:
        """Stop ringing; returns once the INVITE has its final response (or after ``wait``).

        The CANCEL goes out once a provisional response has arrived (RFC 3261 §9.1); a 2xx
        that still comes is acknowledged and hung up at once.  The leg fails as cancelled.
        """
        self._want_cancel(cause, FailureKind.CANCELLED)
        await self._wait_settled(wait)

    def _want_cancel(self, cause: str, kind: FailureKind) -> None:
        if self.state not in (LegState.CALLING, LegState.RINGING):
            return
        self._cancel_failure = LegFailure(487, cause, kind, local=True)
        if self.invite is None:
            self._fail(self._cancel_failure)  # nothing sent yet: nothing to cancel
            return
        self.state = LegState.CANCELLING
        self._stop_ring_timer()
        log.info("leg %s: cancelling (%s)", self.id, cause)
        if self._provisional:
            self._send_cancel()

    def _on_ring_timeout(self) -> None:
        self._ring_timer = None
        log.info("leg %s: no answer after %.1f s", self.id, self.ring_timeout or 0)
        self._want_cancel("No answer", FailureKind.NO_ANSWER)

    def _stop_ring_timer(self) -> None:
        if self._ring_timer is not None:
            self._ring_timer.cancel()
            self._ring_timer = None

    def _send_cancel(self) -> None:
        invite = self.invite
        if self._cancel_sent or invite is None or self._next_hop is None:
            return
        self._cancel_sent = True
        cancel = build_cancel(invite)
        for name, value in self._request_headers():
            cancel.headers.add(name, value)
        self.host.spawn(self._cancel_transaction(cancel, self._next_hop))

    async def _cancel_transaction(self, cancel: Request, destination: Address) -> None:
        try:
            transaction = await self.host.layer.request(cancel, destination, self.transport)
            response = await transaction.final
            log.info("leg %s: CANCEL answered %d", self.id, response.status)
        except OSError as exc:
            log.info("leg %s: CANCEL not sent: %s", self.id, exc)

    async def _wait_settled(self, wait: float | None) -> None:
        if self._answered.done():
            return
        await asyncio.wait([self._answered], timeout=wait)
        if not self._answered.done() and self._cancel_failure is not None:
            log.info("leg %s: no final response in %.1f s; giving up on it", self.id, wait or 0)
            self._fail(self._cancel_failure)

    # --- requests in the dialog ---------------------------------------------------------------

    def on_request(self, request: Request, transaction: ServerTransaction) -> None:
        """A request with our Call-ID and tag (the switch routes it here)."""
        dialog = self.dialog
        if (
            dialog is None
            or self.state is not LegState.ANSWERED
            or request.from_addr.tag != dialog.remote_tag
        ):
            transaction.respond(build_response(request, 481))
            return
        if not dialog.accepts_cseq(request):
            transaction.respond(build_response(request, 500, "CSeq out of order"))
            return
        method = request.method
        if method == "BYE":
            transaction.respond(self._response(request, 200))
            self._end("Remote hung up")
        elif method == "INVITE":
            assert isinstance(transaction, InviteServerTransaction)
            self._on_reinvite(request, transaction)
        elif method in ("INFO", "OPTIONS"):
            transaction.respond(self._response(request, 200))
        elif method == "REFER":
            self._on_refer(request, transaction)
        else:
            allow = [("Allow", ", ".join(self.allowed_methods()))]
            transaction.respond(self._response(request, 405, headers=allow))

    def allowed_methods(self) -> tuple[str, ...]:
        """What the leg accepts in its dialog: REFER too when someone carries out transfers."""
        refer = ("REFER",) if self.callbacks.on_refer is not None else ()
        return (*LEG_ALLOWED_METHODS, *refer)

    def _response(
        self,
        request: Request,
        status: int,
        reason: str | None = None,
        *,
        headers: Sequence[tuple[str, str]] = (),
    ) -> Response:
        extra = [*headers, *self.host.common_headers()]
        return build_response(request, status, reason, headers=extra)

    # --- REFER: the phone transfers the call (RFC 3515; see refer.py) -------------------------

    def _on_refer(self, request: Request, transaction: ServerTransaction) -> None:
        try:
            refer = parse_refer(request)
        except ReferError as refused:
            log.info("leg %s: REFER refused: %d %s", self.id, refused.status, refused.reason)
            transaction.respond(self._response(request, refused.status, refused.reason))
            return
        on_refer = self.callbacks.on_refer
        if on_refer is None:
            # Nobody carries out transfers on this leg.  The method is known (so not 501) and
            # the request is fine: decline it, as Asterisk does for an endpoint that may not
            # transfer; RFC 3515 §2.4.2 lets a REFER be refused with any 4xx-6xx.
            transaction.respond(self._response(request, 603, "Transfer not allowed"))
            return
        if self._refer is not None and not self._refer.terminated:
            # One transfer at a time: the last one has not reported its outcome yet.
            transaction.respond(self._response(request, 491, "Transfer in progress"))
            return
        dialog = self.dialog
        assert dialog is not None
        contact = self.host.contact_for(self.caller or "aqualine", dialog.transport)
        transaction.respond(self._response(request, 202, headers=[("Contact", contact)]))
        loop = asyncio.get_running_loop()
        subscription = ReferSubscription(request.cseq.number, now=loop.time())
        self._refer = subscription
        loop.call_later(subscription.expires_at - loop.time(), self._refer_expired, subscription)
        log.info("leg %s: REFER to %s accepted", self.id, refer.target_uri)
        trying = self._refer_notify(100, "Trying", final=False)  # its CSeq taken now
        if trying is not None:
            self.host.spawn(self._send_notify(trying))
        self._notify(on_refer, refer)

    async def notify_refer(self, status: int, reason: str, *, final: bool) -> None:
        """Tell the phone how the transfer it asked for goes: a NOTIFY with ``status reason``
        (``final`` ends the subscription).  Returns once it is sent, so that a BYE sent next
        cannot overtake it.  Failures are logged, never raised; so is a call with no transfer
        to report on, or after the leg ended."""
        notify = self._refer_notify(status, reason, final=final)
        if notify is not None:
            await self._send_notify(notify)

    def _refer_notify(self, status: int, reason: str, *, final: bool) -> Request | None:
        subscription, dialog = self._refer, self.dialog
        if subscription is None or subscription.terminated:
            log.info("leg %s: no transfer to report %d %s on", self.id, status, reason)
            return None
        if dialog is None or self.state is not LegState.ANSWERED:
            log.info("leg %s: ended, cannot report the transfer (%d %s)", self.id, status, reason)
            return None
        now = asyncio.get_running_loop().time()
        headers, body = subscription.notify_headers(status, reason, final=final, now=now)
        via_host, via_port = self.host.via_address()
        return dialog.build_request(
            "NOTIFY",
            via_host=via_host,
            via_port=via_port,
            contact=self.host.contact_for(self.caller or "aqualine", dialog.transport),
            body=body,
            content_type=SIPFRAG_TYPE,
            headers=[*headers, *self._request_headers()],
        )

    def _refer_expired(self, subscription: ReferSubscription) -> None:
        if subscription is not self._refer or subscription.terminated:
            return
        log.info("leg %s: the transfer reported no outcome in time", self.id)
        status, reason = subscription.last
        notify = self._refer_notify(status, reason, final=False)  # terminated;reason=timeout
        if notify is not None:
            self.host.spawn(self._send_notify(notify))

    async def _send_notify(self, notify: Request) -> None:
        """Send a NOTIFY of the dialog; its answer is only logged."""
        dialog = self.dialog
        assert dialog is not None
        try:
            destination, transport = await self._destination(dialog)
            transaction = await self.host.layer.request(notify, destination, transport)
        except OSError as exc:
            log.info("leg %s: NOTIFY not sent: %r", self.id, exc)
            return

        async def answered() -> None:
            try:
                response = await transaction.final
            except OSError as exc:
                log.info("leg %s: NOTIFY not answered: %r", self.id, exc)
                return
            if response.status >= 300:
                log.info("leg %s: NOTIFY answered %d %s", self.id, response.status, response.reason)

        self.host.spawn(answered())

    def _on_reinvite(self, request: Request, transaction: InviteServerTransaction) -> None:
        if self._pending_2xx_cseq is not None:
            # §14.2: a second INVITE while our 2xx to the last one is unacknowledged.
            transaction.respond(self._response(request, 500, headers=[("Retry-After", "1")]))
            return
        audio: NegotiatedAudio | None = None
        if request.body:
            try:
                answer = self._answer_offer(request.body)
            except SdpNegotiationError:
                transaction.respond(self._response(request, 488))
                return
            except SdpError:
                transaction.respond(build_response(request, 400, "Bad SDP"))
                return
            self.local_sdp = answer.to_bytes()
            audio = answer.audio
        else:
            self._awaiting_answer_in_ack = True  # our current description is the offer
            self.local_sdp = self._current_offer()
        dialog = self.dialog
        assert dialog is not None
        contact = self.host.contact_for(self.caller or "aqualine", dialog.transport)
        response = build_response(
            request,
            200,
            headers=[("Contact", contact), ("Content-Type", SDP_TYPE), *self.host.common_headers()],
            body=self.local_sdp,
            copy_record_route=True,
        )
        transaction.respond(response)
        self._pending_2xx_cseq = request.cseq.number
        self._retransmitter = AnswerRetransmitter(
            lambda: transaction.send_2xx_retransmission(response),
            scheduler=self.host.layer.scheduler,
            timers=self.host.timers,
            on_give_up=self._on_no_ack,
        )
        if audio is not None:
            self._media_changed(audio)

    def _answer_offer(self, offer: bytes) -> Answer:
        """Answer an offer from our media, keeping the current codec when the offer has it."""
        current = (self.audio.codec.name,) if self.audio else ()
        try:
            return self._negotiate(offer, current or self.media.codecs)
        except SdpNegotiationError:
            if not current:
                raise
            return self._negotiate(offer, self.media.codecs)

    def _negotiate(self, offer: bytes, supported: Sequence[str]) -> Answer:
        options: dict[str, Any] = {
            "local_ip": self.media.address,
            "local_port": self.media.port,
            "session_id": self.session_id,
            "supported": tuple(supported),
        }
        answer = negotiate_answer(offer, session_version=self.session_version, **options)
        if answer.to_bytes() != self.local_sdp:
            # RFC 3264 §8: a changed description carries the next version number.
            self.session_version += 1
            answer = negotiate_answer(offer, session_version=self.session_version, **options)
        return answer

    def _current_offer(self) -> bytes:
        codecs = (self.audio.codec.name,) if self.audio else self.media.codecs
        self.session_version += 1
        return build_offer(
            local_ip=self.media.address,
            local_port=self.media.port,
            session_id=self.session_id,
            session_version=self.session_version,
            codecs=codecs,
            telephone_event_pt=self.media.telephone_event_pt,
        )

    def on_ack(self, ack: Request) -> None:
        """The ACK for our 2xx to a re-INVITE (the switch routes it here)."""
        if self._pending_2xx_cseq is None or ack.cseq.number != self._pending_2xx_cseq:
            return
        self._pending_2xx_cseq = None
        if self._retransmitter is not None:
            self._retransmitter.acknowledged()
        if not self._awaiting_answer_in_ack:
            return
        self._awaiting_answer_in_ack = False
        try:
            if not ack.body:
                raise SdpError("the ACK carries no answer to our offer")
            audio = parse_answer(self.local_sdp, ack.body)
        except SdpError as exc:
            log.info("leg %s: %s", self.id, exc)
            self.host.spawn(self.hang_up("Bad SDP answer in ACK"))
            return
        self._media_changed(audio)

    def _on_no_ack(self) -> None:
        self.host.spawn(self.hang_up("No ACK"))

    def _media_changed(self, audio: NegotiatedAudio) -> None:
        self.audio = audio
        log.info(
            "leg %s: re-INVITE, now %s%s",
            self.id,
            audio.direction.value,
            " (held by the remote)" if audio.held_by_remote else "",
        )
        self._notify(self.callbacks.on_media, audio)

    # --- ending -------------------------------------------------------------------------------

    async def hang_up(self, cause: str = "Hung up", *, wait: float | None = None) -> None:
        """End the leg from our side: BYE when answered, CANCEL (:meth:`cancel`) before."""
        if self.state is LegState.ENDED:
            return
        if self.state is not LegState.ANSWERED:
            await self.cancel(cause, wait=wait)
            return
        self._end(cause)
        await self._send_bye(wait)

    async def _send_bye(self, wait: float | None = None) -> None:
        if self.dialog is not None:
            self.bye_response = await self._bye(self.dialog, wait=wait)

    async def _bye(self, dialog: Dialog, *, wait: float | None) -> Response | None:
        via_host, via_port = self.host.via_address()
        try:
            destination, transport = await self._destination(dialog)
            bye = dialog.build_request(
                "BYE", via_host=via_host, via_port=via_port, headers=self._request_headers()
            )
            transaction = await self.host.layer.request(bye, destination, transport)
            timeout = wait if wait is not None else self.host.timers.timeout + 1
            response = await asyncio.wait_for(asyncio.shield(transaction.final), timeout)
        except (OSError, TimeoutError) as exc:
            log.info("leg %s: BYE not answered: %r", self.id, exc)
            return None
        log.info("leg %s: BYE answered %d", self.id, response.status)
        return response

    def _fail(self, failure: LegFailure) -> None:
        """The leg will not be answered (a BYE may still follow for a 2xx we refuse)."""
        if self._answered.done():
            return
        self.failure = failure
        self._answered.set_exception(LegFailed(failure))
        _mark_retrieved(self._answered)
        log.info("leg %s failed: %d %s (%s)", self.id, failure.status, failure.reason, failure.kind)
        self._finish(failure.reason)
        self._notify(self.callbacks.on_failed, failure)

    def _end(self, cause: str) -> None:
        """An answered leg's dialog is over."""
        if self.state is LegState.ENDED:
            return
        self._finish(cause)
        log.info("leg %s ended: %s", self.id, cause)
        self._notify(self.callbacks.on_ended, cause)

    def _finish(self, cause: str) -> None:
        if self.state is LegState.ENDED:
            return
        self.state = LegState.ENDED
        self.end_cause = cause
        self.ended_at = _now()
        self._stop_ring_timer()
        if self._retransmitter is not None:
            self._retransmitter.stop()
        self.host.leg_ended(self)
        if not self._ended.done():
            self._ended.set_result(cause)

    def _notify(self, callback: Callback | None, *args: Any) -> None:
        if callback is None:
            return
        try:
            callback(self, *args)
        except Exception:
            log.exception("leg %s: a callback failed", self.id)


def _user_of(uri: Uri | None) -> str:
    return (uri.user or "") if isinstance(uri, SipUri) else ""


__all__ = [
    "LEG_ALLOWED_METHODS",
    "Credentials",
    "FailureKind",
    "LegCallbacks",
    "LegFailed",
    "LegFailure",
    "LegHost",
    "LegState",
    "LegTarget",
    "LocalMedia",
    "OutboundLeg",
    "classify_failure",
    "parse_address",
]
