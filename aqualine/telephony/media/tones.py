"""Call-progress tones of the Chinese network (450 Hz), rendered as loopable 8 kHz samples.

The cadences are those of the Chinese PSTN (YD/T 1277 / GF 002-9002, as in Asterisk's
``indications.conf`` ``[cn]``): dial tone continuous, ringback 1 s on 4 s off, busy 0.35 s on
0.35 s off, congestion 0.7 s / 0.7 s, call waiting 0.4 s on 4 s off, and the "number
unobtainable" information tone. All are 450 Hz, sent at -10 dBm0 by default.

:func:`render_tone` returns one whole cadence cycle, so that a looping player repeats the tone
for as long as needed without a seam; bursts have 4 ms ramps so that they do not click.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Final

import numpy as np

from aqualine.telephony.media.g711 import Samples, as_int16

RATE: Final = 8000
DBM0_PEAK: Final = 10 ** (-3.17 / 20)
"""Peak of a 0 dBm0 sine as a fraction of full scale (G.711 overload is +3.17 dBm0)."""


@dataclass(frozen=True)
class Tone:
    """A tone: frequencies played together, and a cadence of (on ms, off ms) pairs.

    An empty cadence means a continuous tone.
    """

    name: str
    frequencies: tuple[float, ...]
    cadence: tuple[tuple[int, int], ...] = ()
    level_dbm0: float = -10.0

    @property
    def cycle_ms(self) -> int:
        return sum(on + off for on, off in self.cadence) if self.cadence else 1000


DIAL: Final = Tone("dial", (450.0,))
RINGBACK: Final = Tone("ringback", (450.0,), ((1000, 4000),))
BUSY: Final = Tone("busy", (450.0,), ((350, 350),))
CONGESTION: Final = Tone("congestion", (450.0,), ((700, 700),))
CALL_WAITING: Final = Tone("call_waiting", (450.0,), ((400, 4000),))
UNOBTAINABLE: Final = Tone(
    "unobtainable", (450.0,), ((100, 100), (100, 100), (100, 100), (400, 400))
)
"""空号音: three short bursts and a long one."""

CHINA: Final = {
    tone.name: tone for tone in (DIAL, RINGBACK, BUSY, CONGESTION, CALL_WAITING, UNOBTAINABLE)
}

_RAMP: Final = 32  # 4 ms


def _burst(tone: Tone, samples: int) -> np.ndarray:
    t = np.arange(samples) / RATE
    peak = DBM0_PEAK * 10 ** (tone.level_dbm0 / 20) / len(tone.frequencies)
    signal = np.zeros(samples)
    for freq in tone.frequencies:
        signal += np.sin(2 * math.pi * freq * t) * peak * 32767.0
    envelope = np.ones(samples)
    ramp = min(_RAMP, samples // 2)
    if ramp:
        rise = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
        envelope[:ramp] = rise
        envelope[samples - ramp :] = rise[::-1]
    result: np.ndarray = signal * envelope
    return result


def render_tone(tone: Tone | str) -> Samples:
    """One loopable cycle of the tone as read-only int16 (cached per tone)."""
    chosen = CHINA[tone] if isinstance(tone, str) else tone
    return _render(chosen)


@cache
def _render(tone: Tone) -> Samples:
    if not tone.frequencies:
        raise ValueError("a tone needs at least one frequency")
    if not tone.cadence:  # 1 s: a whole number of cycles of any whole-Hz frequency
        samples = as_int16(_continuous(tone))
    else:
        parts: list[np.ndarray] = []
        for on, off in tone.cadence:
            if on < 0 or off < 0:
                raise ValueError("cadence times must not be negative")
            parts.append(_burst(tone, on * RATE // 1000))
            parts.append(np.zeros(off * RATE // 1000))
        samples = as_int16(np.concatenate(parts))
    samples.flags.writeable = False
    return samples


def _continuous(tone: Tone) -> np.ndarray:
    t = np.arange(RATE) / RATE
    peak = DBM0_PEAK * 10 ** (tone.level_dbm0 / 20) / len(tone.frequencies)
    result = np.zeros(RATE)
    for freq in tone.frequencies:
        result += np.sin(2 * math.pi * freq * t) * peak * 32767.0
    return result
