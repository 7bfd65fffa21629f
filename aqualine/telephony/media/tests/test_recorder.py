"""Recording files: always a valid WAV on disk, staggered flushes, and surviving a SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import wave
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest

from aqualine.telephony.media.recorder import (
    WAV_HEADER_SIZE,
    RecorderBank,
    RecordingFile,
    RecordingResult,
    RecordingWriter,
    recover_wav,
)
from aqualine.telephony.media.tests.audio_checks import heard
from aqualine.telephony.media.wav import read_wav


def strict_frames(path: Path) -> int:
    """Sample frames as the standard library reads them (it trusts the header)."""
    with wave.open(str(path), "rb") as reader:
        assert (reader.getframerate(), reader.getsampwidth()) == (8000, 2)
        return reader.getnframes()


def test_a_new_recording_is_already_a_valid_empty_wav(tmp_path: Path) -> None:
    file = RecordingFile(tmp_path / "a" / "call.wav", channels=1)
    try:
        assert (tmp_path / "a" / "call.wav").stat().st_size == WAV_HEADER_SIZE
        assert strict_frames(file.path) == 0
    finally:
        file.close()


def test_every_append_leaves_a_wav_that_covers_it(tmp_path: Path) -> None:
    file = RecordingFile(tmp_path / "call.wav", channels=2)
    for count in (1, 2, 3):
        file.append(np.arange(160 * 2, dtype="<i2").tobytes())
        assert strict_frames(file.path) == 160 * count  # readable while still open
    file.close()
    audio = read_wav(file.path)
    assert audio.channels == 2
    assert audio.frames == 480
    assert audio.samples[:2].tolist() == [[0, 1], [2, 3]]


def test_recover_takes_in_a_tail_written_after_the_last_header_patch(tmp_path: Path) -> None:
    path = tmp_path / "killed.wav"
    file = RecordingFile(path, channels=1)
    file.append(np.ones(800, dtype="<i2").tobytes())
    file.close()
    with open(path, "ab") as handle:  # a write the header patch never followed; half a sample
        handle.write(np.full(300, 2, dtype="<i2").tobytes() + b"\x07")
    assert strict_frames(path) == 800
    assert recover_wav(path) == 1100
    assert strict_frames(path) == 1100
    assert path.stat().st_size == WAV_HEADER_SIZE + 2200
    assert recover_wav(path) == 1100  # nothing left to do


def test_recover_refuses_files_it_did_not_write(tmp_path: Path) -> None:
    path = tmp_path / "other.wav"
    path.write_bytes(b"RIFF" + bytes(60))
    with pytest.raises(ValueError):
        recover_wav(path)


class _Writes(RecordingWriter):
    """Records which file was appended on which tick, instead of writing in a thread."""

    def __init__(self) -> None:
        super().__init__()
        self.tick = 0
        self.appends: list[tuple[int, Path, int]] = []

    def append(self, file: RecordingFile, data: bytes) -> None:
        self.appends.append((self.tick, file.path, len(data)))
        file.append(data)

    def close(self, file: RecordingFile, done: Future[RecordingResult]) -> None:
        file.close()
        done.set_result(RecordingResult(file.path, file.frames, file.channels, file.error))


def test_recordings_flush_on_different_ticks_and_lose_no_frame(tmp_path: Path) -> None:
    writer = _Writes()
    bank = RecorderBank(writer, flush_ticks=5, rows=2)
    results: list[Future[RecordingResult]] = []
    for recording_id in range(10):
        file = RecordingFile(tmp_path / f"{recording_id}.wav", channels=1)
        rows = bank.allocate_rows(1)
        done: Future[RecordingResult] = Future()
        bank.start(recording_id, file, rows, 3, done)
        results.append(done)
    assert bank.rows >= 10  # grew from 2
    for tick in range(3, 40):
        writer.tick = tick
        frames = np.zeros((bank.rows, 160), dtype=np.int16)
        frames[:, :] = tick
        bank.record(frames, tick)
    per_tick: dict[int, int] = {}
    for tick, _, _ in writer.appends:
        per_tick[tick] = per_tick.get(tick, 0) + 1
    assert max(per_tick.values()) == 2  # 10 recordings, 5 phases: never all at once
    for recording_id, done in enumerate(results):
        bank.stop(recording_id, 39)
        result = done.result(1)
        assert result.frames == 37 * 160  # ticks 3..39
        audio = read_wav(result.path).samples
        assert audio[::160].tolist() == list(range(3, 40))


def test_the_writer_thread_appends_in_order_and_reports_the_result(tmp_path: Path) -> None:
    writer = RecordingWriter()
    file = RecordingFile(tmp_path / "w.wav", channels=1)
    for value in range(20):
        writer.append(file, np.full(160, value, dtype="<i2").tobytes())
    done: Future[RecordingResult] = Future()
    writer.close(file, done)
    result = done.result(5)
    writer.stop()
    assert result.error is None
    assert result.frames == 20 * 160
    assert read_wav(result.path).samples[::160].tolist() == list(range(20))


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_a_recording_is_readable_after_the_process_is_killed_mid_call(tmp_path: Path) -> None:
    path = tmp_path / "crash.wav"
    child = subprocess.Popen(
        [sys.executable, "-m", "aqualine.telephony.media.tests.crash_recording", str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "recording"
        enough = WAV_HEADER_SIZE + 3 * 8000 * 2  # three seconds reached the disk
        assert wait_for(lambda: path.exists() and path.stat().st_size > enough, 30)
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    frames = strict_frames(path)  # no repair needed to read it
    assert frames >= 3 * 8000
    audio = read_wav(path).samples
    assert heard(audio[8000:], (440, 1000, 700)) == {440, 1000}
    on_disk = path.stat().st_size
    assert recover_wav(path) >= frames
    assert strict_frames(path) == (on_disk - WAV_HEADER_SIZE) // 2
