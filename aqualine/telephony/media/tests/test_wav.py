from __future__ import annotations

import shutil
import struct
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from aqualine.telephony.media.g711 import alaw_encode, ulaw_decode, ulaw_encode
from aqualine.telephony.media.wav import (
    FORMAT_ALAW,
    FORMAT_MULAW,
    FORMAT_PCM,
    WavError,
    downmix,
    load_audio,
    read_wav,
    resample,
    wav_bytes,
    write_wav,
)
from aqualine.telephony.testing.audio import dominant_frequency, tone


def riff(fmt: bytes, data: bytes, *, before: Sequence[tuple[bytes, bytes]] = ()) -> bytes:
    """Assemble a RIFF/WAVE file by hand from a fmt body, data and any extra chunks."""
    chunks = b""
    for chunk_id, body in [*before, (b"fmt ", fmt), (b"data", data)]:
        chunks += (
            chunk_id + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) % 2 else b"")
        )
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def fmt_chunk(
    tag: int, channels: int, rate: int, bits: int, *, extra: bytes | None = None
) -> bytes:
    block = channels * bits // 8
    body = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    return body if extra is None else body + struct.pack("<H", len(extra)) + extra


def extensible_fmt(sub_format: int, channels: int, rate: int, bits: int) -> bytes:
    guid_tail = bytes.fromhex("000000001000800000aa00389b71")
    extra = struct.pack("<HI", bits, 0) + struct.pack("<H", sub_format) + guid_tail
    return fmt_chunk(0xFFFE, channels, rate, bits, extra=extra)


def test_pcm16_mono_round_trips_exactly(tmp_path: Path) -> None:
    samples = tone(440, 0.5) + np.int16(-3)
    path = write_wav(tmp_path / "mono.wav", samples)
    audio = read_wav(path)
    assert (audio.rate, audio.channels, audio.format_tag, audio.bits_per_sample) == (
        8000,
        1,
        FORMAT_PCM,
        16,
    )
    assert np.array_equal(audio.samples, samples)
    assert audio.duration == pytest.approx(0.5)


def test_pcm16_stereo_round_trips_with_one_column_per_channel(tmp_path: Path) -> None:
    stereo = np.stack([tone(440, 0.25), tone(1000, 0.25)], axis=1)
    audio = read_wav(write_wav(tmp_path / "stereo.wav", stereo, rate=8000))
    assert audio.channels == 2 and audio.samples.shape == (2000, 2)
    assert np.array_equal(audio.samples, stereo)


def test_a_hand_built_ulaw_wav_is_read_and_decoded() -> None:
    samples = tone(440, 0.3)
    encoded = ulaw_encode(samples)
    data = riff(
        fmt_chunk(FORMAT_MULAW, 1, 8000, 8, extra=b""),
        encoded,
        before=[(b"fact", struct.pack("<I", len(encoded)))],
    )
    audio = read_wav(data)
    assert (audio.format_tag, audio.bits_per_sample, audio.rate) == (FORMAT_MULAW, 8, 8000)
    assert np.array_equal(audio.samples, ulaw_decode(encoded))


def test_a_hand_built_alaw_wav_is_read_and_decoded() -> None:
    samples = tone(1000, 0.2)
    audio = read_wav(riff(fmt_chunk(FORMAT_ALAW, 1, 8000, 8), alaw_encode(samples)))
    assert audio.format_tag == FORMAT_ALAW
    assert np.max(np.abs(audio.samples.astype(int) - samples)) < 600


def test_a_ulaw_wav_written_by_sox_matches_our_decoder(tmp_path: Path) -> None:
    if shutil.which("sox") is None:
        pytest.skip("sox is not installed")
    path = tmp_path / "sox-ulaw.wav"
    subprocess.run(
        [
            "sox",
            "-n",
            "-r",
            "8000",
            "-c",
            "1",
            "-e",
            "u-law",
            str(path),
            "synth",
            "0.5",
            "sine",
            "440",
        ],
        check=True,
    )
    audio = read_wav(path)
    assert audio.format_tag == FORMAT_MULAW and audio.frames == 4000
    assert dominant_frequency(audio.samples) == pytest.approx(440, abs=2)


def test_extensible_wavs_are_read_by_their_sub_format() -> None:
    samples = tone(440, 0.1)
    pcm = read_wav(riff(extensible_fmt(FORMAT_PCM, 1, 8000, 16), samples.astype("<i2").tobytes()))
    assert np.array_equal(pcm.samples, samples)
    ulaw = read_wav(riff(extensible_fmt(FORMAT_MULAW, 1, 8000, 8), ulaw_encode(samples)))
    assert np.array_equal(ulaw.samples, ulaw_decode(ulaw_encode(samples)))


