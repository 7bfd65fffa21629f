"""The call-control mix of the hotline capacity benchmark (issue 6): which calls are held or
become three-party conferences, the third parties' extensions, and what each party should hear.

- a held caller hears the switch's music on hold: :func:`music_match` finds the audio it
  received in the music-on-hold loop (normalised cross-correlation, gain-independent);
- a held agent hears nothing (no packets, or silence);
- each member of a conference hears the two others: both tones in most 100 ms frames.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from aqualine.telephony.testing.audio import rms_dbfs

THIRD_HZ = 1600.0  # the consulted party's tone (callers send 440 Hz, agents 1000 Hz)
MUSIC_MATCH = 0.8  # normalised correlation with the music-on-hold loop that counts as "music"
SILENCE_DBFS = -50.0


def third_extension(index: int) -> str:
    return f"8{index:04d}"


def third_password(index: int) -> str:
    return f"pw-{index:04d}-third"


def pick_mix(calls: int, hold_share: float, conference_share: float) -> tuple[list[int], list[int]]:
    """Caller indexes put on hold and made conferences: evenly spread, disjoint, and never
    index 0 (the first of the plain sample)."""
    held_count = round(calls * hold_share)
    conference_count = round(calls * conference_share)
    if held_count + conference_count >= calls:
        raise ValueError("hold and conference shares leave no plain call")

    def spread(pool: list[int], count: int, offset: float) -> list[int]:
        if count == 0:
            return []
        step = len(pool) / count
        return [pool[min(len(pool) - 1, int((k + offset) * step))] for k in range(count)]

    pool = list(range(1, calls))
    conference = spread(pool, conference_count, 0.5)
    taken = set(conference)
    held = spread([i for i in pool if i not in taken], held_count, 0.25)
    return sorted(held), sorted(conference)


def frames_with_band(audio: np.ndarray, freq: float) -> np.ndarray:
    """Per 100 ms frame: whether the band freq ± 20 Hz is above -40 dBFS (several tones can
    share a frame)."""
    frames = audio[: len(audio) // 800 * 800].reshape(-1, 800).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(800), axis=1)) ** 2
    bins = np.fft.rfftfreq(800, 1 / 8000)
    amplitude = np.sqrt(spectrum[:, np.abs(bins - freq) <= 20].sum(axis=1) / 1.5) / 200 / 32768
    result: np.ndarray = amplitude >= 10 ** (-40 / 20)
    return result


def hears_all(audio: np.ndarray, freqs: tuple[float, ...], share: float = 0.9) -> bool:
    """Every tone in ``freqs`` is in at least ``share`` of the 100 ms frames."""
    if len(audio) < 800:
        return False
    return all(float(np.mean(frames_with_band(audio, hz))) >= share for hz in freqs)


@cache
def _music_spectrum() -> tuple[np.ndarray, np.ndarray, int]:
    from aqualine.telephony.media.moh import music_on_hold

    loop = music_on_hold().astype(np.float64)
    energy = np.concatenate([[0.0], np.cumsum(np.concatenate([loop, loop]) ** 2)])
    return np.fft.rfft(loop), energy, len(loop)


def music_match(audio: np.ndarray, excerpt_seconds: float = 1.0, excerpts: int = 3) -> float:
    """The worst, over a few excerpts, of the best normalised correlation between the audio and
    any stretch of the music-on-hold loop (1.0: it is the music, at any gain)."""
    spectrum, energy, length = _music_spectrum()
    size = int(excerpt_seconds * 8000)
    if len(audio) < size:
        return 0.0
    starts = np.linspace(0, len(audio) - size, excerpts).astype(int)
    worst = 1.0
    for start in starts:
        excerpt = audio[start : start + size].astype(np.float64)
        norm = float(np.sqrt(np.sum(excerpt**2)))
        if norm == 0:
            return 0.0
        padded = np.zeros(length)
        padded[:size] = excerpt
        correlation = np.fft.irfft(np.conj(np.fft.rfft(padded)) * spectrum, n=length)
        window = np.sqrt(np.maximum(energy[size : size + length] - energy[:length], 1.0))
        worst = min(worst, float(np.max(correlation / (norm * window))))
    return worst


def is_silence(audio: np.ndarray) -> bool:
    return len(audio) == 0 or rms_dbfs(audio) < SILENCE_DBFS
