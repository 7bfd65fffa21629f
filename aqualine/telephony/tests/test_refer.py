"""Call control from the agent's phone on an outbound leg: hold and unhold (re-INVITEs), and
blind transfer by REFER (RFC 3515), with a real pjsua2 phone driven through its stdin.

- ``hold`` on the phone: the leg answers the sendonly re-INVITE and reports the call held
  (``on_media``); ``unhold`` brings it back to sendrecv;
- ``xfer`` on the phone: the leg accepts the REFER (202), tells the phone "100 Trying" at once,
  hands the target to ``on_refer`` and passes on the outcome the session reports
  (:meth:`OutboundLeg.notify_refer`) as the final NOTIFY;
- without ``on_refer`` a REFER is declined, and the phone sees it;
- :func:`parse_refer` refuses what it cannot use (no, two or a bad Refer-To; Replaces).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from aqualine.telephony.legs import LegCallbacks, LocalMedia, OutboundLeg
from aqualine.telephony.media.wav import load_audio
from aqualine.telephony.refer import (
    SUBSCRIPTION_SECONDS,
    ReferError,
    ReferRequest,
    ReferSubscription,
    parse_refer,
    sipfrag,
)
from aqualine.telephony.sdp import Direction, NegotiatedAudio
from aqualine.telephony.sip import Request, Response, build_response, parse_message
from aqualine.telephony.testing.audio import frames_with_tone
from aqualine.telephony.testing.rtp_peer import RtpPeer
from aqualine.telephony.testing.wait import run, wait_until
from aqualine.telephony.tests.fakes import HOTLINE, RunningSwitch, running_switch
from aqualine.telephony.tests.hotline_peers import agent_phone, needs_pjsua2
from aqualine.telephony.tests.test_outbound_legs import (
    SWITCH_TONE,
    PhoneProcess,
    event,
    invite_of,
    ok_for,
    outcome,
    request_of,
)
from aqualine.telephony.tests.uac import SipClient

pytestmark = pytest.mark.sip


@dataclass
class Seen:
    """What the leg's callbacks reported."""

    media: list[NegotiatedAudio] = field(default_factory=list)
    refers: list[ReferRequest] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)

    def callbacks(self, *, refer: bool = True) -> LegCallbacks:
        return LegCallbacks(
            on_media=lambda _leg, audio: self.media.append(audio),
            on_ended=lambda _leg, cause: self.ended.append(cause),
            on_refer=(lambda _leg, request: self.refers.append(request)) if refer else None,
        )


async def answered_leg(
    running: RunningSwitch, peer: RtpPeer, seen: Seen, **options: bool
) -> OutboundLeg:
    """Ring 8001 (the pjsua2 phone) and wait until it has answered."""
    leg = await running.switch.originate(
        "8001",
        media=LocalMedia("127.0.0.1", peer.port, codecs=("PCMU",)),
        caller=HOTLINE,
        ring_timeout=10,
        callbacks=seen.callbacks(**options),
    )
    audio = await outcome(leg)
    assert isinstance(audio, NegotiatedAudio), audio
    peer.send_to(audio.remote_address, audio.remote_port)
    return leg


async def event_after(
    phone: PhoneProcess, before: int, kind: str, **values: object
) -> dict[str, object]:
    """The first ``kind`` event with ``values`` among the phone's events from ``before`` on."""
    matches = event(kind, **values)
    return await phone.wait_for(
        lambda e: matches(e) and any(seen is e for seen in phone.events[before:])
    )


async def command(phone: PhoneProcess, line: str) -> int:
    """Send a command to the phone, wait for its acknowledgement; the event count before."""
    before = len(phone.events)
    await phone.send(line)
    acknowledged = await event_after(phone, before, "command", name=line.split()[0])
    assert acknowledged["ok"], acknowledged
    return before


