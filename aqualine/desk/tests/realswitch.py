"""The real switch (SIP, media, IVR, ACD, control API) on an event loop of its own, with a real
pjsua2 phone registered as extension 8001 and callers that dial the hotline and press 0: for
the desk's end-to-end browser test and `bench/screen_pop.py`.

Everything asynchronous of the switch side runs on the switch's loop (the ACD, the phone's
reader, the callers' SIP and RTP); the test's thread drives it with :meth:`RealSwitch.run`.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Coroutine
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from aqualine.telephony.api.events import Event
from aqualine.telephony.api.server import ApiServer
from aqualine.telephony.ivr.default_flow import default_flow_data
from aqualine.telephony.ports import CallCentreSettings
from aqualine.telephony.testing.rtp_peer import RtpPeer
from aqualine.telephony.testing.wait import wait_until
from aqualine.telephony.tests.fakes import (
    HOTLINE,
    MemoryDirectory,
    RunningSwitch,
    make_config,
    running_switch,
)
from aqualine.telephony.tests.test_outbound_legs import PhoneProcess, event
from aqualine.telephony.tests.test_switch_calls import _answer_port
from aqualine.telephony.tests.uac import SipClient, offer_sdp

T = TypeVar("T")
TOKEN = "desk-e2e-token"


class RealSwitch:
    """`running_switch` plus its control API on a free port, on a loop in a thread."""

    def __init__(self, var_dir: Path, *, wrap_up_seconds: float = 120.0) -> None:
        self.var_dir = var_dir
        self.directory = MemoryDirectory()
        self.directory.settings = CallCentreSettings(
            wrap_up_seconds=wrap_up_seconds, ring_seconds=20.0
        )
        self.directory.flows[HOTLINE] = daytime_flow()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.running: RunningSwitch | None = None
        self.api: ApiServer | None = None
        self._context: AbstractAsyncContextManager[RunningSwitch] | None = None
        self.published: list[tuple[float, Event]] = []  # (time.time(), event) of every event

    @property
    def url(self) -> str:
        assert self.api is not None
        return f"http://127.0.0.1:{self.api.port}"

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def start(self) -> RealSwitch:
        self.thread.start()
        self.run(self._start())
        return self

    async def _start(self) -> None:
        config = make_config(var_dir=str(self.var_dir), ring_seconds=0.0)
        self._context = running_switch(config, directory=self.directory)
        self.running = await self._context.__aenter__()
        bus = self.running.bus
        publish = bus.publish

        def timed_publish(item: Event) -> None:
            self.published.append((time.time(), item))
            publish(item)

        bus.publish = timed_publish  # type: ignore[method-assign,assignment]
        self.api = ApiServer(self.running.switch, bus, host="127.0.0.1", port=0, token=TOKEN)
        await self.api.start()

    def close(self) -> None:
        async def stop() -> None:
            if self.api is not None:
                runner = self.api._runner
                if runner is not None:  # cut open event streams at once, as a restart does
                    runner._shutdown_timeout = 0.2
                await self.api.stop()
            if self._context is not None:
                await self._context.__aexit__(None, None, None)

        if self.thread.is_alive():
            try:
                self.run(stop(), timeout=30)
            finally:
                self.loop.call_soon_threadsafe(self.loop.stop)
                self.thread.join(10)
        self.loop.close()

    @property
    def subscribers(self) -> int:
        return self.running.bus.subscriber_count if self.running is not None else 0

    def agent(self, agent_id: str) -> dict[str, Any] | None:
        assert self.running is not None
        centre = self.running.switch.centre
        assert centre is not None

        async def read() -> dict[str, Any] | None:
            return next((a for a in centre.agents() if a["agent_id"] == agent_id), None)

        return self.run(read())

    # --- the agent's phone ------------------------------------------------------------------------

    def start_phone(
        self,
        tmp_path: Path,
        *,
        calls: int,
        timeout: float = 600.0,
        extension: str = "8001",
        tone: float | None = None,
    ) -> PhoneProcess:
        """The answering pjsua2 phone of ``extension`` (8001–8002 of the test directory),
        registered (it answers after 0.3 s, plays its ``tone``, and hangs up when the switch
        does)."""
        assert self.running is not None
        running = self.running

        async def start() -> PhoneProcess:
            command = [
                sys.executable,
                "-m",
                "aqualine.telephony.tests.test_outbound_legs",
                "--port",
                str(running.port),
                "--user",
                extension,
                "--password",
                f"secret-{extension}",
                "--calls",
                str(calls),
                "--hangup-after",
                "0",
                "--wav-prefix",
                str(tmp_path / ("heard" if extension == "8001" else f"heard-{extension}")),
                "--timeout",
                str(timeout),
                *(["--tone", str(int(tone))] if tone else []),
            ]
            process = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            phone = PhoneProcess(process)
            registered = await phone.wait_for(event("registered"), timeout=20)
            assert registered["code"] == 200, registered
            return phone

        return self.run(start())

    def stop_phone(self, phone: PhoneProcess) -> None:
        async def stop() -> None:
            if phone.process.returncode is None:
                phone.process.kill()
            await phone.finish(timeout=10)

        self.run(stop())

    # --- callers ---------------------------------------------------------------------------------

    def dial(self, caller: str) -> Caller:
        """A caller dials the hotline, hears the IVR and presses 0 (the agent queue)."""
        assert self.running is not None
        address = self.running.address

        async def dial() -> Caller:
            peer = await RtpPeer.start()
            uac = await SipClient(address).start()
            call = await uac.invite(HOTLINE, offer_sdp(peer.port), caller=caller)
            final = call.final
            assert final is not None and final.status == 200, final
            uac.ack(call, final)
            peer.send_to("127.0.0.1", _answer_port(final))
            assert await peer.wait_for_audio_packets(10, timeout=15), "the IVR speaks"
            # Press 0 until the caller is queued (a key pressed during the welcome only cuts
            # the welcome short; the menu that follows wants its own).
            for _attempt in range(20):
                await peer.send_dtmf("0")
                if await wait_until(lambda: self._queued(caller), timeout=1.5):
                    return Caller(peer, uac, call)
            raise AssertionError(f"{caller} never reached the agent queue")

        return self.run(dial())

    def heard(self, caller: Caller, seconds: float = 1.5) -> Any:
        """What the caller hears over the next ``seconds`` (its RTP peer's audio)."""

        async def listen() -> Any:
            await asyncio.sleep(0.4)  # the change reaches the caller
            caller.peer.clear()
            assert await caller.peer.wait_for_audio_packets(int(seconds * 50), timeout=10)
            return caller.peer.received_audio()[-int(seconds * 8000) :]

        return self.run(listen())

    def _queued(self, caller: str) -> bool:
        assert self.running is not None and self.running.switch.centre is not None
        return any(
            session.call.record.caller == caller and session.state != "ivr"
            for session in self.running.switch.centre.sessions.values()
        )

    def hang_up(self, caller: Caller) -> None:
        async def hang_up() -> None:
            try:
                bye = await caller.uac.bye(caller.call)
                assert bye.status == 200, bye
            finally:
                await caller.uac.close()
                await caller.peer.close()

        self.run(hang_up())

    def wait(self, predicate: Any, timeout: float = 15.0) -> bool:
        return self.run(wait_until(predicate, timeout=timeout), timeout=timeout + 5)


def daytime_flow() -> dict[str, Any]:
    """The demo IVR, always in working hours (the night menu sends 0 to the on-duty phone)."""
    flow = default_flow_data()
    for node in flow["nodes"]:
        if node["id"] == "hours":
            node["edges"] = {"open": "day", "closed": "day", "holiday": "day"}
    return flow


@dataclass
class Caller:
    peer: RtpPeer
    uac: SipClient
    call: Any
