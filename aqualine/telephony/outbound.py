"""Click-to-dial: the switch rings the agent's phone, then calls the customer through the trunk.

A :class:`ClickToDial` is made by the call centre for the control API's ``dial`` command::

    call = ClickToDial(centre, agent_id="1001", extension="8001", number="13900139000")
    await call.start()      # refusals raise here (CallControlRefused, AcdError)

Its life::

    ringing_agent --agent answers--> dialing --customer answers--> talking --a hang-up--> ended
          |                   (ringback to the agent)          (bridged, recorded)
          |                            |
          |                            `--busy, no answer, 4xx-6xx--> failing --~2 s--> ended
          |                                                         (busy tone)
          `--the agent does not answer ------------------------------------------------> ended

- before anything rings, :meth:`ClickToDial.start` refuses the call when no enabled trunk has
  an ``outbound_address`` (``no_trunk``), when the extension is not registered
  (``not_registered``) -- both :class:`~aqualine.telephony.callcontrol.CallControlRefused` --
  or when the ACD refuses to make the agent busy (its
  :class:`~aqualine.telephony.acd.states.AcdError`, e.g. ``agent_busy``);
- the agent's phone rings first, showing the number it is about to call;
- once the agent answers it hears ringback while the customer's number is called at the trunk
  (``sip:<number>@<outbound_address>``, the trunk's digest challenge answered with its
  outbound credentials, the trunk's caller ID presented);
- the customer answers: the two are bridged on the media clock and the call is recorded;
- the customer's side fails: the agent hears the busy tone for a moment, then is hung up.

The call record (``direction="outbound"``) is written when the call starts and when it ends:
outcome ``answered`` (the customer answered) or ``failed`` with the cause (``486 Busy Here``,
``408 No answer``, ``agent hung up`` ...). The ACD sees the agent busy from the start
(``acd_call_started``), back in its earlier state when the call never connected
(``acd_call_failed``), and in after-call work after a conversation (``acd_call_ended``).
Events: ``call.control`` with ``dialing``, then ``dial_answered`` or ``dial_failed``.

Everything here runs on the switch's event loop; leg callbacks come from the legs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aqualine.telephony.acd.states import AcdError
from aqualine.telephony.api.events import CallControl
from aqualine.telephony.callcontrol import CallControlRefused
from aqualine.telephony.leg_media import Sockets, add_answered_leg, close_sockets
from aqualine.telephony.legs import (
    Credentials,
    FailureKind,
    LegCallbacks,
    LegFailure,
    LegState,
    LocalMedia,
    OutboundLeg,
)
from aqualine.telephony.media.handles import Leg, Recording
from aqualine.telephony.media.player import bind_rtp_ports
from aqualine.telephony.ports import CallRecord, RecordingInfo, TrunkInfo
from aqualine.telephony.sdp import NegotiatedAudio

if TYPE_CHECKING:
    from aqualine.telephony.centre import CallCentre

log = logging.getLogger("aqualine.switch.outbound")

AGENT_RING_SECONDS = 30.0  # the agent's own phone
CUSTOMER_RING_SECONDS = 60.0  # the customer's phone, through the trunk
BUSY_TONE_SECONDS = 2.0  # what the agent hears after the customer's side failed
NUMBER = re.compile(r"\+?[0-9]{1,32}")


def _now() -> datetime:
    return datetime.now(UTC)


def trunk_credentials(trunk: TrunkInfo) -> Credentials | None:
    """What the trunk's challenge is answered with (its outbound ones, else its inbound ones)."""
    username = trunk.outbound_username or trunk.username
    if not username:
        return None
    return Credentials(username, trunk.outbound_password or trunk.password)


def presented_caller_id(trunk: TrunkInfo) -> str:
    return trunk.caller_id or (trunk.numbers[0] if trunk.numbers else "")