async def phone_talks_for(peer: RtpPeer, seconds: float) -> None:
    """Wait until the phone has sent ``seconds`` more of audio (its RTP as the clock)."""
    count = len(peer.audio_packets) + round(seconds * 50)
    assert await peer.wait_for_audio_packets(count, timeout=seconds + 10)


def tone_by_half_second(samples: npt.ArrayLike, freq: float) -> list[float]:
    """For each half second of ``samples``: the share of it in which ``freq`` is heard."""
    values = np.asarray(samples).ravel()
    return [
        frames_with_tone(values[start : start + 4000], freq)
        for start in range(0, values.size - 3999, 4000)
    ]


@needs_pjsua2
def test_the_phone_holds_and_resumes_the_call_by_reinvite(tmp_path: Path) -> None:
    seen = Seen()

    async def scenario() -> None:
        async with running_switch() as running, agent_phone(running, tmp_path) as phone:
            async with await RtpPeer.start() as peer:
                leg = await answered_leg(running, peer, seen)
                peer.play_tone(SWITCH_TONE, 1.0, loop=True)
                await phone.wait_for(event("state", call=0, state="CONFIRMED"))
                await phone_talks_for(peer, 1.0)

                held = await command(phone, "hold")
                assert await wait_until(lambda: len(seen.media) == 1, timeout=10)
                assert seen.media[0].direction is Direction.RECVONLY
                assert seen.media[0].held_by_remote and leg.snapshot()["held"]
                await event_after(phone, held, "media", call=0, held=True)
                await phone_talks_for(peer, 1.5)  # a held phone still sends (sendonly)

                resumed = await command(phone, "unhold")
                assert await wait_until(lambda: len(seen.media) == 2, timeout=10)
                assert seen.media[1].direction is Direction.SENDRECV
                assert not seen.media[1].held_by_remote and not leg.snapshot()["held"]
                await event_after(phone, resumed, "media", call=0, held=False)
                await phone_talks_for(peer, 1.5)

                await command(phone, "hangup")
                assert await asyncio.wait_for(asyncio.shield(leg.ended), 10) == "Remote hung up"
            await phone.wait_for(event("done"))  # its recording is written out
            assert await wait_until(lambda: running.switch.legs() == [])

    run(scenario(), timeout=60)

    # The phone heard the switch's tone, silence while it held the call, then the tone again.
    heard = tone_by_half_second(load_audio(tmp_path / "heard-8001-0.wav"), SWITCH_TONE)
    first = next(i for i, share in enumerate(heard) if share >= 0.8)
    held = next(i for i, share in enumerate(heard) if i > first and share == 0.0)
    assert any(share >= 0.8 for share in heard[held:]), heard


@needs_pjsua2
@pytest.mark.parametrize(("status", "reason"), [(200, "OK"), (486, "Busy Here")])
def test_the_phone_transfers_by_refer_and_hears_the_outcome(
    tmp_path: Path, status: int, reason: str
) -> None:
    seen = Seen()

    async def scenario() -> None:
        async with running_switch() as running, agent_phone(running, tmp_path) as phone:
            async with await RtpPeer.start() as peer:
                leg = await answered_leg(running, peer, seen)
                await phone.wait_for(event("state", call=0, state="CONFIRMED"))

                await command(phone, "xfer sip:1002@127.0.0.1")
                assert await wait_until(lambda: len(seen.refers) == 1, timeout=10)
                refer = seen.refers[0]
                assert (refer.target_user, refer.target_uri) == ("1002", "sip:1002@127.0.0.1")
                assert refer.referred_by.startswith("sip:8001@")
                # The 202 (pjsua reports it as "100 Accepted"), then at once our NOTIFY.
                await phone.wait_for(event("transfer_status", code=100, reason="Accepted"))
                await phone.wait_for(event("transfer_status", code=100, reason="Trying"))

                await leg.notify_refer(status, reason, final=True)
                outcome_seen = await phone.wait_for(event("transfer_status", final=True))
                assert (outcome_seen["code"], outcome_seen["reason"]) == (status, reason)
                # After the final NOTIFY there is nothing left to report on.
                await leg.notify_refer(200, "OK", final=True)

                await leg.hang_up("Transferred")
                assert leg.bye_response is not None and leg.bye_response.status == 200
            await phone.wait_for(event("done"))
            assert running.switch.errors == 0
            assert await wait_until(lambda: running.switch.legs() == [])

    run(scenario(), timeout=60)


