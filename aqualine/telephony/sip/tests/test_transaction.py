"""Transactions with a fake transport and a fake clock: every timer fires on demand."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from aqualine.telephony.sip import Request, Response, build_response, parse_message
from aqualine.telephony.sip.dialog import AnswerRetransmitter
from aqualine.telephony.sip.tests.samples import raw
from aqualine.telephony.sip.transaction import (
    InviteServerTransaction,
    NonInviteServerTransaction,
    ServerTransaction,
    State,
    Timers,
    TransactionLayer,
)
from aqualine.telephony.sip.transport import Address, Source

TIMERS = Timers(t1=0.5, t2=4.0, t4=5.0)


@dataclass(order=True)
class _Entry:
    when: float
    seq: int
    callback: Callable[[], object] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    """A scheduler whose time moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0
        self._queue: list[_Entry] = []
        self._seq = 0

    def time(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[[], object]) -> _Entry:
        self._seq += 1
        entry = _Entry(self.now + delay, self._seq, callback)
        heapq.heappush(self._queue, entry)
        return entry

    def advance(self, seconds: float) -> None:
        target = self.now + seconds
        while self._queue and self._queue[0].when <= target + 1e-9:
            entry = heapq.heappop(self._queue)
            if entry.cancelled:
                continue
            self.now = entry.when
            entry.callback()
        self.now = target


class FakeTransport:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.responses: list[tuple[float, Response]] = []
        self.requests: list[tuple[float, Request]] = []

    def send_response(self, response: Response, source: Source) -> None:
        self.responses.append((self.clock.now, response))

    async def send_request(self, request: Request, destination: Address, transport: str) -> None:
        self.requests.append((self.clock.now, request))

    def resend_request(self, request: Request, destination: Address, transport: str) -> None:
        self.requests.append((self.clock.now, request))

    def statuses(self) -> list[int]:
        return [r.status for _, r in self.responses]

    def times_of(self, status: int) -> list[float]:
        return [t for t, r in self.responses if r.status == status]


def request(method: str = "INVITE", branch: str = "z9hG4bK-1", cseq: int = 1) -> Request:
    message = parse_message(
        raw(
            f"{method} sip:96000@127.0.0.1 SIP/2.0",
            f"Via: SIP/2.0/UDP 127.0.0.1:5062;branch={branch}",
            "From: <sip:caller@127.0.0.1>;tag=a1",
            "To: <sip:96000@127.0.0.1>",
            "Call-ID: call-1@127.0.0.1",
            f"CSeq: {cseq} {method}",
            "Max-Forwards: 70",
        )
    )
    assert isinstance(message, Request)
    return message


@dataclass
class Harness:
    clock: FakeClock
    transport: FakeTransport
    layer: TransactionLayer
    received: list[tuple[Request, ServerTransaction]]
    acks: list[Request]


def harness() -> Harness:
    clock = FakeClock()
    transport = FakeTransport(clock)
    received: list[tuple[Request, ServerTransaction]] = []
    acks: list[Request] = []
    layer = TransactionLayer(
        transport,
        on_request=lambda r, t: received.append((r, t)),
        on_ack=lambda r, s: acks.append(r),
        timers=TIMERS,
        scheduler=clock,
    )
    return Harness(clock, transport, layer, received, acks)


def source(reliable: bool = False) -> Source:
    return Source("TCP" if reliable else "UDP", ("127.0.0.1", 5062))


def test_an_invite_gets_100_trying_at_once_and_reaches_the_tu() -> None:
    h = harness()
    h.layer.receive_request(request(), source())

    assert h.transport.statuses() == [100]
    assert len(h.received) == 1
    assert isinstance(h.received[0][1], InviteServerTransaction)


def test_a_retransmitted_invite_gets_the_last_response_again_and_not_the_tu() -> None:
    h = harness()
    h.layer.receive_request(request(), source())
    txn = h.received[0][1]
    txn.respond(build_response(txn.request, 180, to_tag="x"))

    h.layer.receive_request(request(), source())

    assert h.transport.statuses() == [100, 180, 180]
    assert len(h.received) == 1


