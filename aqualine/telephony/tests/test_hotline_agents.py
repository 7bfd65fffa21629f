"""Agents' states and routing end to end: real pjsua2 phones registered as 8001 and 8002 (agents
1001 and 1002), callers from the demo trunk that go straight into the ``hotline`` queue.

- after-call work blocks routing until the agent finishes it, or until its limit runs out;
- not-ready agents get no calls; a signed-on idle agent does;
- a ring nobody answers moves the caller on to the next agent, and the agent who missed it is
  set not ready ("missed");
- the longest-idle agent gets each call, over several calls (and time spent not ready does not
  count as idle).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from aqualine.telephony.centre import CallCentre
from aqualine.telephony.ports import CallRecord
from aqualine.telephony.testing.audio import frames_with_tone
from aqualine.telephony.testing.wait import run, wait_until
from aqualine.telephony.tests.fakes import RunningSwitch
from aqualine.telephony.tests.hotline_peers import (
    NEVER,
    QUEUE_ONLY_FLOW,
    SECOND_PHONE_TONE,
    Caller,
    agent_phone,
    agent_state,
    hotline,
    incoming,
    needs_pjsua2,
    sign_on,
)
from aqualine.telephony.tests.test_outbound_legs import PHONE_TONE, PhoneProcess, event

pytestmark = [pytest.mark.sip, needs_pjsua2]


def _centre(running: RunningSwitch) -> CallCentre:
    centre = running.switch.centre
    assert centre is not None
    return centre


def _waiting(running: RunningSwitch) -> int:
    return len(_centre(running).queues()[0]["callers"])


async def talk(caller: Caller, phone: PhoneProcess, call: int, tone: float = PHONE_TONE) -> None:
    """The phone rang with this caller and answered; the caller hears the phone's tone."""
    await phone.wait_for(event("incoming", call=call), timeout=20)
    await phone.wait_for(event("media", call=call), timeout=15)
    caller.peer.clear()
    assert await caller.peer.wait_for_audio_packets(40, timeout=10)
    heard = caller.peer.received_audio()[-4000:]
    assert frames_with_tone(heard, tone) > 0.6, "the caller talks with this phone"


async def call_and_hang_up(
    running: RunningSwitch, phone: PhoneProcess, call: int, tone: float = PHONE_TONE
) -> CallRecord:
    """One caller answered by ``phone`` (its ``call``-th call), who then hangs up."""
    async with Caller(running) as caller:
        await caller.dial()
        await talk(caller, phone, call, tone)
        await caller.hang_up()
        await phone.wait_for(event("disconnected", call=call), timeout=15)
        return await caller.record()


@pytest.mark.parametrize("finish", [True, False], ids=["finished", "timed-out"])
def test_after_call_work_blocks_routing_until_finished_or_timed_out(
    tmp_path: Path, finish: bool
) -> None:
    wrap_up = 120.0 if finish else 3.0

    async def scenario() -> None:
        async with (
            hotline(tmp_path, flow=QUEUE_ONLY_FLOW, wrap_up_seconds=wrap_up) as running,
            agent_phone(running, tmp_path, "8001", calls=2) as phone,
        ):
            sign_on(running, "1001", "8001")
            first = await call_and_hang_up(running, phone, 0)
            assert agent_state(running, "1001") == ("after_call_work", "")
            async with Caller(running) as caller:
                await caller.dial()
                assert await wait_until(lambda: _waiting(running) == 1)
                await asyncio.sleep(1.5)
                assert incoming(phone) == 1, "no call during after-call work"
                assert agent_state(running, "1001") == ("after_call_work", "")
                assert _waiting(running) == 1
                if finish:
                    view = _centre(running).command("finish_wrap_up", "1001")
                    assert view["state"] in ("idle", "ringing")
                await talk(caller, phone, 1)
                await caller.hang_up()
                second = await caller.record()
            await phone.wait_for(event("disconnected", call=1), timeout=15)

        assert first.agent_id == second.agent_id == "1001"
        assert first.outcome == second.outcome == "answered"
        assert second.wait_seconds is not None and second.wait_seconds > 1.5
        changes = running.records.agent_changes
        ends = [c for c in changes if c.old_state.value == "after_call_work"]
        assert [c.transition for c in ends][:1] == [
            "finish_wrap_up" if finish else "wrap_up_timeout"
        ]
        if not finish:  # the ACD's records carry the deadline: exactly the limit after the end
            began = next(c for c in changes if c.new_state.value == "after_call_work")
            assert (ends[0].at - began.at).total_seconds() == pytest.approx(wrap_up)
        offers = running.bus.of_type("queue.caller_offered")
        assert [o.agent_id for o in offers] == ["1001", "1001"]
        assert offers[1].at >= ends[0].at.isoformat()

    run(scenario(), timeout=90)


