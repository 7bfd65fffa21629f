"""What happens to one answered hotline call: the IVR, the queue, the agent, the recording.

A :class:`HotlineSession` is made by the :class:`~aqualine.telephony.centre.CallCentre` when
the caller's dialog is confirmed. It carries out the IVR interpreter's actions on the media
clock (prompts, keys, timers, the repair message), hands the caller to the ACD on ``Queue``
(music on hold, position announcements), rings the agent the ACD chooses (an
:class:`~aqualine.telephony.legs.OutboundLeg`), bridges and records the two once the agent
answers, and fills the call record: IVR path, queue, wait, agent, talk time, outcome.

Outcomes of a call (``CallRecord.outcome``): ``answered`` (an agent took it), ``abandoned``
(the caller hung up while queued or while an agent's phone rang), ``ivr_only`` (it ended in
the IVR), ``missed`` (it left the queue unanswered: overflow).

Everything here runs on the switch's event loop; the media clock's events arrive there
through ``loop.call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aqualine.telephony.acd.states import AcdError
from aqualine.telephony.callcontrol import CallController, CallControlRefused, _refer_callback
from aqualine.telephony.ivr import actions as ivr
from aqualine.telephony.ivr.flow import Flow
from aqualine.telephony.ivr.interpreter import CallInfo, Interpreter, Status
from aqualine.telephony.ivr.schema import Prompt
from aqualine.telephony.leg_media import add_answered_leg, close_sockets
from aqualine.telephony.legs import LegCallbacks, LegFailure, LocalMedia, OutboundLeg
from aqualine.telephony.media.handles import (
    DtmfReceived,
    Leg,
    MediaEvent,
    MediaTimeout,
    PlaybackFinished,
    Recording,
    RecordingFinished,
)
from aqualine.telephony.media.player import bind_rtp_ports
from aqualine.telephony.ports import RecordingInfo
from aqualine.telephony.sdp import NegotiatedAudio

if TYPE_CHECKING:
    from aqualine.telephony.calls import HotlineCall
    from aqualine.telephony.centre import CallCentre

log = logging.getLogger("aqualine.switch.session")


def _now() -> datetime:
    return datetime.now(UTC)


class HotlineSession:
    def __init__(self, centre: CallCentre, call: HotlineCall, flow: Flow | None) -> None:
        self.centre = centre
        self.call = call
        self.flow = flow
        self.leg: Leg | None = call.media_leg
        self.interpreter: Interpreter | None = None
        self.state = "ivr"  # ivr | queued | ringing | talking | ended
        self.queue = ""
        self.queued_at: datetime | None = None
        self.agent_id = ""
        self.agent_extension = ""
        self.agent_leg: OutboundLeg | None = None
        self.agent_media: Leg | None = None
        self.agent_socks: tuple[Any, Any] | None = None
        self.recording: Recording | None = None
        self.recording_info: RecordingInfo | None = None
        self._play_token: int | None = None
        self._playback_id: int | None = None
        self._barge_in = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_token: int | None = None
        self._message: tuple[int, Recording, float] | None = None  # IVR recording
        self._message_timer: asyncio.TimerHandle | None = None
        self._moh = False
        self._announcing = False
        self.control = CallController(self)

    # --- plumbing ------------------------------------------------------------------------------

    @property
    def call_id(self) -> str:
        return self.call.call_id

    @property
    def clock(self) -> Any:
        return self.centre.clock

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        self.centre.host.spawn(coroutine)

    def snapshot(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "ivr_path": self.interpreter.path_text if self.interpreter else "",
            "queue": self.queue,
            "agent_id": self.agent_id,
            "agent_extension": self.agent_extension,
            "queued_at": self.queued_at.isoformat() if self.queued_at else None,
            "recording": str(self.recording.path) if self.recording else None,
            **self.control.view(),
        }

    # --- start ---------------------------------------------------------------------------------

    def start(self) -> None:
        if self.leg is None:
            return
        if self.flow is None:  # no IVR for this number: the welcome prompt, as in part 1
            self.state = "prompt"
            self.clock.play(self.leg, self.centre.host.prompt(), loop=True)
            return
        info = CallInfo(self.call.record.caller, self.call.record.callee, self.call_id)
        settings = self.centre.settings
        variables = {"on_duty_number": settings.on_duty_number} if settings.on_duty_number else {}
        clock = self.centre.ivr_clock
        if clock is not None:
            self.interpreter = Interpreter(self.flow, call=info, variables=variables, clock=clock)
        else:
            self.interpreter = Interpreter(self.flow, call=info, variables=variables)
        self._run(self.interpreter.start())

    def _feed(self, event: ivr.Event) -> None:
        if self.interpreter is None or self.interpreter.status is Status.ENDED:
            return
        try:
            self._run(self.interpreter.feed(event))
        except Exception:
            log.exception("call %s: the IVR failed on %s", self.call_id, event)
            self._spawn(self.call.hang_up("IVR error"))

    def _run(self, actions: list[ivr.Action]) -> None:
        for action in actions:
            try:
                self._do(action)
            except Exception:
                log.exception("call %s: IVR action %s failed", self.call_id, action)

    def _do(self, action: ivr.Action) -> None:
        if isinstance(action, ivr.Play):
            self._play(action)
        elif isinstance(action, ivr.StopPlayback):
            if action.token == self._play_token and self.leg is not None:
                self._play_token = None
                self.clock.stop_play(self.leg)
        elif isinstance(action, ivr.StartTimer):
            self._cancel_timer()
            self._timer_token = action.token
            loop = asyncio.get_running_loop()
            token = action.token
            self._timer = loop.call_later(action.seconds, lambda: self._timer_fired(token))
        elif isinstance(action, ivr.CancelTimer):
            if action.token == self._timer_token:
                self._cancel_timer()
        elif isinstance(action, ivr.StartRecording):
            self._start_message(action)
        elif isinstance(action, ivr.StopRecording):
            self._stop_message(action.token, "stopped")
        elif isinstance(action, ivr.PortRequest):
            self._spawn(self._port(action))
        elif isinstance(action, ivr.Queue):
            self._spawn(self._join_queue(action.queue))
        elif isinstance(action, ivr.Transfer):
            self._spawn(self._transfer(action.number))
        elif isinstance(action, ivr.Hangup):
            self._spawn(self.call.hang_up(action.cause or "IVR hung up"))

    # --- IVR actions ---------------------------------------------------------------------------

    def _play(self, action: ivr.Play) -> None:
        self._play_token = action.token
        self._barge_in = action.barge_in
        self._spawn(self._render_and_play(action.token, action.prompts))

    async def _render_and_play(self, token: int, prompts: tuple[Prompt, ...]) -> None:
        samples = await asyncio.to_thread(self.centre.prompts.render, prompts)
        if token != self._play_token or self.leg is None or self.state == "ended":
            return
        playback = self.clock.play(self.leg, samples)
        self._playback_id = playback.id

    def _timer_fired(self, token: int) -> None:
        self._timer = None
        if token == self._timer_token:
            self._timer_token = None
            self._feed(ivr.TimerFired(token))

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._timer_token = None

    def _start_message(self, action: ivr.StartRecording) -> None:
        if self.leg is None:
            return
        path = self.centre.recording_path(self.call_id, "message")
        recording = self.clock.start_recording([self.leg], path)
        self._message = (action.token, recording, _now().timestamp())
        loop = asyncio.get_running_loop()
        token = action.token
        self._message_timer = loop.call_later(
            action.max_seconds, lambda: self._stop_message(token, "max")
        )
        self.centre.save_recording(
            RecordingInfo(self.call_id, self.centre.relative(path), _now(), kind="message")
        )

    def _stop_message(self, token: int, reason: str) -> None:
        if self._message is None or self._message[0] != token:
            return
        _token, recording, started = self._message
        self._message = None
        if self._message_timer is not None:
            self._message_timer.cancel()
            self._message_timer = None
        self.clock.stop_recording(recording)
        self._spawn(self._message_done(token, recording, started, reason))

    async def _message_done(
        self, token: int, recording: Recording, started: float, reason: str
    ) -> None:
        seconds = max(0.0, _now().timestamp() - started)
        path = ""
        with contextlib.suppress(Exception):
            result = await asyncio.wait_for(asyncio.wrap_future(recording.done), 5)
            seconds = float(getattr(result, "seconds", seconds) or seconds)
            path = str(recording.path)
            self.centre.finish_recording(recording, result, self.call_id, "message")
        self._feed(ivr.RecordingDone(token, path, seconds, reason))

    async def _port(self, request: ivr.PortRequest) -> None:
        ports = self.centre.ivr_ports
        if ports is None:
            self._feed(ivr.PortFailed(request.token, "no IVR ports configured"))
            return
        result = await asyncio.to_thread(ivr.run_request, request, ports)
        self._feed(result)

    async def _transfer(self, number: str) -> None:
        """Transfer to a number: an extension (the on-duty phone) rung and bridged."""
        self.call.record.extra["transferred_to"] = number
        ok = await self._ring(number, agent_id="", queue="")
        if not ok:
            self._feed(ivr.HandoffFailed("no answer"))

    # --- the queue -----------------------------------------------------------------------------

    async def _join_queue(self, queue: str) -> None:
        self.state = "queued"
        self.queue = queue
        self.queued_at = _now()
        record = self.call.record
        record.queue = queue
        record.queued_at = self.queued_at
        record.ivr_path = self.interpreter.path_text if self.interpreter else ""
        try:
            self.centre.caller_joined(self, queue)
        except Exception as exc:
            log.warning("call %s: cannot queue in %s: %s", self.call_id, queue, exc)
            self.state = "ivr"
            self._feed(ivr.HandoffFailed(str(exc)))
            return
        if self.state in ("queued", "ringing"):  # "ringing": an agent was idle, rung at once
            self._music()

    def _music(self) -> None:
        waiting = self.state in ("queued", "ringing")
        if self.leg is not None and waiting and not self._announcing:
            self.clock.play_music_on_hold(self.leg)
            self._moh = True

    def announce(self, position: int, expected_wait: float | None) -> None:
        if self.leg is None or self.state != "queued":
            return
        text = f"您前面还有{max(0, position - 1)}位客户在等待，请稍候。"
        if position <= 1:
            text = "您是下一位，请稍候。"
        if expected_wait:
            text += f"预计等待约{max(1, round(expected_wait / 60))}分钟。"
        self._announcing = True
        self._spawn(self._announce(text))

    async def _announce(self, text: str) -> None:
        samples = await asyncio.to_thread(self.centre.prompts.render, (Prompt(tts=text),))
        if self.state != "queued" or self.leg is None:
            self._announcing = False
            return
        playback = self.clock.play(self.leg, samples)
        self._playback_id = playback.id
        self._play_token = None

    def overflow(self, kind: str, target: str) -> None:
        """The longest wait passed: the queue's overflow action."""
        self.state = "overflow"
        self.call.record.extra["overflow"] = kind
        if kind == "transfer" and target:
            self._spawn(self._overflow_transfer(target))
        else:
            self._spawn(self._overflow_message(target))

    async def _overflow_transfer(self, target: str) -> None:
        if not await self._ring(target, agent_id="", queue=self.queue):
            await self.call.hang_up("overflow: transfer failed", outcome="missed")

    async def _overflow_message(self, target: str) -> None:
        prompt = Prompt(file=target) if target else Prompt(tts="坐席繁忙，请您稍后再拨，再见。")
        samples = await asyncio.to_thread(self.centre.prompts.render, (prompt,))
        if self.leg is not None and self.state == "overflow":
            playback = self.clock.play(self.leg, samples)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.wrap_future(playback.done), 60)
        await self.call.hang_up("overflow", outcome="missed")

    # --- ringing an agent ---------------------------------------------------------------------

    def offer(self, agent_id: str, extension: str, ring_seconds: float) -> None:
        self.state = "ringing"
        # The screen pop: who rings with which caller (the web's agent desktop opens intake).
        from aqualine.telephony.api.events import CallOffered

        record = self.call.record
        waited = (_now() - self.queued_at).total_seconds() if self.queued_at else 0.0
        self.centre.host.publish(
            CallOffered(
                call_id=self.call_id,
                caller=record.caller,
                callee=record.callee,
                agent_id=agent_id,
                extension=extension,
                queue=self.queue,
                ivr_path=self.interpreter.path_text if self.interpreter else record.ivr_path,
                waited=round(waited, 3),
            )
        )
        self._spawn(self._offer(extension, agent_id, ring_seconds))

    async def _offer(self, extension: str, agent_id: str, ring_seconds: float) -> None:
        await self._ring(extension, agent_id=agent_id, queue=self.queue, ring=ring_seconds)

    async def _ring(
        self, extension: str, *, agent_id: str, queue: str, ring: float | None = None
    ) -> bool:
        """Ring `extension` for this caller; True once it answered and is bridged."""
        config = self.centre.host.config
        try:
            rtp, rtcp = bind_rtp_ports(config.rtp_host, port_range=config.rtp_ports, rtcp=True)
        except OSError as exc:
            log.error("call %s: no RTP port for the agent leg: %s", self.call_id, exc)
            if agent_id:
                self.centre.offer_failed(self, "unreachable")
            return False
        # This ring's sockets; while they are `agent_socks` it is the current ring. A ring the
        # ACD gave up on (ring timeout) may end after the next agent's ring has begun: it must
        # then touch neither the new ring's sockets nor the ACD's view of the new offer.
        socks = (rtp, rtcp)
        self.agent_socks = socks
        media = LocalMedia(config.rtp_host, int(rtp.getsockname()[1]))
        answered: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def on_answered(leg: OutboundLeg, audio: NegotiatedAudio) -> None:
            if self.agent_socks is not socks:  # a stale ring answered at the last moment
                close_sockets(socks)
                self._spawn(leg.hang_up("offer withdrawn"))
                if not answered.done():
                    answered.set_result(False)
                return
            self._agent_answered(leg, audio, agent_id, extension)
            if not answered.done():
                answered.set_result(True)

        def on_failed(leg: OutboundLeg, failure: LegFailure) -> None:
            current = self.agent_socks is socks
            close_sockets(socks)
            if current:
                self.agent_socks = None
            if self.agent_leg is leg:
                self.agent_leg = None
            if current and agent_id and self.state == "ringing":
                self.centre.offer_failed(self, str(failure.kind))
            if not answered.done():
                answered.set_result(False)

        def on_ended(leg: OutboundLeg, cause: str) -> None:
            self._spawn(self._agent_hung_up(leg, cause))

        def on_refer(leg: OutboundLeg, refer: Any) -> None:
            self.agent_refer(leg, refer)

        callbacks = LegCallbacks(
            on_answered=on_answered,
            on_failed=on_failed,
            on_ended=on_ended,
            on_media=self.agent_media_changed,
            **_refer_callback(on_refer),
        )
        record = self.call.record
        leg = await self.centre.host.originate(
            extension,
            media=media,
            caller=record.caller,
            caller_name=None,
            ring_timeout=(ring or 0) + 5 if ring else None,
            callbacks=callbacks,
        )
        self.agent_leg = leg
        if self.state == "ended":
            await leg.cancel("caller hung up")
        return await answered

    def _close_agent_socks(self) -> None:
        close_sockets(self.agent_socks)
        self.agent_socks = None

    def _agent_answered(
        self, leg: OutboundLeg, audio: NegotiatedAudio, agent_id: str, extension: str
    ) -> None:
        if self.state == "ended" or self.leg is None:
            self._spawn(leg.hang_up("caller already gone"))
            return
        socks = self.agent_socks
        self.agent_socks = None
        assert socks is not None
        rtp, rtcp = socks
        self.agent_media = add_answered_leg(self.clock, audio, (rtp, rtcp))
        self.state = "talking"
        self.agent_id = agent_id
        self.agent_extension = extension
        self.control.acd_id = self.call_id  # the ACD knows an offered call by its own ID
        now = _now()
        record = self.call.record
        if record.agent_id and record.agent_id != agent_id:
            # back in the queue after a failed transfer: a second agent takes it
            record.transfer_agent_id = agent_id
            record.transferred_at = now
        else:
            record.agent_id = agent_id
            record.agent_extension = extension
            record.agent_answered_at = now
        if self.queued_at is not None:
            record.wait_seconds = round((now - self.queued_at).total_seconds(), 3)
        self.clock.stop_play(self.leg)
        self._moh = False
        self.clock.bridge(self.leg, self.agent_media)
        self._start_call_recording()
        if agent_id:
            self.centre.offer_answered(self)

    def _start_call_recording(self) -> None:
        assert self.leg is not None and self.agent_media is not None
        path = self.centre.recording_path(self.call_id, "call")
        stereo = self.centre.settings.recording_channels == "stereo"
        self.recording = self.clock.start_recording(
            [self.leg, self.agent_media], path, stereo=stereo
        )
        self.recording_info = RecordingInfo(
            self.call_id, self.centre.relative(path), _now(), kind="call"
        )
        self.centre.save_recording(self.recording_info)
        self.call.record.extra["recording"] = self.recording_info.path

    async def _agent_hung_up(self, leg: OutboundLeg, cause: str) -> None:
        if leg is not self.agent_leg or self.state == "ended":
            return
        if self.control.agent_hung_up():  # the caller stays with the consulted party
            return
        await self.call.hang_up(f"agent hung up ({cause})")

    def forward_dtmf(self, source: Leg, digit: str) -> None:
        """Pass a key on to whoever ``source`` talks with (see CallController.dtmf_targets)."""
        for leg in self.control.dtmf_targets(source):
            self.clock.send_dtmf(leg, digit)

    def agent_media_timeout(self, seconds: float) -> None:
        """The agent's phone sent no RTP for ``seconds``: gone without a BYE (unless it holds)."""
        leg = self.agent_leg
        if leg is None or self.state != "talking" or self.control.held_by_phone:
            return
        log.info("call %s: no RTP from the agent's phone for %.0f s", self.call_id, seconds)

        # its on_ended callback then does what an agent hanging up does
        self._spawn(leg.hang_up(f"no RTP for {seconds:.0f} s"))

    # --- call control (callcontrol.py) -----------------------------------------------------

    def agent_media_changed(self, leg: OutboundLeg, audio: NegotiatedAudio) -> None:
        self.control.agent_media_changed(leg, audio)

    def agent_refer(self, leg: OutboundLeg, refer: Any) -> None:
        """The agent's phone sent REFER (RFC 3515): a blind transfer to its Refer-To."""
        self._spawn(self._referred(leg, refer))

    async def _referred(self, leg: OutboundLeg, refer: Any) -> None:
        target = str(getattr(refer, "target_user", "") or "")
        if leg is not self.agent_leg or self.state != "talking":
            await leg.notify_refer(481, "Call Does Not Exist", final=True)
            return
        try:
            party = await self.control.start_transfer(target)
        except CallControlRefused as refused:
            status, reason = _REFER_REFUSALS.get(refused.code, (403, "Forbidden"))
            log.info("call %s: REFER to %s refused: %s", self.call_id, target, refused.message)
            await leg.notify_refer(status, reason, final=True)
            return
        except AcdError as refused:
            status, reason = _REFER_REFUSALS.get(str(refused.code), (486, "Busy Here"))
            log.info("call %s: REFER to %s refused: %s", self.call_id, target, refused.message)
            await leg.notify_refer(status, reason, final=True)
            return
        # Blind: the transfer is accepted; the phone may hang up once it reads this.
        await leg.notify_refer(200, "OK", final=True)
        self.control.run_transfer(party)

    def requeue(self, cause: str) -> None:
        """A transfer failed: the caller waits in its queue again (or is told and let go)."""
        queue = self.queue or self.centre.default_queue()
        if self.leg is None or self.state == "ended":
            return
        if queue:
            self.state = "queued"
            self.queue = queue
            self.queued_at = _now()
            try:
                self.centre.caller_joined(self, queue)
            except Exception as exc:
                log.warning("call %s: cannot queue again: %s", self.call_id, exc)
            else:
                if self.state in ("queued", "ringing"):
                    self._music()
                return
        self._spawn(self.call.hang_up(cause))

    # --- media events --------------------------------------------------------------------------

    def on_media_event(self, event: MediaEvent) -> None:
        if isinstance(event, DtmfReceived):
            if self.state == "ivr":
                self._feed(ivr.Digit(event.digit))
            elif self.state == "talking" and self.leg is not None:
                self.forward_dtmf(self.leg, event.digit)
        elif isinstance(event, PlaybackFinished):
            if event.playback != self._playback_id:
                return
            self._playback_id = None
            if self._announcing:
                self._announcing = False
                self._music()
                return
            token = self._play_token
            if token is not None and self.state == "ivr":
                self._play_token = None
                self._feed(ivr.PlayDone(token, interrupted=not event.completed))
        elif isinstance(event, MediaTimeout):
            audio = self.call.audio
            if audio is not None and audio.held_by_remote:
                return  # the caller holds: no RTP is expected
            log.info("call %s: no RTP from the caller for %.0f s", self.call_id, event.seconds)
            self._spawn(self.call.hang_up(f"no RTP from the caller for {event.seconds:.0f} s"))
        elif isinstance(event, RecordingFinished):
            pass

    # --- the end -------------------------------------------------------------------------------

    def caller_gone(self) -> str | None:
        """The caller's dialog ended (either side hung up): release the rest; the outcome the
        record gets (None: what the dialog said)."""
        outcome: str | None = None
        state = self.state
        self.state = "ended"
        self._cancel_timer()
        record = self.call.record
        now = _now()
        if self.interpreter is not None:
            if self._message is not None:
                self._stop_message(self._message[0], "hangup")
            with contextlib.suppress(Exception):
                self._run(self.interpreter.feed(ivr.HungUp()))
            record.ivr_path = record.ivr_path or self.interpreter.path_text
        if state in ("queued", "ringing"):
            outcome = "abandoned"
            if self.queued_at is not None:
                record.wait_seconds = round((now - self.queued_at).total_seconds(), 3)
            self.centre.caller_left(self)
        elif state in ("talking", "transferring"):
            outcome = "answered"
            if record.agent_answered_at is not None:
                record.talk_seconds = round((now - record.agent_answered_at).total_seconds(), 3)
            if self.agent_id:
                self.centre.end_agent_call(self.control.acd_id)
        elif state == "overflow":
            outcome = "missed"
        elif state in ("ivr", "prompt"):
            outcome = "ivr_only"
        self.control.release()
        if self.recording is not None:
            recording = self.recording
            self.recording = None
            self.clock.stop_recording(recording)
            self._spawn(self._finish_recording(recording))
        leg = self.agent_leg
        self.agent_leg = None
        if leg is not None:
            if state in ("talking", "transferring"):
                self._spawn(leg.hang_up("caller hung up"))
            else:
                self._spawn(leg.cancel("caller hung up"))
        self._close_agent_socks()
        if self.agent_media is not None:
            media = self.agent_media
            self.agent_media = None
            self.clock.remove_leg(media)
        return outcome

    async def _finish_recording(self, recording: Recording) -> None:
        with contextlib.suppress(Exception):
            result = await asyncio.wait_for(asyncio.wrap_future(recording.done), 10)
            self.centre.finish_recording(recording, result, self.call_id, "call")


_REFER_REFUSALS = {
    "target_busy": (486, "Busy Here"),
    "target_not_ready": (480, "Temporarily Unavailable"),
    "target_logged_out": (480, "Temporarily Unavailable"),
    "not_registered": (480, "Temporarily Unavailable"),
    "unknown_target": (404, "Not Found"),
    "unknown_agent": (404, "Not Found"),
    "no_trunk": (503, "Service Unavailable"),
}


def relative_to(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)