def test_an_error_response_is_retransmitted_on_timer_g_until_the_ack() -> None:
    h = harness()
    h.layer.receive_request(request(), source())
    txn = h.received[0][1]
    txn.respond(build_response(txn.request, 486, to_tag="x"))

    h.clock.advance(8.0)

    # Sent at 0, then again at 0.5, 1.5, 3.5, 7.5 (the interval doubles up to T2 = 4).
    assert h.transport.times_of(486) == [0.0, 0.5, 1.5, 3.5, 7.5]
    ack = request("ACK")
    h.layer.receive_request(ack, source())
    assert txn.state is State.CONFIRMED
    assert h.acks == []  # absorbed by the transaction
    h.clock.advance(10.0)
    assert len(h.transport.times_of(486)) == 5
    assert h.layer.server_count == 0  # Timer I (T4) ended it


def test_without_an_ack_timer_h_ends_the_transaction_after_64_t1() -> None:
    h = harness()
    h.layer.receive_request(request(), source())
    txn = h.received[0][1]
    assert isinstance(txn, InviteServerTransaction)
    timeouts: list[bool] = []
    txn.on_timeout = lambda: timeouts.append(True)
    txn.respond(build_response(txn.request, 404, to_tag="x"))

    h.clock.advance(31.9)
    assert txn.state is State.COMPLETED
    h.clock.advance(0.2)

    assert txn.state is State.TERMINATED
    assert timeouts == [True]
    # Retransmissions stop at T2 intervals: 0, .5, 1.5, 3.5, 7.5, 11.5, ... 31.5
    assert h.transport.times_of(404)[-1] == pytest.approx(31.5)


def test_over_tcp_an_error_response_is_not_retransmitted() -> None:
    h = harness()
    h.layer.receive_request(request(), source(reliable=True))
    txn = h.received[0][1]
    txn.respond(build_response(txn.request, 486, to_tag="x"))

    h.clock.advance(10)

    assert h.transport.times_of(486) == [0.0]


def test_a_2xx_moves_the_invite_to_accepted_where_retransmissions_are_absorbed() -> None:
    h = harness()
    h.layer.receive_request(request(), source())
    txn = h.received[0][1]
    txn.respond(build_response(txn.request, 200, to_tag="x"))
    assert txn.state is State.ACCEPTED

    h.layer.receive_request(request(), source())  # a retransmitted INVITE
    ack = request("ACK", branch="z9hG4bK-ack")
    h.layer.receive_request(ack, source())

    assert h.transport.statuses() == [100, 200]
    assert h.acks == [ack]  # the ACK of a 2xx belongs to the dialog
    h.clock.advance(32.1)
    assert txn.state is State.TERMINATED  # Timer L


def test_a_non_invite_is_answered_once_and_retransmissions_get_the_same_answer() -> None:
    h = harness()
    h.layer.receive_request(request("OPTIONS"), source())
    txn = h.received[0][1]
    assert isinstance(txn, NonInviteServerTransaction)
    h.layer.receive_request(request("OPTIONS"), source())  # nothing sent yet: absorbed
    txn.respond(build_response(txn.request, 200))
    h.layer.receive_request(request("OPTIONS"), source())

    assert h.transport.statuses() == [200, 200]
    assert len(h.received) == 1
    h.clock.advance(31.9)
    assert txn.state is State.COMPLETED
    h.clock.advance(0.2)
    assert txn.state is State.TERMINATED  # Timer J


def test_a_cancel_finds_its_invite_transaction() -> None:
    h = harness()
    h.layer.receive_request(request(), source())
    invite_txn = h.received[0][1]

    cancel = request("CANCEL")
    h.layer.receive_request(cancel, source())

    cancel_txn = h.received[1][1]
    assert cancel_txn is not invite_txn
    assert h.layer.invite_for_cancel(cancel) is invite_txn
    assert h.layer.invite_for_cancel(request("CANCEL", branch="z9hG4bK-other")) is None


def test_rfc2543_requests_without_a_cookie_are_matched_by_their_fields() -> None:
    h = harness()
    h.layer.receive_request(request(branch="old-style-1"), source())
    h.layer.receive_request(request(branch="old-style-1"), source())
    h.layer.receive_request(request(branch="old-style-1", cseq=2), source())

    assert len(h.received) == 2


