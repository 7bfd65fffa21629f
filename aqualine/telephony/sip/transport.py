"""SIP over UDP and TCP on asyncio (RFC 3261 §18, RFC 3581).

:class:`SipTransport` listens on one address and port for both transports, parses what
arrives and hands every message to one handler together with its :class:`Source`.  It never
lets one message take the listener down: a message that fails is answered (a request the
parser rejected, when an error response can be built), dropped (a response, or garbage), and
logged.

Requests get their top Via stamped on arrival (``received``, and ``rport`` filled in when the
sender asked for it), so that :meth:`SipTransport.send_response` can send the response where
RFC 3261 §18.2.2 and RFC 3581 say.  With ``force_rport`` (the default, as NAT-friendly servers
do) a response over UDP always goes back to the address and port the request came from.

TCP connections are kept, keyed by the peer's (host, port), and reused for requests to the
same address; Content-Length frames messages on them (:class:`StreamFramer`).  A framing
error is answered with 400 (or 513) when possible and closes the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from aqualine.telephony.sip.build import response_for_parse_error
from aqualine.telephony.sip.errors import SipFramingError, SipParseError
from aqualine.telephony.sip.fields import Via, parse_via
from aqualine.telephony.sip.framing import StreamFramer
from aqualine.telephony.sip.grammar import split_commas
from aqualine.telephony.sip.headers import Headers
from aqualine.telephony.sip.message import Request, Response
from aqualine.telephony.sip.parser import parse_message

log = logging.getLogger("aqualine.switch.sip")

Address = tuple[str, int]
MAX_DATAGRAM: Final = 65535
DEFAULT_SIP_PORT: Final = 5060
UDP: Final = "UDP"
TCP: Final = "TCP"


@dataclass(eq=False)
class Source:
    """Where a message came from: the transport, the peer's address and our local address.

    For TCP, ``connection`` is the connection it arrived on (responses go back over it).
    """

    transport: str
    address: Address
    local: Address = ("", 0)
    connection: TcpConnection | None = field(default=None, repr=False)

    @property
    def reliable(self) -> bool:
        return self.transport != UDP

    def __str__(self) -> str:
        return f"{self.transport} {format_address(self.address)}"


MessageHandler = Callable[[Request | Response, Source], None]


def format_address(address: Address) -> str:
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def canonical_ip(host: str) -> str:
    """An IP literal in its canonical form (IPv4-mapped IPv6 as IPv4); names unchanged."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def stamp_via(request: Request, source: Address) -> None:
    """Add ``received`` (and fill an empty ``rport``) to the top Via, as a UAS does on arrival.

    RFC 3261 §18.2.1: ``received`` when the sent-by host is not the source IP; RFC 3581 §4:
    with ``rport`` present, ``received`` always and ``rport`` set to the source port.  A top Via
    that does not parse is left alone (validation answers it).
    """
    lines = request.headers.get_all("Via")
    if not lines:
        return
    values = split_commas(lines[0])
    if not values:
        return
    try:
        via = parse_via(values[0])
    except SipParseError:
        return
    ip, port = source
    params = via.params
    same_host = canonical_ip(via.host) == ip
    if via.has_rport:
        params = params.with_("received", ip).with_("rport", str(port))
    elif not same_host:
        params = params.with_("received", ip)
    else:
        return
    stamped = Via(via.transport, via.host, via.port, params, via.protocol, via.version)
    values[0] = str(stamped)
    replaced = False
    headers = Headers()
    for name, value in request.headers:
        if name == "Via" and not replaced:
            headers.add(name, ", ".join(values))
            replaced = True
        else:
            headers.add(name, value)
    request.headers = headers


def response_address(via: Via, source: Address | None, *, force_rport: bool) -> Address:
    """Where a response over an unreliable transport goes (RFC 3261 §18.2.2, RFC 3581 §4).

    ``maddr`` is not honoured (we never answer to multicast); ``force_rport`` sends back to
    the request's source address and port whatever the Via says.
    """
    if force_rport and source is not None:
        return source
    port = via.port or DEFAULT_SIP_PORT
    if via.received is not None:
        host = via.received
        if via.has_rport and via.rport is not None:
            port = via.rport
        return (canonical_ip(host), port)
    return (canonical_ip(via.host), port)


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, owner: SipTransport) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        self.owner._on_datagram(data, (canonical_ip(str(addr[0])), int(addr[1])))

    def error_received(self, exc: Exception) -> None:
        log.debug("UDP socket error: %r", exc)


