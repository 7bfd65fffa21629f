"""The one place where the configuration pages touch the switch's audio code: decoding an
uploaded prompt into the switch's format (8 kHz mono 16-bit), writing it, the shipped prompts,
and text-to-speech for previews (all pure functions of `aqualine.telephony.media`)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Final

import numpy as np
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from aqualine.telephony.media.g711 import Samples
from aqualine.telephony.media.prompts import PROMPTS_DIR as SHIPPED_PROMPTS_DIR
from aqualine.telephony.media.prompts import TtsFailed, TtsUnavailable, render_tts
from aqualine.telephony.media.wav import downmix, read_wav, resample, wav_bytes

__all__ = [
    "MAX_PROMPT_BYTES",
    "MAX_PROMPT_SECONDS",
    "RATE",
    "SHIPPED_PROMPTS_DIR",
    "Samples",
    "TtsFailed",
    "TtsUnavailable",
    "decode_prompt",
    "render_tts",
    "wav_bytes",
]

RATE: Final = 8000
MAX_PROMPT_BYTES: Final = 5 * 1024 * 1024
MAX_PROMPT_SECONDS: Final = 300


def _is_mp3(head: bytes) -> bool:
    return head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)


@lru_cache(maxsize=1)
def sox_reads_mp3() -> bool:
    """sox reads MP3 only with its MP3 format library (Debian: libsox-fmt-mp3)."""
    sox = shutil.which("sox")
    if sox is None:
        return False
    try:
        result = subprocess.run(  # noqa: S603 - fixed argv
            [sox, "-h"], capture_output=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    formats = result.stdout.decode("utf-8", "replace").partition("AUDIO FILE FORMATS:")[2]
    return "mp3" in formats.splitlines()[0].split() if formats else False


def decode_prompt(upload: UploadedFile) -> Samples:
    """The upload as 8 kHz mono int16, or a ValidationError saying why it cannot be a prompt."""
    if (upload.size or 0) > MAX_PROMPT_BYTES:
        raise ValidationError(_("The file is larger than 5 MB."))
    head = upload.read(12)
    upload.seek(0)
    is_wav = head[:4] == b"RIFF" and head[8:12] == b"WAVE"
    is_mp3 = not is_wav and _is_mp3(head)
    if not (is_wav or is_mp3):
        raise ValidationError(_("This is not a WAV or MP3 file."))
    if is_mp3 and not sox_reads_mp3():
        raise ValidationError(
            _(
                "This server cannot read MP3 files (sox needs its MP3 support, Debian package "
                "libsox-fmt-mp3); upload a WAV file instead."
            )
        )
    with tempfile.TemporaryDirectory(prefix="aq-prompt-") as scratch:
        source = Path(scratch) / ("upload.wav" if is_wav else "upload.mp3")
        with source.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        samples = _read_wav_prompt(source) if is_wav else None
        if samples is None:
            samples = _sox_decode(source, Path(scratch) / "prompt.wav")
    if samples.size == 0:
        raise ValidationError(_("The file contains no sound."))
    if samples.size > MAX_PROMPT_SECONDS * RATE:
        raise _too_long()
    return samples


def _too_long() -> ValidationError:
    return ValidationError(_("The prompt is longer than 5 minutes."))


def _read_wav_prompt(path: Path) -> Samples | None:
    """A WAV the switch's own reader understands (None: let sox try)."""
    try:
        audio = read_wav(path)
    except Exception:  # WavError, wave.Error, EOFError, struct.error: not for this reader
        return None
    if audio.duration > MAX_PROMPT_SECONDS + 0.5:
        raise _too_long()
    return np.ascontiguousarray(resample(downmix(audio.samples), audio.rate, RATE))


def _sox_decode(source: Path, target: Path) -> Samples:
    sox = shutil.which("sox")
    if sox is None:
        raise ValidationError(_("This audio file cannot be read (it is not plain PCM WAV)."))
    command = [sox, "-V1", str(source), "-r", str(RATE), "-c", "1", "-b", "16"]
    command += ["-e", "signed-integer", str(target), "trim", "0", str(MAX_PROMPT_SECONDS + 1)]
    try:
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell
            command, capture_output=True, timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        result = None
    if result is None or result.returncode != 0 or not target.exists():
        raise ValidationError(_("This audio file cannot be decoded; is it damaged?"))
    audio = read_wav(target)
    if audio.duration > MAX_PROMPT_SECONDS + 0.5:
        raise _too_long()
    return np.ascontiguousarray(downmix(audio.samples))
