"""The call centre inside the switch: the ACD, the agents' commands, the hotline sessions.

:class:`CallCentre` owns the :class:`~aqualine.telephony.acd.Acd` (pure code, time passed in)
and drives it: it ticks it (every 0.5 s and at its next deadline), carries out its decisions
(ring an agent, stop ringing, overflow, announce a position) through the
:class:`~aqualine.telephony.session.HotlineSession` of each caller, writes every agent-state
change through the records port and publishes the ACD's events on the event bus.

Agents' commands (login with agent ID + extension, sign on/off, not ready with a reason, ready,
finish wrap-up, the supervisor's force sign-off/ready/logout) come from the control API
(:mod:`aqualine.telephony.api.server`); the web side checks who may send them.

A switch restart loses the ACD's memory: agents start logged out, and on start the records
port writes a "logged out" change for every agent it had seen logged in
(``close_dangling_agent_states``), as it closes the records of calls that died.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aqualine.telephony.acd import Acd, OfferFailure
from aqualine.telephony.acd.model import (
    AcdConfig,
    Announce,
    CancelOffer,
    Offer,
    Outcome,
    Overflow,
)
from aqualine.telephony.acd.states import AcdError, AgentState
from aqualine.telephony.audio_prompts import PromptLibrary
from aqualine.telephony.callcontrol import CallControlRefused
from aqualine.telephony.ivr.flow import Flow, FlowInvalid, load_flow
from aqualine.telephony.ivr.ports import IvrPorts
from aqualine.telephony.media.handles import DtmfReceived, MediaEvent, MediaTimeout, Recording
from aqualine.telephony.media.moh import music_on_hold
from aqualine.telephony.ports import CallCentreSettings, RecordingInfo, TrunkInfo
from aqualine.telephony.session import HotlineSession, relative_to

if TYPE_CHECKING:
    from aqualine.telephony.calls import HotlineCall
    from aqualine.telephony.switch import Switch

log = logging.getLogger("aqualine.switch.centre")

TICK_SECONDS = 0.5
CONFIG_SECONDS = 30.0  # queues, settings and flows are read again this often


def _now() -> datetime:
    return datetime.now(UTC)


COMMANDS = {
    "login",
    "logout",
    "sign_on",
    "sign_off",
    "not_ready",
    "ready",
    "finish_wrap_up",
    "force_sign_off",
    "force_ready",
    "force_logout",
}

# Call control on the agent's current call (callcontrol.py) and click-to-dial (outbound.py).
CONTROL_COMMANDS = {
    "hold",
    "unhold",
    "transfer",
    "consult",
    "complete_transfer",
    "conference",
    "cancel_consult",
    "dial",
}


class CallCentre:
    def __init__(
        self,
        host: Switch,
        *,
        ivr_ports: IvrPorts | None,
        recordings_dir: Path,
        prompts: PromptLibrary,
    ) -> None:
        self.host = host
        self.ivr_ports = ivr_ports
        self.recordings_dir = recordings_dir
        self.prompts = prompts
        self.settings = CallCentreSettings()
        self.acd = Acd()
        self.sessions: dict[str, HotlineSession] = {}  # call_id -> session
        self._by_leg: dict[int, HotlineSession] = {}
        self._flows: dict[str, tuple[int, Flow | None]] = {}
        self.outbound_calls: dict[str, Any] = {}  # call_id -> ClickToDial
        self._ticker: asyncio.Task[None] | None = None
        self._last_config = 0.0
        # What the IVR reads as "now" (working hours, holidays); None: the real time. A hook
        # for tests that freeze time (the night message).
        self.ivr_clock: Callable[[], datetime] | None = None

    @property
    def clock(self) -> Any:
        return self.host.clock

    # --- life ----------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.reload()
        with contextlib.suppress(Exception):
            closed = await asyncio.to_thread(
                self.host.records.close_dangling_agent_states, at=_now()
            )
            if closed:
                log.info("closed the state of %d agents logged in before the restart", closed)
        self._ticker = asyncio.get_running_loop().create_task(self._tick_loop())
        # Rendered once per process (0.1-0.4 s of numpy): here, in a thread, rather than on
        # the event loop when the first caller is queued (every caller waited behind it).
        await asyncio.to_thread(music_on_hold)

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker

    async def reload(self) -> None:
        """Read the settings and queues again (agents' states are kept)."""
        directory = self.host.directory
        settings = await asyncio.to_thread(directory.call_centre_settings)
        queues = await asyncio.to_thread(directory.queues)
        self._last_config = asyncio.get_running_loop().time()
        self.settings = settings
        config = AcdConfig(
            busy_reasons=tuple(settings.busy_reasons),
            wrap_up_seconds=settings.wrap_up_seconds,
            ring_seconds=settings.ring_seconds,
            timezone=ZoneInfo(settings.timezone),
        )
        if not self.acd.agents(now=_now()) and not self.acd.queues(now=_now()):
            self.acd = Acd(config, queues)
        else:
            self.acd.config = config
            now = _now()
            known = {q.name for q in self.acd.queues(now=now)}
            for queue in queues:
                self._apply(self.acd.set_queue(queue, now=now))
            for name in known - {q.name for q in queues}:
                with contextlib.suppress(AcdError):
                    self._apply(self.acd.remove_queue(name, now=now))
        self._flows.clear()

    async def _tick_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            deadline = self.acd.next_deadline()
            delay = TICK_SECONDS
            if deadline is not None:
                delay = min(delay, max(0.0, (deadline - _now()).total_seconds()))
            await asyncio.sleep(delay)
            try:
                self._apply(self.acd.tick(_now()))
                if loop.time() - self._last_config > CONFIG_SECONDS:
                    await self.reload()
            except Exception:
                log.exception("the ACD tick failed")

    # --- applying what the ACD decided ---------------------------------------------------------

    def _apply(self, outcome: Outcome) -> None:
        for change in outcome.changes:
            self.host.spawn(self._write_change(change))
        for event in outcome.events:
            self.host.publish(event)
        for decision in outcome.decisions:
            session = self.sessions.get(getattr(decision, "call_id", ""))
            if session is None:
                if isinstance(decision, Offer):  # the caller is gone: tell the ACD
                    with contextlib.suppress(AcdError):
                        self._apply(self.acd.caller_left(decision.call_id, now=_now()))
                continue
            if isinstance(decision, Offer):
                session.offer(decision.agent_id, decision.extension, decision.ring_seconds)
            elif isinstance(decision, CancelOffer):
                leg = session.agent_leg
                if leg is not None and decision.reason == "ring_timeout":
                    session.state = "queued"
                    session.agent_leg = None
                    self.host.spawn(leg.cancel("ring timeout"))
            elif isinstance(decision, Overflow):
                session.overflow(decision.action.kind.value, decision.action.target)
            elif isinstance(decision, Announce):
                session.announce(decision.position, decision.expected_wait)

    def apply(self, outcome: Outcome) -> None:
        """Carry out what an ACD request returned (callcontrol.py, outbound.py)."""
        self._apply(outcome)

    def apply_quietly(self, request: Callable[[], Outcome]) -> None:
        """An ACD request whose refusal only needs a log line (the call moved on)."""
        try:
            self._apply(request())
        except AcdError as exc:
            log.info("ACD request refused: %s", exc.message)

    def end_agent_call(self, acd_id: str) -> None:
        """The agent's part of a call is over: after-call work."""
        with contextlib.suppress(AcdError):
            self._apply(self.acd.call_ended(acd_id, now=_now()))

    # ACD steps of an agent's own outbound call (outbound.py).
    def acd_call_started(self, agent_id: str, call_id: str) -> None:
        self._apply(self.acd.agent_call_started(agent_id, call_id, now=_now()))

    def acd_call_ended(self, call_id: str) -> None:
        self.end_agent_call(call_id)

    def acd_call_failed(self, call_id: str) -> None:
        self.apply_quietly(lambda: self.acd.agent_call_failed(call_id, now=_now()))

    def outbound_finished(self, call: Any) -> None:
        if self.outbound_calls.get(call.call_id) is call:
            del self.outbound_calls[call.call_id]

    def default_queue(self) -> str:
        queues = self.acd.queues(now=_now())
        return queues[0].name if queues else ""

    async def outbound_trunk(self) -> TrunkInfo | None:
        """The trunk that carries outbound calls: the first enabled one with an address."""
        trunks = await asyncio.to_thread(self.host.directory.trunks)
        return next((t for t in trunks if t.enabled and t.outbound_address), None)

    async def _write_change(self, change: Any) -> None:
        try:
            await asyncio.to_thread(self.host.records.agent_state_changed, change)
        except Exception:
            log.exception("writing an agent-state change failed")

    # --- sessions ------------------------------------------------------------------------------

    async def flow_for(self, number: str) -> Flow | None:
        cached = self._flows.get(number)
        if cached is not None:
            return cached[1]
        data = await asyncio.to_thread(self.host.directory.ivr_flow, number)
        flow: Flow | None = None
        if data is not None:
            try:
                flow = load_flow(dict(data))
            except FlowInvalid as exc:
                log.error("the IVR flow of %s is invalid: %s", number, exc)
        self._flows[number] = (0, flow)
        if flow is not None:
            self.host.spawn(self._warm(flow))
        return flow

    async def _warm(self, flow: Flow) -> None:
        await asyncio.to_thread(self.prompts.warm, flow.static_tts_texts())

    async def call_confirmed(self, call: HotlineCall) -> None:
        """The caller's dialog is up: start its session (the IVR, or the welcome prompt)."""
        if call.call_id in self.sessions or call.media_leg is None:
            return
        flow = await self.flow_for(call.record.callee)
        if call.ended.done():
            return
        session = HotlineSession(self, call, flow)
        self.sessions[call.call_id] = session
        self._by_leg[call.media_leg.id] = session
        session.start()

    def call_ending(self, call: HotlineCall) -> str | None:
        """The caller's dialog ended: the session releases the rest; its outcome or None."""
        session = self.sessions.pop(call.call_id, None)
        if session is None:
            return None
        if session.leg is not None:
            self._by_leg.pop(session.leg.id, None)
        return session.caller_gone()

    def on_media_event(self, event: MediaEvent) -> None:
        leg_id = getattr(event, "leg", None)
        session = self._by_leg.get(leg_id) if isinstance(leg_id, int) else None
        if session is not None:
            session.on_media_event(event)
        elif isinstance(event, MediaTimeout | DtmfReceived):  # from an agent's or a party's leg
            for candidate in self.sessions.values():
                legs = [candidate.agent_media]
                consult = candidate.control.consult
                if consult is not None:
                    legs.append(consult.media)
                source = next((m for m in legs if m is not None and m.id == event.leg), None)
                if source is None:
                    continue
                if isinstance(event, DtmfReceived):
                    if candidate.state == "talking":
                        candidate.forward_dtmf(source, event.digit)
                elif source is candidate.agent_media:
                    candidate.agent_media_timeout(event.seconds)
                break

    # --- the ACD's side of a session -----------------------------------------------------------

    def caller_joined(self, session: HotlineSession, queue: str) -> None:
        outcome = self.acd.caller_joined(
            session.call_id, queue, caller=session.call.record.caller, now=_now()
        )
        self._apply(outcome)

    def caller_left(self, session: HotlineSession) -> None:
        with contextlib.suppress(AcdError):
            self._apply(self.acd.caller_left(session.call_id, now=_now()))

    def offer_answered(self, session: HotlineSession) -> None:
        try:
            self._apply(self.acd.offer_answered(session.call_id, now=_now()))
        except AcdError as exc:  # the ring had timed out just before the 200 came
            log.info("call %s: late answer refused by the ACD: %s", session.call_id, exc)

    def offer_failed(self, session: HotlineSession, kind: str) -> None:
        cause = {
            "declined": OfferFailure.DECLINED,
            "unreachable": OfferFailure.UNREACHABLE,
        }.get(kind, OfferFailure.NO_ANSWER)
        session.state = "queued"
        with contextlib.suppress(AcdError):
            self._apply(self.acd.offer_failed(session.call_id, cause, now=_now()))
        session._music()

    def call_ended(self, session: HotlineSession) -> None:
        with contextlib.suppress(AcdError):
            self._apply(self.acd.call_ended(session.call_id, now=_now()))

    # --- recordings ------------------------------------------------------------------------------

    def recording_path(self, call_id: str, kind: str) -> Path:
        now = datetime.now()
        directory = self.recordings_dir / f"{now:%Y}" / f"{now:%m}" / f"{now:%d}"
        directory.mkdir(parents=True, exist_ok=True)
        suffix = "" if kind == "call" else f"-{kind}"
        return directory / f"{call_id}{suffix}.wav"

    def relative(self, path: Path) -> str:
        return relative_to(path, self.recordings_dir)

    def save_recording(self, info: RecordingInfo) -> None:
        self.host.spawn(self._save_recording(dataclasses.replace(info)))

    async def _save_recording(self, info: RecordingInfo) -> None:
        try:
            await asyncio.to_thread(self.host.records.recording_saved, info)
        except Exception:
            log.exception("writing the recording row of %s failed", info.path)

    def finish_recording(self, recording: Recording, result: Any, call_id: str, kind: str) -> None:
        path = Path(recording.path)
        size = path.stat().st_size if path.exists() else 0
        duration = float(getattr(result, "seconds", 0.0) or 0.0)
        info = RecordingInfo(
            call_id,
            self.relative(path),
            _now(),
            kind=kind,
            duration_seconds=round(duration, 3),
            size_bytes=size,
            complete=True,
        )
        started = getattr(result, "started_at", None)
        if isinstance(started, datetime):
            info.started_at = started
        self.save_recording(info)

    # --- agents' commands (control API) ----------------------------------------------------------

    def command(self, name: str, agent_id: str, **params: Any) -> dict[str, Any]:
        """Carry out an agent's or a supervisor's command; the agent's view afterwards.

        Raises :class:`AcdError` (code, message) when the ACD refuses it, ValueError for an
        unknown command or a missing parameter."""
        now = _now()
        acd = self.acd
        if name not in COMMANDS:
            raise ValueError(f"unknown command {name!r}")
        if name == "login":
            extension = str(params.get("extension") or "")
            outcome = acd.login(agent_id, extension, now=now)
        elif name == "logout":
            outcome = acd.logout(agent_id, now=now)
        elif name == "sign_on":
            outcome = acd.sign_on(agent_id, now=now)
        elif name == "sign_off":
            outcome = acd.sign_off(agent_id, now=now)
        elif name == "not_ready":
            outcome = acd.set_not_ready(agent_id, str(params.get("reason") or ""), now=now)
        elif name == "ready":
            outcome = acd.set_ready(agent_id, now=now)
        elif name == "finish_wrap_up":
            outcome = acd.finish_wrap_up(agent_id, now=now)
        else:
            by = str(params.get("by") or "")
            method = getattr(acd, name)
            outcome = method(agent_id, by=by, now=now)
        self._apply(outcome)
        view = acd.agent(agent_id, now=_now())
        return agent_view(view) if view is not None else {"agent_id": agent_id, "state": None}

    def session_of_agent(self, agent_id: str) -> HotlineSession | None:
        """The hotline call the agent is on (talking, holding, consulting)."""
        for session in self.sessions.values():
            if session.agent_id == agent_id and session.state == "talking":
                return session
        return None

    async def control(self, name: str, agent_id: str, params: dict[str, Any]) -> dict[str, Any]:
        """Call control on the agent's current call; the agent's view with the call's.

        Raises :class:`CallControlRefused` or :class:`AcdError` when refused."""
        view = self.acd.agent(agent_id, now=_now())
        if view is None or view.state is AgentState.LOGGED_OUT:
            raise CallControlRefused("unknown_agent", f"agent {agent_id} is not logged in")
        if name == "dial":
            call = await self._dial(agent_id, view.extension, str(params.get("number") or ""))
            result = agent_view(self.acd.agent(agent_id, now=_now()))
            result["call"] = call.snapshot()
            result["call_id"] = call.call_id
            return result
        session = self.session_of_agent(agent_id)
        if session is None:
            outbound = next(
                (c for c in self.outbound_calls.values() if c.agent_id == agent_id), None
            )
            if outbound is not None and name in ("hold", "unhold"):
                if name == "hold":
                    outbound.hold()
                else:
                    outbound.unhold()
                result = agent_view(self.acd.agent(agent_id, now=_now()))
                result["call_id"] = outbound.call_id
                result["call"] = outbound.snapshot()
                return result
            if outbound is not None:
                raise CallControlRefused(
                    "not_supported", "an outbound call can be held, not transferred, yet"
                )
            raise CallControlRefused("no_call", f"agent {agent_id} is not on a call")
        control = session.control
        target = str(params.get("target") or "")
        kind = str(params.get("kind") or "")
        if name == "hold":
            control.hold()
        elif name == "unhold":
            control.unhold()
        elif name == "transfer":
            party = await control.start_transfer(target, kind)
            control.run_transfer(party)
        elif name == "consult":
            await control.start_consult(target, kind)
        elif name == "complete_transfer":
            control.complete_transfer()
        elif name == "conference":
            control.join_conference()
        elif name == "cancel_consult":
            control.cancel_consult()
        else:
            raise ValueError(f"unknown command {name!r}")
        result = agent_view(self.acd.agent(agent_id, now=_now()))
        result["call_id"] = session.call_id
        result["call"] = session.snapshot()
        return result

    async def _dial(self, agent_id: str, extension: str, number: str) -> Any:
        from aqualine.telephony.outbound import ClickToDial

        number = number.strip()
        if not number:
            raise CallControlRefused("unknown_target", "no number to dial")
        try:
            call = ClickToDial(self, agent_id=agent_id, extension=extension, number=number)
        except ValueError as exc:
            raise CallControlRefused("unknown_target", str(exc)) from None
        await call.start()
        self.outbound_calls[call.call_id] = call
        return call

    def supervise(self, call_id: str, params: dict[str, Any]) -> dict[str, Any]:
        """A supervisor listens to, whispers to or barges into a call (X7)."""
        session = self.sessions.get(call_id)
        if session is None:
            raise CallControlRefused("unknown_call", f"no call {call_id}")
        session.control.supervise(
            str(params.get("extension") or ""),
            str(params.get("mode") or "listen"),
            str(params.get("by") or ""),
        )
        return {"call_id": call_id, "call": session.snapshot()}

    def stop_supervising(self, call_id: str) -> dict[str, Any]:
        session = self.sessions.get(call_id)
        if session is None:
            raise CallControlRefused("unknown_call", f"no call {call_id}")
        session.control.stop_supervising()
        return {"call_id": call_id, "call": session.snapshot()}

    def agents(self) -> list[dict[str, Any]]:
        return [agent_view(v) for v in self.acd.agents(now=_now())]

    def queues(self) -> list[dict[str, Any]]:
        result = []
        for view in self.acd.queues(now=_now()):
            result.append(
                {
                    "name": view.name,
                    "members": list(view.members),
                    "staffed": view.staffed,
                    "idle": view.idle,
                    "longest_wait": round(view.longest_wait, 1),
                    "expected_wait": view.expected_wait,
                    "callers": [
                        {
                            "call_id": c.call_id,
                            "caller": c.caller,
                            "joined_at": c.joined_at.isoformat(),
                            "waited": round(c.waited, 1),
                        }
                        for c in view.callers
                    ],
                }
            )
        return result

    def session_snapshot(self, call_id: str) -> dict[str, Any] | None:
        session = self.sessions.get(call_id)
        return session.snapshot() if session is not None else None


def agent_view(view: Any) -> dict[str, Any]:
    counters = view.counters
    return {
        "agent_id": view.agent_id,
        "extension": view.extension,
        "state": view.state.value,
        "reason": view.reason,
        "since": view.since.isoformat(),
        "seconds_in_state": round(view.seconds_in_state, 1),
        "call_id": view.call_id,
        "queue": view.queue,
        "wrap_up_until": view.wrap_up_until.isoformat() if view.wrap_up_until else None,
        "queues": list(view.queues),
        "answered_today": getattr(counters, "answered", 0),
        "missed_today": getattr(counters, "missed", 0),
        "talk_seconds_today": getattr(counters, "talk_seconds", 0),
    }
