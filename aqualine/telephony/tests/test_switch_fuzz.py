"""Damaged SIP messages fed to a running switch: every one is answered or dropped, none breaks it.

The messages go straight into the transport's dispatch (no sockets), so that hypothesis can
try many of them quickly; whatever the switch answers goes out over its UDP socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aqualine.telephony.sip.transport import Source
from aqualine.telephony.tests.fakes import RunningSwitch, make_config, running_switch

pytestmark = pytest.mark.sip

SOURCE = Source("UDP", ("127.0.0.1", 9))  # the discard port: answers go nowhere

SEEDS = [
    b"INVITE sip:96000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKa1;rport\r\n"
    b"From: <sip:0105550100@127.0.0.1>;tag=1\r\nTo: <sip:96000@127.0.0.1>\r\nCall-ID: f1\r\n"
    b"CSeq: 1 INVITE\r\nContact: <sip:c@127.0.0.1:9>\r\nMax-Forwards: 70\r\n"
    b"Content-Type: application/sdp\r\nContent-Length: 81\r\n\r\n"
    b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    b"m=audio 9 RTP/AVP 0\r\n",
    b"REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKr1\r\n"
    b"From: <sip:8001@127.0.0.1>;tag=2\r\nTo: <sip:8001@127.0.0.1>\r\nCall-ID: f2\r\n"
    b"CSeq: 2 REGISTER\r\nContact: <sip:8001@127.0.0.1:9>;expires=60\r\nExpires: 60\r\n"
    b'Authorization: Digest username="8001", realm="aqualine", nonce="x", uri="sip:127.0.0.1", '
    b'response="00", qop=auth, nc=00000001, cnonce="c"\r\nContent-Length: 0\r\n\r\n',
    b"BYE sip:96000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKb1\r\n"
    b"From: <sip:a@127.0.0.1>;tag=3\r\nTo: <sip:96000@127.0.0.1>;tag=4\r\nCall-ID: f3\r\n"
    b"CSeq: 3 BYE\r\nContent-Length: 0\r\n\r\n",
    b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKb1\r\n"
    b"From: <sip:a@127.0.0.1>;tag=3\r\nTo: <sip:96000@127.0.0.1>;tag=4\r\nCall-ID: f3\r\n"
    b"CSeq: 3 BYE\r\nContent-Length: 0\r\n\r\n",
]


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "dup"]))
        at = draw(st.integers(0, len(data)))
        if kind == "flip" and at < len(data):
            data[at] = draw(st.sampled_from(b'\x00 :;,<>"\\\r\n%=@0aZ\xff'))
        elif kind == "cut":
            del data[at : at + draw(st.integers(1, 40))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(max_size=12))
        elif kind == "dup":
            end = min(len(data), at + draw(st.integers(1, 60)))
            data[at:at] = data[at:end]
    return bytes(data)


@pytest.fixture(scope="module")
def switch() -> Iterator[tuple[asyncio.AbstractEventLoop, RunningSwitch]]:
    loop = asyncio.new_event_loop()
    manager = running_switch(make_config(auth_max_failures=100000, ring_seconds=0))
    running = loop.run_until_complete(manager.__aenter__())
    try:
        yield loop, running
    finally:
        loop.run_until_complete(manager.__aexit__(None, None, None))
        loop.close()


async def _feed(running: RunningSwitch, data: bytes) -> None:
    running.switch.transport._dispatch(data, SOURCE)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while running.switch._tasks and loop.time() < deadline:
        await asyncio.sleep(0.002)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=damaged())
def test_damaged_messages_are_answered_or_dropped_and_never_break_the_switch(
    switch: tuple[asyncio.AbstractEventLoop, RunningSwitch], data: bytes
) -> None:
    loop, running = switch
    transport = running.switch.transport
    loop.run_until_complete(_feed(running, data))

    assert transport.counters["handler_errors"] == 0
    assert running.switch.errors == 0
