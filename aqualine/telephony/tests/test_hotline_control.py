"""Call control end to end (T8, T9, T11, X7): real pjsua2 phones for the agents and the
supervisor, each playing its own tone, and a caller from the demo trunk playing its own.

Who hears whom is checked by the tones: the caller's live (its RTP peer), the phones' from
what they recorded (their WAV files, cut at the moments the test noted).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from aqualine.telephony.api.server import CommandRefused
from aqualine.telephony.centre import CallCentre
from aqualine.telephony.media.wav import load_audio
from aqualine.telephony.ports import ExtensionInfo
from aqualine.telephony.testing.audio import (
    describe,
    frames_containing_tone,
    frames_with_tone,
    is_silent,
)
from aqualine.telephony.testing.wait import run, wait_until
from aqualine.telephony.tests.fakes import RunningSwitch
from aqualine.telephony.tests.hotline_peers import (
    CALLER_TONE,
    QUEUE_ONLY_FLOW,
    SECOND_PHONE_TONE,
    Caller,
    agent_phone,
    agent_state,
    hotline,
    needs_pjsua2,
    sign_on,
)
from aqualine.telephony.tests.test_outbound_legs import PHONE_TONE, PhoneProcess, event

pytestmark = [pytest.mark.sip, needs_pjsua2]

SUPERVISOR_TONE = 1400.0
RATE = 8000


def _centre(running: RunningSwitch) -> CallCentre:
    centre = running.switch.centre
    assert centre is not None
    return centre


async def command(running: RunningSwitch, name: str, agent_id: str, **params: str) -> dict:
    return await running.switch.agent_command(name, agent_id, dict(params))


async def hears(caller: Caller, seconds: float = 1.5, settle: float = 0.4) -> npt.NDArray:
    """What the caller hears over the next ``seconds`` (after ``settle`` for the change)."""
    await asyncio.sleep(settle)
    caller.peer.clear()
    assert await caller.peer.wait_for_audio_packets(int(seconds * 50), timeout=10)
    return caller.peer.received_audio()[-int(seconds * RATE) :]


class Timeline:
    """Moments of the test, to cut a phone's recording (which starts with its media)."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.media: dict[str, float] = {}
        self.marks: dict[str, float] = {}

    def mark(self, name: str) -> None:
        self.marks[name] = self.loop.time()

    async def answered(self, phone: PhoneProcess, name: str, call: int = 0) -> None:
        await phone.wait_for(event("incoming", call=call), timeout=20)
        await phone.wait_for(event("media", call=call), timeout=15)
        self.media[name] = self.loop.time()

    def cut(self, audio: npt.NDArray, phone: str, start: str, end: str) -> npt.NDArray:
        """The phone's audio between two marks (half a second inside each end)."""
        begin = round((self.marks[start] - self.media[phone] + 0.5) * RATE)
        stop = round((self.marks[end] - self.media[phone] - 0.3) * RATE)
        assert stop - begin > RATE // 2, (start, end)
        return audio[max(0, begin) : max(0, stop)]


async def consult_answered(caller: Caller) -> None:
    """The switch has the consulted party's answer (its phone said so a moment before)."""

    def answered() -> bool:
        session = caller.session()
        consult = session.control.consult if session is not None else None
        return consult is not None and consult.answered

    assert await wait_until(answered, timeout=10), "the consulted party never answered"


async def talking(caller: Caller, tone: float = PHONE_TONE) -> None:
    heard = await hears(caller, 1.0)
    assert frames_with_tone(heard, tone) > 0.6, describe(heard)


