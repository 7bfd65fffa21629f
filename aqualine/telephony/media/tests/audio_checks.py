"""Which tones are in a piece of audio: the band-energy check that multi-party tests need.

:func:`~aqualine.telephony.testing.audio.frames_with_tone` looks at the *strongest* peak, which
tells a two-party call apart but not "hears both others": a conference leg hears two tones at
once. :func:`tone_presence` measures each candidate frequency's own band in every 100 ms frame.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

RATE = 8000


def band_levels(
    samples: npt.ArrayLike, freqs: Iterable[float], *, frame: float = 0.1, width: float = 20.0
) -> dict[float, np.ndarray]:
    """Per frame, the level (dBFS of a sine's peak) of the band ``freq ± width`` for each freq."""
    values = np.asarray(samples, dtype=np.float64).ravel()
    size = round(frame * RATE)
    count = len(values) // size
    frames = values[: count * size].reshape(count, size)
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(size), axis=1)) ** 2
    bins = np.fft.rfftfreq(size, 1 / RATE)
    levels = {}
    for freq in freqs:
        band = np.abs(bins - freq) <= width
        energy = spectrum[:, band].sum(axis=1)
        amplitude = np.sqrt(energy / 1.5) / (size / 4) / 32768.0  # Hann: main lobe 1.5 x peak²
        with np.errstate(divide="ignore"):
            levels[freq] = 20 * np.log10(amplitude)
    return levels


def tone_presence(
    samples: npt.ArrayLike, freqs: Iterable[float], *, threshold_dbfs: float = -40.0
) -> dict[float, float]:
    """For each freq, the fraction (0..1) of 100 ms frames where its band is above threshold."""
    return {
        freq: float(np.mean(level >= threshold_dbfs)) if len(level) else 0.0
        for freq, level in band_levels(samples, freqs).items()
    }


def heard(
    samples: npt.ArrayLike, freqs: Iterable[float], *, most: float = 0.8, hardly: float = 0.05
) -> set[float]:
    """The tones present in at least ``most`` of the frames. Raises when a tone is neither
    clearly present nor clearly absent (between ``hardly`` and ``most``): a test must not pass
    on a half-heard tone."""
    presence = tone_presence(samples, freqs)
    unclear = {f: p for f, p in presence.items() if hardly < p < most}
    if unclear:
        raise AssertionError(f"tones neither heard nor absent: {unclear}")
    return {freq for freq, fraction in presence.items() if fraction >= most}
