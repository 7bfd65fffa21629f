"""Call-progress tones (Chinese 450 Hz cadences) and the generated music on hold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aqualine.telephony.media.moh import LOOP_SECONDS, music_on_hold, write_music_on_hold
from aqualine.telephony.media.tones import CHINA, RINGBACK, Tone, render_tone
from aqualine.telephony.media.wav import read_wav
from aqualine.telephony.testing.audio import dominant_frequency, frame_levels, rms_dbfs


def on_off_ms(samples: np.ndarray) -> list[tuple[bool, int]]:
    """Runs of sound and silence, in whole milliseconds (8 samples each)."""
    loud = np.abs(samples.astype(np.int32)).reshape(-1, 8).max(axis=1) > 200
    runs: list[tuple[bool, int]] = []
    for value in loud.tolist():
        if runs and runs[-1][0] == value:
            runs[-1] = (value, runs[-1][1] + 1)
        else:
            runs.append((value, 1))
    return runs


@pytest.mark.parametrize(
    ("name", "cadence"),
    [
        ("ringback", [(True, 1000), (False, 4000)]),
        ("busy", [(True, 350), (False, 350)]),
        ("congestion", [(True, 700), (False, 700)]),
        ("call_waiting", [(True, 400), (False, 4000)]),
        ("dial", [(True, 1000)]),
    ],
)
def test_tones_have_the_chinese_cadence_at_450_hz(
    name: str, cadence: list[tuple[bool, int]]
) -> None:
    samples = render_tone(name)
    runs = on_off_ms(samples)
    assert [on for on, _ in runs] == [on for on, _ in cadence]
    for (_, got), (_, want) in zip(runs, cadence, strict=True):
        assert abs(got - want) <= 4  # the 4 ms ramps
    assert dominant_frequency(samples[:2400]) == pytest.approx(450, abs=2)
    assert -17 < rms_dbfs(samples[:2400]) < -12  # -10 dBm0
    assert not samples.flags.writeable


def test_every_tone_loops_without_a_click() -> None:
    for tone in CHINA.values():
        samples = render_tone(tone).astype(np.int32)
        looped = np.concatenate([samples, samples])
        jump = np.abs(np.diff(looped)).max()
        assert jump <= np.abs(np.diff(samples)).max() + 1, tone.name


def test_a_tone_of_two_frequencies_carries_both() -> None:
    samples = render_tone(Tone("dual", (350.0, 440.0), ((500, 0),)))
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    bins = np.fft.rfftfreq(len(samples), 1 / 8000)
    peaks = sorted(bins[np.argsort(spectrum)[-2:]].tolist())
    assert peaks == pytest.approx([350, 440], abs=3)
    assert render_tone(RINGBACK) is render_tone("ringback")  # rendered once


def test_music_on_hold_is_a_40_second_loop_that_is_never_silent(tmp_path: Path) -> None:
    music = music_on_hold()
    assert len(music) == LOOP_SECONDS * 8000
    assert music is music_on_hold()
    levels = frame_levels(music)
    assert levels.min() > -40  # music all the way through, no gaps
    assert -26 < rms_dbfs(music) < -16
    steps = np.abs(np.diff(music.astype(np.int32)))
    assert abs(int(music[0]) - int(music[-1])) <= np.percentile(steps, 90)  # no click at the seam
    spectrum = np.abs(np.fft.rfft(music.astype(np.float64))) ** 2
    bins = np.fft.rfftfreq(len(music), 1 / 8000)
    assert spectrum[bins > 3400].sum() < 1e-4 * spectrum.sum()  # all within the phone band
    path = write_music_on_hold(tmp_path / "moh.wav")
    assert np.array_equal(read_wav(path).samples, music)
