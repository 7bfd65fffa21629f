"""Routing, authentication and dialog handling of the switch, with the Python test UA."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from aqualine.telephony.ports import TrunkInfo
from aqualine.telephony.sdp import build_offer, parse_sdp
from aqualine.telephony.testing.rtp_peer import RtpPeer
from aqualine.telephony.testing.wait import run, wait_until
from aqualine.telephony.tests.fakes import (
    HOTLINE,
    MemoryDirectory,
    RunningSwitch,
    make_config,
    running_switch,
)
from aqualine.telephony.tests.uac import SipClient, offer_sdp

pytestmark = pytest.mark.sip

EXT = ("8001", "secret-8001")
ELSEWHERE = [TrunkInfo("carrier", ("192.0.2.1",), (HOTLINE,))]


def with_switch(
    check: Callable[[RunningSwitch, SipClient], Awaitable[None]],
    *,
    transport: str = "udp",
    directory: MemoryDirectory | None = None,
    **config: Any,
) -> None:
    async def go() -> None:
        async with (
            running_switch(make_config(**config), directory=directory) as running,
            SipClient(running.address, transport) as uac,
        ):
            await check(running, uac)

    run(go())


def test_options_lists_what_the_switch_allows_and_accepts() -> None:
    async def check(running: RunningSwitch, uac: SipClient) -> None:
        response = await uac.send_and_wait(uac.request("OPTIONS", uac.target("x"), from_user="a"))
        assert response.status == 200
        assert set(response.allow) >= {"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER"}
        assert response.headers.get("Accept") == "application/sdp"

    with_switch(check)


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_an_extension_registers_and_shows_in_the_snapshots(transport: str) -> None:
    async def check(running: RunningSwitch, uac: SipClient) -> None:
        response = await uac.register(*EXT, expires=600)
        assert response.status == 200
        [entry] = running.switch.registrations()
        assert entry["number"] == "8001"
        assert entry["transport"] == transport.upper()
        assert 598 <= entry["expires"] <= 600
        status = running.switch.status()
        assert status["registrations"] == 1
        assert status["transports"] == {"udp": running.port, "tcp": running.port}
        assert (await uac.register("8001", "secret-8001", expires=0)).status == 200
        assert running.switch.registrations() == []
        assert [e.type for e in running.bus.events] == [
            "extension.registered",
            "extension.unregistered",
        ]

    with_switch(check, transport=transport)


def test_a_retransmitted_invite_does_not_make_a_second_call() -> None:
    async def check(running: RunningSwitch, uac: SipClient) -> None:
        call = await uac.invite(HOTLINE, offer_sdp(40010), wait_final=False)
        uac.send(call.invite)
        uac.send(call.invite)
        final = await uac.final_response(call.invite)
        assert final.status == 200
        uac.ack(call, final)
        call.to_header = final.headers.get("To") or ""
        assert running.switch.status()["calls_total"] == 1
        assert len(running.switch.calls()) == 1
        assert (await uac.bye(call)).status == 200

    with_switch(check, ring_seconds=0.2)


def test_an_invite_from_outside_the_trunk_must_authenticate() -> None:
    async def check(running: RunningSwitch, uac: SipClient) -> None:
        call = await uac.invite(HOTLINE, offer_sdp(40012), caller="8001")
        assert call.final is not None and call.final.status == 401
        assert running.switch.calls() == []

    with_switch(check, directory=MemoryDirectory(trunks=ELSEWHERE))


def test_an_authenticated_extension_reaches_the_hotline_as_an_internal_call() -> None:
    async def check(running: RunningSwitch, uac: SipClient) -> None:
        call = await uac.invite(HOTLINE, offer_sdp(40014), caller="8001", credentials=EXT)
        assert call.final is not None and call.final.status == 200
        uac.ack(call, call.final)
        [snapshot] = running.switch.calls()
        assert (snapshot["direction"], snapshot["caller"]) == ("internal", "8001")
        assert (await uac.bye(call)).status == 200

    with_switch(check, directory=MemoryDirectory(trunks=ELSEWHERE))


def test_a_number_in_hotline_numbers_is_reached_without_a_trunk() -> None:
    async def check(running: RunningSwitch, uac: SipClient) -> None:
        call = await uac.invite("12345", offer_sdp(40016), caller="8001", credentials=EXT)
        assert call.final is not None and call.final.status == 200
        uac.ack(call, call.final)
        assert (await uac.bye(call)).status == 200

    with_switch(check, directory=MemoryDirectory(trunks=[]), hotline_numbers=("12345",))


@pytest.mark.parametrize(
    ("callee", "status"), [("8002", 480), ("55555", 404)], ids=["extension", "unknown"]
)
def test_other_targets_get_480_or_404(callee: str, status: int) -> None:
    async def check(running: RunningSwitch, uac: SipClient) -> None:
        call = await uac.invite(callee, offer_sdp(40018), caller="8001", credentials=EXT)
        assert call.final is not None and call.final.status == status

    with_switch(check)


def test_the_wrong_password_on_an_invite_is_forbidden() -> None:
    async def check(running: RunningSwitch, uac: SipClient) -> None:
        call = await uac.invite("55555", offer_sdp(40020), caller="8001", credentials=("8001", "x"))
        assert call.final is not None and call.final.status == 403

    with_switch(check)


def test_a_trunk_with_a_username_must_answer_the_challenge() -> None:
    trunk = TrunkInfo("secure", ("127.0.0.1",), (HOTLINE,), username="carrier", password="pw")

    async def check(running: RunningSwitch, uac: SipClient) -> None:
        call = await uac.invite(HOTLINE, offer_sdp(40022), credentials=("carrier", "pw"))
        assert call.final is not None and call.final.status == 200
        uac.ack(call, call.final)
        assert running.switch.calls()[0]["trunk"] == "secure"
        assert (await uac.bye(call)).status == 200

    with_switch(check, directory=MemoryDirectory(trunks=[trunk]))


def test_an_offer_without_a_common_codec_gets_488() -> None:
    async def check(running: RunningSwitch, uac: SipClient) -> None:
        sdp = offer_sdp(40024, codecs="18").replace(b"a=rtpmap:0 PCMU/8000\r\n", b"")
        call = await uac.invite(HOTLINE, sdp)
        assert call.final is not None and call.final.status == 488
        assert running.records.started == []

    with_switch(check)


def test_requests_for_unknown_dialogs_and_transactions_get_481() -> None:
    async def check(running: RunningSwitch, uac: SipClient) -> None:
        bye = uac.request(
            "BYE", uac.target(HOTLINE), from_user="a", to_header=f"<{uac.target('b')}>;tag=nope"
        )
        assert (await uac.send_and_wait(bye)).status == 481
        cancel = uac.request("CANCEL", uac.target(HOTLINE), from_user="a", contact=False)
        assert (await uac.send_and_wait(cancel)).status == 481

    with_switch(check)


def test_an_invite_without_sdp_gets_an_offer_and_the_ack_carries_the_answer() -> None:
    async def check(running: RunningSwitch, uac: SipClient) -> None:
        async with await RtpPeer.start() as peer:
            call = await uac.invite(HOTLINE, None)
            final = call.final
            assert final is not None and final.status == 200
            offer = parse_sdp(final.body)
            answer = build_offer(
                local_ip="127.0.0.1",
                local_port=peer.port,
                session_id=1,
                session_version=1,
                codecs=("PCMU",),
            )
            uac.ack(call, final, body=answer)
            assert await peer.wait_for_audio_packets(10)
            assert offer.media[0].port == running.switch.calls()[0]["rtp_port"]
            assert (await uac.bye(call)).status == 200

    with_switch(check)


def test_holding_the_call_stops_the_prompt_and_resuming_starts_it_again() -> None:
    async def check(running: RunningSwitch, uac: SipClient) -> None:
        async with await RtpPeer.start() as peer:
            call = await uac.invite(HOTLINE, offer_sdp(peer.port))
            assert call.final is not None
            uac.ack(call, call.final)
            first_version = parse_sdp(call.final.body).origin.session_version
            assert await peer.wait_for_audio_packets(10)

            hold = uac.in_dialog(
                call,
                "INVITE",
                body=offer_sdp(peer.port, direction="sendonly"),
                content_type="application/sdp",
            )
            held = await uac.send_and_wait(hold)
            assert held.status == 200
            assert b"a=recvonly" in held.body
            assert parse_sdp(held.body).origin.session_version == first_version + 1
            uac.ack(call, held)
            assert await wait_until(lambda: running.switch.calls()[0]["held"])
            await asyncio.sleep(0.1)  # packets already in flight
            before = len(peer.audio_packets)
            await asyncio.sleep(0.4)
            assert len(peer.audio_packets) - before <= 1

            resume = uac.in_dialog(
                call, "INVITE", body=offer_sdp(peer.port), content_type="application/sdp"
            )
            resumed = await uac.send_and_wait(resume)
            assert resumed.status == 200 and b"a=sendrecv" in resumed.body
            uac.ack(call, resumed)
            assert await peer.wait_for_audio_packets(before + 15)
            assert (await uac.bye(call)).status == 200

    with_switch(check)


def test_a_reinvite_with_the_same_offer_keeps_the_sdp_version() -> None:
    async def check(running: RunningSwitch, uac: SipClient) -> None:
        sdp = offer_sdp(40026)
        call = await uac.invite(HOTLINE, sdp)
        assert call.final is not None
        uac.ack(call, call.final)
        again = uac.in_dialog(call, "INVITE", body=sdp, content_type="application/sdp")
        response = await uac.send_and_wait(again)
        uac.ack(call, response)
        assert response.body == call.final.body
        assert (await uac.bye(call)).status == 200

    with_switch(check)


def test_an_out_of_order_cseq_in_the_dialog_gets_500() -> None:
    async def check(running: RunningSwitch, uac: SipClient) -> None:
        call = await uac.invite(HOTLINE, offer_sdp(40028))
        assert call.final is not None
        uac.ack(call, call.final)
        call.cseq = 5
        assert (await uac.send_and_wait(uac.in_dialog(call, "INFO"))).status == 200
        call.cseq = 1
        assert (await uac.send_and_wait(uac.in_dialog(call, "INFO"))).status == 500
        call.cseq = 10
        assert (await uac.bye(call)).status == 200

    with_switch(check)


def test_a_blocked_address_gets_403_and_a_fail2ban_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="aqualine.switch.security")

    async def check(running: RunningSwitch, uac: SipClient) -> None:
        for _ in range(2):
            assert (await uac.register("8001", "wrong")).status == 403
        response = await uac.send_and_wait(
            uac.request("REGISTER", f"sip:127.0.0.1:{running.port}", from_user="8001")
        )
        assert response.status == 403

    with_switch(check, auth_max_failures=2)
    lines = [r.getMessage() for r in caplog.records if r.name == "aqualine.switch.security"]
    assert "SIP auth failure from 127.0.0.1 user 8001 reason bad_response" in lines
    assert lines[-1].startswith("SIP auth failure from 127.0.0.1 user 8001 reason blocked")


def test_garbage_does_not_stop_the_switch() -> None:
    async def check(running: RunningSwitch, uac: SipClient) -> None:
        for junk in (b"", b"\r\n\r\n", b"\x00\xff" * 100, b"INVITE\r\n\r\n", b"SIP/2.0 200\r\n"):
            uac.send_bytes(junk)
        response = await uac.send_and_wait(uac.request("OPTIONS", uac.target("x"), from_user="a"))
        assert response.status == 200
        assert running.switch.transport.counters["handler_errors"] == 0

    with_switch(check)
