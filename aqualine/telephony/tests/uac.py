"""A small asyncio SIP user agent for tests: sends requests, answers challenges, makes calls.

It speaks to one server over UDP or TCP from 127.0.0.1, keeps every message it receives,
and answers the server's BYE with 200 (unless told not to).  It is deliberately simple: no
retransmissions of its own (loopback does not lose datagrams), one dialog per call.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aqualine.telephony.digest import answer_challenge, parse_challenge
from aqualine.telephony.sip import (
    Request,
    Response,
    SipParseError,
    StreamFramer,
    build_response,
    new_branch,
    new_call_id,
    new_tag,
    parse_message,
    parse_uri,
)

Address = tuple[str, int]


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, owner: SipClient) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        self.owner._receive(data)


class _Tcp(asyncio.Protocol):
    def __init__(self, owner: SipClient) -> None:
        self.owner = owner
        self.framer = StreamFramer()

    def data_received(self, data: bytes) -> None:
        for frame in self.framer.feed(data):
            self.owner._receive(frame)


@dataclass
class Call:
    """One call of the client: the INVITE, the dialog it made, the responses it got."""

    invite: Request
    from_tag: str
    call_id: str
    responses: list[Response] = field(default_factory=list)
    to_header: str = ""
    cseq: int = 1

    @property
    def final(self) -> Response | None:
        return next((r for r in self.responses if r.status >= 200), None)


class SipClient:
    """A test UA bound to 127.0.0.1 that talks to ``server``."""

    def __init__(self, server: Address, transport: str = "udp") -> None:
        self.server = server
        self.transport_name = transport.upper()
        self.messages: list[Request | Response] = []
        self.answer_byes = True
        self._changed = asyncio.Event()
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Transport | None = None
        self.local: Address = ("127.0.0.1", 0)

    async def start(self) -> SipClient:
        loop = asyncio.get_running_loop()
        if self.transport_name == "UDP":
            udp, _ = await loop.create_datagram_endpoint(
                lambda: _Udp(self), local_addr=("127.0.0.1", 0)
            )
            self._udp = udp
            self.local = udp.get_extra_info("sockname")[:2]
        else:
            tcp, _ = await loop.create_connection(lambda: _Tcp(self), *self.server)
            self._tcp = tcp
            self.local = tcp.get_extra_info("sockname")[:2]
        return self

    async def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()

    async def __aenter__(self) -> SipClient:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- raw I/O ------------------------------------------------------------------------------

    def send_bytes(self, data: bytes) -> None:
        if self._udp is not None:
            self._udp.sendto(data, self.server)
        elif self._tcp is not None:
            self._tcp.write(data)

    def send(self, message: Request | Response) -> None:
        self.send_bytes(message.serialize())

    def _receive(self, data: bytes) -> None:
        try:
            message = parse_message(data)
        except SipParseError:
            return
        self.messages.append(message)
        if isinstance(message, Request) and message.method == "BYE" and self.answer_byes:
            self.send(build_response(message, 200))
        self._changed.set()

    async def wait_for(
        self, predicate: Callable[[Request | Response], bool], timeout: float = 5.0, start: int = 0
    ) -> Request | Response:
        """The first message (from index ``start``) matching ``predicate``; TimeoutError."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for message in self.messages[start:]:
                if predicate(message):
                    return message
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError("no matching SIP message arrived")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    def responses_to(self, call_id: str, method: str | None = None) -> list[Response]:
        return [
            m
            for m in self.messages
            if isinstance(m, Response)
            and m.call_id == call_id
            and (method is None or m.cseq.method == method)
        ]

    async def final_response(
        self, request: Request, timeout: float = 5.0, start: int = 0
    ) -> Response:
        branch = request.top_via.branch
        method = request.method

        def is_final(message: Request | Response) -> bool:
            return (
                isinstance(message, Response)
                and message.status >= 200
                and message.top_via.branch == branch
                and message.cseq.method == method
            )

        found = await self.wait_for(is_final, timeout, start)
        assert isinstance(found, Response)
        return found

    # --- building requests --------------------------------------------------------------------

    @property
    def contact(self) -> str:
        suffix = ";transport=tcp" if self.transport_name == "TCP" else ""
        return f"<sip:uac@{self.local[0]}:{self.local[1]}{suffix}>"

    def request(
        self,
        method: str,
        uri: str,
        *,
        from_user: str,
        to_user: str | None = None,
        call_id: str | None = None,
        cseq: int = 1,
        from_tag: str | None = None,
        to_header: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
        body: bytes = b"",
        content_type: str | None = None,
        branch: str | None = None,
        contact: bool = True,
    ) -> Request:
        host = f"{self.server[0]}:{self.server[1]}"
        via = f"SIP/2.0/{self.transport_name} {self.local[0]}:{self.local[1]}"
        lines: list[tuple[str, str]] = [
            ("Via", f"{via};branch={branch or new_branch()};rport"),
            ("Max-Forwards", "70"),
            ("From", f"<sip:{from_user}@{host}>;tag={from_tag or new_tag()}"),
            ("To", to_header or f"<sip:{to_user or from_user}@{host}>"),
            ("Call-ID", call_id or new_call_id()),
            ("CSeq", f"{cseq} {method}"),
        ]
        if contact:
            lines.append(("Contact", self.contact))
        lines += list(headers)
        if content_type is not None:
            lines.append(("Content-Type", content_type))
        return Request(method, parse_uri(uri), lines, body)

    def target(self, user: str) -> str:
        return f"sip:{user}@{self.server[0]}:{self.server[1]}"

    # --- transactions -------------------------------------------------------------------------

    async def send_and_wait(self, request: Request, timeout: float = 5.0) -> Response:
        start = len(self.messages)
        self.send(request)
        return await self.final_response(request, timeout, start)

    async def with_credentials(
        self,
        request: Request,
        challenge: Response,
        *,
        username: str,
        password: str,
        algorithm: str | None = None,
    ) -> Request:
        """``request`` again (next CSeq, new branch) answering ``challenge``."""
        values = challenge.headers.get_all("WWW-Authenticate")
        chosen = next(
            (v for v in values if algorithm is None or parse_challenge(v).algorithm == algorithm),
            values[0],
        )
        uri = str(request.uri)
        authorization = answer_challenge(
            www_authenticate_value=chosen,
            method=request.method,
            uri=uri,
            username=username,
            password=password,
        )
        headers = [
            (n, v)
            for n, v in request.headers
            if n not in ("Via", "CSeq", "Authorization", "Content-Length")
        ]
        via = f"SIP/2.0/{self.transport_name} {self.local[0]}:{self.local[1]}"
        return Request(
            request.method,
            request.uri,
            [
                ("Via", f"{via};branch={new_branch()};rport"),
                *headers,
                ("CSeq", f"{request.cseq.number + 1} {request.method}"),
                ("Authorization", authorization),
            ],
            request.body,
        )

    async def register(
        self,
        user: str,
        password: str | None,
        *,
        expires: int | None = 300,
        contacts: Iterable[str] | None = None,
        call_id: str | None = None,
        cseq: int = 1,
        algorithm: str | None = None,
    ) -> Response:
        """REGISTER (answering one challenge when a password is given); the final response."""
        headers: list[tuple[str, str]] = [("Contact", c) for c in (contacts or [self.contact])]
        if expires is not None:
            headers.append(("Expires", str(expires)))
        request = self.request(
            "REGISTER",
            f"sip:{self.server[0]}:{self.server[1]}",
            from_user=user,
            call_id=call_id or new_call_id(),
            cseq=cseq,
            headers=headers,
            contact=False,
        )
        response = await self.send_and_wait(request)
        if response.status == 401 and password is not None:
            request = await self.with_credentials(
                request, response, username=user, password=password, algorithm=algorithm
            )
            response = await self.send_and_wait(request)
        return response

    async def invite(
        self,
        callee: str,
        sdp: bytes | None,
        *,
        caller: str = "0105550100",
        credentials: tuple[str, str] | None = None,
        wait_final: bool = True,
        timeout: float = 5.0,
    ) -> Call:
        """INVITE ``callee`` (answering a challenge with ``credentials``); ACKs the final."""
        call_id = new_call_id()
        from_tag = new_tag()
        request = self.request(
            "INVITE",
            self.target(callee),
            from_user=caller,
            to_user=callee,
            call_id=call_id,
            from_tag=from_tag,
            body=sdp or b"",
            content_type="application/sdp" if sdp else None,
        )
        call = Call(request, from_tag, call_id)
        if not wait_final:
            self.send(request)
            return call
        response = await self.send_and_wait(request, timeout)
        if response.status == 401 and credentials is not None:
            self.ack(call, response)
            request = await self.with_credentials(
                request, response, username=credentials[0], password=credentials[1]
            )
            call = Call(request, from_tag, call_id, cseq=request.cseq.number)
            response = await self.send_and_wait(request, timeout)
        call.responses = [
            r for r in self.responses_to(call_id, "INVITE") if r.cseq.number == request.cseq.number
        ]
        call.to_header = response.headers.get("To") or ""
        if response.status >= 300:
            self.ack(call, response)
        return call

    def ack(self, call: Call, response: Response, body: bytes = b"") -> Request:
        """ACK a final response: same branch for an error (§17.1.1.3), a new one for a 2xx."""
        invite = call.invite
        branch = invite.top_via.branch if response.status >= 300 else new_branch()
        ack = self.request(
            "ACK",
            str(invite.uri),
            from_user="x",
            call_id=call.call_id,
            cseq=response.cseq.number,
            branch=branch,
            to_header=response.headers.get("To"),
            body=body,
            content_type="application/sdp" if body else None,
        )
        ack.headers.set("From", invite.headers.get("From") or "")
        self.send(ack)
        return ack

    def in_dialog(
        self, call: Call, method: str, *, body: bytes = b"", content_type: str | None = None
    ) -> Request:
        call.cseq += 1
        request = self.request(
            method,
            str(call.invite.uri),
            from_user="x",
            call_id=call.call_id,
            cseq=call.cseq,
            to_header=call.to_header,
            body=body,
            content_type=content_type,
        )
        request.headers.set("From", call.invite.headers.get("From") or "")
        return request

    async def bye(self, call: Call) -> Response:
        return await self.send_and_wait(self.in_dialog(call, "BYE"))

    async def cancel(self, call: Call) -> Response:
        invite = call.invite
        cancel = Request(
            "CANCEL",
            invite.uri,
            [
                ("Via", invite.headers.values("Via")[0]),
                ("Max-Forwards", "70"),
                ("From", invite.headers.get("From") or ""),
                ("To", invite.headers.get("To") or ""),
                ("Call-ID", call.call_id),
                ("CSeq", f"{invite.cseq.number} CANCEL"),
            ],
        )
        return await self.send_and_wait(cancel)


def offer_sdp(port: int, *, codecs: str = "0 8 101", direction: str = "sendrecv") -> bytes:
    """An SDP offer from 127.0.0.1:``port`` (PCMU, PCMA, telephone-event by default)."""
    session = secrets.randbelow(10**6)
    lines = [
        "v=0",
        f"o=uac {session} 1 IN IP4 127.0.0.1",
        "s=-",
        "c=IN IP4 127.0.0.1",
        "t=0 0",
        f"m=audio {port} RTP/AVP {codecs}",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-15",
        f"a={direction}",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()
