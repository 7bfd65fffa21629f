"""The switch: SIP over UDP/TCP, the registrar, and the hotline that answers calls.

Usage (the ``aqualine switch`` command does this with the ORM adapters)::

    switch = Switch(config, directory, records, bus)
    await switch.start()          # closes dangling call records, then listens
    ...                           # switch.status(), .registrations(), .calls()
    await switch.stop()           # BYE to live calls, records written, sockets closed

Request routing (``../shared/spec/domain.md``, "Demo telephony"):

- OPTIONS → 200 with Allow/Accept/Supported; REGISTER → :class:`Registrar`;
- INVITE from an enabled trunk's host to one of that trunk's numbers → an inbound hotline
  call, without credentials unless the trunk has a username (then digest);
- any other INVITE must authenticate as the extension in its From; an extension calling a
  hotline number (the trunks' numbers and ``SwitchConfig.hotline_numbers``) reaches the
  hotline ("internal"), a call to another extension gets 480 (a later part connects them),
  anything else 404;
- BYE / re-INVITE / INFO in a dialog go to the call; outside any dialog → 481;
  CANCEL → 200 and 487 to its INVITE, or 481 when no INVITE matches.

Outbound legs (:mod:`aqualine.telephony.legs`): :meth:`Switch.originate` rings a registered
extension, :meth:`Switch.originate_uri` a SIP URI (a trunk); responses reach a leg through
its client transactions, in-dialog requests and ACKs by Call-ID and our tag (the To tag).

Ports (directory, records) are synchronous and run in threads; record writes go through one
queue so that a call's "started" is always written before its "ended".
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import tempfile
import time
from collections.abc import Coroutine, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aqualine.telephony.acd.states import AcdError
from aqualine.telephony.api.events import Event
from aqualine.telephony.api.server import CommandRefused
from aqualine.telephony.audio_prompts import PromptLibrary
from aqualine.telephony.callcontrol import CallControlRefused
from aqualine.telephony.calls import CallState, HotlineCall
from aqualine.telephony.centre import CONTROL_COMMANDS, CallCentre
from aqualine.telephony.config import SwitchConfig
from aqualine.telephony.digest import DigestAuthenticator, FailureLimiter
from aqualine.telephony.events import EventBus
from aqualine.telephony.ivr.ports import IvrPorts
from aqualine.telephony.legs import (
    Credentials,
    LegCallbacks,
    LegTarget,
    LocalMedia,
    OutboundLeg,
)
from aqualine.telephony.media import WELCOME, load_prompt
from aqualine.telephony.media.clock import MediaClock
from aqualine.telephony.media.g711 import Samples
from aqualine.telephony.media.handles import MediaEvent
from aqualine.telephony.ports import CallRecord, Directory, Records, TrunkInfo
from aqualine.telephony.registrar import AuthOutcome, Registrar, SipAuth
from aqualine.telephony.sip import (
    Request,
    Response,
    SipParseError,
    SipUri,
    TelUri,
    build_response,
    validate_request,
    validate_response,
)
from aqualine.telephony.sip.dialog import DialogKey, dialog_key
from aqualine.telephony.sip.transaction import (
    InviteServerTransaction,
    ServerTransaction,
    Timers,
    TransactionLayer,
)
from aqualine.telephony.sip.transport import SipTransport, Source, canonical_ip
from aqualine.telephony.sip.uri import format_host

log = logging.getLogger("aqualine.switch")

# REFER: an agent's phone transfers its call (legs.py, refer.py); callers may not.
ALLOWED_METHODS = ("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "INFO", "REFER")
SUPPORTED_OPTIONS: tuple[str, ...] = ()
HOUSEKEEPING_INTERVAL = 1.0
STOP_BYE_WAIT = 3.0


class Switch:
    """The switch process's SIP engine; see the module docstring."""

    def __init__(
        self,
        config: SwitchConfig,
        directory: Directory,
        records: Records,
        bus: EventBus,
        *,
        ivr_ports: IvrPorts | None = None,
    ) -> None:
        self.config = config
        self.ivr_ports = ivr_ports
        self.clock: MediaClock | None = None
        self.centre: CallCentre | None = None
        self.directory = directory
        self.records = records
        self.bus = bus
        self.timers = Timers(t1=config.timer_t1, t2=config.timer_t2, t4=config.timer_t4)
        secret = config.nonce_secret
        if len(secret) < 16:
            secret = secrets.token_bytes(32)  # nonces then do not survive a restart
        self.auth = SipAuth(
            DigestAuthenticator(config.realm, secret, nonce_ttl=config.nonce_ttl),
            FailureLimiter(
                max_failures=config.auth_max_failures,
                window=config.auth_failure_window,
                block=config.auth_block_seconds,
            ),
            algorithms=config.auth_algorithms,
        )
        self.registrar = Registrar(
            directory=directory,
            bus=bus,
            auth=self.auth,
            min_expires=config.register_min_expires,
            max_expires=config.register_max_expires,
        )
        self._transport: SipTransport | None = None
        self._layer: TransactionLayer | None = None
        self._calls: dict[DialogKey, HotlineCall] = {}
        self._calls_by_invite: dict[int, HotlineCall] = {}
        self._legs: dict[tuple[str, str], OutboundLeg] = {}  # (Call-ID, our tag) → live leg
        self._tasks: set[asyncio.Task[Any]] = set()
        self._record_queue: asyncio.Queue[tuple[str, CallRecord] | None] | None = None
        self._record_writer: asyncio.Task[None] | None = None
        self._housekeeper: asyncio.Task[None] | None = None
        self._prompt: Samples | None = None
        self._started_at: float | None = None
        self._started_wall: datetime | None = None
        self._stopping = False
        self.calls_total = 0
        self.errors = 0  # requests whose handling raised (answered 500) and failed tasks
        self.dangling_closed = 0

    # --- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Close records of calls that died with the last run, then serve SIP."""
        now = datetime.now(UTC)
        self.dangling_closed = await asyncio.to_thread(
            self.records.close_dangling_calls, ended_at=now, cause="switch restarted"
        )
        if self.dangling_closed:
            log.warning("closed %d call records left open by the last run", self.dangling_closed)
        self._prompt = await asyncio.to_thread(load_prompt, self.config.welcome_prompt or WELCOME)
        self.clock = MediaClock(
            self.config.rtp_host,
            port_range=self.config.rtp_ports,
            loop=asyncio.get_running_loop(),
            on_event=self._on_media_event,
            media_timeout=self.config.rtp_timeout or None,
        )
        self.clock.start()
        self._record_queue = asyncio.Queue()
        self._record_writer = asyncio.get_running_loop().create_task(self._write_records())
        transport = SipTransport(
            self._on_message,
            host=self.config.sip_host,
            port=self.config.sip_port,
            transports=self.config.transports,
            force_rport=self.config.force_rport,
        )
        self._layer = TransactionLayer(
            transport, on_request=self._on_request, on_ack=self._on_ack, timers=self.timers
        )
        await transport.start()
        self._transport = transport
        self._housekeeper = asyncio.get_running_loop().create_task(self._housekeeping())
        self._started_at = time.monotonic()
        self._started_wall = now
        var = Path(self.config.var_dir) if self.config.var_dir else Path(tempfile.gettempdir())
        self.centre = CallCentre(
            self,
            ivr_ports=self.ivr_ports,
            recordings_dir=Path(self.config.recordings_dir or var / "recordings"),
            prompts=PromptLibrary([Path(d) for d in self.config.prompt_dirs], var / "prompt-cache"),
        )
        await self.centre.start()
        log.info("switch started: SIP on %s:%d", self.config.sip_host, transport.port)

    async def stop(self) -> None:
        """End live calls (BYE, records written), then close the sockets."""
        if self._stopping or self._transport is None:
            return
        self._stopping = True
        calls = list(self._calls.values())
        if calls:
            log.info("stopping: hanging up %d calls", len(calls))
            await asyncio.gather(
                *(call.hang_up("switch stopped", wait=STOP_BYE_WAIT) for call in calls),
                return_exceptions=True,
            )
        legs = list(self._legs.values())
        if legs:
            log.info("stopping: hanging up %d outbound legs", len(legs))
            await asyncio.gather(
                *(leg.hang_up("Switch stopped", wait=STOP_BYE_WAIT) for leg in legs),
                return_exceptions=True,
            )
        if self.centre is not None:
            await self.centre.stop()
        if self._housekeeper is not None:
            self._housekeeper.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._housekeeper is not None:
            await asyncio.gather(self._housekeeper, return_exceptions=True)
        if self._record_queue is not None and self._record_writer is not None:
            self._record_queue.put_nowait(None)
            await asyncio.gather(self._record_writer, return_exceptions=True)
        if self._layer is not None:
            self._layer.clear()
        await self._transport.stop()
        self._transport = None
        if self.clock is not None:
            await asyncio.to_thread(self.clock.stop)
        log.info("switch stopped")

    async def __aenter__(self) -> Switch:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- what the control API shows -----------------------------------------------------------

    @property
    def sip_port(self) -> int:
        """The bound SIP port (useful when the configured port is 0)."""
        return self._transport.port if self._transport is not None else 0

    @property
    def layer(self) -> TransactionLayer:
        if self._layer is None:
            raise RuntimeError("the switch is not started")
        return self._layer

    @property
    def transport(self) -> SipTransport:
        if self._transport is None:
            raise RuntimeError("the switch is not started")
        return self._transport

    def status(self) -> dict[str, Any]:
        transport = self._transport
        return {
            "uptime": round(time.monotonic() - self._started_at, 3) if self._started_at else 0.0,
            "started_at": self._started_wall.isoformat() if self._started_wall else None,
            "registrations": self.registrar.registered_count,
            "contacts": len(self.registrar.registrations()),
            "calls": len(self._calls),
            "calls_total": self.calls_total,
            "errors": self.errors,
            "sip_host": self.config.sip_host,
            "transports": {name.lower(): port for name, port in transport.ports.items()}
            if transport
            else {},
        }

    def registrations(self) -> list[dict[str, Any]]:
        return self.registrar.registrations()

    def calls(self) -> list[dict[str, Any]]:
        """The calls in progress: each hotline call with its session (IVR, queue, agent, call
        control), then the agents' click-to-dial calls."""
        calls = []
        for call in self._calls.values():
            view = call.snapshot()
            if self.centre is not None:
                view["session"] = self.centre.session_snapshot(call.call_id)
            calls.append(view)
        if self.centre is not None:
            calls.extend(call.snapshot() for call in self.centre.outbound_calls.values())
        return calls

    # --- the call centre (IVR, ACD, media) -----------------------------------------------------

    def agents(self) -> list[dict[str, Any]]:
        return self.centre.agents() if self.centre is not None else []

    def queues(self) -> list[dict[str, Any]]:
        return self.centre.queues() if self.centre is not None else []

    async def agent_command(
        self, command: str, agent_id: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        """An agent's or supervisor's command (control API); CommandRefused when refused."""
        if self.centre is None:
            raise CommandRefused("not_running", "the switch is not running", 503)
        if command == "login":
            agent = await asyncio.to_thread(self.directory.agent, agent_id)
            if agent is None or not agent.enabled:
                raise CommandRefused("unknown_agent", f"no active agent {agent_id}", 404)
            agent_id = agent.agent_id
            extension = str(params.get("extension") or "")
            if not self.registrar.contacts(extension):
                raise CommandRefused(
                    "extension_not_registered", f"extension {extension} is not registered"
                )
        try:
            if command in CONTROL_COMMANDS:
                return await self.centre.control(command, agent_id, params)
            return self.centre.command(command, agent_id, **params)
        except AcdError as refused:
            raise CommandRefused(refused.code, refused.message) from None
        except CallControlRefused as refused:
            status = 404 if refused.code in ("unknown_agent", "unknown_call") else 409
            raise CommandRefused(refused.code, refused.message, status) from None
        except TypeError as exc:
            raise ValueError(f"bad parameters for {command}: {exc}") from None

    async def call_command(
        self, command: str, call_id: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        """A supervisor's command on a call: ``supervise`` or ``stop_supervising``."""
        if self.centre is None:
            raise CommandRefused("not_running", "the switch is not running", 503)
        try:
            if command == "supervise":
                return self.centre.supervise(call_id, params)
            if command == "stop_supervising":
                return self.centre.stop_supervising(call_id)
        except CallControlRefused as refused:
            status = 404 if refused.code == "unknown_call" else 409
            raise CommandRefused(refused.code, refused.message, status) from None
        raise ValueError(f"unknown command {command!r}")

    async def hang_up_call(self, call_id: str) -> bool:
        call = next((c for c in self._calls.values() if c.call_id == call_id), None)
        if call is None:
            outbound = self.centre.outbound_calls.get(call_id) if self.centre else None
            if outbound is None:
                return False
            await outbound.hang_up("hung up by command")
            return True
        await call.hang_up("hung up by command")
        return True

    def call_confirmed(self, call: HotlineCall) -> None:
        if self.centre is not None:
            self.spawn(self.centre.call_confirmed(call))

    def call_ending(self, call: HotlineCall) -> str | None:
        return self.centre.call_ending(call) if self.centre is not None else None

    def _on_media_event(self, event: MediaEvent) -> None:
        if self.centre is not None:
            try:
                self.centre.on_media_event(event)
            except Exception:
                log.exception("handling the media event %s failed", event)

    def legs(self) -> list[dict[str, Any]]:
        """Snapshots of the live outbound legs."""
        return [leg.snapshot() for leg in self._legs.values()]

    # --- outbound legs ------------------------------------------------------------------------

    async def originate(
        self,
        extension: str,
        *,
        media: LocalMedia,
        caller: str = "",
        caller_name: str | None = None,
        ring_timeout: float | None = None,
        callbacks: LegCallbacks | None = None,
    ) -> OutboundLeg:
        """Ring ``extension`` at its latest registered contact; the leg is started.

        An extension with no live registration gets a leg that has already failed (480 "Not
        registered", kind unreachable) without a packet sent.
        """
        bindings = self.registrar.contacts(extension)
        target = None
        if bindings:
            latest = max(bindings, key=lambda binding: binding.registered_at)
            target = LegTarget.registered(latest, domain=self._public_host())
        leg = OutboundLeg(
            self,
            target,
            media,
            caller=caller,
            caller_name=caller_name,
            callee=extension,
            ring_timeout=ring_timeout,
            callbacks=callbacks,
        )
        await leg.start()
        return leg

    async def originate_uri(
        self,
        uri: str,
        *,
        media: LocalMedia,
        caller: str = "",
        caller_name: str | None = None,
        credentials: Credentials | None = None,
        transport: str | None = None,
        ring_timeout: float | None = None,
        callbacks: LegCallbacks | None = None,
    ) -> OutboundLeg:
        """Call a SIP URI (a number at a trunk), answering its challenge with ``credentials``."""
        leg = OutboundLeg(
            self,
            LegTarget.for_uri(uri, transport=transport),
            media,
            caller=caller,
            caller_name=caller_name,
            credentials=credentials,
            ring_timeout=ring_timeout,
            callbacks=callbacks,
        )
        await leg.start()
        return leg

    def leg_started(self, leg: OutboundLeg) -> None:
        self._legs[leg.local_key] = leg

    def leg_ended(self, leg: OutboundLeg) -> None:
        if self._legs.get(leg.local_key) is leg:
            del self._legs[leg.local_key]

    # --- CallHost ----------------------------------------------------------------------------

    def publish(self, event: Event) -> None:
        self.bus.publish(event)

    def write_record(self, kind: str, record: CallRecord) -> None:
        if self._record_queue is not None:
            self._record_queue.put_nowait((kind, dataclasses.replace(record)))

    def via_address(self) -> tuple[str, int]:
        return self._public_host(), self.sip_port

    def contact_for(self, user: str, transport: str) -> str:
        suffix = ";transport=tcp" if transport.upper() == "TCP" else ""
        host = format_host(self._public_host())
        return f"<sip:{user}@{host}:{self.sip_port}{suffix}>" if user else f"<sip:{host}>"

    def prompt(self) -> Samples:
        assert self._prompt is not None
        return self._prompt

    def call_ended(self, call: HotlineCall) -> None:
        if self._calls.get(call.key) is call:
            del self._calls[call.key]
        self._calls_by_invite.pop(id(call.transaction), None)

    def common_headers(self) -> list[tuple[str, str]]:
        return [("Server", self.config.user_agent)] if self.config.user_agent else []

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.errors += 1
            log.error("switch task failed", exc_info=task.exception())

    def _public_host(self) -> str:
        host = self.config.sip_public_host or self.config.sip_host
        if host in ("0.0.0.0", "::", ""):  # noqa: S104 (a wildcard is not an address)
            host = self.config.rtp_host
        return host

    # --- messages -----------------------------------------------------------------------------

    def _on_message(self, message: Request | Response, source: Source) -> None:
        if isinstance(message, Response):
            problem = validate_response(message)
            if problem is not None:
                log.info("dropping a malformed response from %s: %s", source, problem)
                return
            if self._layer is not None and not self._layer.receive_response(message):
                log.debug("dropping a response that matches no transaction: %r", message)
            return
        failure = validate_request(
            message, allowed_methods=ALLOWED_METHODS, supported=SUPPORTED_OPTIONS
        )
        if failure is not None:
            log.info(
                "refusing %s from %s: %d %s", message.method, source, failure.status, failure.reason
            )
            response = failure.response(message)
            if response is not None and self._transport is not None:
                self._transport.send_response(response, source)
            return
        if self._layer is not None:
            self._layer.receive_request(message, source)

    def _on_request(self, request: Request, transaction: ServerTransaction) -> None:
        if self._stopping:
            transaction.respond(build_response(request, 503, "Shutting down"))
            return
        method = request.method
        if method == "OPTIONS":
            transaction.respond(self._options_response(request))
        elif method == "REGISTER":
            self._run(transaction, self._register(request, transaction))
        elif method == "CANCEL":
            self._cancel(request, transaction)
        elif request.to_addr.tag is not None:
            self._in_dialog(request, transaction)
        elif method == "INVITE":
            assert isinstance(transaction, InviteServerTransaction)
            self._run(transaction, self._new_invite(request, transaction))
        else:
            transaction.respond(build_response(request, 481))

    def _run(self, transaction: ServerTransaction, coroutine: Coroutine[Any, Any, None]) -> None:
        async def guarded() -> None:
            try:
                await coroutine
            except asyncio.CancelledError:
                raise
            except Exception:
                self.errors += 1
                log.exception("handling %s failed", transaction.request.method)
                if not transaction.final_sent:
                    transaction.respond(build_response(transaction.request, 500))

        self.spawn(guarded())

    def _options_response(self, request: Request) -> Response:
        headers = [
            ("Allow", ", ".join(ALLOWED_METHODS)),
            ("Accept", "application/sdp"),
            ("Accept-Encoding", "identity"),
            ("Accept-Language", "en"),
            ("Supported", ", ".join(SUPPORTED_OPTIONS)),
            *self.common_headers(),
        ]
        return build_response(request, 200, headers=headers)

    async def _register(self, request: Request, transaction: ServerTransaction) -> None:
        response = await self.registrar.handle(request, transaction.source)
        for name, value in self.common_headers():
            response.headers.add(name, value)
        transaction.respond(response)

    def _find_call(self, request: Request) -> HotlineCall | None:
        key = dialog_key(request.call_id, request.to_addr.tag or "", request.from_addr.tag)
        return self._calls.get(key)

    def _find_leg(self, request: Request) -> OutboundLeg | None:
        return self._legs.get((request.call_id, request.to_addr.tag or ""))

    def _on_ack(self, ack: Request, source: Source) -> None:
        try:
            call = self._find_call(ack)
            leg = self._find_leg(ack) if call is None else None
        except SipParseError:
            return
        if call is not None:
            call.on_ack(ack)
        elif leg is not None:
            leg.on_ack(ack)

    def _in_dialog(self, request: Request, transaction: ServerTransaction) -> None:
        leg = self._find_leg(request)
        if leg is not None:
            leg.on_request(request, transaction)
            return
        call = self._find_call(request)
        if call is None or call.state is CallState.ENDED:
            transaction.respond(build_response(request, 481))
            return
        if not call.dialog.accepts_cseq(request):
            transaction.respond(build_response(request, 500, "CSeq out of order"))
            return
        if request.method == "BYE":
            call.on_bye(request, transaction)
        elif request.method == "INVITE":
            call.on_reinvite(request, transaction)
        elif request.method == "REFER":  # a caller does not transfer the hotline
            transaction.respond(build_response(request, 603, "Transfer not allowed"))
        else:
            transaction.respond(build_response(request, 200, headers=self.common_headers()))

    def _cancel(self, cancel: Request, transaction: ServerTransaction) -> None:
        invite = self.layer.invite_for_cancel(cancel)
        if invite is None:
            transaction.respond(build_response(cancel, 481))
            return
        transaction.respond(build_response(cancel, 200, headers=self.common_headers()))
        call = self._calls_by_invite.get(id(invite))
        if call is not None:
            call.cancel()
        elif not invite.final_sent:
            # Still routing or authenticating: answer the INVITE now; the handler gives up.
            invite.cancelled = True
            invite.respond(build_response(invite.request, 487))

    # --- new calls ----------------------------------------------------------------------------

    async def _new_invite(self, invite: Request, transaction: InviteServerTransaction) -> None:
        source = transaction.source
        target = _user_of(invite.uri)
        caller = _user_of(invite.from_addr.uri)
        trunks = await asyncio.to_thread(self.directory.trunks)
        if transaction.cancelled:
            return
        trunk = _trunk_for(trunks, canonical_ip(source.address[0]), target)
        direction = "inbound"
        if trunk is not None:
            if trunk.username:
                outcome = await self._authenticate_trunk(invite, source, trunk)
                if outcome.response is not None:
                    transaction.respond(outcome.response)
                    return
        else:
            outcome = await self.auth.check(
                invite,
                source,
                lookup_password=self.registrar.password_of,
                expected_user=caller or None,
            )
            if transaction.cancelled:
                return
            if outcome.response is not None:
                transaction.respond(outcome.response)
                return
            direction = "internal"
            hotline = {n for t in trunks if t.enabled for n in t.numbers}
            hotline.update(self.config.hotline_numbers)
            if target not in hotline:
                extension = await self.registrar.password_of(target) if target else None
                if extension is not None:
                    transaction.respond(
                        build_response(invite, 480, "Internal calls arrive in a later release")
                    )
                else:
                    transaction.respond(build_response(invite, 404))
                return
        if transaction.cancelled:
            return
        call = HotlineCall(
            self,
            invite,
            transaction,
            direction=direction,
            caller=caller,
            callee=target,
            trunk=trunk.name if trunk else "",
        )
        refusal = await call.prepare(invite.body)
        if refusal is not None or transaction.cancelled:
            call.discard_media()
            if refusal is not None:
                transaction.respond(refusal)
            return
        self._calls[call.key] = call
        self._calls_by_invite[id(transaction)] = call
        self.calls_total += 1
        log.info("call %s: %s %s → %s from %s", call.call_id, direction, caller, target, source)
        call.start()

    async def _authenticate_trunk(
        self, invite: Request, source: Source, trunk: TrunkInfo
    ) -> AuthOutcome:
        async def lookup(username: str) -> str | None:
            return trunk.password if username == trunk.username else None

        return await self.auth.check(
            invite, source, lookup_password=lookup, expected_user=trunk.username
        )

    # --- background work ----------------------------------------------------------------------

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(HOUSEKEEPING_INTERVAL)
            try:
                self.registrar.expire()
            except Exception:
                log.exception("registration housekeeping failed")

    async def _write_records(self) -> None:
        queue = self._record_queue
        assert queue is not None
        while True:
            item = await queue.get()
            if item is None:
                return
            kind, record = item
            try:
                if kind == "started":
                    await asyncio.to_thread(self.records.call_started, record)
                else:
                    await asyncio.to_thread(self.records.call_ended, record)
            except Exception:
                log.exception("writing the %s record of call %s failed", kind, record.call_id)


def _user_of(uri: object) -> str:
    if isinstance(uri, SipUri):
        return uri.user or ""
    if isinstance(uri, TelUri):
        return uri.digits
    return ""


def _trunk_for(trunks: Sequence[TrunkInfo], ip: str, number: str) -> TrunkInfo | None:
    for trunk in trunks:
        if not trunk.enabled or number not in trunk.numbers:
            continue
        if ip in {canonical_ip(host) for host in trunk.hosts}:
            return trunk
    return None


__all__ = ["ALLOWED_METHODS", "Switch"]