def test_not_ready_agents_get_no_calls(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with (
            hotline(tmp_path, flow=QUEUE_ONLY_FLOW, wrap_up_seconds=120) as running,
            agent_phone(running, tmp_path, "8001") as phone1,
            agent_phone(running, tmp_path, "8002", tone=SECOND_PHONE_TONE) as phone2,
        ):
            centre = _centre(running)
            sign_on(running, "1001", "8001")  # the longest idle ...
            assert centre.command("not_ready", "1001", reason="休息")["state"] == "not_ready"
            sign_on(running, "1002", "8002")
            # ... but not ready: the call goes to 1002
            first = await call_and_hang_up(running, phone2, 0, SECOND_PHONE_TONE)
            assert first.agent_id == "1002"
            assert agent_state(running, "1002") == ("after_call_work", "")
            assert agent_state(running, "1001") == ("not_ready", "休息")
            # nobody is ready now: the next caller waits, no phone rings
            async with Caller(running) as caller:
                await caller.dial()
                assert await wait_until(lambda: _waiting(running) == 1)
                await asyncio.sleep(1.5)
                assert (incoming(phone1), incoming(phone2)) == (0, 1)
                assert _waiting(running) == 1
                assert centre.command("ready", "1001")["state"] in ("idle", "ringing")
                await talk(caller, phone1, 0)
                await caller.hang_up()
                second = await caller.record()
            await phone1.wait_for(event("disconnected", call=0), timeout=15)
            assert second.agent_id == "1001" and second.outcome == "answered"

    run(scenario(), timeout=90)


def test_a_missed_ring_goes_to_the_next_agent_and_the_missed_agent_is_not_ready(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with (
            hotline(tmp_path, flow=QUEUE_ONLY_FLOW, ring_seconds=2.0) as running,
            agent_phone(running, tmp_path, "8001", ring_ms=NEVER) as deaf,
            agent_phone(running, tmp_path, "8002", tone=SECOND_PHONE_TONE) as phone,
        ):
            sign_on(running, "1001", "8001")  # the longest idle: rung first
            sign_on(running, "1002", "8002")
            async with Caller(running) as caller:
                await caller.dial()
                await deaf.wait_for(event("incoming", call=0), timeout=20)
                assert agent_state(running, "1001") == ("ringing", "")
                # nobody answers within 2 s: CANCEL, and the next agent's phone rings
                cancelled = await deaf.wait_for(event("disconnected", call=0), timeout=15)
                assert cancelled["code"] == 487
                await talk(caller, phone, 0, SECOND_PHONE_TONE)
                assert agent_state(running, "1001") == ("not_ready", "missed")
                assert agent_state(running, "1002") == ("talking", "")
                await caller.hang_up()
                record = await caller.record()
            await phone.wait_for(event("disconnected", call=0), timeout=15)
            assert incoming(deaf) == 1 and incoming(phone) == 1
            views = {a["agent_id"]: a for a in _centre(running).agents()}
            assert views["1001"]["missed_today"] == 1 and views["1001"]["answered_today"] == 0
            assert views["1002"]["answered_today"] == 1

        assert record.agent_id == "1002" and record.outcome == "answered"
        assert record.wait_seconds is not None and record.wait_seconds >= 2.0
        changes = [(c.agent_id, c.transition) for c in running.records.agent_changes]
        assert ("1001", "ring_timeout") in changes
        assert ("1002", "answer") in changes and ("1001", "answer") not in changes
        assert running.switch.errors == 0

    run(scenario(), timeout=90)


def test_the_longest_idle_agent_gets_each_call(tmp_path: Path) -> None:
    async def scenario() -> list[str]:
        async with (
            hotline(tmp_path, flow=QUEUE_ONLY_FLOW, wrap_up_seconds=0) as running,
            agent_phone(running, tmp_path, "8001", calls=2) as phone1,
            agent_phone(running, tmp_path, "8002", calls=2, tone=SECOND_PHONE_TONE) as phone2,
        ):
            centre = _centre(running)
            sign_on(running, "1001", "8001")
            sign_on(running, "1002", "8002")
            agents = []
            # 1001 has been idle longest, then 1002 (1001 is idle again since its call ended)
            agents.append((await call_and_hang_up(running, phone1, 0)).agent_id)
            agents.append((await call_and_hang_up(running, phone2, 0, SECOND_PHONE_TONE)).agent_id)
            # 1001 takes a break: idle time starts again when it comes back, after 1002's
            centre.command("not_ready", "1001", reason="如厕")
            centre.command("ready", "1001")
            agents.append((await call_and_hang_up(running, phone2, 1, SECOND_PHONE_TONE)).agent_id)
            agents.append((await call_and_hang_up(running, phone1, 1)).agent_id)
            assert agent_state(running, "1001") == ("idle", "")
            assert agent_state(running, "1002") == ("idle", "")
            return agents

    assert run(scenario(), timeout=120) == ["1001", "1002", "1002", "1001"]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
