"""SIP transactions (RFC 3261 §17, with the Accepted states of RFC 6026).

:class:`TransactionLayer` sits between the transport and the transaction user (the switch):

- a request that matches no server transaction creates one and goes to the TU's
  ``on_request`` with it; the TU answers through :meth:`ServerTransaction.respond`;
- retransmitted requests are absorbed (the last response is sent again);
- an ACK for a non-2xx final response is absorbed by its INVITE transaction; an ACK for a
  2xx (or one that matches nothing) goes to the TU's ``on_ack``, because it belongs to the
  dialog (§13.3.1.4);
- :meth:`TransactionLayer.request` sends a request in a client transaction and
  :attr:`ClientTransaction.final` gives its final response (a synthesised 408 when the
  peer never answers, 503 when the transport fails).

Matching (§17.2.3, §17.1.3) is by the branch of the top Via, its sent-by and the method
(ACK matching INVITE); requests from RFC 2543 elements (no magic cookie) are matched by
Request-URI, From tag, Call-ID, CSeq number and top Via.

Timers follow §17 and are configurable through :class:`Timers` (tests shorten them or use
a fake :class:`Scheduler`).
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Protocol

from aqualine.telephony.sip.build import build_response
from aqualine.telephony.sip.errors import SipParseError
from aqualine.telephony.sip.headers import Headers
from aqualine.telephony.sip.message import Request, Response
from aqualine.telephony.sip.transport import Address, Source

log = logging.getLogger("aqualine.switch.sip")


@dataclass(frozen=True)
class Timers:
    """RFC 3261's T1 (RTT estimate), T2 (maximum retransmit interval), T4 (network lifetime)."""

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0
    d: float = 32.0  # Timer D: how long a client INVITE transaction absorbs retransmissions

    @property
    def timeout(self) -> float:
        """64*T1: Timers B, F, H, J, L and M."""
        return 64 * self.t1


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class Scheduler(Protocol):
    """What timers need of an event loop (``asyncio.AbstractEventLoop`` is one)."""

    def call_later(self, delay: float, callback: Callable[[], object]) -> Cancellable: ...

    def time(self) -> float: ...


class MessageSender(Protocol):
    """What transactions need of the transport (:class:`SipTransport` is one)."""

    def send_response(self, response: Response, source: Source) -> None: ...

    async def send_request(
        self, request: Request, destination: Address, transport: str
    ) -> None: ...

    def resend_request(self, request: Request, destination: Address, transport: str) -> None: ...


class State(enum.Enum):
    TRYING = "trying"
    CALLING = "calling"
    PROCEEDING = "proceeding"
    COMPLETED = "completed"
    CONFIRMED = "confirmed"
    ACCEPTED = "accepted"
    TERMINATED = "terminated"


TransactionKey = tuple[Hashable, ...]


def server_key(request: Request) -> TransactionKey:
    """The key that matches a request to its server transaction (§17.2.3).

    An ACK gets the key of the INVITE it acknowledges; a CANCEL has its own transaction.
    """
    via = request.top_via
    method = "INVITE" if request.method == "ACK" else request.method
    if via.has_rfc3261_branch:
        return ("3261", via.branch, via.sent_by.lower(), method)
    return (
        "2543",
        str(request.uri),
        request.from_addr.tag,
        request.call_id,
        request.cseq.number,
        str(via),
        method,
    )


def invite_key_for_cancel(cancel: Request) -> TransactionKey:
    """The key of the INVITE server transaction a CANCEL targets (§9.2)."""
    key = server_key(cancel)
    return (*key[:-1], "INVITE")