def _run_client(
    method: str, *, reliable: bool = False, answer: Callable[[Harness, Request], None]
) -> tuple[Harness, Response]:
    async def scenario() -> tuple[Harness, Response]:
        h = harness()
        req = request(method, branch="z9hG4bK-client")
        txn = await h.layer.request(req, ("127.0.0.1", 5062), "TCP" if reliable else "UDP")
        answer(h, req)
        return h, await txn.final

    return asyncio.run(scenario())


def test_a_client_bye_is_retransmitted_on_timer_e_and_times_out_with_408() -> None:
    h, final = _run_client("BYE", answer=lambda h, r: h.clock.advance(40))

    assert final.status == 408
    times = [t for t, _ in h.transport.requests]
    assert times[:6] == [0.0, 0.5, 1.5, 3.5, 7.5, 11.5]
    assert times[-1] <= 32.0
    assert h.layer.client_count == 0


def test_a_client_bye_completes_on_its_200() -> None:
    def answer(h: Harness, req: Request) -> None:
        h.clock.advance(0.6)
        h.layer.receive_response(build_response(req, 200))

    h, final = _run_client("BYE", answer=answer)

    assert final.status == 200
    assert len(h.transport.requests) == 2  # the BYE and one retransmission
    h.clock.advance(5.1)  # Timer K
    assert h.layer.client_count == 0


def test_a_client_invite_acks_an_error_response_itself() -> None:
    def answer(h: Harness, req: Request) -> None:
        h.layer.receive_response(build_response(req, 100))
        h.clock.advance(2)  # no Timer A retransmission after a provisional response
        h.layer.receive_response(build_response(req, 486, to_tag="b"))
        h.layer.receive_response(build_response(req, 486, to_tag="b"))

    h, final = _run_client("INVITE", answer=answer)

    assert final.status == 486
    methods = [r.method for _, r in h.transport.requests]
    assert methods == ["INVITE", "ACK", "ACK"]
    ack = h.transport.requests[1][1]
    assert ack.top_via.branch == "z9hG4bK-client"
    assert ack.to_addr.tag == "b"


def test_a_client_invite_passes_2xx_retransmissions_up_in_accepted() -> None:
    async def scenario() -> list[int]:
        h = harness()
        seen: list[int] = []
        req = request("INVITE", branch="z9hG4bK-c2")
        txn = await h.layer.request(
            req, ("127.0.0.1", 5062), "UDP", on_response=lambda r: seen.append(r.status)
        )
        h.layer.receive_response(build_response(req, 180, to_tag="b"))
        ok = build_response(req, 200, to_tag="b")
        h.layer.receive_response(ok)
        h.layer.receive_response(ok)
        assert (await txn.final).status == 200
        h.clock.advance(33)
        assert h.layer.client_count == 0  # Timer M
        return seen

    assert asyncio.run(scenario()) == [180, 200, 200]


def test_the_answer_retransmitter_doubles_to_t2_and_gives_up_after_64_t1() -> None:
    clock = FakeClock()
    sent: list[float] = []
    gave_up: list[float] = []
    AnswerRetransmitter(
        lambda: sent.append(clock.now),
        scheduler=clock,
        timers=TIMERS,
        on_give_up=lambda: gave_up.append(clock.now),
    )

    clock.advance(40)

    assert sent[:5] == [0.5, 1.5, 3.5, 7.5, 11.5]
    assert all(b - a <= 4.0 + 1e-9 for a, b in itertools.pairwise(sent))
    assert gave_up == [pytest.approx(32.0)]


def test_the_answer_retransmitter_stops_on_the_ack() -> None:
    clock = FakeClock()
    sent: list[float] = []
    retransmitter = AnswerRetransmitter(
        lambda: sent.append(clock.now), scheduler=clock, timers=TIMERS, on_give_up=lambda: None
    )
    clock.advance(1.0)
    retransmitter.acknowledged()
    clock.advance(40)

    assert sent == [0.5]