@needs_pjsua2
def test_without_anyone_to_transfer_a_refer_is_declined(tmp_path: Path) -> None:
    seen = Seen()

    async def scenario() -> None:
        async with running_switch() as running, agent_phone(running, tmp_path) as phone:
            async with await RtpPeer.start() as peer:
                leg = await answered_leg(running, peer, seen, refer=False)
                await phone.wait_for(event("state", call=0, state="CONFIRMED"))

                await command(phone, "xfer 1002")
                declined = await phone.wait_for(event("transfer_status", final=True))
                assert declined["code"] == 603
                assert seen.refers == []
                assert leg.snapshot()["state"] == "answered"  # the call goes on
                await leg.notify_refer(200, "OK", final=True)  # nothing to report: ignored

                await command(phone, "hangup")
                assert await asyncio.wait_for(asyncio.shield(leg.ended), 10) == "Remote hung up"
            await phone.wait_for(event("done"))

    run(scenario(), timeout=60)


# --- on the wire, with the Python test UA as the phone ------------------------------------------


@dataclass
class UaPhone:
    """The test UA in an answered leg's dialog, sending REFERs as the phone."""

    running: RunningSwitch
    ua: SipClient
    invite: Request
    cseq: int = 0

    def refer(self, *headers: tuple[str, str]) -> Request:
        self.cseq += 1
        return self.ua.request(
            "REFER",
            f"sip:{HOTLINE}@127.0.0.1:{self.running.port}",
            from_user="8001",
            call_id=self.invite.call_id,
            cseq=self.cseq,
            from_tag="phone",
            to_header=self.invite.headers.get("From"),
            headers=headers,
        )

    async def notify(self, after: int = 0) -> Request:
        """The next NOTIFY from the switch (CSeq above ``after``), answered 200."""
        found = await self.ua.wait_for(
            lambda m: isinstance(m, Request) and m.method == "NOTIFY" and m.cseq.number > after
        )
        assert isinstance(found, Request)
        self.ua.send(build_response(found, 200))
        return found


async def phone_in_a_call(
    running: RunningSwitch, ua: SipClient, seen: Seen
) -> tuple[OutboundLeg, UaPhone]:
    leg = await running.switch.originate_uri(
        f"sip:8001@127.0.0.1:{ua.local[1]}",
        media=LocalMedia("127.0.0.1", 40100),
        caller=HOTLINE,
        callbacks=seen.callbacks(),
    )
    invite = await ua.wait_for(invite_of)
    assert isinstance(invite, Request)
    ua.send(ok_for(invite, ua, tag="phone", port=40300))
    await ua.wait_for(request_of("ACK"))
    assert isinstance(await outcome(leg), NegotiatedAudio)
    return leg, UaPhone(running, ua, invite)


def answer_of(response: Response) -> tuple[int, str]:
    return response.status, response.reason


