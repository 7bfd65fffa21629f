"""WAV files in and out, as int16 numpy arrays.

Reading understands integer PCM (8/16/24/32-bit, through the stdlib :mod:`wave`), IEEE float
(format 3) and G.711 µ-law/A-law (formats 7 and 6, which :mod:`wave` refuses, so their RIFF
chunks are walked by hand), plain or wrapped in WAVE_FORMAT_EXTENSIBLE. :func:`load_audio` turns
any of those into the switch's format: 8 kHz mono int16. Writing produces 16-bit PCM.
"""

from __future__ import annotations

import io
import math
import struct
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

import numpy as np
import numpy.typing as npt

from aqualine.telephony.media.g711 import Samples, alaw_decode, as_int16, ulaw_decode

FORMAT_PCM: Final = 0x0001
FORMAT_IEEE_FLOAT: Final = 0x0003
FORMAT_ALAW: Final = 0x0006
FORMAT_MULAW: Final = 0x0007
FORMAT_EXTENSIBLE: Final = 0xFFFE

WavSource = str | Path | bytes | BinaryIO


class WavError(ValueError):
    """The data is not a WAV file this module can read."""


@dataclass(frozen=True)
class WavAudio:
    """Decoded WAV contents: ``samples`` has shape (frames,) for mono, (frames, channels) else."""

    samples: Samples
    rate: int
    channels: int
    format_tag: int
    bits_per_sample: int

    @property
    def frames(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        return self.frames / self.rate if self.rate else 0.0


@dataclass(frozen=True)
class _Format:
    tag: int
    channels: int
    rate: int
    block_align: int
    bits: int
    extensible: bool


def _read_bytes(source: WavSource) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, str | Path):
        return Path(source).read_bytes()
    return source.read()