def failure_cause(failure: LegFailure) -> str:
    """``486 Busy Here``; a ring nobody answered reads ``408 No answer``."""
    if failure.kind is FailureKind.NO_ANSWER:
        return "408 No answer"
    return f"{failure.status} {failure.reason}"


class ClickToDial:
    """One click-to-dial call; see the module docstring."""

    def __init__(self, centre: CallCentre, *, agent_id: str, extension: str, number: str) -> None:
        number = number.strip()
        if not NUMBER.fullmatch(number):
            raise ValueError(f"not a phone number: {number!r}")
        self.centre = centre
        self.agent_id = agent_id
        self.extension = extension
        self.number = number
        self.call_id = "c" + secrets.token_hex(8)
        # ringing_agent | dialing | talking | failing | ended ("new" before start)
        self.state = "new"
        self.trunk: TrunkInfo | None = None
        self.caller_id = ""
        self.record = CallRecord(
            call_id=self.call_id,
            sip_call_id="",
            direction="outbound",
            caller="",
            callee=number,
            source="",
            agent_id=agent_id,
            agent_extension=extension,
        )
        self.agent_leg: OutboundLeg | None = None
        self.customer_leg: OutboundLeg | None = None
        self.agent_media: Leg | None = None
        self.customer_media: Leg | None = None
        self.agent_answered_at: datetime | None = None  # the agent's phone was picked up
        self.recording: Recording | None = None
        self._agent_socks: Sockets | None = None
        self._customer_socks: Sockets | None = None
        self._failure = ""  # the customer side's failure, while the busy tone plays
        self._reported = False  # dial_answered or dial_failed published
        self._held_since: float | None = None  # loop time the customer was put on hold

    # --- plumbing ------------------------------------------------------------------------------

    @property
    def host(self) -> Any:
        return self.centre.host

    @property
    def clock(self) -> Any:
        return self.centre.clock

    def _spawn(self, coroutine: Any) -> None:
        self.host.spawn(coroutine)

    def _publish(self, action: str, detail: str = "") -> None:
        self.host.publish(
            CallControl(self.call_id, self.agent_id, action, target=self.number, detail=detail)
        )

    def _bind(self) -> Sockets:
        config = self.host.config
        rtp, rtcp = bind_rtp_ports(config.rtp_host, port_range=config.rtp_ports, rtcp=True)
        return rtp, rtcp

    def _local_media(self, socks: Sockets) -> LocalMedia:
        return LocalMedia(self.host.config.rtp_host, int(socks[0].getsockname()[1]))

    def _add_media(self, audio: NegotiatedAudio, socks: Sockets) -> Leg:
        return add_answered_leg(self.clock, audio, socks)

    def _media_changed(self, leg: OutboundLeg, audio: NegotiatedAudio) -> None:
        """A re-INVITE from either side: follow its address, stop sending while it holds."""
        media = self.agent_media if leg is self.agent_leg else None
        if leg is self.customer_leg:
            media = self.customer_media
        if media is None or self.state == "ended":
            return
        if not audio.remote_zero_address and audio.remote_port:
            self.clock.set_remote(
                media, audio.remote_address, audio.remote_port, rtcp_port=audio.remote_rtcp_port
            )
        self.clock.set_sending(media, audio.direction.sends and not audio.remote_zero_address)

    def snapshot(self) -> dict[str, Any]:
        record = self.record
        return {
            "call_id": self.call_id,
            "direction": "outbound",
            "state": self.state,
            "agent_id": self.agent_id,
            "agent_extension": self.extension,
            "number": self.number,
            "caller_id": self.caller_id,
            "trunk": self.trunk.name if self.trunk else "",
            "started_at": record.started_at.isoformat() if record.started_at else None,
            "agent_answered_at": (
                self.agent_answered_at.isoformat() if self.agent_answered_at else None
            ),
            "answered_at": record.answered_at.isoformat() if record.answered_at else None,
            "recording": str(self.recording.path) if self.recording else None,
            "held": self._held_since is not None,
            "agent_leg": self.agent_leg.snapshot() if self.agent_leg else None,
            "customer_leg": self.customer_leg.snapshot() if self.customer_leg else None,
        }

    # --- hold --------------------------------------------------------------------------------

    def hold(self) -> None:
        """The customer hears music on hold, the agent nothing (hold time in the record)."""
        if self.state != "talking" or self.agent_media is None or self.customer_media is None:
            raise CallControlRefused("not_talking", f"call {self.call_id} is not connected")
        if self._held_since is not None:
            raise CallControlRefused("already_held", "the call is already on hold")
        self._held_since = asyncio.get_running_loop().time()
        self.clock.isolate(self.customer_media)
        self.clock.play_music_on_hold(self.customer_media)
        self._publish("held")

    def unhold(self) -> None:
        if self.state != "talking" or self.agent_media is None or self.customer_media is None:
            raise CallControlRefused("not_talking", f"call {self.call_id} is not connected")
        if self._held_since is None:
            raise CallControlRefused("not_held", "the call is not on hold")
        self._count_hold()
        self.clock.stop_play(self.customer_media)
        self.clock.bridge(self.agent_media, self.customer_media)
        self._publish("unheld")

    def _count_hold(self) -> None:
        if self._held_since is not None:
            held = asyncio.get_running_loop().time() - self._held_since
            self.record.hold_seconds = round(self.record.hold_seconds + held, 3)
            self._held_since = None

    def __repr__(self) -> str:
        return f"<ClickToDial {self.call_id} {self.agent_id} → {self.number} {self.state}>"

    # --- start ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Refuse (:class:`CallControlRefused`, :class:`AcdError`) or start ringing the agent.

        Returns once the call is under way; it goes on in the background."""
        if self.state != "new":
            raise RuntimeError("the call was already started")
        trunk = await self.centre.outbound_trunk()
        if trunk is None:
            raise CallControlRefused("no_trunk", "no trunk is configured for outbound calls")
        if not self.host.registrar.contacts(self.extension):
            raise CallControlRefused(
                "not_registered", f"extension {self.extension} is not registered"
            )
        self.centre.acd_call_started(self.agent_id, self.call_id)  # AcdError: refused
        self.trunk = trunk
        self.caller_id = presented_caller_id(trunk)
        record = self.record
        record.caller = self.caller_id
        record.trunk = trunk.name
        record.source = trunk.outbound_address
        record.started_at = _now()
        self.state = "ringing_agent"
        self.host.write_record("started", record)
        self._publish("dialing")
        log.info(
            "call %s: agent %s dials %s (extension %s first)",
            self.call_id,
            self.agent_id,
            self.number,
            self.extension,
        )
        self._spawn(self._guarded(self._ring_agent()))

    async def _guarded(self, coroutine: Any) -> None:
        try:
            await coroutine
        except Exception:
            log.exception("call %s: click-to-dial failed", self.call_id)
            await self._release(self._end("failed", "internal error"), "internal error")

    # --- the agent's phone ---------------------------------------------------------------------

    async def _ring_agent(self) -> None:
        try:
            socks = self._bind()
        except OSError as exc:
            log.error("call %s: no RTP port for the agent: %s", self.call_id, exc)
            self._end("failed", "no RTP port")
            return
        self._agent_socks = socks
        callbacks = LegCallbacks(
            on_answered=self._agent_answered,
            on_failed=self._agent_failed,
            on_ended=self._agent_ended,
            on_media=self._media_changed,
        )
        leg = await self.host.originate(
            self.extension,
            media=self._local_media(socks),
            caller=self.number,  # the phone shows whom it is about to call
            ring_timeout=AGENT_RING_SECONDS,
            callbacks=callbacks,
        )
        self.agent_leg = leg
        if self.state == "ended":  # hung up while the INVITE went out
            await leg.hang_up("call ended")

    def _agent_answered(self, leg: OutboundLeg, audio: NegotiatedAudio) -> None:
        self.agent_leg = leg
        socks, self._agent_socks = self._agent_socks, None
        if self.state != "ringing_agent" or socks is None:
            close_sockets(socks)
            self._spawn(leg.hang_up("call ended"))
            return
        self.agent_media = self._add_media(audio, socks)
        self.agent_answered_at = _now()
        self.state = "dialing"
        self.clock.play_tone(self.agent_media, "ringback")
        self._spawn(self._guarded(self._dial_customer()))

    def _agent_failed(self, leg: OutboundLeg, failure: LegFailure) -> None:
        self.agent_leg = leg
        socks, self._agent_socks = self._agent_socks, None
        close_sockets(socks)
        if self.state == "ringing_agent":
            self._end("failed", failure_cause(failure))

    def _agent_ended(self, leg: OutboundLeg, cause: str) -> None:
        if leg is not self.agent_leg or self.state == "ended":
            return
        if self.state == "talking":
            legs = self._end("answered", "agent hung up")
        elif self.state == "failing":
            legs = self._end("failed", self._failure)
        else:
            legs = self._end("failed", "agent hung up")
        self._spawn(self._release(legs, "agent hung up"))

    # --- the customer, through the trunk -------------------------------------------------------

    async def _dial_customer(self) -> None:
        trunk = self.trunk
        assert trunk is not None
        try:
            socks = self._bind()
        except OSError as exc:
            log.error("call %s: no RTP port for the customer: %s", self.call_id, exc)
            self._customer_failed_with("503 No RTP port")
            return
        self._customer_socks = socks
        callbacks = LegCallbacks(
            on_answered=self._customer_answered,
            on_failed=self._customer_failed,
            on_ended=self._customer_ended,
            on_media=self._media_changed,
        )
        try:
            leg = await self.host.originate_uri(
                f"sip:{self.number}@{trunk.outbound_address}",
                media=self._local_media(socks),
                caller=self.caller_id,
                credentials=trunk_credentials(trunk),
                ring_timeout=CUSTOMER_RING_SECONDS,
                callbacks=callbacks,
            )
        except (OSError, ValueError) as exc:
            log.error("call %s: cannot call the trunk %s: %s", self.call_id, trunk.name, exc)
            self._customer_socks = None
            close_sockets(socks)
            self._customer_failed_with("503 Trunk unreachable")
            return
        self.customer_leg = leg
        self.record.sip_call_id = leg.call_id
        if self.state == "ended":
            await leg.hang_up("call ended")

    def _customer_answered(self, leg: OutboundLeg, audio: NegotiatedAudio) -> None:
        self.customer_leg = leg
        socks, self._customer_socks = self._customer_socks, None
        if self.state != "dialing" or socks is None or self.agent_media is None:
            close_sockets(socks)
            self._spawn(leg.hang_up("call ended"))
            return
        self.customer_media = self._add_media(audio, socks)
        now = _now()
        self.state = "talking"
        record = self.record
        record.answered_at = record.agent_answered_at = now
        self.clock.stop_play(self.agent_media)
        self.clock.bridge(self.agent_media, self.customer_media)
        self._start_recording()
        self._reported = True
        self._publish("dial_answered")
        log.info("call %s: %s answered", self.call_id, self.number)

    def _customer_failed(self, leg: OutboundLeg, failure: LegFailure) -> None:
        self.customer_leg = leg
        socks, self._customer_socks = self._customer_socks, None
        close_sockets(socks)
        self._customer_failed_with(failure_cause(failure))

    def _customer_failed_with(self, cause: str) -> None:
        """The customer cannot be reached: busy tone to the agent for a moment, then the end."""
        if self.state != "dialing":
            return
        log.info("call %s: %s failed: %s", self.call_id, self.number, cause)
        self.state = "failing"
        self._failure = cause
        self._reported = True
        self._publish("dial_failed", cause)
        if self.agent_media is not None:
            self.clock.play_tone(self.agent_media, "busy")
        self._spawn(self._busy_then_end(cause))

    async def _busy_then_end(self, cause: str) -> None:
        await asyncio.sleep(BUSY_TONE_SECONDS)
        await self._release(self._end("failed", cause), cause)

    def _customer_ended(self, leg: OutboundLeg, cause: str) -> None:
        if leg is not self.customer_leg or self.state != "talking":
            return
        self._spawn(self._release(self._end("answered", "customer hung up"), "customer hung up"))

    # --- recording -----------------------------------------------------------------------------

    def _start_recording(self) -> None:
        assert self.agent_media is not None and self.customer_media is not None
        centre = self.centre
        path = centre.recording_path(self.call_id, "call")
        stereo = centre.settings.recording_channels == "stereo"
        # The customer on the left, the agent on the right, as for hotline calls.
        self.recording = self.clock.start_recording(
            [self.customer_media, self.agent_media], path, stereo=stereo
        )
        info = RecordingInfo(self.call_id, centre.relative(path), _now(), kind="call")
        centre.save_recording(info)
        self.record.extra["recording"] = info.path

    async def _finish_recording(self, recording: Recording) -> None:
        with contextlib.suppress(Exception):
            result = await asyncio.wait_for(asyncio.wrap_future(recording.done), 10)
            self.centre.finish_recording(recording, result, self.call_id, "call")

    # --- the end -------------------------------------------------------------------------------

    async def hang_up(self, cause: str = "hung up") -> None:
        """End the call from the switch's side (both legs hung up or cancelled)."""
        if self.state in ("new", "ended"):
            return
        if self.state == "talking":
            legs = self._end("answered", cause)
        else:
            legs = self._end("failed", self._failure or cause)
        await self._release(legs, cause)

    def _end(self, outcome: str, cause: str) -> list[OutboundLeg]:
        """Settle the call now (record, ACD, media); the legs still to hang up."""
        if self.state == "ended":
            return []
        connected = self.state == "talking"
        self._count_hold()
        self.state = "ended"
        now = _now()
        record = self.record
        record.ended_at = now
        record.outcome = outcome
        record.end_cause = cause
        if record.answered_at is not None:
            record.talk_seconds = round((now - record.answered_at).total_seconds(), 3)
        if not record.sip_call_id:
            leg = self.customer_leg or self.agent_leg
            record.sip_call_id = leg.call_id if leg is not None else ""
        if self.recording is not None:
            recording, self.recording = self.recording, None
            self.clock.stop_recording(recording)
            self._spawn(self._finish_recording(recording))
        for media in (self.agent_media, self.customer_media):
            if media is not None:
                self.clock.remove_leg(media)
        self.agent_media = self.customer_media = None
        close_sockets(self._agent_socks)
        close_sockets(self._customer_socks)
        self._agent_socks = self._customer_socks = None
        if not self._reported:
            self._reported = True
            self._publish("dial_failed", cause)
        self.host.write_record("ended", record)
        try:
            if connected:
                self.centre.acd_call_ended(self.call_id)
            else:
                self.centre.acd_call_failed(self.call_id)
        except AcdError as exc:
            log.info("call %s: the ACD refused the end: %s", self.call_id, exc)
        self.centre.outbound_finished(self)
        log.info("call %s: ended, %s (%s)", self.call_id, outcome, cause)
        legs = (self.customer_leg, self.agent_leg)
        return [leg for leg in legs if leg is not None and leg.state is not LegState.ENDED]

    async def _release(self, legs: list[OutboundLeg], cause: str) -> None:
        await asyncio.gather(*(leg.hang_up(cause) for leg in legs), return_exceptions=True)


__all__ = [
    "CallControlRefused",
    "ClickToDial",
    "failure_cause",
    "presented_caller_id",
    "trunk_credentials",
]
