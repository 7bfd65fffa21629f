"""Permission names of the agent desktop and the supervisor's monitor, as used by code."""

from enum import StrEnum


class DeskPerm(StrEnum):
    USE_DESKTOP = "desk.use_desktop"  # log in to the phone queue and take calls, as oneself
    SUPERVISE = "desk.supervise"  # watch every agent and queue, force others' states
    CONTROL_CALLS = "desk.control_calls"  # hold, transfer, consult, conference, dial: own calls
    SUPERVISE_CALLS = "desk.supervise_calls"  # listen in, whisper, barge into others' calls
