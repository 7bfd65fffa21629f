"""Call control on an answered hotline call: hold, transfer, consult, conference, supervision.

A :class:`CallController` belongs to one :class:`~aqualine.telephony.session.HotlineSession`
and carries out the agent's commands (control API, or the agent's phone: a re-INVITE with
``sendonly``/``inactive`` holds, a REFER transfers) on the switch's media clock:

- **hold**: the caller hears music on hold, the agent hears nothing; the time is counted in
  the call record (``hold_seconds``);
- **blind transfer** to an agent (the ACD checks the target is idle and reserves it), an
  extension or an outside number (through the outbound trunk): the first agent leaves at
  once, the caller hears ringback until the target answers, then talks to it; the recording
  goes on in the same file. A failed transfer puts the caller back in the queue;
- **consult**: the caller is held, the target rung; once it answers the agent and the target
  talk privately; then **complete_transfer** (the caller and the target talk, the agent
  leaves), **conference** (each of the three hears the two others) or **cancel_consult**;
  - the consulted party hangs up: the agent and the caller talk again;
  - the agent hangs up: the caller and the consulted party stay connected (once it answers);
- **supervision**: a supervisor's extension is rung and then listens (hears both, nobody hears
  it), whispers (only the agent hears it) or barges in (all hear all).

Which leg hears which is recomputed from this state by :meth:`CallController.rewire` after
every step, so no step has to undo another's connections.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aqualine.telephony.acd.states import AcdError, AgentState
from aqualine.telephony.api.events import CallControl
from aqualine.telephony.leg_media import add_answered_leg, close_sockets
from aqualine.telephony.legs import Credentials, LegCallbacks, LegFailure, LocalMedia, OutboundLeg
from aqualine.telephony.media.handles import Leg
from aqualine.telephony.media.player import bind_rtp_ports
from aqualine.telephony.ports import TrunkInfo
from aqualine.telephony.sdp import NegotiatedAudio

if TYPE_CHECKING:
    from aqualine.telephony.session import HotlineSession

log = logging.getLogger("aqualine.switch.control")

RING_SECONDS = 30.0  # how long a transfer, consult or supervisor target is rung
SUPERVISION_MODES = ("listen", "whisper", "barge")
_NUMBER = re.compile(r"^\+?[0-9*#]{2,32}$")
_ids = itertools.count(1)


def _now() -> datetime:
    return datetime.now(UTC)


class CallControlRefused(Exception):
    """A call-control command the switch refuses: a code (see the control API) and why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclasses.dataclass(eq=False)
class Party:
    """Someone the controller rang for this call: a transfer target, a consulted colleague or
    an outside number, a supervisor."""

    role: str  # "transfer" | "consult" | "supervisor"
    target: str  # what was asked for: agent ID, extension or number
    kind: str  # "agent" | "extension" | "number"
    extension: str = ""  # the extension rung (agents and extensions)
    agent_id: str = ""
    acd_id: str = ""  # the ACD call the target agent talks under
    mode: str = ""  # a supervisor's listen | whisper | barge
    leg: OutboundLeg | None = None
    media: Leg | None = None
    socks: tuple[Any, Any] | None = None
    answered: bool = False
    failure: str = ""
    ended: bool = False

    def view(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "kind": self.kind,
            "agent_id": self.agent_id,
            "state": "talking" if self.answered else "ringing",
            **({"mode": self.mode} if self.role == "supervisor" else {}),
        }


