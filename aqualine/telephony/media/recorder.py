"""Call recordings: 16-bit 8 kHz WAV files (mono mix, or stereo caller/agent) written by the
media clock without ever waiting for a disk, and readable after a crash.

How a recording survives a crash: the 44-byte header goes to disk when the file is opened (an
empty but valid WAV), and after every append of audio the RIFF and data sizes in the header are
patched to cover what was just written -- data first, header second, so the header never
promises more than the file holds. A process killed at any moment leaves a valid WAV of
everything up to the last append; :func:`recover_wav` also takes in a partly written tail (or
repairs a file after a power loss) by setting the sizes from the file's length.

Who does what: the clock thread mixes each recording's channels into destination rows (see
:mod:`~aqualine.telephony.media.mixer`) and hands every tick's rows to :class:`RecorderBank`,
which keeps the last ``flush_ticks`` ticks of every row in one ring array. Each recording is
flushed once per ``flush_ticks`` ticks, on a tick chosen from its id, so that 400 recordings
spread their flushes over a second instead of all writing on one tick (which spiked a tick to
12 ms in the prototype). The file I/O itself runs on one :class:`RecordingWriter` thread, so a
slow disk delays only the writer.
"""

from __future__ import annotations

import logging
import os
import queue
import struct
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

RATE: Final = 8000
FRAME: Final = 160
WAV_HEADER_SIZE: Final = 44
_HEADER: Final = struct.Struct("<4sI4s4sIHHIIHH4sI")
_SIZE: Final = struct.Struct("<I")
_MAX_DATA: Final = 0xFFFFFFFF - 36

log = logging.getLogger(__name__)

Frames = npt.NDArray[np.int16]


def wav_header(channels: int, data_bytes: int, rate: int = RATE) -> bytes:
    """The canonical 44-byte header of a 16-bit PCM WAV holding ``data_bytes`` of samples."""
    block = 2 * channels
    return _HEADER.pack(
        b"RIFF",
        36 + data_bytes,
        b"WAVE",
        b"fmt ",
        16,
        1,
        channels,
        rate,
        rate * block,
        block,
        16,
        b"data",
        data_bytes,
    )


class RecordingFile:
    """One WAV file being appended to. Used by one thread at a time (the writer)."""

    def __init__(self, path: str | Path, channels: int, rate: int = RATE) -> None:
        if channels not in (1, 2):
            raise ValueError("recordings are mono or stereo")
        self.path = Path(path)
        self.channels = channels
        self.rate = rate
        self.data_bytes = 0
        self.error: str | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
        self._fd: int | None = os.open(self.path, flags, 0o640)
        try:
            self._write_all(wav_header(channels, 0, rate))
        except OSError:
            self.close()
            raise

    @property
    def frames(self) -> int:
        """Sample frames written (one frame = one sample of every channel)."""
        return self.data_bytes // (2 * self.channels)

    @property
    def closed(self) -> bool:
        return self._fd is None

    def _write_all(self, data: bytes | memoryview) -> None:
        if self._fd is None:
            raise OSError("recording file is closed")
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def append(self, data: bytes) -> None:
        """Append samples (little-endian int16, channels interleaved), then patch the sizes."""
        if self.error is not None or not data:
            return
        if self._fd is None:
            raise OSError("recording file is closed")
        if self.data_bytes + len(data) > _MAX_DATA:
            self.error = "recording reached the 4 GiB WAV limit"
            return
        try:
            self._write_all(data)
            self.data_bytes += len(data)
            os.pwrite(self._fd, _SIZE.pack(36 + self.data_bytes), 4)
            os.pwrite(self._fd, _SIZE.pack(self.data_bytes), 40)
        except OSError as exc:
            self.error = f"writing {self.path} failed: {exc}"
            log.warning("%s", self.error)

    def close(self, *, sync: bool = False) -> None:
        fd = self._fd
        if fd is None:
            return
        self._fd = None
        try:
            if sync:
                os.fsync(fd)
        except OSError as exc:
            self.error = self.error or f"syncing {self.path} failed: {exc}"
        finally:
            os.close(fd)


def recover_wav(path: str | Path) -> int:
    """Make a WAV left behind by a killed or crashed writer whole; return its sample frames.

    The RIFF and data sizes are set from the file's length (cut to whole sample frames, and the
    file truncated to match), so that everything that reached the disk is playable. A file that
    is already consistent is left as it is. Only files written by :class:`RecordingFile` (a
    44-byte header) are handled.
    """
    target = Path(path)
    with open(target, "r+b") as handle:
        header = handle.read(WAV_HEADER_SIZE)
        if len(header) < WAV_HEADER_SIZE:
            raise ValueError(f"{target} is too short to be a recording")
        fields = _HEADER.unpack(header)
        riff, _riff_size, wave, fmt, _fmt_size, tag, channels, rate, _byte_rate = fields[:9]
        block, bits, data_id, data_size = fields[9:]
        if (riff, wave, fmt, data_id) != (b"RIFF", b"WAVE", b"fmt ", b"data") or tag != 1:
            raise ValueError(f"{target} is not a recording written by Aqualine")
        if bits != 16 or block != 2 * channels or channels < 1:
            raise ValueError(f"{target} has an unexpected sample format")
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        available = min(size - WAV_HEADER_SIZE, _MAX_DATA)
        whole = available - available % block
        if whole != data_size or size != WAV_HEADER_SIZE + whole:
            handle.truncate(WAV_HEADER_SIZE + whole)
            handle.seek(0)
            handle.write(wav_header(channels, whole, rate))
        return whole // block


