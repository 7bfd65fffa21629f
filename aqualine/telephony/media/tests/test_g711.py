"""G.711 against reference values computed from the standard's quantisation tables.

The reference below does not use the implementation's bit arithmetic: it rebuilds the decision
and reconstruction values of ITU-T G.711 Tables 1a (A-law) and 2a (µ-law) from their segment
boundaries and looks samples up by bisection. 16-bit samples are reduced to the standard's 13/14-bit
magnitudes as the ITU-T G.191 reference software does (one's complement for negative samples).
"""

from __future__ import annotations

import bisect

import numpy as np
import pytest

from aqualine.telephony.media.g711 import (
    ALAW_DECODE,
    ALAW_ENCODE,
    PCMA,
    PCMU,
    ULAW_DECODE,
    ULAW_ENCODE,
    G711Codec,
    alaw_decode,
    alaw_encode,
    as_int16,
    codec_for,
    ulaw_decode,
    ulaw_encode,
)

EVERY_SAMPLE = np.arange(-32768, 32768, dtype=np.int64)


def _table(starts: list[int], steps: list[int]) -> list[tuple[int, int, float]]:
    """(lower decision value, interval width, reconstruction value) for magnitude codes 0..127."""
    intervals = []
    for start, step in zip(starts, steps, strict=True):
        for m in range(16):
            lower = start + m * step
            intervals.append((lower, step, lower + step / 2))
    return intervals


# µ-law, 14-bit magnitudes: segments end at 31, 95, ..., 8159; widths 2, 4, ..., 256. The first
# interval is the half-interval [0, 1) around zero (reconstruction 0), written here as [-1, 1).
ULAW_INTERVALS = _table([-1, 31, 95, 223, 479, 991, 2015, 4063], [2 << k for k in range(8)])
# A-law, 12-bit magnitudes: segments start at 0, 32, 64, ..., 2048; widths 2, 2, 4, ..., 128.
ALAW_INTERVALS = _table([0, 32, 64, 128, 256, 512, 1024, 2048], [2, 2, 4, 8, 16, 32, 64, 128])


def _magnitude_code(intervals: list[tuple[int, int, float]], magnitude: int) -> int:
    lowers = [lower for lower, _, _ in intervals]
    return min(127, bisect.bisect_right(lowers, magnitude) - 1)


def ulaw_reference_encode(sample: int) -> int:
    negative = sample < 0
    magnitude = (~sample if negative else sample) >> 2
    n = _magnitude_code(ULAW_INTERVALS, magnitude)
    return (0x00 if negative else 0x80) | (127 - n)  # µ-law transmits the code inverted


def ulaw_reference_decode(code: int) -> int:
    n = 127 - (code & 0x7F)
    value = int(ULAW_INTERVALS[n][2] * 4)
    return value if code & 0x80 else -value


def alaw_reference_encode(sample: int) -> int:
    negative = sample < 0
    magnitude = (~sample if negative else sample) >> 3
    n = _magnitude_code(ALAW_INTERVALS, magnitude)
    return ((0x00 if negative else 0x80) | n) ^ 0x55  # A-law inverts the even bits


def alaw_reference_decode(code: int) -> int:
    plain = code ^ 0x55
    value = int(ALAW_INTERVALS[plain & 0x7F][2] * 8)
    return value if plain & 0x80 else -value


def test_ulaw_decode_table_matches_the_standards_reconstruction_values() -> None:
    expected = [ulaw_reference_decode(code) for code in range(256)]
    assert ULAW_DECODE.tolist() == expected


def test_alaw_decode_table_matches_the_standards_reconstruction_values() -> None:
    expected = [alaw_reference_decode(code) for code in range(256)]
    assert ALAW_DECODE.tolist() == expected


def test_ulaw_encodes_every_16_bit_sample_like_the_standards_decision_table() -> None:
    expected = np.array([ulaw_reference_encode(int(s)) for s in EVERY_SAMPLE], dtype=np.uint8)
    actual = np.frombuffer(ulaw_encode(EVERY_SAMPLE.astype(np.int16)), dtype=np.uint8)
    mismatches = np.flatnonzero(actual != expected)
    assert mismatches.size == 0, f"first mismatch at sample {EVERY_SAMPLE[mismatches[0]]}"


def test_alaw_encodes_every_16_bit_sample_like_the_standards_decision_table() -> None:
    expected = np.array([alaw_reference_encode(int(s)) for s in EVERY_SAMPLE], dtype=np.uint8)
    actual = np.frombuffer(alaw_encode(EVERY_SAMPLE.astype(np.int16)), dtype=np.uint8)
    mismatches = np.flatnonzero(actual != expected)
    assert mismatches.size == 0, f"first mismatch at sample {EVERY_SAMPLE[mismatches[0]]}"


@pytest.mark.parametrize(
    ("code", "sample"),
    [(0x80, 32124), (0x00, -32124), (0xFF, 0), (0x7F, 0), (0xFE, 8), (0x7E, -8), (0xEF, 132)],
)
def test_ulaw_well_known_codes_decode_to_their_published_values(code: int, sample: int) -> None:
    assert ulaw_decode(bytes([code])).tolist() == [sample]


