"""Calls to the hotline over real sockets: the Python test UA and the test RTP peer."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from aqualine.telephony.ports import CallRecord
from aqualine.telephony.sdp import parse_sdp
from aqualine.telephony.sip import Request, Response
from aqualine.telephony.testing.audio import frame_levels, rms_dbfs
from aqualine.telephony.testing.rtp_peer import RtpPeer
from aqualine.telephony.testing.wait import run, wait_until
from aqualine.telephony.tests.fakes import HOTLINE, MemoryRecords, make_config, running_switch
from aqualine.telephony.tests.uac import SipClient, offer_sdp

pytestmark = pytest.mark.sip


def _answer_port(response: Response) -> int:
    sdp = parse_sdp(response.body)
    return sdp.media[0].port


def test_a_caller_from_the_trunk_hears_the_ivr_welcome_until_it_hangs_up() -> None:
    async def scenario() -> None:
        async with (
            running_switch() as running,
            await RtpPeer.start() as peer,
            SipClient(running.address) as uac,
        ):
            call = await uac.invite(HOTLINE, offer_sdp(peer.port))
            final = call.final
            assert final is not None and final.status == 200
            assert [r.status for r in call.responses if r.status < 200] == [100, 180]
            assert final.headers.get("Content-Type") == "application/sdp"
            assert final.to_addr.tag
            uac.ack(call, final)
            peer.send_to("127.0.0.1", _answer_port(final))
            peer.clear()
            loop = asyncio.get_running_loop()
            began = loop.time()
            assert await peer.wait_for_audio_packets(100, timeout=10)
            elapsed = loop.time() - began
            packets = len(peer.audio_packets)
            audio = peer.received_audio()
            assert rms_dbfs(audio) > -35
            levels = frame_levels(audio)
            assert np.mean(levels > -45) > 0.6, levels
            # 20 ms packets: as many as the time it took, within 10 %.
            assert abs(packets - elapsed / 0.020) <= 0.1 * elapsed / 0.020 + 2
            assert running.switch.status()["calls"] == 1

            bye = await uac.bye(call)
            assert bye.status == 200
            assert await wait_until(lambda: len(running.records.ended) == 1)
            record = running.records.ended[0]
            assert record.outcome == "ivr_only"  # it never left the IVR
            assert record.started_at and record.answered_at and record.ended_at
            assert record.end_cause == "caller hung up"
            assert record.direction == "inbound" and record.trunk == "demo"
            assert record.callee == HOTLINE
            assert [e.type for e in running.bus.events if e.type.startswith("call.")] == [
                "call.started",
                "call.answered",
                "call.ended",
            ]
            assert running.switch.calls() == []

    run(scenario())


def test_a_cancel_before_the_answer_gets_200_and_the_invite_487() -> None:
    async def scenario() -> None:
        async with (
            running_switch(make_config(ring_seconds=30)) as running,
            SipClient(running.address) as uac,
        ):
            call = await uac.invite(HOTLINE, offer_sdp(40000), wait_final=False)
            await uac.wait_for(lambda m: isinstance(m, Response) and m.status == 180)
            cancelled = await uac.cancel(call)
            assert cancelled.status == 200
            final = await uac.final_response(call.invite)
            assert final.status == 487
            uac.ack(call, final)
            assert await wait_until(lambda: len(running.records.ended) == 1)
            assert running.records.ended[0].outcome == "cancelled"
            assert running.bus.of_type("call.answered") == []

    run(scenario())


def test_the_switch_retransmits_its_200_until_the_ack_and_then_stops() -> None:
    async def scenario() -> None:
        async with running_switch() as running, SipClient(running.address) as uac:
            call = await uac.invite(HOTLINE, offer_sdp(40002))
            assert call.final is not None

            def oks() -> int:
                return sum(1 for r in uac.responses_to(call.call_id, "INVITE") if r.status == 200)

            assert await wait_until(lambda: oks() >= 3, timeout=5)
            uac.ack(call, call.final)
            await asyncio.sleep(0)
            settled = oks()
            # After the ACK no further 200 arrives within two retransmission intervals
            # (T2 = 0.4 s here); the call goes on.
            await asyncio.sleep(1.0)
            assert oks() <= settled + 1
            assert running.switch.calls()[0]["state"] == "confirmed"
            assert (await uac.bye(call)).status == 200

    run(scenario())


def test_without_an_ack_the_switch_gives_up_and_hangs_up_with_bye() -> None:
    async def scenario() -> None:
        config = make_config(timer_t1=0.02, timer_t2=0.08)
        async with running_switch(config) as running, SipClient(running.address) as uac:
            call = await uac.invite(HOTLINE, offer_sdp(40004))
            assert call.final is not None and call.final.status == 200
            bye = await uac.wait_for(lambda m: isinstance(m, Request) and m.method == "BYE")
            assert bye.call_id == call.call_id
            assert await wait_until(lambda: len(running.records.ended) == 1)
            record = running.records.ended[0]
            assert (record.outcome, record.end_cause) == ("failed", "no ACK")

    run(scenario())


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_stopping_the_switch_sends_bye_and_writes_the_record(transport: str) -> None:
    async def scenario() -> None:
        records = MemoryRecords()
        async with running_switch(records=records) as running:
            uac = await SipClient(running.address, transport).start()
            call = await uac.invite(HOTLINE, offer_sdp(40006))
            assert call.final is not None
            uac.ack(call, call.final)
            await running.switch.stop()
            bye = await uac.wait_for(lambda m: isinstance(m, Request) and m.method == "BYE")
            assert bye.call_id == call.call_id
            if transport == "tcp":  # over the caller's own connection
                assert bye.top_via.transport == "TCP"
            await uac.close()
        assert len(records.ended) == 1
        assert records.ended[0].end_cause == "switch stopped"
        assert records.open == {}

    run(scenario())


def test_a_restarted_switch_closes_the_records_of_calls_that_died_with_it() -> None:
    async def scenario() -> None:
        dangling = CallRecord("c1", "x@y", "inbound", "0105550100", HOTLINE, "127.0.0.1:5062")
        records = MemoryRecords(open_calls=[dangling])
        async with running_switch(records=records):
            assert [r.call_id for r in records.closed_dangling] == ["c1"]

    run(scenario())


def test_with_early_media_the_caller_hears_the_prompt_in_183_before_the_answer() -> None:
    async def scenario() -> None:
        config = make_config(early_media=True, ring_seconds=1.5)
        async with (
            running_switch(config) as running,
            await RtpPeer.start() as peer,
            SipClient(running.address) as uac,
        ):
            call = await uac.invite(HOTLINE, offer_sdp(peer.port), wait_final=False)
            progress = await uac.wait_for(
                lambda m: isinstance(m, Response) and m.status == 183, timeout=5
            )
            assert isinstance(progress, Response)
            assert progress.headers.get("Content-Type") == "application/sdp"
            peer.send_to("127.0.0.1", _answer_port(progress))
            # Audio flows while the call is still unanswered.
            assert await peer.wait_for_audio_packets(25, timeout=5)
            assert not uac.responses_to(call.call_id, "INVITE") or all(
                r.status < 200 for r in uac.responses_to(call.call_id, "INVITE")
            )
            assert rms_dbfs(peer.received_audio()) > -35
            final = await uac.final_response(call.invite, timeout=5)
            assert final.status == 200
            call.to_header = final.headers.get("To") or ""
            assert final.body == progress.body  # the same session description
            uac.ack(call, final)
            assert (await uac.bye(call)).status == 200
            assert await wait_until(lambda: len(running.records.ended) == 1)

    run(scenario(), timeout=30)