def test_hold_by_command_plays_music_to_the_caller_and_unhold_restores_both_ways(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with (
            hotline(tmp_path, flow=QUEUE_ONLY_FLOW) as running,
            agent_phone(running, tmp_path, "8001") as phone,
        ):
            sign_on(running, "1001", "8001")
            times = Timeline()
            async with Caller(running) as caller:
                await caller.dial()
                caller.peer.play_tone(CALLER_TONE, 1.0, loop=True)
                await times.answered(phone, "8001")
                await talking(caller)
                times.mark("talk")
                await asyncio.sleep(1.5)

                view = await command(running, "hold", "1001")
                assert view["call"]["held"] is True
                times.mark("hold")
                music = await hears(caller, 2.0)
                assert not is_silent(music), "the held caller hears music"
                assert frames_with_tone(music, PHONE_TONE) < 0.05, "not the agent"
                with pytest.raises(CommandRefused) as refused:
                    await command(running, "hold", "1001")
                assert refused.value.code == "already_held"

                times.mark("unhold")
                await command(running, "unhold", "1001")
                await talking(caller)
                times.mark("back")
                await asyncio.sleep(1.5)
                times.mark("end")
                await caller.hang_up()
                record = await caller.record()
            await phone.wait_for(event("disconnected", call=0), timeout=15)
            await phone.finish(timeout=15)  # its WAV is complete once it exits
        assert record.outcome == "answered" and record.agent_id == "1001"
        assert 2.0 <= record.hold_seconds <= 5.0, record.hold_seconds
        heard = load_audio(tmp_path / "heard-8001-0.wav")
        before = times.cut(heard, "8001", "talk", "hold")
        during = times.cut(heard, "8001", "hold", "unhold")
        after = times.cut(heard, "8001", "back", "end")
        assert frames_with_tone(before, CALLER_TONE) > 0.5, describe(before)
        assert frames_with_tone(during, CALLER_TONE) < 0.1, "the agent does not hear the caller"
        assert frames_with_tone(after, CALLER_TONE) > 0.5, describe(after)

    run(scenario(), timeout=120)


def test_blind_transfer_to_a_busy_or_ready_agent_by_command(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with (
            hotline(tmp_path, flow=QUEUE_ONLY_FLOW) as running,
            agent_phone(running, tmp_path, "8001") as first,
            agent_phone(running, tmp_path, "8002", tone=SECOND_PHONE_TONE) as second,
        ):
            sign_on(running, "1001", "8001")
            sign_on(running, "1002", "8002")
            centre = _centre(running)
            centre.command("not_ready", "1002", reason="休息")
            times = Timeline()
            async with Caller(running) as caller:
                await caller.dial()
                caller.peer.play_tone(CALLER_TONE, 1.0, loop=True)
                await times.answered(first, "8001")
                await talking(caller)
                with pytest.raises(CommandRefused) as refused:
                    await command(running, "transfer", "1001", target="1002")
                assert refused.value.code == "target_not_ready", refused.value.reason
                with pytest.raises(CommandRefused) as refused:
                    await command(running, "transfer", "1001", target="8003", kind="extension")
                assert refused.value.code == "not_registered"
                centre.command("ready", "1002")

                await command(running, "transfer", "1001", target="1002")
                await first.wait_for(event("disconnected", call=0), timeout=15)
                assert agent_state(running, "1001")[0] == "after_call_work"
                await times.answered(second, "8002")
                times.mark("second")
                await talking(caller, SECOND_PHONE_TONE)
                assert agent_state(running, "1002")[0] == "talking"
                await asyncio.sleep(1.5)
                times.mark("end")
                await caller.hang_up()
                record = await caller.record()
            await second.wait_for(event("disconnected", call=0), timeout=15)
            assert agent_state(running, "1002")[0] == "after_call_work"
            await second.finish(timeout=15)
            recording = await _recording(running, tmp_path)
        assert record.outcome == "answered"
        assert (record.agent_id, record.transfer_agent_id) == ("1001", "1002")
        assert record.transfer_target == "1002" and record.transferred_at is not None
        heard = load_audio(tmp_path / "heard-8002-0.wav")
        assert frames_with_tone(times.cut(heard, "8002", "second", "end"), CALLER_TONE) > 0.5
        # one recording across the transfer: the caller and both agents
        for tone in (CALLER_TONE, PHONE_TONE, SECOND_PHONE_TONE):
            assert frames_containing_tone(recording, tone) > 0.15, (tone, describe(recording))

    run(scenario(), timeout=150)


def test_consult_then_conference_each_hears_the_two_others_and_the_agent_may_leave(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with (
            hotline(tmp_path, flow=QUEUE_ONLY_FLOW) as running,
            agent_phone(running, tmp_path, "8001") as first,
            agent_phone(running, tmp_path, "8002", tone=SECOND_PHONE_TONE) as second,
        ):
            sign_on(running, "1001", "8001")
            times = Timeline()
            async with Caller(running) as caller:
                await caller.dial()
                caller.peer.play_tone(CALLER_TONE, 1.0, loop=True)
                await times.answered(first, "8001")
                await talking(caller)
                sign_on(running, "1002", "8002")

                await command(running, "consult", "1001", target="1002")
                await times.answered(second, "8002")
                await consult_answered(caller)
                assert agent_state(running, "1002")[0] == "talking"
                times.mark("consult")
                music = await hears(caller, 1.5)
                # music only (its notes may touch a tone's frequency now and then)
                assert frames_with_tone(music, PHONE_TONE) < 0.15, "held during the consult"
                assert frames_with_tone(music, SECOND_PHONE_TONE) < 0.15, describe(music)
                await asyncio.sleep(1.0)

                times.mark("conference")
                view = await command(running, "conference", "1001")
                assert view["call"]["conference"] is True
                mix = await hears(caller, 2.0)
                assert frames_containing_tone(mix, PHONE_TONE) > 0.6, describe(mix)
                assert frames_containing_tone(mix, SECOND_PHONE_TONE) > 0.6, describe(mix)
                await asyncio.sleep(1.0)
                times.mark("agent_leaves")

                await first.send("hangup")  # the first agent leaves the conference
                await first.wait_for(event("disconnected", call=0), timeout=15)
                await talking(caller, SECOND_PHONE_TONE)
                assert agent_state(running, "1001")[0] == "after_call_work"
                await caller.hang_up()
                record = await caller.record()
            await second.wait_for(event("disconnected", call=0), timeout=15)
            await first.finish(timeout=15)
            await second.finish(timeout=15)
        assert record.conference is True and record.transfer_agent_id == "1002"
        one = load_audio(tmp_path / "heard-8001-0.wav")
        two = load_audio(tmp_path / "heard-8002-0.wav")
        private = times.cut(one, "8001", "consult", "conference")
        assert frames_with_tone(private, SECOND_PHONE_TONE) > 0.5, "the agents talk privately"
        assert frames_containing_tone(private, CALLER_TONE) < 0.1, describe(private)
        for heard, phone, others in (
            (one, "8001", (CALLER_TONE, SECOND_PHONE_TONE)),
            (two, "8002", (CALLER_TONE, PHONE_TONE)),
        ):
            part = times.cut(heard, phone, "conference", "agent_leaves")
            for tone in others:
                assert frames_containing_tone(part, tone) > 0.5, (phone, tone, describe(part))

    run(scenario(), timeout=150)


def test_a_supervisor_listens_whispers_and_barges_in(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with hotline(tmp_path, flow=QUEUE_ONLY_FLOW) as running:
            running.directory.extensions["8009"] = ExtensionInfo("8009", "secret-8009")
            async with (
                agent_phone(running, tmp_path, "8001") as agent,
                agent_phone(running, tmp_path, "8009", tone=SUPERVISOR_TONE) as supervisor,
            ):
                sign_on(running, "1001", "8001")
                times = Timeline()
                async with Caller(running) as caller:
                    await caller.dial()
                    caller.peer.play_tone(CALLER_TONE, 1.0, loop=True)
                    await times.answered(agent, "8001")
                    await talking(caller)
                    session = caller.session()
                    assert session is not None
                    call_id = session.call_id
                    switch = running.switch

                    await switch.call_command(
                        "supervise", call_id, {"extension": "8009", "mode": "listen"}
                    )
                    await times.answered(supervisor, "8009")
                    times.mark("listen")
                    heard = await hears(caller, 1.5)
                    assert frames_containing_tone(heard, SUPERVISOR_TONE) < 0.05, "unheard"
                    assert frames_with_tone(heard, PHONE_TONE) > 0.6
                    await asyncio.sleep(0.5)

                    times.mark("whisper")
                    await switch.call_command(
                        "supervise", call_id, {"extension": "8009", "mode": "whisper"}
                    )
                    heard = await hears(caller, 1.5)
                    assert frames_containing_tone(heard, SUPERVISOR_TONE) < 0.05, "only the agent"
                    await asyncio.sleep(0.5)

                    times.mark("barge")
                    await switch.call_command(
                        "supervise", call_id, {"extension": "8009", "mode": "barge"}
                    )
                    heard = await hears(caller, 1.5)
                    assert frames_containing_tone(heard, SUPERVISOR_TONE) > 0.6, describe(heard)
                    assert frames_containing_tone(heard, PHONE_TONE) > 0.6, describe(heard)
                    times.mark("end")
                    await switch.call_command("stop_supervising", call_id, {})
                    await supervisor.wait_for(event("disconnected", call=0), timeout=15)
                    await talking(caller)
                    await caller.hang_up()
                    await caller.record()
                await agent.wait_for(event("disconnected", call=0), timeout=15)
                await agent.finish(timeout=15)
                await supervisor.finish(timeout=15)
        agent_heard = load_audio(tmp_path / "heard-8001-0.wav")
        boss_heard = load_audio(tmp_path / "heard-8009-0.wav")
        listen = times.cut(agent_heard, "8001", "listen", "whisper")
        whisper = times.cut(agent_heard, "8001", "whisper", "barge")
        assert frames_containing_tone(listen, SUPERVISOR_TONE) < 0.05, "listening is silent"
        assert frames_containing_tone(whisper, SUPERVISOR_TONE) > 0.5, "the agent hears it"
        boss = times.cut(boss_heard, "8009", "listen", "end")
        assert frames_containing_tone(boss, CALLER_TONE) > 0.5, describe(boss)
        assert frames_containing_tone(boss, PHONE_TONE) > 0.5, describe(boss)

    run(scenario(), timeout=150)


async def _recording(running: RunningSwitch, tmp_path: Path) -> npt.NDArray:
    records = running.records
    assert await wait_until(
        lambda: any(r.complete and r.kind == "call" for r in records.recordings.values()), 10
    )
    info = next(r for r in records.recordings.values() if r.complete and r.kind == "call")
    audio = load_audio(tmp_path / "recordings" / info.path, RATE)
    return np.asarray(audio)


def test_the_agents_phone_holds_with_a_reinvite_and_resumes(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with (
            hotline(tmp_path, flow=QUEUE_ONLY_FLOW) as running,
            agent_phone(running, tmp_path, "8001") as phone,
        ):
            sign_on(running, "1001", "8001")
            times = Timeline()
            async with Caller(running) as caller:
                await caller.dial()
                caller.peer.play_tone(CALLER_TONE, 1.0, loop=True)
                await times.answered(phone, "8001")
                await talking(caller)
                session = caller.session()
                assert session is not None

                await phone.send("hold")  # pjsua2 sends re-INVITE a=sendonly
                assert await wait_until(lambda: session.control.held, timeout=10)
                music = await hears(caller, 2.0)
                assert not is_silent(music), "the held caller hears music"
                assert frames_with_tone(music, PHONE_TONE) < 0.05, "not the agent"

                await phone.send("unhold")  # re-INVITE a=sendrecv
                assert await wait_until(lambda: not session.control.held, timeout=10)
                await talking(caller)
                await caller.hang_up()
                record = await caller.record()
            await phone.wait_for(event("disconnected", call=0), timeout=15)
        assert record.hold_seconds > 1.5, record.hold_seconds

    run(scenario(), timeout=120)


def test_the_agents_phone_transfers_with_refer_and_hears_how_it_went(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with (
            hotline(tmp_path, flow=QUEUE_ONLY_FLOW) as running,
            agent_phone(running, tmp_path, "8001") as first,
            agent_phone(running, tmp_path, "8002", tone=SECOND_PHONE_TONE) as second,
        ):
            sign_on(running, "1001", "8001")
            async with Caller(running) as caller:
                await caller.dial()
                caller.peer.play_tone(CALLER_TONE, 1.0, loop=True)
                await first.wait_for(event("media", call=0), timeout=20)
                await talking(caller)

                # agent 1002 is not signed on: the REFER is refused, the call goes on
                await first.send(f"xfer sip:1002@127.0.0.1:{running.port}")
                status = await first.wait_for(event("transfer_status", final=True), timeout=15)
                assert status["code"] == 480, status
                await talking(caller)

                sign_on(running, "1002", "8002")
                first.events.clear()
                await first.send(f"xfer sip:1002@127.0.0.1:{running.port}")
                status = await first.wait_for(event("transfer_status", final=True), timeout=15)
                assert status["code"] == 200, status
                await first.wait_for(event("disconnected", call=0), timeout=15)
                await second.wait_for(event("media", call=0), timeout=20)
                await talking(caller, SECOND_PHONE_TONE)
                await caller.hang_up()
                record = await caller.record()
            await second.wait_for(event("disconnected", call=0), timeout=15)
        assert (record.agent_id, record.transfer_agent_id) == ("1001", "1002")

    run(scenario(), timeout=150)


TRUNK_TONE = 1400.0


def test_blind_transfer_to_an_outside_number_through_the_challenging_trunk(
    tmp_path: Path,
) -> None:
    from aqualine.telephony.tests.test_hotline_outbound import (
        TRUNK_CREDENTIALS,
        use_trunk,
        write_ulaw_tone,
    )
    from aqualine.telephony.tests.test_outbound_legs import sipp_uas
    from aqualine.telephony.tests.test_sipp import assert_passed

    write_ulaw_tone(tmp_path / "trunk-tone.wav", TRUNK_TONE)

    async def scenario() -> None:
        async with (
            hotline(tmp_path, flow=QUEUE_ONLY_FLOW) as running,
            sipp_uas("trunk_dial_answered", tmp_path, *TRUNK_CREDENTIALS, timeout=60) as trunk,
            agent_phone(running, tmp_path, "8001") as phone,
        ):
            use_trunk(running, trunk.port)
            sign_on(running, "1001", "8001")
            async with Caller(running) as caller:
                await caller.dial()
                caller.peer.play_tone(CALLER_TONE, 1.0, loop=True)
                await phone.wait_for(event("media", call=0), timeout=20)
                await talking(caller)
                await command(running, "transfer", "1001", target="13900139000")
                await phone.wait_for(event("disconnected", call=0), timeout=15)
                # ringback from the switch while the trunk rings, then the outside party
                heard = await hears(caller, 1.0, settle=0.2)
                assert frames_with_tone(heard, 450.0) > 0.3, describe(heard)
                assert await wait_until(
                    lambda: (
                        frames_with_tone(caller.peer.received_audio()[-4000:], TRUNK_TONE) > 0.6
                    ),
                    timeout=10,
                ), "the caller talks with the outside number"
                await caller.wait_for_bye(timeout=15)  # the outside party hung up after 4 s
                record = await caller.record()
            assert_passed(await trunk.finish())  # it verified our digest answer
        assert record.transfer_target == "13900139000" and record.agent_id == "1001"
        assert record.transfer_agent_id == "" and record.transferred_at is not None

    run(scenario(), timeout=150)


def test_a_failed_blind_transfer_puts_the_caller_back_in_the_queue(tmp_path: Path) -> None:
    from aqualine.telephony.tests.test_hotline_outbound import use_trunk
    from aqualine.telephony.tests.test_outbound_legs import sipp_uas

    async def scenario() -> None:
        async with (
            hotline(tmp_path, flow=QUEUE_ONLY_FLOW) as running,
            sipp_uas("leg_busy", tmp_path) as trunk,
            agent_phone(running, tmp_path, "8001") as first,
            agent_phone(running, tmp_path, "8002", tone=SECOND_PHONE_TONE) as second,
        ):
            use_trunk(running, trunk.port)
            sign_on(running, "1001", "8001")
            async with Caller(running) as caller:
                await caller.dial()
                caller.peer.play_tone(CALLER_TONE, 1.0, loop=True)
                await first.wait_for(event("media", call=0), timeout=20)
                await talking(caller)
                sign_on(running, "1002", "8002")
                await command(running, "transfer", "1001", target="13900139000")
                # the number is busy: the caller waits again and the idle agent gets it
                await second.wait_for(event("media", call=0), timeout=20)
                await talking(caller, SECOND_PHONE_TONE)
                events = [
                    (e.action, e.detail)
                    for e in running.bus.of_type("call.control")
                    if e.action.startswith("transfer")
                ]
                assert ("transfer_failed", "486 Busy Here") in events, events
                await caller.hang_up()
                record = await caller.record()
        assert record.outcome == "answered"
        assert (record.agent_id, record.transfer_agent_id) == ("1001", "1002")

    run(scenario(), timeout=150)


def test_consult_an_extension_cancel_then_consult_again_and_complete_the_transfer(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with (
            hotline(tmp_path, flow=QUEUE_ONLY_FLOW) as running,
            agent_phone(running, tmp_path, "8001") as first,
            agent_phone(running, tmp_path, "8002", tone=SECOND_PHONE_TONE, calls=2) as second,
        ):
            sign_on(running, "1001", "8001")
            async with Caller(running) as caller:
                await caller.dial()
                caller.peer.play_tone(CALLER_TONE, 1.0, loop=True)
                await first.wait_for(event("media", call=0), timeout=20)
                await talking(caller)

                # 8002 is a plain extension (no agent logged in on it)
                view = await command(running, "consult", "1001", target="8002")
                assert view["call"]["consult"]["kind"] == "extension"
                await second.wait_for(event("media", call=0), timeout=20)
                with pytest.raises(CommandRefused) as refused:
                    await command(running, "unhold", "1001")
                assert refused.value.code == "consult_pending"
                await command(running, "cancel_consult", "1001")
                await second.wait_for(event("disconnected", call=0), timeout=15)
                await talking(caller)  # back with the agent

                await command(running, "consult", "1001", target="8002")
                await second.wait_for(event("media", call=1), timeout=20)
                await consult_answered(caller)
                await command(running, "complete_transfer", "1001")
                await first.wait_for(event("disconnected", call=0), timeout=15)
                await talking(caller, SECOND_PHONE_TONE)
                assert agent_state(running, "1001")[0] == "after_call_work"
                await caller.hang_up()
                record = await caller.record()
            await second.wait_for(event("disconnected", call=1), timeout=15)
        assert (record.agent_id, record.transfer_target) == ("1001", "8002")
        assert record.transfer_agent_id == "" and record.hold_seconds > 0
        assert not record.conference

    run(scenario(), timeout=150)


def test_a_caller_whose_rtp_stops_is_hung_up_and_the_agent_freed(tmp_path: Path) -> None:
    """A phone that dies without a BYE must not keep the agent talking for ever."""

    async def scenario() -> None:
        async with (
            hotline(tmp_path, flow=QUEUE_ONLY_FLOW, rtp_timeout=4.0) as running,
            agent_phone(running, tmp_path, "8001") as phone,
        ):
            sign_on(running, "1001", "8001")
            async with Caller(running) as caller:
                await caller.dial()
                caller.peer.play_tone(CALLER_TONE, 1.0, loop=True)
                await phone.wait_for(event("media", call=0), timeout=20)
                await talking(caller)
                await asyncio.sleep(2.5)  # the agent's phone keeps sending: nothing happens
                assert agent_state(running, "1001")[0] == "talking"
                await caller.peer.close()  # the caller's phone goes silent, no BYE
                await caller.wait_for_bye(timeout=15)
                record = await caller.record()
            await phone.wait_for(event("disconnected", call=0), timeout=15)
            assert agent_state(running, "1001")[0] == "after_call_work"
        assert record.outcome == "answered" and "no RTP" in record.end_cause

    run(scenario(), timeout=90)


def test_keys_the_caller_presses_reach_the_party_it_talks_with_but_not_while_held(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with (
            hotline(tmp_path, flow=QUEUE_ONLY_FLOW) as running,
            agent_phone(running, tmp_path, "8001") as phone,
        ):
            sign_on(running, "1001", "8001")
            async with Caller(running) as caller:
                await caller.dial()
                await phone.wait_for(event("media", call=0), timeout=20)
                await talking(caller)
                await caller.press("12#")
                for digit in "12#":
                    await phone.wait_for(event("dtmf", call=0, digit=digit), timeout=10)
                await command(running, "hold", "1001")
                await caller.press("9")
                await asyncio.sleep(1.0)
                assert not [e for e in phone.events if e.get("digit") == "9"], "held: not sent"
                await command(running, "unhold", "1001")
                await caller.press("5")
                await phone.wait_for(event("dtmf", call=0, digit="5"), timeout=10)
                await caller.hang_up()
            await phone.wait_for(event("disconnected", call=0), timeout=15)

    run(scenario(), timeout=90)
