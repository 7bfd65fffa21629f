"""A stand-in for the switch: drives an interpreter the way the switch will, without media.

Port requests are answered at once by the in-memory ports; prompts, timers and recordings wait
until the test says what happens (``listen``, ``press``, ``wait_out``, ``recorded``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aqualine.telephony.ivr.actions import (
    Action,
    CancelTimer,
    Digit,
    Event,
    HandoffFailed,
    HungUp,
    Play,
    PlayDone,
    PortRequest,
    RecordingDone,
    StartRecording,
    StartTimer,
    StopPlayback,
    StopRecording,
    TimerFired,
    run_request,
)
from aqualine.telephony.ivr.default_flow import default_flow
from aqualine.telephony.ivr.fakes import MemoryIvrPorts
from aqualine.telephony.ivr.flow import Flow
from aqualine.telephony.ivr.interpreter import CallInfo, Interpreter, Status
from aqualine.telephony.ivr.schema import Prompt

SHANGHAI = ZoneInfo("Asia/Shanghai")
WORKING_HOURS = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)  # a Thursday
NIGHT = datetime(2026, 11, 26, 22, 30, tzinfo=SHANGHAI)
NATIONAL_DAY = datetime(2026, 10, 1, 10, 0, tzinfo=SHANGHAI)  # a holiday in the demo calendar


def spoken(prompt: Prompt) -> str:
    if prompt.tts:
        return prompt.tts
    if prompt.file:
        return f"<file {prompt.file}>"
    return f"<tone {prompt.tone_hz} Hz>"


class Call:
    """One call through a flow. ``heard`` lists every prompt played, in order."""

    def __init__(
        self,
        ports: MemoryIvrPorts | None = None,
        *,
        flow: Flow | None = None,
        caller: str = "13800138000",
        at: datetime = WORKING_HOURS,
        clock: Callable[[], datetime] | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> None:
        self.ports = ports if ports is not None else MemoryIvrPorts()
        self.ivr = Interpreter(
            flow or default_flow(),
            call=CallInfo(caller=caller, callee="96000", call_id="c-test"),
            clock=clock or (lambda: at),
            variables=variables,
        )
        self.actions: list[Action] = []
        self.heard: list[str] = []
        self.playing: Play | None = None
        self.timer: StartTimer | None = None
        self.recording: StartRecording | None = None
        self.stopped_recordings: list[int] = []
        self._seen = 0
        self._carry_out(self.ivr.start())

    # --- the switch's side ---

    def _carry_out(self, actions: list[Action]) -> None:
        pending = list(actions)
        while pending:
            action = pending.pop(0)
            self.actions.append(action)
            if isinstance(action, Play):
                self.playing = action
                self.heard.extend(spoken(p) for p in action.prompts)
            elif isinstance(action, StopPlayback):
                if self.playing is not None and self.playing.token == action.token:
                    self.playing = None
            elif isinstance(action, StartTimer):
                self.timer = action
            elif isinstance(action, CancelTimer):
                if self.timer is not None and self.timer.token == action.token:
                    self.timer = None
            elif isinstance(action, StartRecording):
                self.recording = action
            elif isinstance(action, StopRecording):
                self.stopped_recordings.append(action.token)
            elif isinstance(action, PortRequest):
                pending.extend(self.ivr.feed(run_request(action, self.ports)))

    def feed(self, event: Event) -> list[Action]:
        before = len(self.actions)
        self._carry_out(self.ivr.feed(event))
        return self.actions[before:]

    # --- what a test does ---

    def listen(self, limit: int = 50) -> list[str]:
        """Let every prompt play to its end; what was heard since the last listen()."""
        for _ in range(limit):
            play = self.playing
            if play is None or self.ivr.status is not Status.RUNNING:
                break
            self.playing = None
            self.feed(PlayDone(play.token))
        heard, self._seen = self.heard[self._seen :], len(self.heard)
        return heard

    def press(self, keys: str) -> None:
        for key in keys:
            self.feed(Digit(key))

    def wait_out(self) -> None:
        """Let the digit timer run out."""
        assert self.timer is not None, "no timer is running"
        timer, self.timer = self.timer, None
        self.feed(TimerFired(timer.token))

    def recorded(self, path: str, seconds: float, reason: str = "stopped") -> None:
        assert self.recording is not None, "nothing is being recorded"
        recording, self.recording = self.recording, None
        self.feed(RecordingDone(recording.token, path, seconds, reason))

    def hang_up(self) -> None:
        self.feed(HungUp())

    def handoff_failed(self, reason: str) -> None:
        self.feed(HandoffFailed(reason))

    def actions_of(self, kind: type[Any]) -> list[Any]:
        return [a for a in self.actions if isinstance(a, kind)]

    def count(self, text: str) -> int:
        return sum(1 for h in self.heard if text in h)
