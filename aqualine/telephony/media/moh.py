"""Music on hold, composed and synthesised by the project (no recorded or copyrighted audio).

A calm 16-bar tune on the Chinese pentatonic scale (宫商角徵羽 on C) at 96 beats a minute: a
plucked, guzheng-like melody over soft sustained chords and a bass line. It is rendered at
8 kHz (nothing above ~2.6 kHz, so G.711 carries it well) as one loop of exactly 40 s; notes
ringing past the end are folded back onto the start, so a looping player has no seam.

:func:`music_on_hold` renders once per process (about 0.1 s) and caches the read-only result;
:func:`write_music_on_hold` saves it as a WAV for anyone who wants the file.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from aqualine.telephony.media.g711 import Samples, as_int16
from aqualine.telephony.media.wav import write_wav

RATE: Final = 8000
BEAT: Final = 0.625  # 96 bpm
BARS: Final = 16
LOOP_SECONDS: Final = BARS * 4 * BEAT

Floats = npt.NDArray[np.float64]

# Pentatonic degrees: 0=C 1=D 2=E 3=G 4=A, +5 per octave (so 5 = C an octave up).
_PHRASES: Final = (  # (degree, beats); None is a rest. Four phrases of four bars.
    ((5, 1), (4, 1), (3, 1), (4, 1), (5, 2), (7, 2), (6, 1), (5, 1), (4, 2), (3, 4)),
    ((2, 1), (3, 1), (4, 1.5), (5, 0.5), (4, 1), (3, 1), (2, 2), (1, 1), (2, 1), (3, 2), (0, 4)),
    ((None, 1), (5, 1), (6, 1), (7, 1), (8, 2), (7, 1), (6, 1), (5, 1.5), (4, 0.5), (3, 2), (4, 4)),
    ((3, 1), (4, 1), (5, 1), (4, 1), (3, 1), (2, 1), (1, 2), (2, 1.5), (1, 0.5), (0, 2), (0, 4)),
)
_MELODY: Final = tuple(note for phrase in _PHRASES for note in phrase)
_CHORDS: Final = (  # one chord a bar: root as a MIDI note, and its triad
    [(48, (0, 4, 7)), (45, (0, 3, 7)), (41, (0, 4, 7)), (43, (0, 4, 7))] * 2
    + [(41, (0, 4, 7)), (43, (0, 4, 7)), (45, (0, 3, 7)), (45, (0, 3, 7))]
    + [(41, (0, 4, 7)), (43, (0, 4, 7)), (48, (0, 4, 7)), (48, (0, 4, 7))]
)
_SCALE: Final = (0, 2, 4, 7, 9)  # semitones of C D E G A above C


def _frequency(midi: float) -> float:
    return float(440.0 * 2 ** ((midi - 69) / 12))


def _degree_to_midi(degree: int) -> int:
    octave, step = divmod(degree, 5)
    return 72 + 12 * octave + _SCALE[step]  # degree 0 = C5


def _pluck(freq: float, seconds: float) -> Floats:
    """A plucked string: bright attack, partials that fade faster the higher they are."""
    t = np.arange(round(seconds * RATE)) / RATE
    vibrato = 1 + 0.002 * np.sin(2 * np.pi * 5.5 * t) * np.minimum(t / 0.4, 1.0)
    phase = 2 * np.pi * freq * np.cumsum(vibrato) / RATE
    tone = np.zeros_like(t)
    for harmonic, (gain, decay) in enumerate([(1.0, 2.2), (0.45, 3.5), (0.2, 5.0), (0.08, 7.0)]):
        if freq * (harmonic + 1) < 2600:
            tone += gain * np.sin((harmonic + 1) * phase) * np.exp(-decay * t)
    attack = np.minimum(t / 0.004, 1.0)
    result: Floats = tone * attack
    return result


def _pad(freqs: list[float], seconds: float) -> Floats:
    """Soft sustained chord: slow swell and release, a gentle chorus from detuned pairs."""
    t = np.arange(round(seconds * RATE)) / RATE
    swell = np.minimum(t / 0.35, 1.0) * np.minimum((seconds - t) / 0.45, 1.0).clip(0.0)
    tone = np.zeros_like(t)
    for freq in freqs:
        tone += np.sin(2 * np.pi * freq * t) + 0.6 * np.sin(2 * np.pi * freq * 1.003 * t + 1.0)
    result: Floats = tone * swell / len(freqs)
    return result


def _add(track: Floats, start: float, sound: Floats) -> None:
    """Mix a sound into a loop track from ``start`` seconds, wrapping past the end."""
    first = round(start * RATE) % len(track)
    end = first + len(sound)
    if end <= len(track):
        track[first:end] += sound
        return
    head = len(track) - first
    track[first:] += sound[:head]
    _add(track, 0.0, sound[head:])


@cache
def music_on_hold() -> Samples:
    """The music-on-hold loop: 8 kHz mono int16, read-only, about -20 dBFS RMS."""
    length = round(LOOP_SECONDS * RATE)
    melody = np.zeros(length)
    beat = 0.0
    for degree, beats in _MELODY:
        if degree is not None:
            freq = _frequency(_degree_to_midi(degree))
            _add(melody, beat * BEAT, _pluck(freq, max(beats * BEAT, 0.6) + 1.2))
        beat += beats
    if abs(beat - BARS * 4) > 1e-9:
        raise AssertionError(f"the melody has {beat} beats, not {BARS * 4}")
    chords = np.zeros(length)
    bass = np.zeros(length)
    for bar, (root, triad) in enumerate(_CHORDS):
        start = bar * 4 * BEAT
        _add(chords, start, _pad([_frequency(root + 12 + step) for step in triad], 4 * BEAT + 0.3))
        for half in (0, 2):
            _add(bass, start + half * BEAT, _pluck(_frequency(root), 2 * BEAT + 0.4))
    mix = 0.55 * melody + 0.25 * chords + 0.3 * bass
    mix *= 0.42 * 32767.0 / np.max(np.abs(mix))
    samples = as_int16(mix)
    samples.flags.writeable = False
    return samples


def write_music_on_hold(path: str | Path) -> Path:
    """Save the loop as a 16-bit 8 kHz mono WAV."""
    return write_wav(path, music_on_hold(), RATE)
