"""The web side's client hears the real switch: a phone registers and a caller calls the
hotline, and `SwitchClient.events()` sees extension.registered, call.started/answered/ended."""

from __future__ import annotations

import asyncio

import pytest

from aqualine.callcenter.client import SwitchClient
from aqualine.telephony.api.events import (
    CallAnswered,
    CallEnded,
    CallStarted,
    Event,
    ExtensionRegistered,
)
from aqualine.telephony.api.server import ApiServer
from aqualine.telephony.testing.rtp_peer import RtpPeer
from aqualine.telephony.testing.wait import run
from aqualine.telephony.tests.fakes import HOTLINE, running_switch
from aqualine.telephony.tests.uac import SipClient, offer_sdp

pytestmark = pytest.mark.sip

TOKEN = "events-test-token"


def test_the_client_sees_registration_and_call_events_from_the_real_switch() -> None:
    async def scenario() -> None:
        async with running_switch() as running:
            api = ApiServer(running.switch, running.bus, host="127.0.0.1", port=0, token=TOKEN)
            await api.start()
            client = SwitchClient(f"http://127.0.0.1:{api.port}", TOKEN, timeout=5)
            received: list[Event] = []
            subscribed = asyncio.Event()

            async def listen() -> None:
                stream = client.events()
                first = asyncio.ensure_future(stream.__anext__())
                while running.bus.subscriber_count == 0:
                    await asyncio.sleep(0.01)
                subscribed.set()
                received.append(await first)
                async for event in stream:
                    received.append(event)

            listener = asyncio.create_task(listen())
            try:
                await asyncio.wait_for(subscribed.wait(), 5)
                async with await RtpPeer.start() as peer, SipClient(running.address) as uac:
                    registered = await uac.register("8001", "secret-8001")
                    assert registered.status == 200
                    call = await uac.invite(HOTLINE, offer_sdp(peer.port))
                    assert call.final is not None and call.final.status == 200
                    uac.ack(call, call.final)
                    assert (await uac.bye(call)).status == 200

                async def all_seen() -> None:
                    while not any(isinstance(e, CallEnded) for e in received):
                        await asyncio.sleep(0.02)

                await asyncio.wait_for(all_seen(), 10)
            finally:
                listener.cancel()
                await api.stop()

        kinds = [type(e) for e in received]
        assert kinds[0] is ExtensionRegistered
        assert received[0].number == "8001"  # type: ignore[attr-defined]
        assert kinds[1:] == [CallStarted, CallAnswered, CallEnded]
        started, ended = received[1], received[3]
        assert started.callee == HOTLINE and started.direction == "inbound"  # type: ignore[attr-defined]
        assert ended.call_id == started.call_id and ended.outcome == "answered"  # type: ignore[attr-defined]

    run(scenario(), timeout=30)