class TcpConnection(asyncio.Protocol):
    """One TCP connection (accepted or opened by us) and its framer."""

    def __init__(self, owner: SipTransport, peer: Address | None = None) -> None:
        self.owner = owner
        self.peer: Address = peer or ("", 0)
        self.local: Address = ("", 0)
        self.transport: asyncio.Transport | None = None
        self.framer = owner._new_framer()
        self.closed = asyncio.get_running_loop().create_future()

    @property
    def is_open(self) -> bool:
        return (
            self.transport is not None
            and not self.transport.is_closing()
            and not self.closed.done()
        )

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        local = transport.get_extra_info("sockname")
        if peer:
            self.peer = (canonical_ip(str(peer[0])), int(peer[1]))
        if local:
            self.local = (canonical_ip(str(local[0])), int(local[1]))
        self.owner._register(self)

    def data_received(self, data: bytes) -> None:
        try:
            frames = self.framer.feed(data)
        except SipFramingError as error:
            for frame in error.messages:
                self.owner._on_frame(frame, self)
            self.owner._on_framing_error(error, self)
            return
        for frame in frames:
            self.owner._on_frame(frame, self)

    def write(self, data: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            raise ConnectionError(f"TCP connection to {format_address(self.peer)} is closed")
        self.transport.write(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner._unregister(self)
        if not self.closed.done():
            self.closed.set_result(None)


class SipTransport:
    """UDP and TCP listeners on one host and port, for one message handler.

    ``port`` 0 picks a free port (the same number for UDP and TCP); :attr:`ports` tells which.
    """

    def __init__(
        self,
        handler: MessageHandler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        transports: Iterable[str] = ("udp", "tcp"),
        force_rport: bool = True,
        max_message_size: int = MAX_DATAGRAM,
    ) -> None:
        self.handler = handler
        self.host = host
        self.requested_port = port
        self.transports = tuple(dict.fromkeys(t.upper() for t in transports))
        unknown = set(self.transports) - {UDP, TCP}
        if unknown or not self.transports:
            raise ValueError(f"transports must be among udp, tcp: {sorted(unknown)}")
        self.force_rport = force_rport
        self.max_message_size = max_message_size
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp_server: asyncio.Server | None = None
        self._connections: dict[Address, TcpConnection] = {}
        self._connecting: dict[Address, asyncio.Future[TcpConnection]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.ports: dict[str, int] = {}
        self.counters: dict[str, int] = {
            "received": 0,
            "sent": 0,
            "parse_errors": 0,
            "dropped": 0,
            "handler_errors": 0,
        }

    # --- life cycle -------------------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        attempts = 20 if self.requested_port == 0 else 1
        last_error: OSError | None = None
        for _ in range(attempts):
            udp_sock: socket.socket | None = None
            try:
                port = self.requested_port
                if UDP in self.transports:
                    udp_sock = _bind_udp(self.host, port)
                    port = int(udp_sock.getsockname()[1])
                if TCP in self.transports:
                    server = await loop.create_server(
                        lambda: TcpConnection(self),
                        host=self.host,
                        port=port,
                        reuse_address=True,
                    )
                    self._tcp_server = server
                    port = int(server.sockets[0].getsockname()[1])
                if udp_sock is not None:
                    udp, _ = await loop.create_datagram_endpoint(
                        lambda: _UdpProtocol(self), sock=udp_sock
                    )
                    self._udp = udp
                    self.ports[UDP] = port
                if TCP in self.transports:
                    self.ports[TCP] = port
                log.info("SIP listening on %s port %d (%s)", self.host, port, "/".join(self.ports))
                return
            except OSError as exc:
                last_error = exc
                if udp_sock is not None:
                    udp_sock.close()
        raise OSError(f"cannot listen for SIP on {self.host}:{self.requested_port}: {last_error}")

    @property
    def port(self) -> int:
        """The bound port (the same for every transport)."""
        return next(iter(self.ports.values()), 0)

    async def stop(self) -> None:
        if self._tcp_server is not None:
            self._tcp_server.close()
        for connection in list(self._connections.values()):
            connection.close()
        if self._udp is not None:
            self._udp.close()
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._tcp_server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._tcp_server.wait_closed(), 2.0)
        self._tcp_server = None
        self._udp = None

    # --- receiving --------------------------------------------------------------------------

    def _new_framer(self) -> StreamFramer:
        return StreamFramer(max_message_size=self.max_message_size)

    def _on_datagram(self, data: bytes, address: Address) -> None:
        local = self.ports.get(UDP, 0)
        self._dispatch(data, Source(UDP, address, (self.host, local)))

    def _on_frame(self, frame: bytes, connection: TcpConnection) -> None:
        self._dispatch(frame, Source(TCP, connection.peer, connection.local, connection))

    def _dispatch(self, data: bytes, source: Source) -> None:
        self.counters["received"] += 1
        try:
            message = parse_message(data, max_size=self.max_message_size)
        except SipParseError as error:
            self.counters["parse_errors"] += 1
            self._answer_parse_error(error, source)
            return
        except Exception:
            self.counters["parse_errors"] += 1
            log.exception("parser failed on a message from %s", source)
            return
        try:
            if isinstance(message, Request):
                stamp_via(message, source.address)
            self.handler(message, source)
        except Exception:
            self.counters["handler_errors"] += 1
            log.exception("handling a message from %s failed", source)

    def _answer_parse_error(self, error: SipParseError, source: Source) -> None:
        if not data_is_blank(error):
            log.info("malformed message from %s: %s", source, error)
        try:
            response = response_for_parse_error(error)
        except Exception:
            log.exception("could not build the error response for %s", source)
            return
        if response is None:
            self.counters["dropped"] += 1
            return
        self.send_response(response, source)

    def _on_framing_error(self, error: SipFramingError, connection: TcpConnection) -> None:
        log.info("closing TCP connection from %s: %s", format_address(connection.peer), error)
        with contextlib.suppress(Exception):
            response = response_for_parse_error(error)
            if response is not None and connection.is_open:
                connection.write(response.serialize())
                self.counters["sent"] += 1
        connection.close()

    def _register(self, connection: TcpConnection) -> None:
        self._connections[connection.peer] = connection

    def _unregister(self, connection: TcpConnection) -> None:
        if self._connections.get(connection.peer) is connection:
            del self._connections[connection.peer]

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    # --- sending ----------------------------------------------------------------------------

    def send_response(self, response: Response, source: Source) -> None:
        """Send a response to a request that came from ``source`` (RFC 3261 §18.2.2)."""
        data = response.serialize()
        try:
            via = response.top_via
        except SipParseError:
            via = None
        if source.reliable:
            connection = source.connection
            if connection is not None and connection.is_open:
                self._write_tcp(connection, data)
                return
            if via is None:
                return
            host = via.received or via.host
            port = via.rport if via.has_rport and via.rport else (via.port or DEFAULT_SIP_PORT)
            self._spawn(self._send_tcp_later((canonical_ip(host), port), data))
            return
        destination = (
            source.address
            if via is None
            else response_address(via, source.address, force_rport=self.force_rport)
        )
        self._send_udp(data, destination)

    async def send_request(self, request: Request, destination: Address, transport: str) -> None:
        """Send a request (opening a TCP connection when needed); raises OSError on failure."""
        data = request.serialize()
        if transport.upper() == TCP:
            connection = await self.connection_to(destination)
            self._write_tcp(connection, data)
        else:
            self._send_udp(data, destination, raise_errors=True)

    def resend_request(self, request: Request, destination: Address, transport: str) -> None:
        """Retransmit a request (UDP); errors are logged, not raised."""
        try:
            if transport.upper() == TCP:
                connection = self._connections.get(destination)
                if connection is not None and connection.is_open:
                    self._write_tcp(connection, request.serialize())
            else:
                self._send_udp(request.serialize(), destination)
        except OSError as exc:
            log.debug("retransmission to %s failed: %r", format_address(destination), exc)

    async def connection_to(self, destination: Address) -> TcpConnection:
        """The open TCP connection to ``destination``, connecting if there is none."""
        destination = (canonical_ip(destination[0]), destination[1])
        existing = self._connections.get(destination)
        if existing is not None and existing.is_open:
            return existing
        pending = self._connecting.get(destination)
        if pending is not None:
            return await asyncio.shield(pending)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[TcpConnection] = loop.create_future()
        self._connecting[destination] = future
        try:
            _, connection = await asyncio.wait_for(
                loop.create_connection(lambda: TcpConnection(self, destination), *destination),
                10.0,
            )
            # Register under the address we dialled, which is what later requests will use.
            self._connections[destination] = connection
            connection.peer = destination
            future.set_result(connection)
            return connection
        except (OSError, TimeoutError) as exc:
            future.set_exception(OSError(f"cannot connect to {format_address(destination)}: {exc}"))
            future.exception()  # mark retrieved
            raise OSError(f"cannot connect to {format_address(destination)}: {exc}") from exc
        finally:
            self._connecting.pop(destination, None)

    async def _send_tcp_later(self, destination: Address, data: bytes) -> None:
        try:
            connection = await self.connection_to(destination)
            self._write_tcp(connection, data)
        except OSError as exc:
            log.info("could not send a response to %s: %s", format_address(destination), exc)

    def _write_tcp(self, connection: TcpConnection, data: bytes) -> None:
        connection.write(data)
        self.counters["sent"] += 1

    def _send_udp(self, data: bytes, destination: Address, *, raise_errors: bool = False) -> None:
        if self._udp is None:
            if raise_errors:
                raise OSError("UDP is not listening")
            return
        if len(data) > MAX_DATAGRAM:
            log.warning("not sending a %d-byte datagram to %s", len(data), destination)
            if raise_errors:
                raise OSError("message too large for UDP")
            return
        try:
            self._udp.sendto(data, destination)
            self.counters["sent"] += 1
        except (OSError, ValueError) as exc:
            log.info("UDP send to %s failed: %r", format_address(destination), exc)
            if raise_errors:
                raise OSError(str(exc)) from exc

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def data_is_blank(error: SipParseError) -> bool:
    """A keep-alive or empty datagram: not worth a log line."""
    return error.reason == "Empty message"


def _bind_udp(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sock.bind((host, port))
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock
