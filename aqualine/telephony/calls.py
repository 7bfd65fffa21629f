"""One hotline call as the switch answers it: ring, answer, then hand it to the call centre.

:class:`HotlineCall` is the UAS side of one INVITE dialog: it negotiates SDP, opens the
caller's leg on the media clock, sends 180 and then 200 (retransmitted until the ACK), follows
re-INVITEs (a hold stops what we send, a resume sends again) and ends on BYE, CANCEL, a missing
ACK, a maximum duration or the switch stopping. Once the ACK confirms the dialog, the host's
call centre runs the call (:mod:`aqualine.telephony.session`: IVR, queue, agent, recording).
It writes its :class:`~aqualine.telephony.ports.CallRecord` and publishes ``call.started`` /
``call.answered`` / ``call.ended`` through its :class:`CallHost`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import logging
import secrets
import time
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any, Protocol

from aqualine.telephony.api.events import CallAnswered, CallEnded, CallStarted, Event
from aqualine.telephony.config import SwitchConfig
from aqualine.telephony.media.g711 import Samples
from aqualine.telephony.media.handles import Leg
from aqualine.telephony.media.player import bind_rtp_ports
from aqualine.telephony.ports import CallRecord
from aqualine.telephony.sdp import (
    Answer,
    NegotiatedAudio,
    SdpError,
    SdpNegotiationError,
    build_offer,
    negotiate_answer,
    parse_answer,
)
from aqualine.telephony.sip import Request, Response, build_response, new_tag
from aqualine.telephony.sip.dialog import AnswerRetransmitter, Dialog, DialogKey
from aqualine.telephony.sip.transaction import (
    InviteServerTransaction,
    ServerTransaction,
    Timers,
    TransactionLayer,
)
from aqualine.telephony.sip.transport import format_address

log = logging.getLogger("aqualine.switch.calls")

SDP_TYPE = "application/sdp"


class CallState(enum.StrEnum):
    RINGING = "ringing"
    ANSWERED = "answered"  # 200 sent, waiting for the ACK
    CONFIRMED = "confirmed"
    ENDED = "ended"


class CallHost(Protocol):
    """What a call needs of the switch."""

    @property
    def config(self) -> SwitchConfig: ...

    @property
    def layer(self) -> TransactionLayer: ...

    @property
    def timers(self) -> Timers: ...

    def publish(self, event: Event) -> None: ...

    def write_record(self, kind: str, record: CallRecord) -> None: ...

    def contact_for(self, user: str, transport: str) -> str: ...

    def via_address(self) -> tuple[str, int]: ...

    def prompt(self) -> Samples: ...

    def call_ended(self, call: HotlineCall) -> None: ...

    def common_headers(self) -> list[tuple[str, str]]: ...

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None: ...

    @property
    def clock(self) -> Any: ...

    def call_confirmed(self, call: HotlineCall) -> None: ...

    def call_ending(self, call: HotlineCall) -> str | None: ...


def _now() -> datetime:
    return datetime.now(UTC)


class HotlineCall:
    """An inbound (or internal) call to a hotline number, answered by the switch."""

    def __init__(
        self,
        host: CallHost,
        invite: Request,
        transaction: InviteServerTransaction,
        *,
        direction: str,
        caller: str,
        callee: str,
        trunk: str = "",
    ) -> None:
        self.host = host
        self.invite = invite
        self.transaction = transaction
        self.local_tag = new_tag()
        self.dialog = Dialog.from_invite(
            invite, local_tag=self.local_tag, source=transaction.source
        )
        self.state = CallState.RINGING
        self.record = CallRecord(
            call_id="c" + secrets.token_hex(8),
            sip_call_id=invite.call_id,
            direction=direction,
            caller=caller,
            callee=callee,
            source=format_address(transaction.source.address),
            trunk=trunk,
            started_at=_now(),
        )
        self.media_leg: Leg | None = None
        self.local_port = 0
        self._late_socks: tuple[Any, Any] | None = None  # bound for an offer we made
        self._early_prompt = False
        self._confirmed_once = False
        self.media_stats: Any = None
        self.audio: NegotiatedAudio | None = None
        self.session_id = secrets.randbelow(2**31)
        self.session_version = secrets.randbelow(2**20)
        self.local_sdp: bytes = b""
        self.awaiting_answer_in_ack = False  # we offered in the 2xx (late offer)
        self._pending_2xx_cseq: int | None = None
        self._retransmitter: AnswerRetransmitter | None = None
        self._answer_task: asyncio.Task[None] | None = None
        self._limit: asyncio.TimerHandle | None = None
        self._ended = asyncio.get_running_loop().create_future()
        self._started_monotonic = time.monotonic()
        self.bye_response: Response | None = None

    @property
    def call_id(self) -> str:
        return self.record.call_id

    @property
    def key(self) -> DialogKey:
        return self.dialog.key

    @property
    def ended(self) -> asyncio.Future[None]:
        return self._ended

    def snapshot(self) -> dict[str, Any]:
        record = self.record
        audio = self.audio
        return {
            "call_id": record.call_id,
            "sip_call_id": record.sip_call_id,
            "direction": record.direction,
            "caller": record.caller,
            "callee": record.callee,
            "source": record.source,
            "trunk": record.trunk,
            "state": self.state.value,
            "started_at": record.started_at.isoformat() if record.started_at else None,
            "answered_at": record.answered_at.isoformat() if record.answered_at else None,
            "codec": audio.codec.name if audio else None,
            "held": bool(audio and not audio.direction.sends),
            "rtp_port": self.local_port or None,
        }

    # --- answering ---------------------------------------------------------------------------

    async def prepare(self, offer: bytes) -> Response | None:
        """Open the media leg and negotiate; a response refusing the call, or None."""
        config = self.host.config
        codec, payload_type, dtmf_payload_type = "PCMU", 0, 101
        if offer:
            try:
                probe = negotiate_answer(
                    offer, local_ip=config.rtp_host, local_port=9, session_id=0, session_version=0
                )
            except SdpNegotiationError:
                return build_response(
                    self.invite, 488, headers=[("Warning", '304 aqualine "no common codec"')]
                )
            except SdpError as exc:
                return build_response(self.invite, 400, f"Bad SDP: {str(exc)[:60]}")
            codec = probe.audio.codec.name
            payload_type = probe.audio.codec.payload_type
            dtmf_payload_type = probe.audio.telephone_event_pt or 101
        try:
            rtp, rtcp = bind_rtp_ports(config.rtp_host, port_range=config.rtp_ports, rtcp=True)
        except OSError as exc:
            log.error("no RTP port for call %s: %s", self.call_id, exc)
            return build_response(self.invite, 503, "No media port")
        self.local_port = int(rtp.getsockname()[1])
        if offer:
            self.media_leg = self.host.clock.add_leg(
                codec=codec,
                payload_type=payload_type,
                dtmf_payload_type=dtmf_payload_type,
                sock=rtp,
                rtcp_sock=rtcp,
                sending=False,
            )
            answer = self._negotiate(offer, supported=("PCMU", "PCMA"))
            await self._apply_audio(answer.audio)
            self.local_sdp = answer.to_bytes()
        else:
            self._late_socks = (rtp, rtcp)  # the leg opens when the ACK brings the answer
            self.awaiting_answer_in_ack = True
            self.local_sdp = build_offer(
                local_ip=config.rtp_host,
                local_port=self.local_port,
                session_id=self.session_id,
                session_version=self.session_version,
            )
        return None

    def discard_media(self) -> None:
        """Release the media of a call that is refused before it starts."""
        if self.media_leg is not None:
            self.host.clock.remove_leg(self.media_leg)
            self.media_leg = None
        for sock in self._late_socks or ():
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
        self._late_socks = None

    def _negotiate(self, offer: bytes, *, supported: tuple[str, ...]) -> Answer:
        options: dict[str, Any] = {
            "local_ip": self.host.config.rtp_host,
            "local_port": self.local_port,
            "session_id": self.session_id,
            "supported": supported,
        }
        answer = negotiate_answer(offer, session_version=self.session_version, **options)
        if self.local_sdp and answer.to_bytes() != self.local_sdp:
            # RFC 3264 §8: a changed description carries the next version number.
            self.session_version += 1
            answer = negotiate_answer(offer, session_version=self.session_version, **options)
        return answer

    async def _apply_audio(self, audio: NegotiatedAudio) -> None:
        """Point the leg at the remote (opening it once the codec is known)."""
        clock = self.host.clock
        if self.media_leg is None:
            if self._late_socks is None:
                return
            rtp, rtcp = self._late_socks
            self._late_socks = None
            self.media_leg = clock.add_leg(
                codec=audio.codec.name,
                payload_type=audio.codec.payload_type,
                dtmf_payload_type=audio.telephone_event_pt,
                sock=rtp,
                rtcp_sock=rtcp,
                sending=False,
            )
        self.audio = audio
        if not audio.remote_zero_address and audio.remote_port:
            clock.set_remote(
                self.media_leg,
                audio.remote_address,
                audio.remote_port,
                rtcp_port=audio.remote_rtcp_port,
            )

    def _update_playback(self) -> None:
        """Send while the remote wants to receive (not on hold); hand a confirmed call to the
        call centre once; play the welcome prompt as early media before the answer."""
        leg, audio = self.media_leg, self.audio
        if leg is None or self.state is CallState.ENDED:
            return
        clock = self.host.clock
        sending = audio is not None and audio.direction.sends and not audio.remote_zero_address
        clock.set_sending(leg, sending)
        if self.state is CallState.RINGING and sending and not self._early_prompt:
            self._early_prompt = True
            clock.play(leg, self.host.prompt(), loop=True)
        if self.state is CallState.CONFIRMED and not self._confirmed_once:
            self._confirmed_once = True
            self.host.call_confirmed(self)

    def start(self) -> None:
        """Announce the call and run ringing and answering in the background."""
        self.host.publish(
            CallStarted(
                call_id=self.call_id,
                direction=self.record.direction,
                caller=self.record.caller,
                callee=self.record.callee,
            )
        )
        self.host.write_record("started", self.record)
        self._answer_task = asyncio.get_running_loop().create_task(self._ring_and_answer())

    async def _ring_and_answer(self) -> None:
        try:
            early = self.local_sdp and not self.awaiting_answer_in_ack
            if self.host.config.early_media and early:
                self.transaction.respond(self._with_sdp(self.invite, 183))
                self._update_playback()  # the caller hears the prompt before the answer
            else:
                self._respond_invite(180)
            if self.host.config.ring_seconds > 0:
                await asyncio.sleep(self.host.config.ring_seconds)
            if self.state is not CallState.RINGING:
                return
            self._answer()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("answering call %s failed", self.call_id)
            if self.state is CallState.RINGING:
                self._respond_invite(500)
                await self.end("failed", "500 Server Internal Error")

    def _dialog_headers(self) -> list[tuple[str, str]]:
        contact = self.host.contact_for(self.record.callee, self.dialog.transport)
        return [("Contact", contact), *self.host.common_headers()]

    def _respond_invite(self, status: int, reason: str | None = None) -> Response:
        headers = self._dialog_headers() if status < 300 else self.host.common_headers()
        response = build_response(
            self.invite,
            status,
            reason,
            to_tag=self.local_tag,
            headers=headers,
            copy_record_route=status < 300,
        )
        self.transaction.respond(response)
        return response

    def _ok_with_sdp(self, request: Request) -> Response:
        return self._with_sdp(request, 200)

    def _with_sdp(self, request: Request, status: int) -> Response:
        return build_response(
            request,
            status,
            to_tag=self.local_tag,
            headers=[*self._dialog_headers(), ("Content-Type", SDP_TYPE)],
            body=self.local_sdp,
            copy_record_route=True,
        )

    def _answer(self) -> None:
        response = self._ok_with_sdp(self.invite)
        self.transaction.respond(response)
        self.state = CallState.ANSWERED
        self.record.answered_at = _now()
        self._update_playback()
        self._start_retransmitting(self.transaction, response, self.invite.cseq.number)
        self.host.publish(CallAnswered(call_id=self.call_id))
        limit = self.host.config.max_call_seconds
        if limit > 0:
            self._limit = asyncio.get_running_loop().call_later(limit, self._on_time_limit)
        log.info(
            "call %s answered (%s)", self.call_id, self.audio.codec.name if self.audio else "-"
        )

    def _start_retransmitting(
        self, transaction: InviteServerTransaction, response: Response, cseq: int
    ) -> None:
        if self._retransmitter is not None:
            self._retransmitter.stop()
        self._pending_2xx_cseq = cseq
        self._retransmitter = AnswerRetransmitter(
            lambda: transaction.send_2xx_retransmission(response),
            scheduler=self.host.layer.scheduler,
            timers=self.host.timers,
            on_give_up=self._on_no_ack,
        )

    def _on_no_ack(self) -> None:
        self._spawn(self.hang_up("no ACK", outcome="failed"))

    def _on_time_limit(self) -> None:
        self._spawn(self.hang_up("switch hung up"))

    # --- requests in the dialog ---------------------------------------------------------------

    def on_ack(self, ack: Request) -> None:
        if self._pending_2xx_cseq is None or ack.cseq.number != self._pending_2xx_cseq:
            return
        self._pending_2xx_cseq = None
        if self._retransmitter is not None:
            self._retransmitter.acknowledged()
        if self.state is CallState.ANSWERED:
            self.state = CallState.CONFIRMED
        if self.awaiting_answer_in_ack:
            self.awaiting_answer_in_ack = False
            self._answer_from_ack(ack)
        self._update_playback()

    def _answer_from_ack(self, ack: Request) -> None:
        if not ack.body:
            log.info("call %s: the ACK carries no answer to our offer", self.call_id)
            self._spawn(self.hang_up("no SDP answer", outcome="failed"))
            return
        try:
            audio = parse_answer(self.local_sdp, ack.body)
        except SdpError as exc:
            log.info("call %s: unusable answer in the ACK: %s", self.call_id, exc)
            self._spawn(self.hang_up("bad SDP answer", outcome="failed"))
            return
        self._spawn(self._apply_late_answer(audio))

    async def _apply_late_answer(self, audio: NegotiatedAudio) -> None:
        await self._apply_audio(audio)
        self._update_playback()

    def on_reinvite(self, request: Request, transaction: ServerTransaction) -> None:
        assert isinstance(transaction, InviteServerTransaction)
        if self.state is CallState.RINGING or self._pending_2xx_cseq is not None:
            # §14.2: a second INVITE while the first is unanswered (or unacknowledged).
            transaction.respond(
                build_response(request, 500, headers=[("Retry-After", "1")], to_tag=self.local_tag)
            )
            return
        if request.body:
            try:
                assert self.audio is not None
                answer = self._negotiate(request.body, supported=(self.audio.codec.name,))
            except SdpNegotiationError:
                transaction.respond(build_response(request, 488, to_tag=self.local_tag))
                return
            except SdpError:
                transaction.respond(build_response(request, 400, "Bad SDP", to_tag=self.local_tag))
                return
            self.local_sdp = answer.to_bytes()
            self._spawn(self._apply_reinvite(answer.audio))
        else:
            self.awaiting_answer_in_ack = True  # our current description is the offer
        response = self._ok_with_sdp(request)
        transaction.respond(response)
        self._start_retransmitting(transaction, response, request.cseq.number)

    async def _apply_reinvite(self, audio: NegotiatedAudio) -> None:
        await self._apply_audio(audio)
        self._update_playback()
        log.info(
            "call %s: re-INVITE, now %s%s",
            self.call_id,
            audio.direction.value,
            " (held by the caller)" if audio.held_by_remote else "",
        )

    def on_bye(self, request: Request, transaction: ServerTransaction) -> None:
        transaction.respond(build_response(request, 200, headers=self.host.common_headers()))
        if self.state is CallState.RINGING:
            self._respond_invite(487)
            self._spawn(self.end("cancelled", "caller hung up before answer"))
        else:
            self._spawn(self.end("answered", "caller hung up"))

    def cancel(self) -> bool:
        """A CANCEL arrived: True if it ended the call (487 sent), False if too late."""
        if self.state is not CallState.RINGING:
            return False
        self._respond_invite(487)
        self._spawn(self.end("cancelled", "487 Request Terminated"))
        return True

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        self.host.spawn(coroutine)

    # --- ending -------------------------------------------------------------------------------

    async def hang_up(
        self, cause: str, *, wait: float | None = None, outcome: str = "answered"
    ) -> None:
        """End the call from our side: BYE when answered, 480 while still ringing.

        ``outcome`` is what the record says of an answered call ("failed" when the caller
        never confirmed it or its media).
        """
        if self.state is CallState.ENDED:
            return
        if self.state is CallState.RINGING:
            self._respond_invite(480, "Temporarily Unavailable")
            await self.end("failed", cause)
            return
        await self.end(outcome, cause)
        await self._send_bye(wait)

    async def _send_bye(self, wait: float | None) -> None:
        host_ip, port = self.host.via_address()
        try:
            destination, transport = await self.dialog.destination()
            bye = self.dialog.build_request(
                "BYE", via_host=host_ip, via_port=port, headers=self.host.common_headers()
            )
            transaction = await self.host.layer.request(bye, destination, transport)
            timeout = wait if wait is not None else self.host.timers.timeout + 1
            self.bye_response = await asyncio.wait_for(asyncio.shield(transaction.final), timeout)
            log.info("call %s: BYE answered %d", self.call_id, self.bye_response.status)
        except (OSError, TimeoutError) as exc:
            log.info("call %s: BYE not answered: %r", self.call_id, exc)

    async def end(self, outcome: str, cause: str) -> None:
        """Release everything and write the record (once)."""
        if self.state is CallState.ENDED:
            await asyncio.shield(self._ended)
            return
        self.state = CallState.ENDED
        if self._retransmitter is not None:
            self._retransmitter.stop()
        if self._limit is not None:
            self._limit.cancel()
        task = self._answer_task
        if task is not None and task is not asyncio.current_task() and not task.done():
            task.cancel()
        override = None
        try:
            override = self.host.call_ending(self)
        except Exception:
            log.exception("call %s: the call centre failed to release it", self.call_id)
        self.record.ended_at = _now()
        self.record.outcome = override or outcome
        self.record.end_cause = cause
        leg, self.media_leg = self.media_leg, None
        if leg is not None:
            # released by the clock at its next tick; the record does not wait for it
            self.host.clock.remove_leg(leg)
        if self._late_socks is not None:
            for sock in self._late_socks:
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.close()
            self._late_socks = None
        self.host.write_record("ended", dataclasses.replace(self.record))
        started = self.record.started_at or self.record.ended_at
        self.host.publish(
            CallEnded(
                call_id=self.call_id,
                outcome=self.record.outcome,
                cause=cause,
                duration=round((self.record.ended_at - started).total_seconds(), 3),
            )
        )
        self.host.call_ended(self)
        log.info("call %s ended: %s (%s)", self.call_id, self.record.outcome, cause)
        if not self._ended.done():
            self._ended.set_result(None)