def test_refers_are_checked_accepted_one_at_a_time_and_notified_on_the_wire() -> None:
    seen = Seen()

    async def scenario() -> None:
        async with running_switch() as running, SipClient(running.address) as ua:
            leg, phone = await phone_in_a_call(running, ua, seen)

            missing = await ua.send_and_wait(phone.refer())
            assert answer_of(missing) == (400, "Missing Refer-To")
            replaces = (
                "Refer-To",
                "<sip:1003@127.0.0.1?Replaces=a%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>",
            )
            attended = await ua.send_and_wait(phone.refer(replaces))
            assert answer_of(attended) == (501, "Attended transfer (Replaces) not supported")
            assert seen.refers == []

            refer = phone.refer(
                ("Refer-To", "<sip:1002@127.0.0.1>"), ("Referred-By", "<sip:8001@h>")
            )
            accepted = await ua.send_and_wait(refer)
            assert accepted.status == 202 and accepted.headers.get("Contact")
            trying = await phone.notify()
            assert trying.headers.get("Event") == f"refer;id={refer.cseq.number}"
            assert trying.headers.get("Subscription-State") == "active;expires=60"
            assert trying.headers.get("Content-Type") == "message/sipfrag;version=2.0"
            assert trying.headers.get("Contact") and trying.to_addr.tag == "phone"
            assert trying.body == b"SIP/2.0 100 Trying\r\n"
            assert seen.refers == [ReferRequest("sip:1002@127.0.0.1", "1002", "sip:8001@h")]

            # One transfer at a time.
            again = await ua.send_and_wait(phone.refer(("Refer-To", "<sip:1003@127.0.0.1>")))
            assert again.status == 491 and len(seen.refers) == 1

            await leg.notify_refer(180, "Ringing", final=False)
            ringing = await phone.notify(after=trying.cseq.number)
            assert str(ringing.headers.get("Subscription-State")).startswith("active;expires=")
            await leg.notify_refer(486, "Busy Here", final=True)
            final = await phone.notify(after=ringing.cseq.number)
            assert final.headers.get("Subscription-State") == "terminated;reason=noresource"
            assert final.body == b"SIP/2.0 486 Busy Here\r\n"

            # The outcome is known: the phone may try another transfer.
            retry = await ua.send_and_wait(phone.refer(("r", "<tel:13900139000>")))
            assert retry.status == 202 and seen.refers[-1].target_user == "13900139000"
            await phone.notify(after=final.cseq.number)
            assert leg.snapshot()["state"] == "answered" and running.switch.errors == 0
            await leg.hang_up()

    run(scenario())


def test_a_transfer_that_reports_no_outcome_ends_its_subscription_on_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("aqualine.telephony.refer.SUBSCRIPTION_SECONDS", 1)
    seen = Seen()

    async def scenario() -> None:
        async with running_switch() as running, SipClient(running.address) as ua:
            leg, phone = await phone_in_a_call(running, ua, seen)
            accepted = await ua.send_and_wait(phone.refer(("Refer-To", "<sip:1002@127.0.0.1>")))
            assert accepted.status == 202
            trying = await phone.notify()
            assert trying.headers.get("Subscription-State") == "active;expires=1"
            timeout = await phone.notify(after=trying.cseq.number)
            assert timeout.headers.get("Subscription-State") == "terminated;reason=timeout"
            assert timeout.body == b"SIP/2.0 100 Trying\r\n"
            await leg.notify_refer(200, "OK", final=True)  # too late: nothing is sent
            count = len(ua.messages)
            await leg.hang_up()
            assert not any(
                isinstance(m, Request) and m.method == "NOTIFY" for m in ua.messages[count:]
            )

    run(scenario())


# --- reading a REFER --------------------------------------------------------------------------


def refer_request(*headers: str) -> Request:
    """An in-dialog REFER from the phone with these extra header lines."""
    lines = [
        "REFER sip:96000@127.0.0.1:5070 SIP/2.0",
        "Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-refer-1;rport",
        "Max-Forwards: 70",
        "From: <sip:8001@127.0.0.1>;tag=phone",
        "To: <sip:96000@127.0.0.1>;tag=switch",
        "Call-ID: refer-test",
        "CSeq: 7 REFER",
        *headers,
        "Content-Length: 0",
    ]
    message = parse_message(("\r\n".join(lines) + "\r\n\r\n").encode())
    assert isinstance(message, Request)
    return message


