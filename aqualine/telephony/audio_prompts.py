"""Turning the IVR's prompts (a file, text to speak, a tone) into audio for the media clock.

Files are looked up in the configured prompt directories (uploaded recordings first), then
among the prompts shipped with the package. Text goes through espeak-ng once and is cached as a
WAV file (:func:`~aqualine.telephony.media.prompts.render_tts`); rendering runs in a worker
thread, never on the event loop. A prompt that cannot be rendered is replaced by a short
silence and logged: a caller must never be stuck because one prompt is missing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from aqualine.telephony.ivr.schema import Prompt
from aqualine.telephony.media.g711 import Samples
from aqualine.telephony.media.prompts import load_prompt, prompt_path, render_tts
from aqualine.telephony.media.tones import Tone, render_tone

log = logging.getLogger("aqualine.switch.prompts")

RATE = 8000
GAP = np.zeros(RATE // 10, dtype=np.int16)  # 100 ms between the parts of one Play


class PromptLibrary:
    """Finds and renders prompts; thread-safe (used from worker threads)."""

    def __init__(self, directories: Sequence[Path] = (), tts_cache: Path | None = None) -> None:
        self.directories = [Path(d) for d in directories]
        self.tts_cache = tts_cache

    def file(self, name: str) -> Path:
        for directory in self.directories:
            for candidate in (directory / name, directory / f"{name}.wav"):
                if candidate.is_file():
                    return candidate
        return prompt_path(name)

    def render_one(self, prompt: Prompt) -> Samples:
        if prompt.file:
            return load_prompt(self.file(prompt.file))
        if prompt.tts:
            if self.tts_cache is None:
                raise RuntimeError("no TTS cache directory is configured")
            return load_prompt(render_tts(prompt.tts, self.tts_cache))
        tone = Tone(f"tone-{prompt.tone_hz}", (float(prompt.tone_hz),), ((prompt.tone_ms, 0),))
        samples = render_tone(tone)
        return samples[: RATE * prompt.tone_ms // 1000]

    def render(self, prompts: Sequence[Prompt]) -> Samples:
        """All prompts one after another (blocking: run it in a worker thread)."""
        parts: list[np.ndarray] = []
        for prompt in prompts:
            try:
                parts.append(np.asarray(self.render_one(prompt), dtype=np.int16))
            except Exception:
                log.exception("prompt %s could not be rendered", prompt.to_dict())
                parts.append(np.zeros(RATE // 2, dtype=np.int16))
            parts.append(GAP)
        if not parts:
            return np.zeros(RATE // 10, dtype=np.int16)
        return np.concatenate(parts[:-1])

    def warm(self, texts: Sequence[str]) -> int:
        """Render these texts ahead of the first call (a flow's static prompts); returns how
        many could be rendered."""
        done = 0
        for text in texts:
            try:
                self.render_one(Prompt(tts=text))
                done += 1
            except Exception as exc:
                log.warning("TTS pre-render failed for %r: %s", text[:40], exc)
        return done
