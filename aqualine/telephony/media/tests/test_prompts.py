from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from aqualine.telephony.media.prompts import (
    PROMPTS_DIR,
    WELCOME,
    TtsUnavailable,
    load_prompt,
    prompt_path,
    render_tts,
    tts_cache_key,
)
from aqualine.telephony.media.wav import read_wav, write_wav
from aqualine.telephony.testing.audio import (
    dominant_frequency,
    frame_levels,
    frames_with_tone,
    rms_dbfs,
)

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is not installed"
)


def test_the_shipped_welcome_prompt_is_8khz_mono_16_bit_pcm() -> None:
    audio = read_wav(WELCOME)
    assert (audio.rate, audio.channels, audio.bits_per_sample) == (8000, 1, 16)
    assert WELCOME.stat().st_size < 100_000


def test_the_welcome_prompt_lasts_a_few_seconds_and_ends_in_a_pause() -> None:
    samples = load_prompt("welcome")
    assert 3.0 <= samples.size / 8000 <= 6.0
    assert rms_dbfs(samples[-4000:]) < -60  # the last half second is the pause


def test_the_welcome_prompt_is_speech_not_silence_or_a_tone() -> None:
    samples = load_prompt(WELCOME)
    speech = samples[:-4800]
    levels = frame_levels(speech, frame=0.02)
    assert np.mean(levels > -45) > 0.6, "mostly audible"
    assert rms_dbfs(speech) > -30
    peak = dominant_frequency(speech)
    assert frames_with_tone(speech, peak, frame=0.1) < 0.5, "pitch moves like a voice"
    power = np.abs(np.fft.rfft(speech.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(speech.size, 1 / 8000)
    assert power[(freqs >= 100) & (freqs <= 3400)].sum() / power.sum() > 0.9, "telephone band"


def test_loaded_prompts_are_shared_read_only_arrays() -> None:
    first = load_prompt("welcome")
    assert load_prompt("welcome.wav") is first
    assert not first.flags.writeable


def test_a_changed_prompt_file_is_loaded_again(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "p.wav", np.ones(800, dtype=np.int16))
    assert load_prompt(path).size == 800
    write_wav(path, np.ones(1600, dtype=np.int16))
    assert load_prompt(path).size == 1600


def test_bare_prompt_names_refer_to_the_shipped_prompts(tmp_path: Path) -> None:
    assert prompt_path("welcome") == PROMPTS_DIR / "welcome.wav"
    assert prompt_path(tmp_path / "x.wav") == tmp_path / "x.wav"


def test_the_tts_cache_key_depends_on_text_voice_and_pause() -> None:
    keys = {
        tts_cache_key("您好"),
        tts_cache_key("您好", voice="yue"),
        tts_cache_key("您好", pause=0.5),
        tts_cache_key("再见"),
    }
    assert len(keys) == 4


def test_rendering_without_espeak_ng_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(TtsUnavailable, match="apt-get install espeak-ng"):
        render_tts("您好", tmp_path, espeak="espeak-ng-is-not-here")


@needs_espeak
def test_text_is_rendered_to_an_8khz_prompt_with_a_trailing_pause(tmp_path: Path) -> None:
    path = render_tts("您的报修已受理。", tmp_path / "cache", pause=0.5)
    audio = read_wav(path)
    assert (audio.rate, audio.channels, audio.bits_per_sample) == (8000, 1, 16)
    assert audio.duration > 1.0
    assert rms_dbfs(audio.samples) > -35
    assert rms_dbfs(audio.samples[-3600:]) < -60


@needs_espeak
def test_rendering_the_same_text_again_reuses_the_cached_file(tmp_path: Path) -> None:
    first = render_tts("谢谢", tmp_path)
    again = render_tts("谢谢", tmp_path, espeak="espeak-ng-is-not-here")  # would fail if run
    assert again == first
    assert [p.name for p in tmp_path.iterdir()] == [first.name]


@needs_espeak
def test_rendering_works_without_sox_through_the_built_in_resampler(tmp_path: Path) -> None:
    path = render_tts("谢谢", tmp_path, sox="sox-is-not-here", pause=0.2)
    audio = read_wav(path)
    assert (audio.rate, audio.channels) == (8000, 1)
    assert rms_dbfs(audio.samples) > -35


def test_rendering_nothing_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        render_tts("  ", tmp_path)
