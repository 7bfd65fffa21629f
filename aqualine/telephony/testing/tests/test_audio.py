from __future__ import annotations

import math

import numpy as np
import pytest

from aqualine.telephony.media.g711 import PCMA, PCMU
from aqualine.telephony.media.rtp import RtpPacket
from aqualine.telephony.testing.audio import (
    decode_payloads,
    decode_rtp,
    dominant_frequency,
    frame_levels,
    frames_with_tone,
    is_silent,
    rms_dbfs,
    tone,
)


def test_a_tone_has_the_requested_length_and_level() -> None:
    samples = tone(440, 1.5, amplitude=0.5)
    assert samples.dtype == np.int16 and samples.size == 12000
    assert rms_dbfs(samples) == pytest.approx(20 * math.log10(0.5 / math.sqrt(2)), abs=0.05)
    assert tone(440, 1.0, rate=16000).size == 16000


def test_tone_amplitude_is_a_fraction_of_full_scale() -> None:
    with pytest.raises(ValueError):
        tone(440, 1.0, amplitude=1.5)


@pytest.mark.parametrize("freq", [300.0, 440.0, 700.0, 1000.0, 2750.5, 3400.0])
def test_the_dominant_frequency_is_found_between_fft_bins(freq: float) -> None:
    assert dominant_frequency(tone(freq, 0.1)) == pytest.approx(freq, abs=2.5)


def test_silence_has_no_dominant_frequency_and_minus_infinite_level() -> None:
    silence = np.zeros(800, dtype=np.int16)
    assert dominant_frequency(silence) == 0.0
    assert rms_dbfs(silence) == -math.inf
    assert rms_dbfs(np.zeros(0, dtype=np.int16)) == -math.inf
    assert is_silent(silence)


def test_g711_idle_noise_counts_as_silence_but_quiet_speech_levels_do_not() -> None:
    idle = PCMU.decode(bytes([0xFF, 0x7E, 0xFE, 0xFF] * 200))
    assert is_silent(idle)
    assert not is_silent(tone(440, 0.2, amplitude=0.01))


def test_frames_with_tone_measures_how_much_of_the_audio_carries_the_tone() -> None:
    audio = np.concatenate([tone(440, 1.0), np.zeros(4000, dtype=np.int16), tone(1000, 0.5)])
    assert frames_with_tone(audio, 440) == pytest.approx(0.5)
    assert frames_with_tone(audio, 1000) == pytest.approx(0.25)
    assert frames_with_tone(audio, 700) == 0.0


def test_a_tone_too_quiet_for_the_threshold_is_not_counted() -> None:
    faint = tone(440, 1.0, amplitude=0.001)
    assert frames_with_tone(faint, 440) == 0.0
    assert frames_with_tone(faint, 440, min_rms_dbfs=-70) == 1.0


def test_a_tone_in_noise_is_still_found() -> None:
    rng = np.random.default_rng(7)
    noisy = tone(700, 1.0).astype(float) + rng.normal(0, 2000, 8000)
    assert frames_with_tone(noisy, 700) == 1.0


def test_two_tones_mixed_show_the_louder_one_as_dominant() -> None:
    mix = tone(440, 1.0, amplitude=0.4).astype(int) + tone(1000, 1.0, amplitude=0.2)
    assert dominant_frequency(mix) == pytest.approx(440, abs=1)


def test_frame_levels_reports_one_level_per_whole_frame() -> None:
    levels = frame_levels(np.concatenate([tone(440, 0.2), np.zeros(850, dtype=np.int16)]))
    assert levels.size == 3
    assert levels[0] > -20 and levels[2] == -math.inf


def frames_of(samples: np.ndarray, first_sequence: int) -> list[tuple[int, bytes]]:
    payload = PCMU.encode(samples)
    return [
        ((first_sequence + i) % 65536, payload[offset : offset + 160])
        for i, offset in enumerate(range(0, len(payload), 160))
    ]


def test_payloads_are_decoded_in_sequence_order_across_the_wrap() -> None:
    audio = tone(440, 0.2)
    frames = frames_of(audio, 65530)
    shuffled = [frames[i] for i in (1, 0, 2, 4, 3, 5, 6, 8, 7, 9)]
    decoded = decode_payloads(shuffled, PCMU.payload_type)
    assert np.array_equal(decoded, PCMU.decode(PCMU.encode(audio)))


def test_missing_packets_become_silence_and_duplicates_are_dropped() -> None:
    frames = frames_of(tone(440, 0.1), 100)
    arrived = [frames[0], frames[1], frames[1], frames[3], frames[4]]
    decoded = decode_payloads(arrived, PCMU.payload_type)
    assert decoded.size == 800
    assert is_silent(decoded[320:480])
    assert decode_payloads(arrived, PCMU.payload_type, fill_gaps=False).size == 640


def test_rtp_packets_are_decoded_with_their_own_codec_and_events_left_out() -> None:
    payload = PCMA.encode(tone(1000, 0.02))
    packets = [
        RtpPacket(8, 1, 0, 5, payload),
        RtpPacket(101, 2, 160, 5, b"\x01\x0a\x00\xa0"),
        RtpPacket(8, 3, 320, 5, payload),
    ]
    decoded = decode_rtp(packets)
    assert decoded.size == 480  # the event's slot is a gap in the audio
    assert dominant_frequency(decoded[:160]) == pytest.approx(1000, abs=20)
    assert decode_rtp([]).size == 0