def test_8_24_and_32_bit_pcm_and_float_wavs_become_int16() -> None:
    ramp = np.array([-32768, -256, 0, 256, 32512], dtype=np.int16)
    eight = (ramp.astype(np.int32) // 256 + 128).astype(np.uint8).tobytes()
    assert read_wav(riff(fmt_chunk(1, 1, 8000, 8), eight)).samples.tolist() == ramp.tolist()
    wide = ramp.astype(np.int32) << 8
    three = b"".join(int(v).to_bytes(3, "little", signed=True) for v in wide)
    assert read_wav(riff(fmt_chunk(1, 1, 8000, 24), three)).samples.tolist() == ramp.tolist()
    four = (ramp.astype(np.int32) << 16).astype("<i4").tobytes()
    assert read_wav(riff(fmt_chunk(1, 1, 8000, 32), four)).samples.tolist() == ramp.tolist()
    floats = np.array([-1.0, 0.0, 0.5, 2.0], dtype="<f4").tobytes()
    assert read_wav(riff(fmt_chunk(3, 1, 8000, 32), floats)).samples.tolist() == [
        -32767,
        0,
        16384,
        32767,
    ]


def test_chunks_before_fmt_including_odd_sized_ones_are_skipped() -> None:
    samples = tone(440, 0.05)
    data = riff(
        fmt_chunk(FORMAT_MULAW, 1, 8000, 8),
        ulaw_encode(samples),
        before=[(b"LIST", b"odd"), (b"JUNK", bytes(28))],
    )
    assert read_wav(data).frames == 400


def test_a_data_chunk_size_larger_than_the_file_is_clamped() -> None:
    samples = tone(440, 0.05)
    data = bytearray(riff(fmt_chunk(FORMAT_MULAW, 1, 8000, 8), ulaw_encode(samples)))
    data[-len(samples) - 4 : -len(samples)] = struct.pack("<I", 0xFFFFFFFF)
    assert read_wav(bytes(data)).frames == 400


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "RIFF"),
        (b"RIFF\x00\x00\x00\x00WAVX", "RIFF"),
        (b"RIFF\x04\x00\x00\x00WAVE", "fmt"),
        (riff(b"\x01\x00", b""), "fmt chunk too short"),
        (riff(fmt_chunk(0x0055, 1, 8000, 16), b"\x00\x00"), "unsupported"),
        (riff(fmt_chunk(FORMAT_MULAW, 1, 8000, 16), b"\x00\x00"), "G.711"),
    ],
)
def test_files_that_are_not_readable_wavs_raise_wav_error(data: bytes, reason: str) -> None:
    with pytest.raises(WavError, match=reason):
        read_wav(data)


def test_a_wav_without_a_data_chunk_is_refused() -> None:
    body = b"fmt " + struct.pack("<I", 16) + fmt_chunk(1, 1, 8000, 16)
    with pytest.raises(WavError, match="data"):
        read_wav(b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body)


def test_stereo_is_downmixed_by_averaging_the_channels() -> None:
    stereo = np.array([[100, 300], [-32768, -32768], [1, 2]], dtype=np.int16)
    assert downmix(stereo).tolist() == [200, -32768, 2]


def test_resampling_keeps_the_pitch_and_the_duration() -> None:
    wideband = tone(440, 1.0, rate=44100)
    narrow = resample(wideband, 44100, 8000)
    assert narrow.size == 8000
    assert dominant_frequency(narrow, 8000) == pytest.approx(440, abs=2)
    upsampled = resample(tone(440, 1.0), 8000, 16000)
    assert upsampled.size == 16000
    assert dominant_frequency(upsampled, 16000) == pytest.approx(440, abs=2)


def test_downsampling_removes_what_would_alias_into_the_telephone_band() -> None:
    high = tone(7000, 1.0, rate=16000, amplitude=0.5)
    narrow = resample(high, 16000, 8000)  # 7 kHz would fold to 1 kHz without the low-pass
    assert np.sqrt(np.mean(narrow.astype(float) ** 2)) < 0.02 * 0.5 * 32767


def test_load_audio_gives_8khz_mono_from_a_stereo_16khz_file(tmp_path: Path) -> None:
    stereo = np.stack([tone(440, 0.5, rate=16000), tone(440, 0.5, rate=16000)], axis=1)
    samples = load_audio(write_wav(tmp_path / "s.wav", stereo, rate=16000))
    assert samples.ndim == 1 and samples.size == 4000
    assert dominant_frequency(samples) == pytest.approx(440, abs=2)


def test_wav_bytes_refuses_arrays_of_more_than_two_dimensions() -> None:
    with pytest.raises(ValueError):
        wav_bytes(np.zeros((2, 2, 2), dtype=np.int16))


def test_a_pcm_wav_from_a_streaming_writer_with_an_unknown_size_is_read_to_the_end() -> None:
    data = bytearray(wav_bytes(np.arange(100, dtype=np.int16)))
    size_at = data.index(b"data") + 4
    data[size_at : size_at + 4] = struct.pack("<I", 0xFFFFFFF0)
    assert read_wav(bytes(data)).samples.tolist() == list(range(100))
    assert read_wav(bytes(data[:-1])).frames == 99  # a torn last sample is dropped
