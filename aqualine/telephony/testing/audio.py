"""Checking audio in tests: tones, levels, FFT peaks, and decoding received RTP streams.

A party "hears" another when the audio it received has its FFT peak at that party's tone
frequency, with real energy, in most short frames: :func:`frames_with_tone`. Levels are in dBFS
relative to 32768, so a full-scale sine measures -3 dBFS.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from aqualine.telephony.media.g711 import Samples, as_int16, codec_for
from aqualine.telephony.media.rtp import RtpPacket, SequenceUnwrapper

FULL_SCALE = 32768.0
G711_PAYLOAD_TYPES = (0, 8)

Floats = npt.NDArray[np.float64]


def tone(
    freq: float, seconds: float, rate: int = 8000, amplitude: float = 0.3, phase: float = 0.0
) -> Samples:
    """A sine tone as int16; ``amplitude`` is a fraction of full scale (0.3 ≈ -13.5 dBFS RMS)."""
    if not 0.0 <= amplitude <= 1.0:
        raise ValueError("amplitude is a fraction of full scale: 0..1")
    count = round(seconds * rate)
    t = np.arange(count) / rate
    return as_int16(amplitude * 32767.0 * np.sin(2 * np.pi * freq * t + phase))


def _floats(samples: npt.ArrayLike) -> Floats:
    return np.asarray(samples, dtype=np.float64).ravel()


def rms_dbfs(samples: npt.ArrayLike) -> float:
    """RMS level in dBFS; ``-inf`` for digital silence or no samples."""
    values = _floats(samples)
    if values.size == 0:
        return -math.inf
    rms = float(np.sqrt(np.mean(values * values)))
    return 20.0 * math.log10(rms / FULL_SCALE) if rms > 0 else -math.inf


def is_silent(samples: npt.ArrayLike, threshold_dbfs: float = -50.0) -> bool:
    """True when the RMS level is below ``threshold_dbfs`` (G.711 idle noise is ~-70 dBFS)."""
    return rms_dbfs(samples) < threshold_dbfs


def _peak_frequencies(frames: Floats, rate: int) -> Floats:
    """FFT peak of each row (Hann window, DC removed, parabolic interpolation between bins)."""
    size = frames.shape[1]
    centred = frames - frames.mean(axis=1, keepdims=True)
    spectrum = np.abs(np.fft.rfft(centred * np.hanning(size), axis=1))
    spectrum[:, 0] = 0.0
    peak = np.argmax(spectrum, axis=1)
    rows = np.arange(frames.shape[0])
    left = spectrum[rows, np.maximum(peak - 1, 0)]
    middle = spectrum[rows, peak]
    right = spectrum[rows, np.minimum(peak + 1, spectrum.shape[1] - 1)]
    with np.errstate(divide="ignore", invalid="ignore"):
        curvature = left - 2 * middle + right
        offset = np.where(curvature < 0, 0.5 * (left - right) / curvature, 0.0)
    offset = np.clip(np.nan_to_num(offset), -0.5, 0.5)
    result: Floats = (peak + offset) * rate / size
    return result


def dominant_frequency(samples: npt.ArrayLike, rate: int = 8000) -> float:
    """The frequency (Hz) of the strongest spectral peak; 0.0 for silence or too few samples."""
    values = _floats(samples)
    if values.size < 4 or not np.any(values - values.mean()):
        return 0.0
    return float(_peak_frequencies(values[np.newaxis, :], rate)[0])


def frame_levels(samples: npt.ArrayLike, rate: int = 8000, frame: float = 0.1) -> Floats:
    """RMS level (dBFS) of each whole frame of ``frame`` seconds."""
    frames = _frames(_floats(samples), round(frame * rate))
    with np.errstate(divide="ignore"):
        levels: Floats = 20 * np.log10(np.sqrt(np.mean(frames * frames, axis=1)) / FULL_SCALE)
    return levels


def _frames(values: Floats, size: int) -> Floats:
    if size < 4:
        raise ValueError("frames must hold at least 4 samples")
    count = values.size // size
    return values[: count * size].reshape(count, size)


def frames_with_tone(
    samples: npt.ArrayLike,
    freq: float,
    rate: int = 8000,
    frame: float = 0.1,
    tolerance_hz: float = 15.0,
    min_rms_dbfs: float = -40.0,
) -> float:
    """Fraction (0..1) of whole frames whose FFT peak is within ``tolerance_hz`` of ``freq``
    and whose level is at least ``min_rms_dbfs``. Silence and other tones count against."""
    frames = _frames(_floats(samples), round(frame * rate))
    if frames.shape[0] == 0:
        return 0.0
    with np.errstate(divide="ignore"):
        levels = 20 * np.log10(np.sqrt(np.mean(frames * frames, axis=1)) / FULL_SCALE)
    peaks = _peak_frequencies(frames, rate)
    hits = (np.abs(peaks - freq) <= tolerance_hz) & (levels >= min_rms_dbfs)
    return float(np.mean(hits))


def decode_payloads(
    packets: Iterable[tuple[int, bytes]], payload_type: int, *, fill_gaps: bool = True
) -> Samples:
    """Decode (sequence number, G.711 payload) pairs, given in arrival order, into samples.

    Packets are put in sequence order (wrap-around aware), duplicates dropped, and with
    ``fill_gaps`` every missing sequence number becomes a frame of silence of the usual size.
    """
    codec = codec_for(payload_type)
    unwrapper = SequenceUnwrapper()
    by_sequence: dict[int, bytes] = {}
    for sequence, payload in packets:
        by_sequence.setdefault(unwrapper.extend(sequence), payload)
    if not by_sequence:
        return np.zeros(0, dtype=np.int16)
    frame = int(np.median([len(payload) for payload in by_sequence.values()]))
    gap = codec.silence_frame(frame)
    ordered = sorted(by_sequence)
    if fill_gaps:
        chunks = [by_sequence.get(number, gap) for number in range(ordered[0], ordered[-1] + 1)]
    else:
        chunks = [by_sequence[number] for number in ordered]
    return codec.decode(b"".join(chunks))


def decode_rtp(
    packets: Iterable[RtpPacket], payload_type: int | None = None, *, fill_gaps: bool = True
) -> Samples:
    """Decode the G.711 audio among received packets (others, e.g. DTMF, are left out).

    Without ``payload_type`` the first PCMU/PCMA packet decides.
    """
    chosen = payload_type
    pairs: list[tuple[int, bytes]] = []
    for packet in packets:
        if chosen is None and packet.payload_type in G711_PAYLOAD_TYPES:
            chosen = packet.payload_type
        if packet.payload_type == chosen:
            pairs.append((packet.sequence, packet.payload))
    if chosen is None:
        return np.zeros(0, dtype=np.int16)
    return decode_payloads(pairs, chosen, fill_gaps=fill_gaps)


def describe(samples: npt.ArrayLike, rate: int = 8000) -> dict[str, Any]:
    """A short summary for assertion messages: length, level, dominant frequency."""
    values = _floats(samples)
    return {
        "seconds": round(values.size / rate, 3),
        "rms_dbfs": round(rms_dbfs(values), 1),
        "dominant_hz": round(dominant_frequency(values, rate), 1),
    }


def frames_containing_tone(
    samples: npt.ArrayLike,
    freq: float,
    rate: int = 8000,
    frame: float = 0.1,
    within_db: float = 12.0,
    min_rms_dbfs: float = -40.0,
) -> float:
    """Fraction (0..1) of whole frames in which ``freq`` is present among others: its spectral
    magnitude is within ``within_db`` of the frame's strongest peak (for a mix of voices, where
    :func:`frames_with_tone` only sees the loudest)."""
    frames = _frames(_floats(samples), round(frame * rate))
    if frames.shape[0] == 0:
        return 0.0
    with np.errstate(divide="ignore"):
        levels = 20 * np.log10(np.sqrt(np.mean(frames * frames, axis=1)) / FULL_SCALE)
    size = frames.shape[1]
    centred = frames - frames.mean(axis=1, keepdims=True)
    spectrum = np.abs(np.fft.rfft(centred * np.hanning(size), axis=1))
    spectrum[:, 0] = 0.0
    bin_hz = rate / size
    centre = round(freq / bin_hz)
    band = spectrum[:, max(1, centre - 1) : centre + 2].max(axis=1)
    strongest = spectrum.max(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = 20 * np.log10(band / strongest)
    hits = (np.nan_to_num(relative, nan=-200.0) >= -within_db) & (levels >= min_rms_dbfs)
    return float(np.mean(hits))