class _Timer:
    """One named timer of a transaction; restarting cancels the previous one."""

    def __init__(self, scheduler: Scheduler, callback: Callable[[], None]) -> None:
        self._scheduler = scheduler
        self._callback = callback
        self._handle: Cancellable | None = None
        self.interval = 0.0

    def start(self, delay: float) -> None:
        self.cancel()
        self.interval = delay
        self._handle = self._scheduler.call_later(delay, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self._callback()

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    @property
    def running(self) -> bool:
        return self._handle is not None


# --- server transactions -------------------------------------------------------------------


class ServerTransaction:
    """The common part of INVITE and non-INVITE server transactions."""

    def __init__(self, layer: TransactionLayer, request: Request, source: Source) -> None:
        self.layer = layer
        self.request = request
        self.source = source
        self.key = server_key(request)
        self.state = State.TRYING
        self.last_response: Response | None = None
        self.created_at = layer.scheduler.time()

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def reliable(self) -> bool:
        return self.source.reliable

    @property
    def timers(self) -> Timers:
        return self.layer.timers

    @property
    def final_sent(self) -> bool:
        return self.last_response is not None and self.last_response.status >= 200

    def respond(self, response: Response) -> None:
        raise NotImplementedError

    def receive_retransmission(self, request: Request) -> None:
        raise NotImplementedError

    def _send(self, response: Response) -> None:
        self.last_response = response
        self.layer.transport.send_response(response, self.source)

    def _resend(self) -> None:
        if self.last_response is not None:
            self.layer.transport.send_response(self.last_response, self.source)

    def _terminate(self) -> None:
        if self.state is not State.TERMINATED:
            self.state = State.TERMINATED
            self._cancel_timers()
            self.layer._forget_server(self)

    def _cancel_timers(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.method} {self.state.value}>"


class InviteServerTransaction(ServerTransaction):
    """§17.2.1 with RFC 6026: Proceeding → Completed → Confirmed, or → Accepted on a 2xx.

    A 100 Trying is sent at once.  Final non-2xx responses are retransmitted over UDP
    (Timer G, doubling up to T2) until the ACK or Timer H (64*T1); a 2xx moves the
    transaction to Accepted for Timer L (64*T1): retransmitted INVITEs are absorbed there
    and ACKs go to the TU, which retransmits the 2xx itself (through :meth:`respond`).
    """

    def __init__(self, layer: TransactionLayer, request: Request, source: Source) -> None:
        super().__init__(layer, request, source)
        self.state = State.PROCEEDING
        self.cancelled = False
        self.on_timeout: Callable[[], None] | None = None
        self._g = _Timer(layer.scheduler, self._timer_g)
        self._h = _Timer(layer.scheduler, self._timer_h)
        self._i = _Timer(layer.scheduler, self._terminate)
        self._l = _Timer(layer.scheduler, self._terminate)
        self._send(build_response(request, 100))

    def respond(self, response: Response) -> None:
        status = response.status
        if self.state is State.PROCEEDING:
            self._send(response)
            if 200 <= status < 300:
                self.state = State.ACCEPTED
                self._l.start(self.timers.timeout)
            elif status >= 300:
                self.state = State.COMPLETED
                if not self.reliable:
                    self._g.start(self.timers.t1)
                self._h.start(self.timers.timeout)
        elif self.state is State.ACCEPTED and 200 <= status < 300:
            self._send(response)  # a retransmission of the 2xx by the TU
        else:
            log.debug("%r: ignoring a %d to send in state %s", self, status, self.state.value)

    def send_2xx_retransmission(self, response: Response) -> None:
        """Send the 2xx again (the TU's retransmissions); works after Timer L too."""
        self.last_response = response
        self.layer.transport.send_response(response, self.source)

    def receive_retransmission(self, request: Request) -> None:
        if self.state in (State.PROCEEDING, State.COMPLETED):
            self._resend()
        # Accepted (RFC 6026 §7.1) and Confirmed: absorbed without a word.

    def receive_ack(self, ack: Request) -> bool:
        """An ACK matching this transaction: True if absorbed here, False if it is the TU's."""
        if self.state is State.ACCEPTED:
            return False
        if self.state is State.COMPLETED:
            self.state = State.CONFIRMED
            self._g.cancel()
            self._h.cancel()
            if self.reliable:
                self._terminate()
            else:
                self._i.start(self.timers.t4)
        return True

    def _timer_g(self) -> None:
        if self.state is not State.COMPLETED:
            return
        self._resend()
        self._g.start(min(2 * self._g.interval, self.timers.t2))

    def _timer_h(self) -> None:
        log.info("%r: no ACK for the %s", self, self.last_response)
        callback = self.on_timeout
        self._terminate()
        if callback is not None:
            callback()

    def _cancel_timers(self) -> None:
        for timer in (self._g, self._h, self._i, self._l):
            timer.cancel()


class NonInviteServerTransaction(ServerTransaction):
    """§17.2.2: Trying → Proceeding → Completed (Timer J: 64*T1 over UDP, 0 over TCP)."""

    def __init__(self, layer: TransactionLayer, request: Request, source: Source) -> None:
        super().__init__(layer, request, source)
        self._j = _Timer(layer.scheduler, self._terminate)

    def respond(self, response: Response) -> None:
        if self.state not in (State.TRYING, State.PROCEEDING):
            log.debug("%r: ignoring a %d after the final response", self, response.status)
            return
        self._send(response)
        if response.status < 200:
            self.state = State.PROCEEDING
            return
        self.state = State.COMPLETED
        if self.reliable:
            self._terminate()
        else:
            self._j.start(self.timers.timeout)

    def receive_retransmission(self, request: Request) -> None:
        if self.state in (State.PROCEEDING, State.COMPLETED):
            self._resend()

    def _cancel_timers(self) -> None:
        self._j.cancel()


# --- client transactions -------------------------------------------------------------------


def build_ack_for_error(request: Request, response: Response) -> Request:
    """The ACK a client INVITE transaction sends for a 300-699 response (§17.1.1.3)."""
    headers = Headers()
    top_via = request.headers.values("Via")[0]
    headers.add("Via", top_via)
    for route in request.headers.get_all("Route"):
        headers.add("Route", route)
    headers.add("Max-Forwards", "70")
    headers.add("From", request.headers.get("From") or "")
    headers.add("To", response.headers.get("To") or request.headers.get("To") or "")
    headers.add("Call-ID", request.call_id)
    headers.add("CSeq", f"{request.cseq.number} ACK")
    return Request("ACK", request.uri, headers)


def build_cancel(request: Request) -> Request:
    """A CANCEL for a pending INVITE we sent (§9.1)."""
    headers = Headers()
    headers.add("Via", request.headers.values("Via")[0])
    for route in request.headers.get_all("Route"):
        headers.add("Route", route)
    headers.add("Max-Forwards", "70")
    headers.add("From", request.headers.get("From") or "")
    headers.add("To", request.headers.get("To") or "")
    headers.add("Call-ID", request.call_id)
    headers.add("CSeq", f"{request.cseq.number} CANCEL")
    return Request("CANCEL", request.uri, headers)


ResponseCallback = Callable[[Response], None]


class ClientTransaction:
    """A request we send and its responses (§17.1.1 INVITE, §17.1.2 non-INVITE).

    ``final`` resolves with the first final response (or a synthesised 408/503).  Every
    response the transaction passes up (provisional ones, and retransmitted 2xx to an
    INVITE in the Accepted state) also goes to ``on_response``.
    """

    def __init__(
        self,
        layer: TransactionLayer,
        request: Request,
        destination: Address,
        transport: str,
        on_response: ResponseCallback | None = None,
    ) -> None:
        self.layer = layer
        self.request = request
        self.destination = destination
        self.transport = transport.upper()
        self.on_response = on_response
        self.is_invite = request.method == "INVITE"
        via = request.top_via
        self.key: TransactionKey = (via.branch, request.cseq.method)
        self.state = State.CALLING if self.is_invite else State.TRYING
        self.final: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self.ack: Request | None = None
        scheduler = layer.scheduler
        self._retransmit = _Timer(scheduler, self._on_retransmit_timer)  # Timer A / E
        self._timeout = _Timer(scheduler, self._on_timeout)  # Timer B / F
        self._linger = _Timer(scheduler, self._terminate)  # Timer D / K / M

    @property
    def reliable(self) -> bool:
        return self.transport != "UDP"

    @property
    def timers(self) -> Timers:
        return self.layer.timers

    async def start(self) -> None:
        try:
            await self.layer.transport.send_request(self.request, self.destination, self.transport)
        except OSError as exc:
            log.info("sending %s failed: %s", self.request, exc)
            self._finish(build_response(self.request, 503, "Service Unavailable (transport)"))
            self._terminate()
            return
        if not self.reliable:
            self._retransmit.start(self.timers.t1)
        self._timeout.start(self.timers.timeout)

    def receive_response(self, response: Response) -> None:
        status = response.status
        if self.state is State.TERMINATED:
            return
        if self.is_invite:
            self._invite_response(response, status)
        else:
            self._non_invite_response(response, status)

    def _invite_response(self, response: Response, status: int) -> None:
        if self.state in (State.CALLING, State.PROCEEDING):
            if status < 200:
                self.state = State.PROCEEDING
                self._retransmit.cancel()
                self._timeout.cancel()  # Timer B runs only while Calling (§17.1.1.2)
                self._pass_up(response)
            elif status < 300:
                self.state = State.ACCEPTED
                self._retransmit.cancel()
                self._timeout.cancel()
                self._linger.start(self.timers.timeout)  # Timer M
                self._finish(response)
                self._pass_up(response)
            else:
                self.state = State.COMPLETED
                self._retransmit.cancel()
                self._timeout.cancel()
                self.ack = build_ack_for_error(self.request, response)
                self._send_ack()
                self._linger.start(0 if self.reliable else self.timers.d)
                self._finish(response)
        elif self.state is State.COMPLETED and status >= 300:
            self._send_ack()
        elif self.state is State.ACCEPTED and 200 <= status < 300:
            self._pass_up(response)

    def _non_invite_response(self, response: Response, status: int) -> None:
        if self.state not in (State.TRYING, State.PROCEEDING):
            return
        if status < 200:
            self.state = State.PROCEEDING
            self._pass_up(response)
            return
        self.state = State.COMPLETED
        self._retransmit.cancel()
        self._timeout.cancel()
        self._finish(response)
        if self.reliable:
            self._terminate()
        else:
            self._linger.start(self.timers.t4)  # Timer K

    def _send_ack(self) -> None:
        if self.ack is not None:
            self.layer.transport.resend_request(self.ack, self.destination, self.transport)

    def _pass_up(self, response: Response) -> None:
        if self.on_response is not None:
            try:
                self.on_response(response)
            except Exception:
                log.exception("response callback failed")

    def _on_retransmit_timer(self) -> None:
        if self.state in (State.CALLING, State.TRYING):
            self.layer.transport.resend_request(self.request, self.destination, self.transport)
            interval = 2 * self._retransmit.interval
            self._retransmit.start(interval if self.is_invite else min(interval, self.timers.t2))
        elif self.state is State.PROCEEDING and not self.is_invite:
            self.layer.transport.resend_request(self.request, self.destination, self.transport)
            self._retransmit.start(self.timers.t2)

    def _on_timeout(self) -> None:
        log.info("%s to %s timed out", self.request, self.destination)
        self._finish(build_response(self.request, 408))
        self._terminate()

    def _finish(self, response: Response) -> None:
        if not self.final.done():
            self.final.set_result(response)

    def _terminate(self) -> None:
        if self.state is State.TERMINATED:
            return
        self.state = State.TERMINATED
        for timer in (self._retransmit, self._timeout, self._linger):
            timer.cancel()
        self.layer._forget_client(self)
        if not self.final.done():
            self.final.set_result(build_response(self.request, 408))

    def __repr__(self) -> str:
        return f"<ClientTransaction {self.request.method} {self.state.value}>"


# --- the layer -----------------------------------------------------------------------------

RequestHandler = Callable[[Request, ServerTransaction], None]
AckHandler = Callable[[Request, Source], None]


class TransactionLayer:
    """Owns every live transaction; the transport feeds it, the TU answers through it."""

    def __init__(
        self,
        transport: MessageSender,
        *,
        on_request: RequestHandler,
        on_ack: AckHandler,
        timers: Timers | None = None,
        scheduler: Scheduler | None = None,
    ) -> None:
        self.transport = transport
        self.on_request = on_request
        self.on_ack = on_ack
        self.timers = timers or Timers()
        self.scheduler: Scheduler = scheduler or asyncio.get_running_loop()
        self._server: dict[TransactionKey, ServerTransaction] = {}
        self._client: dict[TransactionKey, ClientTransaction] = {}

    # incoming

    def receive_request(self, request: Request, source: Source) -> None:
        """Match a validated request to its transaction, or start one and hand it to the TU."""
        try:
            key = server_key(request)
        except SipParseError:
            log.debug("unmatchable request from %s", source)
            return
        existing = self._server.get(key)
        if request.method == "ACK":
            if isinstance(existing, InviteServerTransaction) and existing.receive_ack(request):
                return
            self.on_ack(request, source)
            return
        if existing is not None:
            existing.receive_retransmission(request)
            return
        transaction: ServerTransaction
        if request.method == "INVITE":
            transaction = InviteServerTransaction(self, request, source)
        else:
            transaction = NonInviteServerTransaction(self, request, source)
        self._server[key] = transaction
        self.on_request(request, transaction)

    def receive_response(self, response: Response) -> bool:
        """Give a response to its client transaction; False when none matches (drop it)."""
        try:
            key: TransactionKey = (response.top_via.branch, response.cseq.method)
        except SipParseError:
            return False
        transaction = self._client.get(key)
        if transaction is None:
            return False
        transaction.receive_response(response)
        return True

    def invite_for_cancel(self, cancel: Request) -> InviteServerTransaction | None:
        """The INVITE server transaction a CANCEL is meant for, if it is still there."""
        found = self._server.get(invite_key_for_cancel(cancel))
        return found if isinstance(found, InviteServerTransaction) else None

    # outgoing

    async def request(
        self,
        request: Request,
        destination: Address,
        transport: str,
        *,
        on_response: ResponseCallback | None = None,
    ) -> ClientTransaction:
        """Send ``request`` in a new client transaction; await ``.final`` for the answer."""
        transaction = ClientTransaction(self, request, destination, transport, on_response)
        self._client[transaction.key] = transaction
        await transaction.start()
        return transaction

    # bookkeeping

    def _forget_server(self, transaction: ServerTransaction) -> None:
        if self._server.get(transaction.key) is transaction:
            del self._server[transaction.key]

    def _forget_client(self, transaction: ClientTransaction) -> None:
        if self._client.get(transaction.key) is transaction:
            del self._client[transaction.key]

    @property
    def server_count(self) -> int:
        return len(self._server)

    @property
    def client_count(self) -> int:
        return len(self._client)

    def clear(self) -> None:
        """Cancel every timer and forget every transaction (when the switch stops)."""
        for server in list(self._server.values()):
            server._terminate()
        for client in list(self._client.values()):
            client._terminate()
