"""Prompts: the shipped welcome prompt, loading prompt files, and text-to-speech rendering.

Prompts are loaded once into read-only 8 kHz mono int16 arrays that every call can share.
:func:`render_tts` turns text into a cached prompt file with espeak-ng (and sox, or the built-in
resampler when sox is absent). The default voice is ``cmn-latn-pinyin``: espeak-ng 1.51's plain
``cmn`` voice reads the pinyin it derives from hanzi as English words ("nin two hao three").
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from threading import Lock
from typing import Final

import numpy as np

from aqualine.telephony.media.g711 import Samples
from aqualine.telephony.media.wav import load_audio, write_wav

PROMPTS_DIR: Final = Path(__file__).resolve().parent / "prompts"
WELCOME: Final = PROMPTS_DIR / "welcome.wav"
DEFAULT_VOICE: Final = "cmn-latn-pinyin"
RATE: Final = 8000

_cache: dict[tuple[Path, int, int], Samples] = {}
_cache_lock = Lock()


class TtsUnavailable(RuntimeError):
    """espeak-ng (or a working voice for it) is not available on this machine."""


class TtsFailed(RuntimeError):
    """espeak-ng or sox ran but did not produce audio."""


def prompt_path(name: str | Path) -> Path:
    """A bare name (``"welcome"`` or ``"welcome.wav"``) means a shipped prompt; else a path."""
    path = Path(name)
    if path.parent == Path(".") and not path.is_absolute():
        return PROMPTS_DIR / (path.name if path.suffix else f"{path.name}.wav")
    return path


def load_prompt(name: str | Path) -> Samples:
    """The prompt as 8 kHz mono int16, read-only and cached until the file changes."""
    path = prompt_path(name).resolve()
    stat = path.stat()
    key = (path, stat.st_mtime_ns, stat.st_size)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    samples = load_audio(path, RATE)
    samples.flags.writeable = False
    with _cache_lock:
        for stale in [k for k in _cache if k[0] == path]:
            del _cache[stale]
        _cache[key] = samples
    return samples


def tts_cache_key(text: str, voice: str = DEFAULT_VOICE, pause: float = 0.0) -> str:
    material = "\0".join(("espeak-ng", voice, f"{pause:.3f}", text))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:24]


def render_tts(
    text: str,
    cache_dir: str | Path,
    *,
    voice: str = DEFAULT_VOICE,
    pause: float = 0.0,
    espeak: str = "espeak-ng",
    sox: str = "sox",
    timeout: float = 60.0,
) -> Path:
    """Render text to an 8 kHz mono 16-bit WAV in ``cache_dir`` and return its path.

    The file name is a hash of (text, voice, pause): a second call with the same arguments
    returns the cached file without running anything. ``pause`` appends that many seconds of
    silence. Raises :class:`TtsUnavailable` when espeak-ng is missing.
    """
    if not text.strip():
        raise ValueError("nothing to say: empty text")
    if pause < 0:
        raise ValueError("pause must not be negative")
    directory = Path(cache_dir)
    target = directory / f"tts-{tts_cache_key(text, voice, pause)}.wav"
    if target.exists():
        return target
    espeak_binary = shutil.which(espeak)
    if espeak_binary is None:
        raise TtsUnavailable(
            f"{espeak} is not installed: text-to-speech prompts need it "
            "(Debian/Ubuntu: apt-get install espeak-ng)"
        )
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory, prefix=".tts-") as scratch:
        spoken = Path(scratch) / "espeak.wav"
        converted = Path(scratch) / "prompt.wav"
        _run(
            [espeak_binary, "-v", voice, "--stdin", "-w", str(spoken)],
            stdin=text,
            timeout=timeout,
            what="espeak-ng",
        )
        if not spoken.exists() or spoken.stat().st_size <= 44:
            raise TtsFailed(f"espeak-ng produced no audio for voice {voice!r}")
        sox_binary = shutil.which(sox)
        if sox_binary is not None:
            command = [sox_binary, "-V1", str(spoken), "-r", str(RATE), "-c", "1", "-b", "16"]
            command += ["-e", "signed-integer", str(converted)]
            if pause:
                command += ["pad", "0", f"{pause:.3f}"]
            _run(command, stdin=None, timeout=timeout, what="sox")
        else:  # no sox: the built-in resampler is good enough for speech
            samples = load_audio(spoken, RATE)
            silence = np.zeros(round(pause * RATE), dtype=np.int16)
            write_wav(converted, np.concatenate([samples, silence]), RATE)
        os.replace(converted, target)  # atomic: concurrent renders of one text are harmless
    return target


def _run(command: list[str], *, stdin: str | None, timeout: float, what: str) -> None:
    try:
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell
            command,
            input=stdin.encode("utf-8") if stdin is not None else None,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise TtsUnavailable(f"{what} could not be started: {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise TtsFailed(f"{what} did not finish within {timeout:.0f} s") from exc
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip()
        raise TtsFailed(f"{what} failed with exit code {result.returncode}: {message}")