@pytest.mark.parametrize(
    ("headers", "target_uri", "target_user", "referred_by"),
    [
        (["Refer-To: <sip:1002@127.0.0.1>"], "sip:1002@127.0.0.1", "1002", ""),
        (["Refer-To: sip:8002@hotline.example"], "sip:8002@hotline.example", "8002", ""),
        (
            ['r: "Outside" <sip:13900139000@trunk.example;user=phone>', "b: <sip:8001@h>"],
            "sip:13900139000@trunk.example;user=phone",
            "13900139000",
            "sip:8001@h",
        ),
        (["Refer-To: <tel:+86-10-1234-5678>"], "tel:+86-10-1234-5678", "+861012345678", ""),
        (["Refer-To: <sip:1002@h?Accept-Contact=x>"], "sip:1002@h?Accept-Contact=x", "1002", ""),
        (["Refer-To: <sip:1002@h>", "Referred-By: not a uri <"], "sip:1002@h", "1002", ""),
    ],
)
def test_a_refer_names_its_target_and_referrer(
    headers: list[str], target_uri: str, target_user: str, referred_by: str
) -> None:
    assert parse_refer(refer_request(*headers)) == ReferRequest(
        target_uri, target_user, referred_by
    )


@pytest.mark.parametrize(
    ("headers", "status", "reason"),
    [
        ([], 400, "Missing Refer-To"),
        (["Refer-To: <sip:1002@h>", "Refer-To: <sip:1003@h>"], 400, "More than one Refer-To"),
        (["Refer-To: <sip:1002@h>, <sip:1003@h>"], 400, "Bad Refer-To"),
        (["Refer-To: <sip:1002@>"], 400, "Bad Refer-To"),
        (["Refer-To: sip:1002@h?Replaces=abc"], 400, "Bad Refer-To"),  # headers need <>
        (["Refer-To: <sip:1002@h"], 400, "Bad Refer-To"),
        (["Refer-To: <http://example.com/>"], 400, "Refer-To must be a SIP or tel URI"),
        (["Refer-To: <sip:h.example>"], 400, "Refer-To names no number"),
        (
            ["Refer-To: <sip:1002@h?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>"],
            501,
            "Attended transfer (Replaces) not supported",
        ),
        (["Refer-To: <sip:1002@h;method=SUBSCRIBE>"], 501, "Refer-To method"),
    ],
)
def test_a_refer_that_cannot_be_used_is_refused_with_a_reason(
    headers: list[str], status: int, reason: str
) -> None:
    with pytest.raises(ReferError) as refused:
        parse_refer(refer_request(*headers))
    assert refused.value.status == status
    assert refused.value.reason.startswith(reason), refused.value.reason


def test_the_notify_bodies_and_subscription_states() -> None:
    subscription = ReferSubscription(7, now=1000.0)
    headers, body = subscription.notify_headers(100, "Trying", final=False, now=1000.0)
    assert headers == [
        ("Event", "refer;id=7"),
        ("Subscription-State", f"active;expires={SUBSCRIPTION_SECONDS}"),
    ]
    assert body == b"SIP/2.0 100 Trying\r\n" and not subscription.terminated
    headers, body = subscription.notify_headers(180, "Ringing", final=False, now=1045.5)
    assert headers[1] == ("Subscription-State", "active;expires=15")
    headers, body = subscription.notify_headers(486, "Busy\r\nHere", final=True, now=1050.0)
    assert headers[1] == ("Subscription-State", "terminated;reason=noresource")
    assert body == b"SIP/2.0 486 Busy Here\r\n" and subscription.terminated

    late = ReferSubscription(8, now=0.0)
    headers, _ = late.notify_headers(100, "Trying", final=False, now=SUBSCRIPTION_SECONDS + 1)
    assert headers[1] == ("Subscription-State", "terminated;reason=timeout")
    assert late.terminated
    with pytest.raises(ValueError):
        sipfrag(99, "Nope")