@dataclass(frozen=True)
class RecordingResult:
    """How a recording ended: its file, its length, and an error if writing failed."""

    path: Path
    frames: int
    channels: int
    error: str | None = None

    @property
    def seconds(self) -> float:
        return self.frames / RATE


class RecordingWriter:
    """The thread that does the recordings' file I/O, in the order it was asked."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _ensure_started(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="aqualine-recorder", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                job()
            except Exception:  # one broken job must not stop the other recordings
                log.exception("recording writer job failed")

    def submit(self, job: Callable[[], None]) -> None:
        self._ensure_started()
        self._queue.put(job)

    @property
    def backlog(self) -> int:
        """Jobs queued and not yet done (approximate)."""
        return self._queue.qsize()

    def append(self, file: RecordingFile, data: bytes) -> None:
        self.submit(lambda: file.append(data))

    def close(self, file: RecordingFile, done: Future[RecordingResult]) -> None:
        def finish() -> None:
            file.close()
            result = RecordingResult(file.path, file.frames, file.channels, file.error)
            if not done.done():
                done.set_result(result)

        self.submit(finish)

    def stop(self, timeout: float = 10.0) -> None:
        """Finish every job queued so far, then end the thread."""
        with self._lock:
            thread = self._thread
            self._thread = None
        if thread is None:
            return
        self._queue.put(None)
        thread.join(timeout)


@dataclass
class _Active:
    recording_id: int
    file: RecordingFile
    rows: tuple[int, ...]
    phase: int
    last_flushed: int
    """The last tick whose frames went to the writer."""
    done: Future[RecordingResult]
    ticks: int = 0


class RecorderBank:
    """Every recording's last ``flush_ticks`` ticks, in one ring; staggered flushes."""

    def __init__(self, writer: RecordingWriter, *, flush_ticks: int = 50, rows: int = 64) -> None:
        if flush_ticks < 1:
            raise ValueError("flush_ticks must be at least 1")
        self.writer = writer
        self.flush_ticks = flush_ticks
        self.ring: Frames = np.zeros((rows, flush_ticks, FRAME), dtype=np.int16)
        self._free_rows: list[int] = list(range(rows - 1, -1, -1))
        self._active: dict[int, _Active] = {}
        self._by_phase: dict[int, set[int]] = {}

    @property
    def rows(self) -> int:
        return int(self.ring.shape[0])

    @property
    def active(self) -> int:
        return len(self._active)

    def allocate_rows(self, count: int) -> tuple[int, ...]:
        while len(self._free_rows) < count:
            self._grow()
        return tuple(self._free_rows.pop() for _ in range(count))

    def _grow(self) -> None:
        old = self.rows
        ring = np.zeros((old * 2, self.flush_ticks, FRAME), dtype=np.int16)
        ring[:old] = self.ring
        self.ring = ring
        self._free_rows = list(range(old * 2 - 1, old - 1, -1)) + self._free_rows

    def start(
        self,
        recording_id: int,
        file: RecordingFile,
        rows: tuple[int, ...],
        tick: int,
        done: Future[RecordingResult],
    ) -> None:
        if len(rows) != file.channels:
            raise ValueError("one row per channel")
        phase = recording_id % self.flush_ticks
        self._active[recording_id] = _Active(recording_id, file, rows, phase, tick - 1, done)
        self._by_phase.setdefault(phase, set()).add(recording_id)

    def record(self, frames: Frames, tick: int) -> None:
        """Take this tick's frames of every row (``frames[row]``) and flush whose turn it is."""
        position = tick % self.flush_ticks
        self.ring[:, position] = frames[: self.rows]
        due = self._by_phase.get(position)
        if due:
            for recording_id in due:
                self._flush(self._active[recording_id], tick)

    def _flush(self, active: _Active, tick: int) -> None:
        count = tick - active.last_flushed
        if count <= 0:
            return
        count = min(count, self.flush_ticks)
        positions = np.arange(tick - count + 1, tick + 1) % self.flush_ticks
        if len(active.rows) == 1:
            data = self.ring[active.rows[0], positions]
        else:
            left, right = active.rows
            data = np.stack((self.ring[left, positions], self.ring[right, positions]), axis=-1)
        active.last_flushed = tick
        active.ticks += count
        self.writer.append(active.file, data.astype("<i2", copy=False).tobytes())

    def stop(self, recording_id: int, tick: int) -> tuple[int, ...]:
        """Flush what is left and close the file (on the writer); returns the freed rows.

        ``tick`` is the last tick whose frames were recorded.
        """
        active = self._active.pop(recording_id)
        self._by_phase[active.phase].discard(recording_id)
        self._flush(active, tick)
        self.writer.close(active.file, active.done)
        self._free_rows.extend(active.rows)
        return active.rows

    def ids(self) -> list[int]:
        return list(self._active)

    def ticks_recorded(self, recording_id: int) -> int:
        active = self._active[recording_id]
        return active.ticks
