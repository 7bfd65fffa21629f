"""The IVR interpreter: runs one call through a flow, as a pure state machine.

    ivr = Interpreter(flow, call=CallInfo(caller="13800138000", callee="96000", call_id="c1"),
                      clock=clock, variables={"on_duty_number": "13900139000"})
    actions = ivr.start()            # e.g. [Play(token=1, prompts=(...), barge_in=False)]
    actions = ivr.feed(PlayDone(1))  # ... and so on until ivr.status is not RUNNING

Nothing here does I/O or reads a clock other than the injected one: the switch carries out the
actions and feeds the events (actions.py describes both). Each node type is a small generator
that yields what it waits for; :meth:`Interpreter.feed` resumes it with the event.

When the IVR is done, :attr:`Interpreter.status` is ``HANDED_OFF`` (a ``Queue`` or ``Transfer``
action; a ``HandoffFailed`` event resumes the flow on the node's ``failed`` edge) or ``ENDED``
(a ``Hangup`` action, or the caller hung up). :attr:`Interpreter.path_text` is the IVR path for
the call record, e.g. ``"主菜单>报修"``: the labels of the labelled nodes the call went through.
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final, TypeVar

from aqualine.telephony.ivr.actions import (
    Action,
    CancelTimer,
    CheckAccount,
    CheckPhoneSuffix,
    CreateRepairOrder,
    Digit,
    Event,
    HandoffFailed,
    Hangup,
    HungUp,
    LookupBalance,
    OutageTextForArea,
    OutageTextForCaller,
    Play,
    PlayDone,
    PortFailed,
    PortRequest,
    PortResult,
    Queue,
    RecordingDone,
    StartRecording,
    StartTimer,
    StopPlayback,
    StopRecording,
    TimerFired,
    Transfer,
)
from aqualine.telephony.ivr.flow import Flow, Node
from aqualine.telephony.ivr.ports import AccountBalance, AccountCheck, RepairOrder
from aqualine.telephony.ivr.schema import BEEP, FALLBACK_OUTCOMES, KEYS, Prompt, Prompts
from aqualine.telephony.ivr.templates import render

log = logging.getLogger("aqualine.switch.ivr")

T = TypeVar("T")
DIALABLE: Final = re.compile(r"[0-9*#+]{1,32}")
MAX_STEPS: Final = 200  # nodes entered without waiting for anything: a loop the checks missed


class Status(enum.StrEnum):
    RUNNING = "running"
    HANDED_OFF = "handed_off"  # a Queue or Transfer action is being carried out
    ENDED = "ended"


@dataclass(frozen=True)
class CallInfo:
    caller: str
    callee: str
    call_id: str = ""


@dataclass(frozen=True)
class PathStep:
    node: str
    label: str


@dataclass(frozen=True)
class _Wait:
    """What the running node waits for; an event that does not match is ignored."""

    token: int | None
    kinds: tuple[type[Event], ...] = ()
    digits: bool = False
    survives_hangup: bool = False  # a recording or an order that must be finished anyway


Gen = Generator[_Wait, Event, T]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Entry:
    """One try at keying digits."""

    ok: bool
    digits: str = ""
    timed_out: bool = False


@dataclass
class _Log:
    path: list[PathStep] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)  # every node entered, by id


class Interpreter:
    def __init__(
        self,
        flow: Flow,
        *,
        call: CallInfo,
        clock: Callable[[], datetime] = _utc_now,
        variables: Mapping[str, str] | None = None,
        max_steps: int = MAX_STEPS,
    ) -> None:
        self.flow = flow
        self.call = call
        self.clock = clock
        self.max_steps = max_steps
        self.variables: dict[str, str] = {
            **flow.variables,
            **(variables or {}),
            "caller": call.caller,
            "callee": call.callee,
            "call_id": call.call_id,
        }
        self.status = Status.RUNNING
        self.result: Action | None = None  # the Queue/Transfer/Hangup the IVR ended with
        self.end_cause = ""
        self.caller_gone = False
        self._log = _Log()
        self._out: list[Action] = []
        self._gen: Gen[None] | None = None
        self._wait: _Wait | None = None
        self._tokens = 0
        self._steps = 0
        self._typeahead: str | None = None
        self._handlers: dict[str, Callable[[Node], Gen[str | None]]] = {
            "play": self._play_node,
            "menu": self._menu,
            "collect": self._collect,
            "branch": self._branch,
            "time_condition": self._time_condition,
            "queue": self._queue,
            "transfer": self._transfer,
            "hangup": self._hangup_node,
            "set": self._set,
            "outage_announcement": self._outage_announcement,
            "outage_notices": self._outage_notices,
            "balance": self._balance,
            "repair": self._repair,
        }

    # --- the interface with the switch ---------------------------------------------------------

    @property
    def path(self) -> list[PathStep]:
        return list(self._log.path)

    @property
    def path_text(self) -> str:
        return ">".join(step.label for step in self._log.path)

    @property
    def trace(self) -> list[str]:
        return list(self._log.trace)

    def start(self) -> list[Action]:
        """Enter the start node: the first actions."""
        if self._gen is not None:
            raise RuntimeError("this call's IVR has already started")
        self._gen = self._run()
        return self._advance(None)

    def feed(self, event: Event) -> list[Action]:
        """One event from the switch: the actions to carry out (often none)."""
        if self._gen is None:
            raise RuntimeError("start() the IVR before feeding it events")
        if self.status is Status.ENDED:
            return []
        if isinstance(event, HungUp):
            self.caller_gone = True
            wait = self._wait
            if self.status is Status.RUNNING and wait is not None and wait.survives_hangup:
                return self._advance(event)
            self._end(self.result if self.status is Status.HANDED_OFF else None, "caller hung up")
            return []
        if not self._accepts(event):
            return []
        return self._advance(event)

    def _accepts(self, event: Event) -> bool:
        wait = self._wait
        if wait is None:
            return False
        if isinstance(event, Digit):
            return wait.digits and len(event.key) == 1 and event.key in KEYS
        if not isinstance(event, wait.kinds):
            return False
        return getattr(event, "token", None) in (None, wait.token)

    def _advance(self, event: Event | None) -> list[Action]:
        assert self._gen is not None
        self._steps = 0
        try:
            self._wait = self._gen.send(event)  # type: ignore[arg-type]  # None starts it
        except StopIteration:
            self._wait = None
            if self.status is not Status.ENDED:
                self._end(self.result, self.end_cause or "ivr ended")
        out, self._out = self._out, []
        return out

    def _end(self, result: Action | None, cause: str) -> None:
        self.status = Status.ENDED
        self.result = result
        self.end_cause = cause
        self._wait = None
        if self._gen is not None:
            self._gen.close()

    def _emit(self, action: Action) -> None:
        self._out.append(action)

    def _token(self) -> int:
        self._tokens += 1
        return self._tokens

    def _hangup(self, cause: str) -> None:
        action = Hangup(cause)
        self._emit(action)
        self.status = Status.ENDED
        self.result = action
        self.end_cause = cause

    # --- walking the flow ----------------------------------------------------------------------

    def _run(self) -> Gen[None]:
        node = self.flow.nodes[self.flow.start]
        while True:
            self._steps += 1
            if self._steps > self.max_steps:
                log.error("IVR flow %r loops without waiting (at %s)", self.flow.name, node.id)
                self._hangup("ivr loop")
                return
            self._enter(node)
            outcome = yield from self._handlers[node.type](node)
            if self.caller_gone:
                self.status = Status.ENDED
                self.end_cause = "caller hung up"
                return
            if outcome is None:  # hung up
                return
            target = self._route(node, outcome)
            if target is None:
                if node.type in ("queue", "transfer"):
                    self._hangup(f"{node.type} failed: {self.variables.get('handoff_error', '')}")
                else:
                    self._hangup(f"no edge from {node.id} for {outcome!r}")
                return
            node = self.flow.nodes[target]

    def _route(self, node: Node, outcome: str) -> str | None:
        target = node.edges.get(outcome)
        if target is None and (fallback := FALLBACK_OUTCOMES.get((node.type, outcome))):
            target = node.edges.get(fallback)
        return target

    def _enter(self, node: Node) -> None:
        self._log.trace.append(node.id)
        if node.type != "outage_announcement":
            self._log_path(node)

    def _log_path(self, node: Node) -> None:
        path = self._log.path
        if node.label and (not path or path[-1].node != node.id):
            path.append(PathStep(node.id, node.label))

    def _render(self, prompts: Prompts) -> Prompts:
        rendered = []
        for prompt in prompts:
            if prompt.tts:
                text = render(prompt.tts, self.variables)
                if text.strip():
                    rendered.append(Prompt(tts=text))
            else:
                rendered.append(prompt)
        return tuple(rendered)

    # --- what nodes wait for -------------------------------------------------------------------

    def _play(self, prompts: Prompts, *, barge_in: bool) -> Gen[str | None]:
        """Play rendered prompts; the key that interrupted them, or None."""
        self._typeahead = None
        if not prompts or self.caller_gone:
            return None
        token = self._token()
        self._emit(Play(token, prompts, barge_in))
        event = yield _Wait(token, (PlayDone,), digits=barge_in)
        if isinstance(event, Digit):
            self._emit(StopPlayback(token))
            return event.key
        return None

    def _key(self, timeout: float) -> Gen[str | None]:
        """The next key, or None after `timeout` seconds."""
        token = self._token()
        self._emit(StartTimer(token, timeout))
        event = yield _Wait(token, (TimerFired,), digits=True)
        if isinstance(event, Digit):
            self._emit(CancelTimer(token))
            return event.key
        return None

    def _ask_key(self, prompts: Prompts, timeout: float) -> Gen[str | None]:
        """A key pressed during the prompts (or before them) or within `timeout` after."""
        typed = self._typeahead
        if typed is not None:
            self._typeahead = None
            return typed
        key = yield from self._play(prompts, barge_in=True)
        if key is not None:
            return key
        return (yield from self._key(timeout))

    def _read_digits(
        self, prompts: Prompts, *, min_digits: int, max_digits: int, terminator: str, timeout: float
    ) -> Gen[_Entry]:
        digits = ""
        key = yield from self._ask_key(prompts, timeout)
        while True:
            if key is None:  # a timeout accepts a long enough entry (callers forget the #)
                if digits and min_digits <= len(digits) <= max_digits:
                    return _Entry(True, digits)
                return _Entry(False, timed_out=not digits)
            if terminator and key == terminator:
                return _Entry(min_digits <= len(digits) <= max_digits, digits)
            if not key.isdigit():
                return _Entry(False)
            digits += key
            if len(digits) >= max_digits:
                return _Entry(True, digits)
            key = yield from self._key(timeout)

    def _request(
        self, request: Callable[..., PortRequest], *args: Any, keep: bool = False
    ) -> Gen[Any]:
        """Ask the ports (``request(token, *args)``); the answer, or raises _Failed. With
        `keep`, a hang-up does not cancel the request (the interpreter waits for the answer)."""
        token = self._token()
        self._emit(request(token, *args))
        while True:
            event = yield _Wait(token, (PortResult, PortFailed), survives_hangup=keep)
            if isinstance(event, PortResult):
                return event.value
            if isinstance(event, PortFailed):
                raise _Failed(event.error)

    def _handoff(self, action: Queue | Transfer) -> Gen[str | None]:
        self._emit(action)
        self.status = Status.HANDED_OFF
        self.result = action
        event = yield _Wait(None, (HandoffFailed,))
        assert isinstance(event, HandoffFailed)
        self.status = Status.RUNNING
        self.result = None
        self.variables["handoff_error"] = event.reason or "failed"
        return "failed"

    # --- node types ----------------------------------------------------------------------------

    def _play_node(self, node: Node) -> Gen[str | None]:
        key = yield from self._play(self._render(node.params.prompt), barge_in=node.params.barge_in)
        self._typeahead = key
        return "next"

    def _menu(self, node: Node) -> Gen[str | None]:
        p = node.params
        failures = 0
        lead: Prompts = ()
        while True:
            key = yield from self._ask_key(self._render(lead + p.prompt), p.timeout)
            if key is not None and key == p.repeat_key:
                lead = ()
                continue
            if key is not None and key in node.edges:
                return key
            failures += 1
            if failures > p.retries:
                return "exhausted"
            lead = p.timeout_prompt if key is None else p.invalid_prompt

    def _collect(self, node: Node) -> Gen[str | None]:
        p = node.params
        failures = 0
        lead: Prompts = ()
        while True:
            entry = yield from self._read_digits(
                self._render(lead + p.prompt),
                min_digits=p.min_digits,
                max_digits=p.max_digits,
                terminator=p.terminator,
                timeout=p.timeout,
            )
            if entry.ok:
                self.variables[p.var] = entry.digits
                return "done"
            failures += 1
            if failures > p.retries:
                return "exhausted"
            lead = p.timeout_prompt if entry.timed_out else p.invalid_prompt

    def _branch(self, node: Node) -> Gen[str | None]:
        value = self.variables.get(node.params.var, "")
        return value if value in node.edges and value != "default" else "default"
        yield  # a generator like the others

    def _time_condition(self, node: Node) -> Gen[str | None]:
        calendar = self.flow.calendars[node.params.calendar]
        state = calendar.state_at(self.clock())
        self.variables["time_state"] = state
        return state
        yield

    def _set(self, node: Node) -> Gen[str | None]:
        for name, template in node.params.values.items():
            self.variables[name] = render(template, self.variables)
        return "next"
        yield

    def _queue(self, node: Node) -> Gen[str | None]:
        return (yield from self._handoff(Queue(node.params.queue)))

    def _transfer(self, node: Node) -> Gen[str | None]:
        number = render(node.params.number, self.variables).strip()
        if not DIALABLE.fullmatch(number):
            log.warning("IVR node %s: %r is not a number to transfer to", node.id, number)
            self.variables["handoff_error"] = f"not a number: {number!r}"
            return "failed"
        return (yield from self._handoff(Transfer(number)))

    def _hangup_node(self, node: Node) -> Gen[str | None]:
        self._hangup(node.params.cause)
        return None
        yield

    def _outage_announcement(self, node: Node) -> Gen[str | None]:
        p = node.params
        try:
            text = yield from self._request(OutageTextForCaller, self.call.caller, self.clock())
        except _Failed:
            return "next"
        if not text:
            return "next"
        self._log_path(node)
        self.variables["outage_announced"] = "1"
        prompts = (*self._render(p.intro), Prompt(tts=text), *self._render(p.outro))
        self._typeahead = yield from self._play(prompts, barge_in=p.barge_in)
        return "next"

    def _outage_notices(self, node: Node) -> Gen[str | None]:
        p = node.params
        try:
            text = yield from self._request(OutageTextForCaller, self.call.caller, self.clock())
            if text is None:  # the number belongs to no account: every area's notices
                text = yield from self._request(OutageTextForArea, None, self.clock())
        except _Failed:
            prompts = self._render(p.error_prompt or p.none_prompt)
        else:
            if text:
                prompts = (*self._render(p.intro), Prompt(tts=text))
            else:
                prompts = self._render(p.none_prompt)
        self._typeahead = yield from self._play(prompts, barge_in=p.barge_in)
        return "next"

    def _balance(self, node: Node) -> Gen[str | None]:
        p = node.params
        try:
            account = yield from self._balance_account(p)
            if account is None:
                yield from self._play(self._render(p.failed_prompt), barge_in=False)
                return "failed"
            number, check = account
            self.variables["account_number"] = number
            if check.caller_is_account_phone:
                self.variables["account_verified_by"] = "caller_number"
            elif not check.has_registered_phone:
                yield from self._play(
                    self._render(p.no_phone_prompt or p.failed_prompt), barge_in=False
                )
                return "failed"
            elif (yield from self._balance_verify(p, number)):
                self.variables["account_verified_by"] = "phone_suffix"
            else:
                prompts = self._render(p.verify_failed_prompt + p.failed_prompt)
                yield from self._play(prompts, barge_in=False)
                return "failed"
            balance = yield from self._request(LookupBalance, number, self.clock())
        except _Failed:
            yield from self._play(self._render(p.failed_prompt), barge_in=False)
            return "failed"
        if not isinstance(balance, AccountBalance):
            yield from self._play(self._render(p.failed_prompt), barge_in=False)
            return "failed"
        self.variables["arrears"] = _money(balance.arrears)
        self.variables["arrears_months"] = str(balance.arrears_months)
        self.variables["current_due"] = _money(balance.current_due)
        prompt = p.arrears_prompt if balance.arrears > 0 else p.clear_prompt
        yield from self._play(self._render(prompt), barge_in=False)
        return "done"

    def _balance_account(self, p: Any) -> Gen[tuple[str, AccountCheck] | None]:
        lead: Prompts = ()
        for _attempt in range(p.attempts):
            entry = yield from self._read_digits(
                self._render(lead + p.prompt),
                min_digits=p.min_digits,
                max_digits=p.max_digits,
                terminator="#",
                timeout=p.timeout,
            )
            if entry.ok:
                check = yield from self._request(CheckAccount, entry.digits, self.call.caller)
                if isinstance(check, AccountCheck):
                    return entry.digits, check
            lead = p.timeout_prompt if entry.timed_out else p.not_found_prompt
        return None

    def _balance_verify(self, p: Any, number: str) -> Gen[bool]:
        lead: Prompts = ()
        for _attempt in range(p.phone_attempts):
            entry = yield from self._read_digits(
                self._render(lead + p.verify_prompt),
                min_digits=p.phone_suffix_digits,
                max_digits=p.phone_suffix_digits,
                terminator="#",
                timeout=p.timeout,
            )
            if entry.ok and (yield from self._request(CheckPhoneSuffix, number, entry.digits)):
                return True
            lead = p.timeout_prompt if entry.timed_out else p.verify_failed_prompt
        return False

    def _repair(self, node: Node) -> Gen[str | None]:
        p = node.params
        lead: Prompts = ()
        for attempt in range(p.retries + 1):
            prompts = self._render(lead + p.prompt) + ((BEEP,) if p.beep else ())
            yield from self._play(prompts, barge_in=False)
            done = yield from self._record(p.max_seconds, p.stop_key)
            if done.path and done.seconds >= p.min_seconds:
                break
            if self.caller_gone or attempt == p.retries:
                yield from self._play(self._render(p.failed_prompt), barge_in=False)
                return "failed"
            lead = p.too_short_prompt
        self.variables["recording_path"] = done.path
        order = RepairOrder(
            caller=self.call.caller,
            callee=self.call.callee,
            call_id=self.call.call_id,
            recording_path=done.path,
            recording_seconds=done.seconds,
            at=self.clock(),
            account_number=self.variables.get("account_number", ""),
            category=p.category,
            ivr_path=self.path_text,
        )
        try:
            number = yield from self._request(CreateRepairOrder, order, keep=True)
        except _Failed:
            yield from self._play(self._render(p.failed_prompt), barge_in=False)
            return "failed"
        self.variables["order_number"] = str(number)
        yield from self._play(self._render(p.done_prompt), barge_in=False)
        return "next"

    def _record(self, max_seconds: float, stop_key: str) -> Gen[RecordingDone]:
        token = self._token()
        self._emit(StartRecording(token, max_seconds))
        stopping = False
        while True:
            event = yield _Wait(token, (RecordingDone,), digits=True, survives_hangup=True)
            if isinstance(event, RecordingDone):
                return event
            stop = isinstance(event, HungUp) or (
                isinstance(event, Digit) and bool(stop_key) and event.key == stop_key
            )
            if stop and not stopping:
                stopping = True
                self._emit(StopRecording(token))


class _Failed(Exception):
    """A port request failed."""


def _money(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01'))}"
