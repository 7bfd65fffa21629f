"""The UDP/TCP transport: Via stamping, where responses go, and surviving bad input."""

from __future__ import annotations

import asyncio
import socket

import pytest

from aqualine.telephony.sip import Request, Response, build_response, parse_message
from aqualine.telephony.sip.fields import parse_via
from aqualine.telephony.sip.tests.samples import raw
from aqualine.telephony.sip.transport import SipTransport, Source, response_address, stamp_via
from aqualine.telephony.testing.wait import run, wait_until


def options(via: str) -> Request:
    message = parse_message(
        raw(
            "OPTIONS sip:x@127.0.0.1 SIP/2.0",
            f"Via: {via}",
            "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK-2",
            "From: <sip:a@example.com>;tag=1",
            "To: <sip:x@127.0.0.1>",
            "Call-ID: c1",
            "CSeq: 1 OPTIONS",
        )
    )
    assert isinstance(message, Request)
    return message


def test_received_is_added_when_the_sent_by_host_is_not_the_source() -> None:
    request = options("SIP/2.0/UDP phone.example.com:5062;branch=z9hG4bK-1")
    stamp_via(request, ("192.0.2.7", 40000))

    via = request.top_via
    assert (via.received, via.has_rport) == ("192.0.2.7", False)
    assert request.via[1].host == "proxy.example.com"


def test_an_empty_rport_is_filled_and_received_always_added() -> None:
    request = options("SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-1;rport")
    stamp_via(request, ("192.0.2.7", 40000))

    via = request.top_via
    assert (via.received, via.rport) == ("192.0.2.7", 40000)


def test_a_via_matching_the_source_is_left_alone() -> None:
    request = options("SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-1")
    stamp_via(request, ("192.0.2.7", 5062))

    assert request.headers.get_all("Via")[0] == "SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-1"


@pytest.mark.parametrize(
    ("via", "expected"),
    [
        ("SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-1", ("192.0.2.7", 5062)),
        ("SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK-1", ("192.0.2.7", 5060)),
        ("SIP/2.0/UDP h.example;branch=z9hG4bK-1;received=192.0.2.8", ("192.0.2.8", 5060)),
        (
            "SIP/2.0/UDP h.example:5070;branch=z9hG4bK-1;received=192.0.2.8;rport=40001",
            ("192.0.2.8", 40001),
        ),
    ],
)
def test_responses_go_where_rfc_3261_and_3581_say(via: str, expected: tuple[str, int]) -> None:
    assert response_address(parse_via(via), ("192.0.2.99", 1), force_rport=False) == expected


def test_force_rport_answers_the_source_whatever_the_via_says() -> None:
    via = parse_via("SIP/2.0/UDP h.example:5070;branch=z9hG4bK-1")
    assert response_address(via, ("192.0.2.99", 1234), force_rport=True) == ("192.0.2.99", 1234)


def test_the_listener_survives_a_handler_that_raises_and_answers_parse_errors() -> None:
    async def scenario() -> None:
        seen: list[Request | Response] = []

        def handler(message: Request | Response, source: Source) -> None:
            seen.append(message)
            if len(seen) == 1:
                raise RuntimeError("boom")

        transport = SipTransport(handler, host="127.0.0.1", port=0)
        await transport.start()
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
                client.bind(("127.0.0.1", 0))
                client.settimeout(5)
                local = client.getsockname()
                request = options(f"SIP/2.0/UDP 127.0.0.1:{local[1]};branch=z9hG4bK-x")
                client.sendto(request.serialize(), ("127.0.0.1", transport.port))
                client.sendto(request.serialize(), ("127.0.0.1", transport.port))
                assert await wait_until(lambda: len(seen) == 2)
                broken = request.serialize().replace(b"CSeq: 1 OPTIONS", b"CSeq: x OPTIONS")
                broken = broken.replace(b"SIP/2.0\r\n", b"SIP/2.0 \r\n", 1)
                client.sendto(broken, ("127.0.0.1", transport.port))
                data = await asyncio.get_running_loop().run_in_executor(None, client.recv, 65535)
                answer = parse_message(data)
                assert isinstance(answer, Response) and answer.status == 400
            assert transport.counters["handler_errors"] == 1
        finally:
            await transport.stop()

    run(scenario())


def test_tcp_connections_are_kept_and_reused_for_requests_to_the_same_peer() -> None:
    async def scenario() -> None:
        received: list[tuple[Request | Response, Source]] = []
        transport = SipTransport(lambda m, s: received.append((m, s)), host="127.0.0.1", port=0)
        await transport.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", transport.port)
            local = writer.get_extra_info("sockname")
            request = options(f"SIP/2.0/TCP 127.0.0.1:{local[1]};branch=z9hG4bK-t")
            writer.write(request.serialize())
            assert await wait_until(lambda: len(received) == 1)
            message, source = received[0]
            assert isinstance(message, Request)
            transport.send_response(build_response(message, 200), source)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            assert head.startswith(b"SIP/2.0 200 OK")
            # A request to that peer's address goes over the same connection.
            await transport.send_request(message, source.address, "TCP")
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            assert head.startswith(b"OPTIONS ")
            assert transport.connection_count == 1
            writer.close()
        finally:
            await transport.stop()

    run(scenario())