def _chunks(data: bytes) -> dict[bytes, bytes]:
    """The RIFF/WAVE chunks by id (first occurrence); a data chunk may be truncated."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise WavError("not a RIFF/WAVE file")
    chunks: dict[bytes, bytes] = {}
    offset = 12
    while offset + 8 <= len(data):
        chunk_id = data[offset : offset + 4]
        (size,) = struct.unpack_from("<I", data, offset + 4)
        start = offset + 8
        body = data[start : start + size]  # streaming writers leave huge sizes: clamp
        chunks.setdefault(chunk_id, body)
        offset = start + size + (size & 1)
    if b"fmt " not in chunks:
        raise WavError("WAV file has no fmt chunk")
    if b"data" not in chunks:
        raise WavError("WAV file has no data chunk")
    return chunks


def _parse_format(body: bytes) -> _Format:
    if len(body) < 16:
        raise WavError("fmt chunk too short")
    tag, channels, rate, _byte_rate, block_align, bits = struct.unpack_from("<HHIIHH", body)
    extensible = tag == FORMAT_EXTENSIBLE
    if extensible:
        if len(body) < 40:
            raise WavError("WAVE_FORMAT_EXTENSIBLE fmt chunk too short")
        (tag,) = struct.unpack_from("<H", body, 24)  # first two octets of the sub-format GUID
    if channels < 1 or rate < 1 or block_align < 1:
        raise WavError(f"bad WAV format: {channels} channels, {rate} Hz, block {block_align}")
    return _Format(tag, channels, rate, block_align, bits, extensible)


def read_wav(source: WavSource) -> WavAudio:
    """Read a WAV file (path, bytes or binary file object) into int16 samples."""
    data = _read_bytes(source)
    chunks = _chunks(data)
    fmt = _parse_format(chunks[b"fmt "])
    body = chunks[b"data"]
    body = body[: len(body) - len(body) % fmt.block_align]
    if fmt.tag == FORMAT_PCM and not fmt.extensible and fmt.bits in (8, 16, 24, 32):
        samples = _read_pcm_with_wave(data)
    elif fmt.tag == FORMAT_PCM and fmt.bits in (8, 16, 24, 32):
        samples = _pcm_to_int16(body, fmt.bits // 8)  # extensible PCM: wave (3.11) refuses it
    elif fmt.tag in (FORMAT_MULAW, FORMAT_ALAW):
        if fmt.bits != 8:
            raise WavError(f"G.711 WAV with {fmt.bits} bits per sample")
        samples = ulaw_decode(body) if fmt.tag == FORMAT_MULAW else alaw_decode(body)
    elif fmt.tag == FORMAT_IEEE_FLOAT and fmt.bits in (32, 64):
        floats = np.frombuffer(body, dtype="<f4" if fmt.bits == 32 else "<f8")
        samples = as_int16(np.clip(floats, -1.0, 1.0) * 32767.0)
    else:
        raise WavError(f"unsupported WAV format {fmt.tag:#06x} with {fmt.bits} bits")
    if fmt.channels > 1:
        samples = samples[: len(samples) - len(samples) % fmt.channels].reshape(-1, fmt.channels)
    return WavAudio(samples, fmt.rate, fmt.channels, fmt.tag, fmt.bits)


def _read_pcm_with_wave(data: bytes) -> Samples:
    try:
        with wave.open(io.BytesIO(data), "rb") as reader:
            width = reader.getsampwidth()
            raw = reader.readframes(reader.getnframes())
    except (wave.Error, EOFError) as exc:
        raise WavError(f"unreadable PCM WAV: {exc}") from exc
    return _pcm_to_int16(raw, width)


def _pcm_to_int16(raw: bytes, width: int) -> Samples:
    raw = raw[: len(raw) - len(raw) % width]
    if width == 1:  # 8-bit WAV is unsigned
        return ((np.frombuffer(raw, dtype=np.uint8).astype(np.int16) - 128) << 8).astype(np.int16)
    if width == 2:
        return np.frombuffer(raw, dtype="<i2").astype(np.int16)
    if width == 3:
        octets = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3)
        return (octets[:, 2].astype(np.int8).astype(np.int16) << 8 | octets[:, 1]).astype(np.int16)
    if width == 4:
        return (np.frombuffer(raw, dtype="<i4") >> 16).astype(np.int16)
    raise WavError(f"unsupported PCM sample width {width}")


def downmix(samples: npt.NDArray[np.int16]) -> Samples:
    """Average the channels of (frames, channels) samples into mono; mono passes through."""
    if samples.ndim == 1:
        return samples
    return as_int16(samples.astype(np.float64).mean(axis=1))


def _lowpass_kernel(cutoff: float, taps: int = 63) -> npt.NDArray[np.float64]:
    """A Hann-windowed sinc low-pass; ``cutoff`` is a fraction of the sampling rate (< 0.5)."""
    n = np.arange(taps) - (taps - 1) / 2
    kernel: npt.NDArray[np.float64] = 2 * cutoff * np.sinc(2 * cutoff * n) * np.hanning(taps)
    normalised: npt.NDArray[np.float64] = kernel / kernel.sum()
    return normalised


def resample(samples: npt.NDArray[np.int16], rate: int, target_rate: int = 8000) -> Samples:
    """Resample mono samples by linear interpolation.

    When lowering the rate, a short windowed-sinc low-pass first removes what would alias
    (speech prompts at 16/22.05/44.1 kHz). Good enough for prompts; not for music mastering.
    """
    if rate <= 0 or target_rate <= 0:
        raise ValueError("sample rates must be positive")
    if rate == target_rate or samples.size == 0:
        return as_int16(samples)
    signal: npt.NDArray[np.floating[Any]] = samples.astype(np.float64)
    if target_rate < rate:
        signal = np.convolve(signal, _lowpass_kernel(0.45 * target_rate / rate), mode="same")
    count = max(1, math.floor(len(signal) * target_rate / rate))
    positions = np.arange(count) * (rate / target_rate)
    return as_int16(np.interp(positions, np.arange(len(signal)), signal))


def load_audio(source: WavSource, rate: int = 8000) -> Samples:
    """Read any supported WAV as mono int16 at ``rate`` (downmixed and resampled as needed)."""
    audio = read_wav(source)
    return resample(downmix(audio.samples), audio.rate, rate)


def wav_bytes(samples: npt.ArrayLike, rate: int = 8000) -> bytes:
    """16-bit PCM WAV file contents for samples of shape (frames,) or (frames, channels)."""
    array = as_int16(samples)
    if array.ndim not in (1, 2):
        raise ValueError("samples must have shape (frames,) or (frames, channels)")
    channels = 1 if array.ndim == 1 else int(array.shape[1])
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(np.ascontiguousarray(array, dtype="<i2").tobytes())
    return buffer.getvalue()


def write_wav(path: str | Path, samples: npt.ArrayLike, rate: int = 8000) -> Path:
    """Write 16-bit PCM (mono, or one column per channel) and return the path."""
    target = Path(path)
    target.write_bytes(wav_bytes(samples, rate))
    return target