class CallController:
    def __init__(self, session: HotlineSession) -> None:
        self.session = session
        self.held = False
        self.held_by_phone = False
        self._hold_started: float | None = None
        self.transfer: Party | None = None  # a blind transfer's target, while it rings
        self.consult: Party | None = None
        self.supervisor: Party | None = None
        self.conference = False
        self.acd_id = session.call_id  # the ACD call the current agent talks under

    # --- plumbing --------------------------------------------------------------------------------

    @property
    def centre(self) -> Any:
        return self.session.centre

    @property
    def clock(self) -> Any:
        return self.session.centre.clock

    @property
    def call_id(self) -> str:
        return self.session.call_id

    def _publish(self, action: str, target: str = "", detail: str = "") -> None:
        self.centre.host.publish(
            CallControl(
                call_id=self.call_id,
                agent_id=self.session.agent_id,
                action=action,
                target=target,
                detail=detail,
            )
        )

    def _spawn(self, coroutine: Any) -> None:
        self.centre.host.spawn(coroutine)

    def view(self) -> dict[str, Any]:
        return {
            "held": self.held,
            "conference": self.conference,
            "transfer": self.transfer.view() if self.transfer else None,
            "consult": self.consult.view() if self.consult else None,
            "supervisor": self.supervisor.view() if self.supervisor else None,
        }

    def _require_talking(self) -> None:
        session = self.session
        if session.state != "talking" or session.agent_media is None:
            raise CallControlRefused("not_talking", f"call {self.call_id} is not with an agent")
        if self.transfer is not None:
            raise CallControlRefused("transfer_pending", "the call is being transferred")

    # --- who hears whom ---------------------------------------------------------------------

    def rewire(self) -> None:
        """Connect the legs as the state says (music on hold included)."""
        session = self.session
        clock = self.clock
        caller = session.leg
        agent = session.agent_media
        other = self.consult.media if self.consult and self.consult.answered else None
        watcher = self.supervisor.media if self.supervisor and self.supervisor.answered else None
        for leg in (caller, agent, other, watcher):
            if leg is not None:
                clock.isolate(leg)
        talkers: list[Leg] = []
        if self.conference and other is not None:
            talkers = [leg for leg in (caller, agent, other) if leg is not None]
            clock.conference(talkers)
        elif self.held:
            if agent is not None and other is not None:
                clock.bridge(agent, other)
            talkers = [agent] if agent is not None else []
        elif caller is not None and agent is not None:
            clock.bridge(caller, agent)
            talkers = [caller, agent]
        if watcher is not None and talkers:
            mode = self.supervisor.mode if self.supervisor else "listen"
            if mode == "whisper" and agent is not None:
                clock.whisper(watcher, agent, [t for t in talkers if t is not agent])
            elif mode == "barge":
                clock.barge(watcher, talkers)
            else:
                clock.listen(watcher, talkers)
        if caller is not None:
            music = self.held and not self.conference
            if music and not session._moh:
                clock.play_music_on_hold(caller)
                session._moh = True
            elif not music and session._moh:
                clock.stop_play(caller)
                session._moh = False

    def dtmf_targets(self, source: Leg) -> list[Leg]:
        """Who gets a key pressed on ``source`` (RFC 4733, forwarded): whoever talks with it
        now, so a caller can work an outside party's menu after a transfer, and an agent the
        menu of a number it consults. Never the supervisor, never a held caller's keys."""
        session = self.session
        caller = session.leg
        agent = session.agent_media
        other = self.consult.media if self.consult and self.consult.answered else None
        if self.conference and other is not None:
            talkers = [leg for leg in (caller, agent, other) if leg is not None]
            if any(leg.id == source.id for leg in talkers):
                return [leg for leg in talkers if leg.id != source.id]
            return []
        if self.held:
            pair = [leg for leg in (agent, other) if leg is not None]
        else:
            pair = [leg for leg in (caller, agent) if leg is not None]
        if len(pair) == 2 and any(leg.id == source.id for leg in pair):
            return [leg for leg in pair if leg.id != source.id]
        return []

    def _record_legs(self) -> None:
        """The call's recording follows the parties (same file): the caller and whoever
        talks with it."""
        session = self.session
        if session.recording is None or session.leg is None:
            return
        legs = [session.leg]
        if session.agent_media is not None:
            legs.append(session.agent_media)
        if self.conference and self.consult is not None and self.consult.media is not None:
            legs.append(self.consult.media)
        if len(legs) < 2:
            return
        stereo = self.centre.settings.recording_channels == "stereo"
        self.clock.set_recording_legs(session.recording, legs, stereo=stereo)

    # --- hold ---------------------------------------------------------------------------------

    def hold(self, *, by_phone: bool = False) -> None:
        self._require_talking()
        if self.held:
            raise CallControlRefused("already_held", "the call is already on hold")
        if self.consult is not None:
            raise CallControlRefused("consult_pending", "a consultation is in progress")
        self._set_held(True)
        self.held_by_phone = by_phone
        self.rewire()
        self._publish("held", detail="phone" if by_phone else "")

    def unhold(self) -> None:
        self._require_talking()
        if not self.held:
            raise CallControlRefused("not_held", "the call is not on hold")
        if self.consult is not None:
            raise CallControlRefused("consult_pending", "end the consultation first")
        self._set_held(False)
        self.rewire()
        self._publish("unheld")

    def _set_held(self, held: bool) -> None:
        loop = asyncio.get_running_loop()
        if held and not self.held:
            self._hold_started = loop.time()
        elif not held and self.held and self._hold_started is not None:
            record = self.session.call.record
            record.hold_seconds = round(record.hold_seconds + loop.time() - self._hold_started, 3)
            self._hold_started = None
        self.held = held
        if not held:
            self.held_by_phone = False

    def agent_media_changed(self, leg: OutboundLeg, audio: NegotiatedAudio) -> None:
        """The agent's phone sent a re-INVITE: hold from the phone, or resume."""
        session = self.session
        if leg is not session.agent_leg or session.agent_media is None:
            return
        self.clock.set_sending(session.agent_media, audio.direction.sends)
        try:
            if audio.held_by_remote and not self.held:
                self.hold(by_phone=True)
            elif not audio.held_by_remote and self.held and self.held_by_phone:
                self.unhold()
        except CallControlRefused as refused:
            log.info("call %s: the phone's re-INVITE: %s", self.call_id, refused.message)

    # --- finding a target -----------------------------------------------------------------

    async def resolve(self, target: str, kind: str) -> Party:
        """Who ``target`` is: a logged-in agent, a registered extension or an outside number."""
        target = str(target or "").strip()
        kind = str(kind or "").strip()
        if not target:
            raise CallControlRefused("unknown_target", "no transfer target given")
        if kind not in ("", "agent", "extension", "number"):
            raise CallControlRefused("unknown_target", f"unknown target kind {kind!r}")
        centre = self.centre
        host = centre.host
        if kind in ("", "agent"):
            view = centre.acd.agent(target, now=_now())
            if view is not None and view.state is not AgentState.LOGGED_OUT:
                return Party("", target, "agent", extension=view.extension, agent_id=target)
            if kind == "agent" or not host.registrar.contacts(target):
                info = await asyncio.to_thread(host.directory.agent, target)
                if info is not None:
                    raise CallControlRefused("target_logged_out", f"agent {target} is logged out")
                if kind == "agent":
                    raise CallControlRefused("unknown_target", f"no agent {target}")
        if kind in ("", "extension"):
            if host.registrar.contacts(target):
                return Party("", target, "extension", extension=target)
            if kind == "extension":
                raise CallControlRefused("not_registered", f"extension {target} is not registered")
        if not _NUMBER.match(target):
            raise CallControlRefused("unknown_target", f"{target!r} is not a number")
        if await self.centre.outbound_trunk() is None:
            raise CallControlRefused("no_trunk", "no trunk is configured for outbound calls")
        return Party("", target, "number")

    def _check_agent_free(self, party: Party) -> None:
        view = self.centre.acd.agent(party.agent_id, now=_now())
        if party.agent_id == self.session.agent_id:
            raise CallControlRefused("unknown_target", "the call is already with this agent")
        if view is None or view.state is AgentState.LOGGED_OUT:
            raise CallControlRefused("target_logged_out", f"agent {party.agent_id} is logged out")
        if view.state is AgentState.NOT_READY:
            raise CallControlRefused("target_not_ready", f"agent {party.agent_id} is not ready")
        if view.state is not AgentState.IDLE:
            raise CallControlRefused(
                "target_busy", f"agent {party.agent_id} is busy ({view.state.value})"
            )

    # --- ringing a party --------------------------------------------------------------------

    async def _ring(self, party: Party, *, caller: str, caller_name: str | None = None) -> bool:
        """Ring the party; True once it answered (its media is on the clock)."""
        config = self.centre.host.config
        try:
            rtp, rtcp = bind_rtp_ports(config.rtp_host, port_range=config.rtp_ports, rtcp=True)
        except OSError as exc:
            party.failure = f"no RTP port: {exc}"
            return False
        party.socks = (rtp, rtcp)
        media = LocalMedia(config.rtp_host, int(rtp.getsockname()[1]))
        answered: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def on_answered(leg: OutboundLeg, audio: NegotiatedAudio) -> None:
            if party.ended or self.session.state == "ended":
                self._close_socks(party)
                self._spawn(leg.hang_up("no longer wanted"))
            else:
                socks = party.socks
                assert socks is not None
                party.socks = None
                party.media = add_answered_leg(self.clock, audio, socks)
                party.answered = True
            if not answered.done():
                answered.set_result(party.answered)

        def on_failed(leg: OutboundLeg, failure: LegFailure) -> None:
            self._close_socks(party)
            party.failure = f"{failure.status} {failure.reason}"
            if not answered.done():
                answered.set_result(False)

        def on_ended(leg: OutboundLeg, cause: str) -> None:
            self._party_hung_up(party, cause)

        def on_media(leg: OutboundLeg, audio: NegotiatedAudio) -> None:
            self.session.agent_media_changed(leg, audio)

        def on_refer(leg: OutboundLeg, refer: Any) -> None:
            self.session.agent_refer(leg, refer)

        callbacks = LegCallbacks(
            on_answered=on_answered,
            on_failed=on_failed,
            on_ended=on_ended,
            on_media=on_media,
            **_refer_callback(on_refer),
        )
        host = self.centre.host
        if party.kind == "number":
            trunk = await self.centre.outbound_trunk()
            if trunk is None:
                self._close_socks(party)
                party.failure = "no outbound trunk"
                return False
            credentials = _credentials(trunk)
            party.leg = await host.originate_uri(
                f"sip:{party.target}@{trunk.outbound_address}",
                media=media,
                caller=trunk.caller_id or (trunk.numbers[0] if trunk.numbers else ""),
                credentials=credentials,
                ring_timeout=RING_SECONDS,
                callbacks=callbacks,
            )
        else:
            party.leg = await host.originate(
                party.extension,
                media=media,
                caller=caller,
                caller_name=caller_name,
                ring_timeout=RING_SECONDS,
                callbacks=callbacks,
            )
        if party.ended or self.session.state == "ended":
            await party.leg.cancel("no longer wanted")
        return await answered

    def _close_socks(self, party: Party) -> None:
        close_sockets(party.socks)
        party.socks = None

    def _drop(self, party: Party, cause: str) -> None:
        """Let go of a party: hang up or cancel its leg, take its media off the clock."""
        party.ended = True
        leg = party.leg
        if leg is not None:
            self._spawn(leg.hang_up(cause))
        self._close_socks(party)
        if party.media is not None:
            self.clock.remove_leg(party.media)
            party.media = None

    # --- blind transfer -----------------------------------------------------------------------

    async def start_transfer(self, target: str, kind: str = "") -> Party:
        """Check the target and reserve it (refusals raise); the caller then leaves the agent."""
        self._require_talking()
        if self.consult is not None:
            raise CallControlRefused("consult_pending", "a consultation is in progress")
        party = await self.resolve(target, kind)
        self._require_talking()  # still (the lookup awaited)
        party.role = "transfer"
        acd = self.centre.acd
        if party.kind == "agent":
            if party.agent_id == self.session.agent_id:
                raise CallControlRefused("unknown_target", "the call is already with this agent")
            self.centre.apply(acd.transfer_to_agent(self.acd_id, party.agent_id, now=_now()))
            party.acd_id = self.acd_id
        return party

    def run_transfer(self, party: Party) -> None:
        """The first agent leaves; the caller hears ringback while the target rings."""
        session = self.session
        record = session.call.record
        if party.kind != "agent" and session.agent_id:
            self.centre.end_agent_call(self.acd_id)
        record.transfer_target = party.target
        self._publish("transferring", target=party.target)  # to the first agent's desk
        self._release_agent("transferred")
        if self.held:
            self._set_held(False)
        self.transfer = party
        session.state = "transferring"
        if session.leg is not None:
            session._moh = False
            self.clock.play_tone(session.leg, "ringback")
        self._spawn(self._transfer(party))

    async def _transfer(self, party: Party) -> None:
        session = self.session
        ok = await self._ring(party, caller=session.call.record.caller)
        if party is not self.transfer or session.state == "ended":
            if ok:
                self._drop(party, "caller gone")
            return
        self.transfer = None
        if ok:
            self._take_over(party)
            if party.kind == "agent":
                self.centre.apply_quietly(
                    lambda: self.centre.acd.transfer_answered(party.acd_id, now=_now())
                )
            self._publish("transferred", target=party.target)
            return
        self._close_socks(party)
        if party.kind == "agent":
            self.centre.apply_quietly(
                lambda: self.centre.acd.transfer_failed(party.acd_id, now=_now())
            )
        self._publish("transfer_failed", target=party.target, detail=party.failure)
        log.info("call %s: transfer to %s failed: %s", self.call_id, party.target, party.failure)
        session.requeue("transfer failed")

    def _take_over(self, party: Party) -> None:
        """The party becomes the caller's agent (a transfer or the end of a consultation)."""
        session = self.session
        record = session.call.record
        session.state = "talking"
        session.agent_leg = party.leg
        session.agent_media = party.media
        session.agent_id = party.agent_id
        session.agent_extension = party.extension or party.target
        self.acd_id = party.acd_id or self.call_id
        if party.agent_id:
            record.transfer_agent_id = party.agent_id
        record.transfer_target = party.target
        record.transferred_at = _now()
        if session.leg is not None:
            self.clock.stop_play(session.leg)
            session._moh = False
        self.rewire()
        self._record_legs()

    def _release_agent(self, cause: str) -> None:
        session = self.session
        leg, session.agent_leg = session.agent_leg, None
        media, session.agent_media = session.agent_media, None
        if leg is not None:
            self._spawn(leg.hang_up(cause))
        if media is not None:
            self.clock.remove_leg(media)
        session.agent_id = ""
        session.agent_extension = ""

    # --- consult, attended transfer, conference ------------------------------------------

    async def start_consult(self, target: str, kind: str = "") -> Party:
        self._require_talking()
        if self.consult is not None:
            raise CallControlRefused("consult_pending", "a consultation is already in progress")
        party = await self.resolve(target, kind)
        self._require_talking()
        party.role = "consult"
        if party.kind == "agent":
            self._check_agent_free(party)
            party.acd_id = f"{self.call_id}~c{next(_ids)}"
            self.centre.apply(
                self.centre.acd.agent_call_started(party.agent_id, party.acd_id, now=_now())
            )
        self.consult = party
        self._set_held(True)
        self.held_by_phone = False
        self.rewire()
        self._publish("consulting", target=party.target)
        self._spawn(self._consult(party))
        return party

    async def _consult(self, party: Party) -> None:
        session = self.session
        # The colleague's phone shows the agent's extension (to call back) and 工号 (who).
        caller = session.agent_extension or session.agent_id
        name = f"坐席{session.agent_id}" if session.agent_id else None
        ok = await self._ring(party, caller=caller, caller_name=name)
        if party.ended or session.state == "ended":
            if ok:
                self._drop(party, "caller gone")
            return
        if party is self.transfer:  # the agent left while it rang: a transfer now
            self.transfer = None
            if ok:
                self._take_over(party)
                self._publish("transferred", target=party.target)
            else:
                self._party_failed(party)
                self._publish("transfer_failed", target=party.target, detail=party.failure)
                session.requeue("transfer failed")
            return
        if ok:
            self.rewire()
            self._publish("consult_answered", target=party.target)
            return
        self._party_failed(party)
        if self.consult is party:
            self.consult = None
            self._set_held(False)
            self.rewire()
        self._publish("consult_failed", target=party.target, detail=party.failure)

    def _party_failed(self, party: Party) -> None:
        self._close_socks(party)
        if party.kind == "agent" and party.acd_id:
            self.centre.apply_quietly(
                lambda: self.centre.acd.agent_call_failed(party.acd_id, now=_now())
            )

    def complete_transfer(self) -> None:
        party = self._answered_consult()
        if self.session.agent_id:
            self.centre.end_agent_call(self.acd_id)
        self._release_agent("transferred")
        self.consult = None
        self.conference = False
        self._set_held(False)
        self._take_over(party)
        self._publish("transferred", target=party.target)

    def join_conference(self) -> None:
        self._answered_consult()
        if self.conference:
            raise CallControlRefused("already_conference", "the conference is on already")
        self.conference = True
        self._set_held(False)
        self.session.call.record.conference = True
        self.rewire()
        self._record_legs()
        self._publish("conference", target=self.consult.target if self.consult else "")

    def cancel_consult(self) -> None:
        party = self.consult
        if party is None:
            raise CallControlRefused("no_consult", "there is no consultation")
        self.consult = None
        self._end_party_in_acd(party)
        self._drop(party, "consultation ended")
        self._back_to_two()

    def _answered_consult(self) -> Party:
        self._require_talking()
        party = self.consult
        if party is None:
            raise CallControlRefused("no_consult", "there is no consultation")
        if not party.answered:
            raise CallControlRefused("consult_pending", "the consulted party has not answered")
        return party

    def _end_party_in_acd(self, party: Party) -> None:
        if party.kind != "agent" or not party.acd_id:
            return
        if party.answered:
            self.centre.end_agent_call(party.acd_id)
        else:
            self.centre.apply_quietly(
                lambda: self.centre.acd.agent_call_failed(party.acd_id, now=_now())
            )

    def _back_to_two(self) -> None:
        """The consulted party left: the agent and the caller talk again."""
        self.conference = False
        self._set_held(False)
        self.rewire()
        self._record_legs()
        self._publish("consult_ended")

    # --- parties hanging up ---------------------------------------------------------------

    def _party_hung_up(self, party: Party, cause: str) -> None:
        session = self.session
        if party.ended or session.state == "ended":
            return
        if party is self.supervisor:
            self.supervisor = None
            party.ended = True
            if party.media is not None:
                self.clock.remove_leg(party.media)
                party.media = None
            self.rewire()
            self._publish("supervision_ended", target=party.target)
        elif party is self.consult:
            self.consult = None
            party.ended = True
            self._end_party_in_acd(party)
            if party.media is not None:
                self.clock.remove_leg(party.media)
                party.media = None
            self._back_to_two()
        elif party.leg is not None and party.leg is session.agent_leg:  # now the agent
            session._spawn(session._agent_hung_up(party.leg, cause))

    def agent_hung_up(self) -> bool:
        """The agent's phone hung up: True when the caller stays (with the consulted party)."""
        party = self.consult
        if party is None:
            return False
        if self.session.agent_id:
            self.centre.end_agent_call(self.acd_id)
        self._release_agent("agent hung up")
        self.consult = None
        self.conference = False
        if party.answered:
            self._set_held(False)
            self._take_over(party)
            self._publish("transferred", target=party.target)
        else:  # still ringing: it becomes a transfer when it answers
            self.transfer = party
            self.session.state = "transferring"
        return True

    # --- supervision ------------------------------------------------------------------------

    def supervise(self, extension: str, mode: str, by: str) -> None:
        if mode not in SUPERVISION_MODES:
            raise CallControlRefused("bad_mode", f"mode must be one of {SUPERVISION_MODES}")
        session = self.session
        if session.state not in ("talking", "transferring"):
            raise CallControlRefused("not_talking", f"call {self.call_id} is not with an agent")
        current = self.supervisor
        if current is not None and current.target == extension:
            current.mode = mode
            if current.answered:
                self.rewire()
            self._publish("supervising", target=extension, detail=mode)
            return
        if current is not None:
            raise CallControlRefused("supervised", "another supervisor is on this call")
        if not self.centre.host.registrar.contacts(extension):
            raise CallControlRefused("not_registered", f"extension {extension} is not registered")
        party = Party("supervisor", extension, "extension", extension=extension, mode=mode)
        party.agent_id = by
        self.supervisor = party
        self._publish("supervising", target=extension, detail=mode)
        self._spawn(self._supervise(party))

    async def _supervise(self, party: Party) -> None:
        ok = await self._ring(party, caller=self.session.call.record.caller)
        if party.ended or self.session.state == "ended" or party is not self.supervisor:
            if ok:
                self._drop(party, "call gone")
            return
        if ok:
            self.rewire()
            return
        self.supervisor = None
        self._publish("supervision_ended", target=party.target, detail=party.failure)

    def stop_supervising(self) -> None:
        party = self.supervisor
        if party is None:
            raise CallControlRefused("not_supervised", "nobody supervises this call")
        self.supervisor = None
        self._drop(party, "supervision ended")
        self.rewire()
        self._publish("supervision_ended", target=party.target)

    # --- the end ------------------------------------------------------------------------------

    def release(self) -> None:
        """The caller is gone: hang up every party the controller rang."""
        if self.held:
            self._set_held(False)
        for party in (self.transfer, self.consult, self.supervisor):
            if party is None or party.ended:
                continue
            if party.role == "transfer" and party.kind == "agent" and not party.answered:
                # the target did not miss anything: back to idle in its old place
                self.centre.apply_quietly(
                    lambda p=party: self.centre.acd.caller_left(p.acd_id, now=_now())
                )
            elif party.role in ("consult", "transfer") and party.acd_id != self.acd_id:
                self._end_party_in_acd(party)
            self._drop(party, "caller hung up")
        self.transfer = self.consult = self.supervisor = None


def _credentials(trunk: TrunkInfo) -> Credentials | None:
    username = trunk.outbound_username or trunk.username
    password = trunk.outbound_password or trunk.password
    return Credentials(username, password) if username else None


def _refer_callback(on_refer: Any) -> dict[str, Any]:
    """``on_refer`` where the leg callbacks know it (REFER support of the legs)."""
    fields = {f.name for f in dataclasses.fields(LegCallbacks)}
    return {"on_refer": on_refer} if "on_refer" in fields else {}


def refusal_of(error: AcdError) -> CallControlRefused:
    return CallControlRefused(str(error.code), error.message)