@pytest.mark.parametrize(
    ("code", "sample"),
    [(0xD5, 8), (0x55, -8), (0xAA, 32256), (0x2A, -32256), (0xD4, 24), (0xC5, 264)],
)
def test_alaw_well_known_codes_decode_to_their_published_values(code: int, sample: int) -> None:
    assert alaw_decode(bytes([code])).tolist() == [sample]


def test_every_ulaw_code_survives_decode_and_encode_except_negative_zero() -> None:
    codes = np.arange(256, dtype=np.uint8)
    back = np.frombuffer(ulaw_encode(ulaw_decode(codes)), dtype=np.uint8)
    assert np.flatnonzero(back != codes).tolist() == [0x7F]
    assert back[0x7F] == 0xFF


def test_every_alaw_code_survives_decode_and_encode() -> None:
    codes = np.arange(256, dtype=np.uint8)
    assert alaw_encode(alaw_decode(codes)) == codes.tobytes()


def test_ulaw_round_trip_error_stays_within_half_an_interval() -> None:
    samples = EVERY_SAMPLE[np.abs(EVERY_SAMPLE) <= 32124]
    back = ulaw_decode(ulaw_encode(samples.astype(np.int16))).astype(np.int64)
    codes = np.frombuffer(ulaw_encode(samples.astype(np.int16)), dtype=np.uint8)
    widths = np.array([ULAW_INTERVALS[127 - (c & 0x7F)][1] for c in range(256)])[codes]
    # half the interval on the 14-bit scale, times 4, plus the two bits dropped from the input
    assert np.all(np.abs(back - samples) <= 2 * widths + 4)


def test_alaw_round_trip_error_stays_within_half_an_interval() -> None:
    samples = EVERY_SAMPLE[np.abs(EVERY_SAMPLE) <= 32256]
    back = alaw_decode(alaw_encode(samples.astype(np.int16))).astype(np.int64)
    codes = np.frombuffer(alaw_encode(samples.astype(np.int16)), dtype=np.uint8)
    widths = np.array([ALAW_INTERVALS[(c ^ 0x55) & 0x7F][1] for c in range(256)])[codes]
    # half the interval on the 13-bit scale, times 8, plus the three bits dropped from the input
    assert np.all(np.abs(back - samples) <= 4 * widths + 8)


@pytest.mark.parametrize("codec", [PCMU, PCMA], ids=lambda codec: codec.name)
def test_a_speech_level_tone_keeps_a_signal_to_noise_ratio_above_35_db(codec: G711Codec) -> None:
    t = np.arange(8000) / 8000
    signal = np.rint(0.3 * 32767 * np.sin(2 * np.pi * 1013 * t)).astype(np.int16)
    noise = codec.decode(codec.encode(signal)).astype(np.float64) - signal
    snr = 10 * np.log10(np.sum(signal.astype(np.float64) ** 2) / np.sum(noise**2))
    assert snr > 35


def test_samples_beyond_the_largest_level_clip_to_the_extreme_codes() -> None:
    assert ulaw_encode(np.array([32767, -32768], dtype=np.int16)) == b"\x80\x00"
    assert alaw_encode(np.array([32767, -32768], dtype=np.int16)) == b"\xaa\x2a"


def test_encode_tables_are_indexed_by_the_sample_viewed_as_uint16() -> None:
    assert ULAW_ENCODE.shape == (65536,) and ULAW_ENCODE.dtype == np.uint8
    assert ALAW_ENCODE.shape == (65536,) and ALAW_ENCODE.dtype == np.uint8
    assert ULAW_ENCODE[np.int16(-8).view(np.uint16)] == 0x7E
    assert ULAW_DECODE.dtype == np.int16 and ALAW_DECODE.shape == (256,)


def test_tables_cannot_be_modified_by_accident() -> None:
    with pytest.raises(ValueError, match="read-only"):
        ULAW_DECODE[0] = 1


def test_decoding_accepts_bytes_bytearrays_memoryviews_and_uint8_arrays() -> None:
    expected = ulaw_decode(b"\x00\x80\xff").tolist()
    assert ulaw_decode(bytearray(b"\x00\x80\xff")).tolist() == expected
    assert ulaw_decode(memoryview(b"\x00\x80\xff")).tolist() == expected
    assert ulaw_decode(np.array([0, 128, 255], dtype=np.uint8)).tolist() == expected


def test_decoding_refuses_values_that_are_not_code_bytes() -> None:
    with pytest.raises(ValueError):
        ulaw_decode(np.array([256]))
    with pytest.raises(TypeError):
        ulaw_decode(np.array([0.5]))


def test_encoding_clips_wide_integers_and_rounds_floats() -> None:
    assert as_int16(np.array([40000, -40000, 5])).tolist() == [32767, -32768, 5]
    assert as_int16(np.array([1.4, -1.6])).tolist() == [1, -2]
    assert ulaw_encode([40000]) == ulaw_encode(np.array([32767], dtype=np.int16))


def test_encoding_an_empty_array_gives_empty_bytes() -> None:
    assert ulaw_encode(np.zeros(0, dtype=np.int16)) == b""
    assert alaw_decode(b"").size == 0


def test_codecs_are_found_by_sdp_name_or_static_payload_type() -> None:
    assert codec_for("pcmu") is PCMU
    assert codec_for(8) is PCMA
    assert (PCMU.silence, PCMA.silence) == (0xFF, 0xD5)
    with pytest.raises(ValueError):
        codec_for("G729")
