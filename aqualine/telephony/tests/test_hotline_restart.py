"""A switch that dies (SIGKILL) with a call in progress leaves its records open; the next
switch closes them when it starts (``close_dangling_calls``, ``close_dangling_agent_states``).

The first switch runs in its own process (this module run as a program) with records kept in a
JSON-lines file, as a database would keep them; a caller reaches agent 1001, whose phone (the
Python test UA, registered as 8001) answers, and the switch is killed mid-call. A switch
started afterwards on the same file closes that call's record ("switch restarted") and logs the
agent out in the history, once; then it serves calls as usual.

    python -m aqualine.telephony.tests.test_hotline_restart --records FILE   # the first switch
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from aqualine.telephony.acd.model import AgentStateChange
from aqualine.telephony.acd.states import AgentState
from aqualine.telephony.ivr.fakes import MemoryIvrPorts
from aqualine.telephony.ports import CallRecord, RecordingInfo
from aqualine.telephony.sip import Request
from aqualine.telephony.testing.rtp_peer import RtpPeer
from aqualine.telephony.testing.wait import run, wait_until
from aqualine.telephony.tests.fakes import (
    HOTLINE,
    MemoryDirectory,
    RecordingBus,
    make_config,
    running_switch,
)
from aqualine.telephony.tests.hotline_peers import QUEUE_ONLY_FLOW
from aqualine.telephony.tests.test_outbound_legs import invite_of, ok_for, request_of
from aqualine.telephony.tests.test_switch_calls import _answer_port
from aqualine.telephony.tests.uac import SipClient, offer_sdp

pytestmark = pytest.mark.sip

_DATES = ("started_at", "answered_at", "ended_at", "queued_at", "agent_answered_at")


class FileRecords:
    """The records port on a JSON-lines file: every write is a line, flushed at once (so a
    killed process leaves what it wrote); reading the file back gives the state of the store.
    Closing dangling records works like the ORM adapter (``aqualine.callcenter.ports``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _write(self, kind: str, data: dict[str, Any]) -> None:
        line = json.dumps({"kind": kind, **data}, default=str, ensure_ascii=False)
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
            out.flush()

    def lines(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        text = self.path.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def calls(self) -> dict[str, CallRecord]:
        """The latest record of every call."""
        calls: dict[str, CallRecord] = {}
        for line in self.lines():
            if line["kind"] in ("started", "ended"):
                values = {k: v for k, v in line.items() if k != "kind"}
                for name in _DATES:
                    if values.get(name):
                        values[name] = datetime.fromisoformat(values[name])
                calls[values["call_id"]] = CallRecord(**values)
        return calls

    def agent_changes(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line["kind"] == "agent"]

    # --- the port ---------------------------------------------------------------------------

    def call_started(self, record: CallRecord) -> None:
        self._write("started", dataclasses.asdict(record))

    def call_ended(self, record: CallRecord) -> None:
        self._write("ended", dataclasses.asdict(record))

    def close_dangling_calls(self, *, ended_at: datetime, cause: str) -> int:
        closed = 0
        for record in self.calls().values():
            if record.ended_at is None:
                outcome = record.outcome if record.answered_at else "failed"
                closed_record = dataclasses.replace(
                    record, ended_at=ended_at, end_cause=cause, outcome=outcome
                )
                self._write("ended", dataclasses.asdict(closed_record))
                closed += 1
        return closed

    def agent_state_changed(self, change: AgentStateChange) -> None:
        data = dataclasses.asdict(change)
        data["old_state"] = change.old_state.value
        data["new_state"] = change.new_state.value
        self._write("agent", data)

    def recording_saved(self, recording: RecordingInfo) -> None:
        self._write("recording", dataclasses.asdict(recording))

    def close_dangling_agent_states(self, *, at: datetime) -> int:
        latest: dict[str, dict[str, Any]] = {}
        for change in self.agent_changes():
            latest[change["agent_id"]] = change
        closed = 0
        for change in latest.values():
            if change["new_state"] == AgentState.LOGGED_OUT.value:
                continue
            self._write(
                "agent",
                {
                    "agent_id": change["agent_id"],
                    "extension": change["extension"],
                    "old_state": change["new_state"],
                    "new_state": AgentState.LOGGED_OUT.value,
                    "transition": "switch_restart",
                    "at": at.isoformat(),
                    "by": "system",
                },
            )
            closed += 1
        return closed


# --- the first switch, in its own process -------------------------------------------------------


async def serve(records_path: Path) -> None:  # pragma: no cover (runs in a subprocess)
    """Run a switch on a free port; print {"port": N}; carry out agent commands read from
    stdin as JSON lines ({"command", "agent", "params"}), printing each result; run until
    killed."""
    from aqualine.telephony.switch import Switch

    directory = MemoryDirectory()
    directory.flows[HOTLINE] = QUEUE_ONLY_FLOW
    switch = Switch(
        make_config(),
        directory,
        FileRecords(records_path),
        RecordingBus(),
        ivr_ports=MemoryIvrPorts(),
    )
    await switch.start()
    print(json.dumps({"port": switch.sip_port}), flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            await asyncio.Event().wait()  # stdin closed: serve until killed
        request = json.loads(line)
        try:
            result = await switch.agent_command(
                request["command"], request["agent"], request.get("params", {})
            )
        except Exception as exc:
            result = {"error": repr(exc)}
        print(json.dumps(result, default=str), flush=True)


class SwitchProcess:
    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.port = port

    @classmethod
    async def start(cls, records: Path) -> SwitchProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "aqualine.telephony.tests.test_hotline_restart",
            "--records",
            str(records),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        line = await asyncio.wait_for(cls._line(process), 30)
        return cls(process, int(line["port"]))

    @staticmethod
    async def _line(process: asyncio.subprocess.Process) -> dict[str, Any]:
        assert process.stdout is not None
        while True:
            raw = await process.stdout.readline()
            if not raw:
                raise AssertionError("the switch process ended")
            text = raw.decode().strip()
            if text.startswith("{"):
                result: dict[str, Any] = json.loads(text)
                return result

    async def command(self, command: str, agent: str, **params: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        request = {"command": command, "agent": agent, "params": params}
        self.process.stdin.write((json.dumps(request) + "\n").encode())
        await self.process.stdin.drain()
        return await asyncio.wait_for(self._line(self.process), 10)

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()


def test_a_restarted_switch_closes_the_records_of_the_calls_that_died_with_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "records.jsonl"
    records = FileRecords(path)

    async def first_run() -> str:
        switch = await SwitchProcess.start(path)
        try:
            address = ("127.0.0.1", switch.port)
            async with (
                SipClient(address) as phone,
                SipClient(address) as uac,
                await RtpPeer.start() as caller_rtp,
                await RtpPeer.start() as phone_rtp,
            ):
                assert (await phone.register("8001", "secret-8001")).status == 200
                assert (await switch.command("login", "1001", extension="8001"))[
                    "state"
                ] == "not_ready"
                assert (await switch.command("sign_on", "1001"))["state"] == "idle"
                call = await uac.invite(HOTLINE, offer_sdp(caller_rtp.port))
                final = call.final
                assert final is not None and final.status == 200
                uac.ack(call, final)
                caller_rtp.send_to("127.0.0.1", _answer_port(final))
                caller_rtp.play_tone(600.0, 1.0, loop=True)
                # the agent's phone answers the switch's INVITE
                invite = await phone.wait_for(invite_of, timeout=15)
                assert isinstance(invite, Request)
                phone.send(ok_for(invite, phone, tag="agent", port=phone_rtp.port))
                await phone.wait_for(request_of("ACK"), timeout=10)
                assert await phone_rtp.wait_for_audio_packets(25, timeout=10)  # bridged
                assert await wait_until(
                    lambda: any(c["new_state"] == "talking" for c in records.agent_changes()),
                    timeout=10,
                )
                await switch.kill()  # the switch dies mid-call: no BYE, no "ended" record
                await asyncio.sleep(0.5)
                messages = uac.messages + phone.messages
                assert not any(isinstance(m, Request) and m.method == "BYE" for m in messages)
                return call.call_id
        finally:
            await switch.kill()

    sip_call_id = run(first_run(), timeout=60)
    before = records.calls()
    assert len(before) == 1
    dead = next(iter(before.values()))
    assert dead.sip_call_id == sip_call_id and dead.ended_at is None
    # what the store knows of it: only its start (records are written at start and end)
    assert dead.answered_at is None and dead.agent_id == ""

    async def second_run() -> None:
        async with running_switch(make_config(), records=records) as running:  # type: ignore[arg-type]
            assert running.switch.dangling_closed == 1
            centre = running.switch.centre
            assert centre is not None
            assert centre.agents() == []  # nobody is logged in after a restart
            restarted = [c for c in records.agent_changes() if c["transition"] == "switch_restart"]
            assert [(c["agent_id"], c["old_state"]) for c in restarted] == [("1001", "talking")]
            # and it serves calls as usual
            async with SipClient(running.address) as uac, await RtpPeer.start() as rtp:
                call = await uac.invite(HOTLINE, offer_sdp(rtp.port))
                final = call.final
                assert final is not None and final.status == 200
                uac.ack(call, final)
                await asyncio.sleep(0.3)
                assert (await uac.bye(call)).status == 200
            assert await wait_until(
                lambda: (
                    all(r.ended_at is not None for r in records.calls().values())
                    and len(records.calls()) == 2
                )
            )

    run(second_run(), timeout=60)
    after = records.calls()
    closed = after[dead.call_id]
    assert closed.ended_at is not None and closed.ended_at >= dead.started_at  # type: ignore[operator]
    assert closed.end_cause == "switch restarted" and closed.outcome == "failed"
    others = [r for r in after.values() if r.call_id != dead.call_id]
    assert len(others) == 1 and others[0].ended_at is not None
    assert others[0].outcome == "ivr_only"
    # a second restart finds nothing left open
    assert records.close_dangling_calls(ended_at=datetime.now().astimezone(), cause="x") == 0


def main(argv: list[str] | None = None) -> int:  # pragma: no cover (runs in a subprocess)
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", required=True)
    args = parser.parse_args(argv)
    asyncio.run(serve(Path(args.records)))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
