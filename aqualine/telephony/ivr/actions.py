"""The interpreter's interface with the switch: events in, actions out.

The switch calls :meth:`Interpreter.feed` with an event and carries out the actions it returns,
in order. Actions that expect an answer carry a ``token``; the answering event carries the same
token, and the interpreter ignores an event whose token it no longer waits for (a timer that
fired just as a key arrived, a prompt stopped by a key). DTMF keys carry no token.

- ``Play(token, prompts, barge_in)``: play the prompts in order (a file, TTS text, a tone), then
  feed ``PlayDone(token)``; with ``barge_in``, keys pressed meanwhile are fed as ``Digit``.
- ``StopPlayback(token)``: stop that playback (a ``PlayDone`` fed later is ignored).
- ``StartTimer(token, seconds)``: (re)start the call's one digit timer; when it runs out, feed
  ``TimerFired(token)``. ``CancelTimer(token)``: cancel it.
- ``StartRecording(token, max_seconds, purpose)``: record the caller into a WAV file for at most
  ``max_seconds``, then feed ``RecordingDone(token, path, seconds, reason)``.
  ``StopRecording(token)``: stop it early (a stop key, or the caller hung up), and feed the same.
- a :class:`PortRequest`: run ``run_request(action, ports)`` in a worker thread and feed the
  ``PortResult`` / ``PortFailed`` it returns.
- ``Queue(queue)`` / ``Transfer(number)``: hand the call on; the IVR is done with it. Feed
  ``HandoffFailed(reason)`` only when that failed (the flow goes on at the ``failed`` edge).
- ``Hangup(cause)``: end the call.

Keys (``Digit``) are fed whenever the caller presses one; the interpreter decides whether it
listens. ``HungUp`` is fed when the caller hangs up; a repair message being recorded is still
turned into an order (the interpreter stops the recording and asks for the order first).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aqualine.telephony.ivr.ports import IvrPorts, RepairOrder
from aqualine.telephony.ivr.schema import Prompts

log = logging.getLogger("aqualine.switch.ivr")

# --- events (switch → interpreter) --------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    pass


@dataclass(frozen=True)
class Digit(Event):
    key: str  # "0"-"9", "*", "#" (RFC 4733 events 0-11)


@dataclass(frozen=True)
class PlayDone(Event):
    token: int
    interrupted: bool = False


@dataclass(frozen=True)
class TimerFired(Event):
    token: int


@dataclass(frozen=True)
class RecordingDone(Event):
    token: int
    path: str  # "" when nothing was recorded
    seconds: float
    reason: str = "stopped"  # "stopped" (StopRecording), "max" (max_seconds), "hangup", "error"


@dataclass(frozen=True)
class PortResult(Event):
    token: int
    value: Any


@dataclass(frozen=True)
class PortFailed(Event):
    token: int
    error: str


@dataclass(frozen=True)
class HandoffFailed(Event):
    reason: str = ""  # e.g. "no such queue", "486 Busy Here", "no answer"


@dataclass(frozen=True)
class HungUp(Event):
    pass


# --- actions (interpreter → switch) -------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    pass


@dataclass(frozen=True)
class Play(Action):
    token: int
    prompts: Prompts  # rendered: TTS text is final, templates filled in
    barge_in: bool = False


@dataclass(frozen=True)
class StopPlayback(Action):
    token: int


@dataclass(frozen=True)
class StartTimer(Action):
    token: int
    seconds: float


@dataclass(frozen=True)
class CancelTimer(Action):
    token: int


@dataclass(frozen=True)
class StartRecording(Action):
    token: int
    max_seconds: float
    purpose: str = "repair"


@dataclass(frozen=True)
class StopRecording(Action):
    token: int


@dataclass(frozen=True)
class Queue(Action):
    queue: str


@dataclass(frozen=True)
class Transfer(Action):
    number: str


@dataclass(frozen=True)
class Hangup(Action):
    cause: str


HANDOFFS = (Queue, Transfer, Hangup)


@dataclass(frozen=True)
class PortRequest(Action):
    """A question for the ports; :func:`run_request` answers it."""

    token: int

    def call(self, ports: IvrPorts) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class OutageTextForCaller(PortRequest):
    caller: str
    at: datetime

    def call(self, ports: IvrPorts) -> Any:
        return ports.outage_text_for_caller(caller=self.caller, at=self.at)


@dataclass(frozen=True)
class OutageTextForArea(PortRequest):
    area: str | None  # None: every area
    at: datetime

    def call(self, ports: IvrPorts) -> Any:
        return ports.outage_text_for_area(area=self.area, at=self.at)


@dataclass(frozen=True)
class CheckAccount(PortRequest):
    account_number: str
    caller: str

    def call(self, ports: IvrPorts) -> Any:
        return ports.account_check(account_number=self.account_number, caller=self.caller)


@dataclass(frozen=True)
class CheckPhoneSuffix(PortRequest):
    account_number: str
    digits: str

    def call(self, ports: IvrPorts) -> Any:
        return ports.account_phone_suffix_matches(
            account_number=self.account_number, digits=self.digits
        )


@dataclass(frozen=True)
class LookupBalance(PortRequest):
    account_number: str
    at: datetime

    def call(self, ports: IvrPorts) -> Any:
        return ports.account_balance(account_number=self.account_number, at=self.at)


@dataclass(frozen=True)
class CreateRepairOrder(PortRequest):
    order: RepairOrder

    def call(self, ports: IvrPorts) -> Any:
        return ports.create_repair_order(self.order)


def run_request(request: PortRequest, ports: IvrPorts) -> PortResult | PortFailed:
    """Answer a port request (blocking: the switch runs this in a worker thread)."""
    try:
        return PortResult(request.token, request.call(ports))
    except Exception as exc:
        log.exception("IVR port request %s failed", type(request).__name__)
        return PortFailed(request.token, f"{type(exc).__name__}: {exc}")
