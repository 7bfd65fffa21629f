"""Dialogs (RFC 3261 §12) as a UAS creates them, and the UAS core's 2xx retransmission.

A :class:`Dialog` remembers what in-dialog requests need: Call-ID, tags, URIs, the remote
target, the route set and both CSeq counters.  :meth:`Dialog.build_request` writes a BYE or
re-INVITE of ours; :meth:`Dialog.destination` says where it goes.

:class:`AnswerRetransmitter` is §13.3.1.4: the UAS core sends its 2xx to an INVITE again at
T1, 2*T1... (at most T2 apart) until the ACK arrives, and gives up after 64*T1 (the caller
then gets a BYE).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from aqualine.telephony.sip.build import new_branch
from aqualine.telephony.sip.errors import SipParseError
from aqualine.telephony.sip.fields import NameAddr, parse_name_addr
from aqualine.telephony.sip.headers import Headers
from aqualine.telephony.sip.message import Request
from aqualine.telephony.sip.transaction import Cancellable, Scheduler, Timers
from aqualine.telephony.sip.transport import TCP, UDP, Address, Source, canonical_ip
from aqualine.telephony.sip.uri import SipUri, Uri, format_host

log = logging.getLogger("aqualine.switch.sip")

DialogKey = tuple[str, str, str]


def dialog_key(call_id: str, local_tag: str, remote_tag: str | None) -> DialogKey:
    return (call_id, local_tag, remote_tag or "")


@dataclass
class Dialog:
    """One side of a dialog (we are the UAS that accepted the INVITE)."""

    call_id: str
    local_tag: str
    remote_tag: str
    local: NameAddr  # our address (the To of the INVITE, without tag)
    remote: NameAddr  # the peer's (the From of the INVITE, with its tag)
    remote_target: Uri
    route_set: list[str]
    remote_cseq: int
    source: Source  # the flow the INVITE came on
    local_cseq: int = 0
    secure: bool = False
    extra: dict[str, object] = field(default_factory=dict)

    @classmethod
    def from_invite(cls, invite: Request, *, local_tag: str, source: Source) -> Dialog:
        """The dialog a UAS creates by answering ``invite`` with a To tag (§12.1.1)."""
        contacts = invite.contacts
        remote_target: Uri = (
            contacts[0].uri if isinstance(contacts, list) and contacts else invite.from_addr.uri
        )
        remote = invite.from_addr
        return cls(
            call_id=invite.call_id,
            local_tag=local_tag,
            remote_tag=remote.tag or "",
            local=NameAddr(invite.to_addr.uri, invite.to_addr.display_name),
            remote=remote,
            remote_target=remote_target,
            route_set=list(invite.headers.values("Record-Route")),
            remote_cseq=invite.cseq.number,
            source=source,
            local_cseq=secrets_cseq(),
            secure=isinstance(invite.uri, SipUri) and invite.uri.scheme == "sips",
        )

    @property
    def key(self) -> DialogKey:
        return dialog_key(self.call_id, self.local_tag, self.remote_tag)

    @property
    def transport(self) -> str:
        return self.source.transport

    def accepts_cseq(self, request: Request) -> bool:
        """§12.2.2: a lower CSeq than the last one is out of order (answer 500)."""
        number = request.cseq.number
        if number < self.remote_cseq:
            return False
        self.remote_cseq = number
        return True

    def build_request(
        self,
        method: str,
        *,
        via_host: str,
        via_port: int,
        contact: str | None = None,
        body: bytes = b"",
        content_type: str | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> Request:
        """An in-dialog request of ours (§12.2.1.1) with a fresh branch and the next CSeq."""
        self.local_cseq += 1
        out = Headers()
        via = f"SIP/2.0/{self.transport} {format_host(via_host)}:{via_port}"
        out.add("Via", f"{via};branch={new_branch()};rport")
        for route in self.route_set:  # a UAS keeps the Record-Route order (§12.1.1)
            out.add("Route", route)
        out.add("Max-Forwards", "70")
        out.add("From", str(self.local.with_tag(self.local_tag)))
        out.add("To", str(self.remote))
        out.add("Call-ID", self.call_id)
        out.add("CSeq", f"{self.local_cseq} {method}")
        if contact is not None:
            out.add("Contact", contact)
        for name, value in headers or []:
            out.add(name, value)
        if content_type is not None:
            out.add("Content-Type", content_type)
        return Request(method, self.remote_target, out, body)

    async def destination(self) -> tuple[Address, str]:
        """Where our in-dialog requests go, and over which transport.

        Over TCP the connection the dialog came on is reused while it is open; otherwise the
        first route (loose routing) or the remote target decides (§8.1.2; no DNS SRV).
        """
        connection = self.source.connection
        if self.transport == TCP and connection is not None and connection.is_open:
            return self.source.address, TCP
        target: Uri = self.remote_target
        if self.route_set:
            try:
                target = parse_name_addr(self.route_set[0], name_addr_only=True).uri
            except SipParseError:
                target = self.remote_target
        if not isinstance(target, SipUri):
            return self.source.address, self.transport
        transport = (target.transport or self.transport).upper()
        if transport not in (UDP, TCP):
            transport = self.transport
        port = target.port or (5061 if target.scheme == "sips" else 5060)
        host = await resolve_host(target.maddr or target.host)
        return (host, port), transport


async def resolve_host(host: str) -> str:
    """An IP literal as is; a name through the resolver (first IPv4 address preferred)."""
    try:
        return canonical_ip(str(ipaddress.ip_address(host)))
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, None, type=socket.SOCK_DGRAM)
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    if not infos:
        raise OSError(f"cannot resolve {host}")
    return canonical_ip(str(infos[0][4][0]))


def secrets_cseq() -> int:
    """A starting CSeq for our requests in a dialog (any value below 2**31 will do)."""
    return secrets.randbelow(10_000) + 1


class AnswerRetransmitter:
    """Sends a 2xx again until :meth:`acknowledged`, or calls ``on_give_up`` after 64*T1."""

    def __init__(
        self,
        send: Callable[[], None],
        *,
        scheduler: Scheduler,
        timers: Timers,
        on_give_up: Callable[[], None],
    ) -> None:
        self._send = send
        self._scheduler = scheduler
        self._timers = timers
        self._on_give_up = on_give_up
        self._interval = timers.t1
        self._deadline = scheduler.time() + timers.timeout
        self._handle: Cancellable | None = scheduler.call_later(self._interval, self._fire)
        self.retransmissions = 0
        self.done = False

    def _fire(self) -> None:
        self._handle = None
        if self.done:
            return
        if self._scheduler.time() >= self._deadline - 1e-9:
            self.done = True
            log.info("no ACK for our 2xx after %.1f s", self._timers.timeout)
            self._on_give_up()
            return
        self.retransmissions += 1
        try:
            self._send()
        except Exception:
            log.exception("retransmitting a 2xx failed")
        self._interval = min(2 * self._interval, self._timers.t2)
        delay = min(self._interval, max(0.0, self._deadline - self._scheduler.time()))
        self._handle = self._scheduler.call_later(delay, self._fire)

    def acknowledged(self) -> None:
        self.stop()

    def stop(self) -> None:
        self.done = True
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
