"""The media clock: one thread that moves, mixes and records the audio of every leg, 20 ms at
a time, in vectorised numpy steps (see :mod:`~aqualine.telephony.media.engine` for the steps of
a tick). The thread wakes on absolute deadlines of ``time.monotonic``; a late wake-up runs the
missed ticks back to back, up to ``max_catch_up`` of them (the rest are dropped and counted).

Using it from the asyncio SIP side -- every method is thread-safe and returns at once; the
change happens at the clock's next tick, in the order the calls were made::

    clock = MediaClock("192.0.2.10", shared_port=0, port_range=(20000, 29999),
                       loop=asyncio.get_running_loop(), on_event=handle_media_event)
    clock.start()
    caller = clock.add_leg(remote=(sdp_host, sdp_port), codec="PCMU", dtmf_payload_type=101)
    # ... answer with caller.host / caller.port
    done = await asyncio.wrap_future(clock.play(caller, "welcome").done)
    agent = clock.add_leg(remote=agent_sdp, shared=False, latch=Latch.ANY)
    clock.bridge(caller, agent)
    recording = clock.start_recording([caller, agent], path)
    ...
    clock.stop_recording(recording)
    stats = await asyncio.wrap_future(clock.remove_leg(caller))
    clock.stop()

:class:`MediaClock` (``leg`` is a :class:`~.handles.Leg` or its id):

* ``MediaClock(host="127.0.0.1", *, shared_port=None, port_range=None, on_event=None,
  loop=None, jitter_depth=3, jitter_frames=16, rtcp_interval=5.0, media_timeout=30.0,
  flush_ticks=50, max_catch_up=10, capacity=64, cname=None, thread_nice=None,
  realtime_priority=None)``; ``start()``,
  ``stop(timeout=5.0)``, ``running``, ``shared_address``; a context manager.
* ``add_leg(*, remote=None, codec=PCMU, payload_type=None, dtmf_payload_type=101, ptime=20,
  latch=Latch.HOST, shared=None, sock=None, rtcp_sock=None, port=0, port_range=None,
  rtcp=True, rtcp_mux=False, rtcp_port=None, sending=True) -> Leg``
* ``set_remote(leg, host, port, *, rtcp_port=None)`` -- from SDP, again on a re-INVITE;
  ``set_sending(leg, sending)``; ``remove_leg(leg) -> Future[LegStats | None]``.
* ``connect(source, destination)`` (destination hears source), ``disconnect(source,
  destination)``, ``bridge(a, b)``, ``conference(legs)``, ``listen(listener, legs)``,
  ``whisper(whisperer, to, listen_to=())``, ``barge(joiner, legs)``, ``isolate(leg)``.
* ``play(leg, audio, *, loop=False, mix=False) -> Playback`` (audio: 8 kHz int16 samples, or a
  prompt name or path), ``play_tone(leg, tone, *, loop=True)`` (Chinese 450 Hz tones:
  ``"ringback"``, ``"busy"``, ...), ``play_music_on_hold(leg)``, ``stop_play(leg)``. Unless
  ``mix``, a leg that is played to hears only the playback; its connections resume after.
* ``start_recording(legs, path, *, stereo=False) -> Recording`` (mono: the mix of what the legs
  say; stereo: the first leg left, the others right), ``stop_recording(recording)``; a file
  left by a crash is readable as it is, and :func:`~.recorder.recover_wav` takes in its tail.
* ``send_dtmf(leg, digits, *, duration_ms=100, gap_ms=60) -> Future[bool]``.
* ``request_stats(*, reset=False) -> Future[ClockStats]``, ``stats(*, reset=False)``
  (blocking), ``request_leg_stats(leg) -> Future[LegStats | None]``, ``leg_stats(leg)``.

Events (:mod:`~.handles`: DTMF received, playback finished, DTMF sent, remote latched, media
time-out, RTCP BYE, recording finished) go to ``on_event``: through
``loop.call_soon_threadsafe`` when a loop is given, else on the clock thread (keep it quick).
Futures are :class:`concurrent.futures.Future` (``await asyncio.wrap_future(f)``); callbacks
added to them run on the clock thread.

Legs are *shared* (one local port for many legs, read and written with ``recvmmsg`` and
``sendmmsg``: the fast path, IPv4, the remote must send from its SDP host) or *dedicated* (a
socket of their own, like any SIP endpoint; needed for NAT'd phones that put a private
address in SDP). Symmetric RTP: a leg accepts RTP per its :class:`~.handles.Latch` policy
until the first packet latches it to that packet's source; RTP from anywhere else is then
dropped and counted (on a dedicated socket, connected to the latched address, the kernel
drops it -- which also makes receiving and sending cheaper).

Cost, measured by ``bench/media_clock.py`` (400 bridged calls, both legs recorded): ~21-26 %
of a core on the shared port, ~30-40 % with a socket per leg, ~75 MiB RSS. On a machine whose
CPUs are busy with other work the thread gets only its fair share of a CPU and falls behind
near that share: give it ``thread_nice`` or ``realtime_priority``. The thread holds the GIL for
its numpy work (~4 ms a tick at 400 calls), so an asyncio loop in the same process wakes up to
~4 ms late (p99) under that load; run the clock in a process of its own if that matters.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Final

import numpy.typing as npt

from aqualine.telephony.media.dtmf import DtmfSender
from aqualine.telephony.media.engine import FRAME_SECONDS, MediaEngine
from aqualine.telephony.media.g711 import PCMU, G711Codec, as_int16, codec_for
from aqualine.telephony.media.handles import (
    Address,
    ClockStats,
    Latch,
    Leg,
    LegStats,
    MediaEvent,
    Playback,
    Recording,
    RecordingFinished,
)
from aqualine.telephony.media.legs import DtmfJob, LegState, PlayerState
from aqualine.telephony.media.mixer import Connections
from aqualine.telephony.media.moh import music_on_hold
from aqualine.telephony.media.player import bind_rtp_ports, canonical_ip
from aqualine.telephony.media.prompts import load_prompt
from aqualine.telephony.media.recorder import RecordingFile, RecordingResult
from aqualine.telephony.media.tones import Tone, render_tone

DEFAULT_DTMF_PAYLOAD_TYPE: Final = 101
PTIMES: Final = (20, 40, 60)

log = logging.getLogger(__name__)

LegRef = Leg | int
EventHandler = Callable[[MediaEvent], None]


def _leg_id(leg: LegRef) -> int:
    return leg.id if isinstance(leg, Leg) else int(leg)


def _checked(address: Address) -> Address:
    host, port = address
    if not 0 < int(port) <= 65535:
        raise ValueError(f"bad port {port}")
    return canonical_ip(host), int(port)


class MediaClock:
    """All legs' media in one thread. See the module docstring for the API."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        *,
        shared_port: int | None = None,
        port_range: tuple[int, int] | None = None,
        on_event: EventHandler | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        jitter_depth: int = 3,
        jitter_frames: int = 16,
        rtcp_interval: float = 5.0,
        media_timeout: float | None = 30.0,
        flush_ticks: int = 50,
        max_catch_up: int = 10,
        capacity: int = 64,
        cname: str | None = None,
        thread_nice: int | None = None,
        realtime_priority: int | None = None,
    ) -> None:
        """``shared_port``: None for no shared port, 0 for any free even port (RTCP on the
        next one), or a port number. ``port_range`` bounds the ports of dedicated legs.
        ``jitter_depth`` is the playout delay in 20 ms frames; ``media_timeout`` (seconds, or
        None) when a silent remote is reported; ``flush_ticks`` how often each recording is
        written out. ``thread_nice`` (e.g. -10) or ``realtime_priority`` (SCHED_RR, 1-99)
        raise the clock thread's scheduling priority (Linux; needs the privilege to do so:
        without it a warning is logged and the clock runs at normal priority)."""
        self.host = canonical_ip(host)
        self.port_range = port_range
        self.on_event = on_event
        self.max_catch_up = max(1, max_catch_up)
        self.cname = cname or f"aqualine-media@{self.host}"
        self.thread_nice = thread_nice
        self.realtime_priority = realtime_priority
        self._loop = loop
        self._outbox: deque[MediaEvent] = deque()
        self._engine = MediaEngine(
            self.host,
            self._outbox,
            shared_port=shared_port,
            jitter_depth=jitter_depth,
            jitter_frames=jitter_frames,
            rtcp_interval=rtcp_interval,
            media_timeout=media_timeout,
            flush_ticks=flush_ticks,
            capacity=capacity,
        )
        self._ids = itertools.count(1)
        self._commands: deque[Callable[[], None]] = deque()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._closed = False

    # --- lifecycle -----------------------------------------------------------------------

    @property
    def shared_address(self) -> Address | None:
        """The shared port's address (None when the clock has none)."""
        return self._engine.shared_address

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self._closed:
            raise RuntimeError("the media clock was stopped; make a new one")
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="aqualine-media-clock", daemon=True)
        self._engine.thread = self._thread
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the clock: playbacks end, legs are removed, recordings closed, sockets freed."""
        if self._closed:
            return
        self._closed = True
        self._stopping.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        else:
            self._apply_commands()
            self._engine.shutdown()
        self._engine.writer.stop(timeout)
        self._deliver_events()

    def __enter__(self) -> MediaClock:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _submit(self, command: Callable[[], None]) -> None:
        if self._closed:
            raise RuntimeError("the media clock is stopped")
        self._commands.append(command)

    # --- the thread ----------------------------------------------------------------------

    def _raise_priority(self) -> None:
        """Media must not wait behind batch work (exports, reports) for a CPU."""
        try:
            if self.realtime_priority is not None:
                os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(self.realtime_priority))
            elif self.thread_nice is not None:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.thread_nice)
        except (AttributeError, OSError) as exc:
            log.warning("media clock: could not raise its thread's priority: %s", exc)

    def _run(self) -> None:
        engine = self._engine
        self._raise_priority()
        engine.reset_window()
        next_deadline = time.monotonic()
        try:
            while not self._stopping.is_set():
                now = time.monotonic()
                if now < next_deadline:
                    time.sleep(next_deadline - now)
                    now = time.monotonic()
                lateness = now - next_deadline
                due = int(lateness / FRAME_SECONDS) + 1
                if due > self.max_catch_up:
                    skip = due - self.max_catch_up
                    engine.skip_ticks(skip)
                    next_deadline += skip * FRAME_SECONDS
                    due = self.max_catch_up
                engine.receive()
                self._apply_commands()
                engine.wake(due, now)
                self._deliver_events()
                next_deadline += due * FRAME_SECONDS
                engine.note_timing(lateness, time.monotonic() - now)
        except Exception:
            log.exception("the media clock failed")
            raise
        finally:
            self._apply_commands()
            engine.shutdown()
            self._deliver_events()

    def _apply_commands(self) -> None:
        commands = self._commands
        while commands:
            command = commands.popleft()
            try:
                command()
            except Exception:
                log.exception("media clock command failed")

    def _deliver_events(self) -> None:
        outbox = self._outbox
        if not outbox:
            return
        events: list[MediaEvent] = []
        while outbox:
            events.append(outbox.popleft())
        if self.on_event is None:
            return
        if self._loop is None:
            self._dispatch(events)
            return
        try:
            self._loop.call_soon_threadsafe(self._dispatch, events)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            log.debug("media events dropped: the event loop is closed")

    def _dispatch(self, events: list[MediaEvent]) -> None:
        handler = self.on_event
        if handler is None:
            return
        for event in events:
            try:
                handler(event)
            except Exception:
                log.exception("media event handler failed on %r", event)

    # --- legs ----------------------------------------------------------------------------

    def add_leg(
        self,
        *,
        remote: Address | None = None,
        codec: G711Codec | str = PCMU,
        payload_type: int | None = None,
        dtmf_payload_type: int | None = DEFAULT_DTMF_PAYLOAD_TYPE,
        ptime: int = 20,
        latch: Latch | str = Latch.HOST,
        shared: bool | None = None,
        sock: socket.socket | None = None,
        rtcp_sock: socket.socket | None = None,
        port: int = 0,
        port_range: tuple[int, int] | None = None,
        rtcp: bool = True,
        rtcp_mux: bool = False,
        rtcp_port: int | None = None,
        sending: bool = True,
    ) -> Leg:
        """Open a leg and return its handle (its local address goes into SDP).

        ``shared`` None means: the shared port when the clock has one and neither a socket, a
        port nor the ANY latch policy asks otherwise. ``sock`` hands over a bound UDP socket
        (and ``rtcp_sock`` its RTCP partner); the clock closes them. ``remote`` is the SDP
        address (or call :meth:`set_remote` later); ``rtcp_port`` an SDP ``a=rtcp`` port.
        """
        chosen = codec_for(codec) if isinstance(codec, str) else codec
        policy = Latch(latch)
        if ptime not in PTIMES:
            raise ValueError(f"ptime must be one of {PTIMES} ms")
        audio_pt = chosen.payload_type if payload_type is None else payload_type
        if not 0 <= audio_pt <= 127:
            raise ValueError("bad payload type")
        if dtmf_payload_type is not None and not 0 <= dtmf_payload_type <= 127:
            raise ValueError("bad telephone-event payload type")
        if dtmf_payload_type == audio_pt:
            raise ValueError("audio and telephone-event need different payload types")
        address = None if remote is None else _checked(remote)
        use_shared = shared
        if use_shared is None:
            use_shared = (
                self._engine.has_shared
                and sock is None
                and port == 0
                and port_range is None
                and policy is not Latch.ANY
                and (address is None or ":" not in address[0])
            )
        ssrc = secrets.randbits(32)
        if use_shared:
            if self.shared_address is None:
                raise ValueError("this clock has no shared port")
            if policy is Latch.ANY:
                raise ValueError("a shared leg cannot latch onto any address: use a dedicated one")
            if address is not None and ":" in address[0]:
                raise ValueError("the shared port is IPv4")
            rtcp_local = self._engine.shared_rtcp_port
            handle = Leg(next(self._ids), *self.shared_address, rtcp_local, True, ssrc)
            rtp_sock = rtcp_socket = None
        else:
            if sock is None:
                rtp_sock, rtcp_socket = bind_rtp_ports(
                    self.host,
                    port=port,
                    port_range=port_range or (None if port else self.port_range),
                    rtcp=rtcp and not rtcp_mux,
                )
            else:
                rtp_sock, rtcp_socket = sock, rtcp_sock
            rtp_sock.setblocking(False)
            if rtcp_socket is not None:
                rtcp_socket.setblocking(False)
            name = rtp_sock.getsockname()
            rtcp_local = None if rtcp_socket is None else int(rtcp_socket.getsockname()[1])
            handle = Leg(next(self._ids), str(name[0]), int(name[1]), rtcp_local, False, ssrc)
        state = LegState(
            handle=handle,
            codec=chosen,
            payload_type=audio_pt,
            dtmf_payload_type=dtmf_payload_type,
            ptime=ptime,
            latch=policy,
            rtcp_mux=rtcp_mux,
            sock=rtp_sock,
            rtcp_sock=rtcp_socket,
            sending=sending,
            cname=self.cname,
            sdp_remote=address,
            remote=address,
            rtcp_port=rtcp_port,
        )
        if not rtcp and not rtcp_mux:
            state.rtcp_port = None
        try:
            self._submit(lambda: self._engine.register(state))
        except RuntimeError:
            for owned in (rtp_sock, rtcp_socket):
                if owned is not None:
                    owned.close()
            raise
        return handle

    def set_remote(
        self, leg: LegRef, host: str, port: int, *, rtcp_port: int | None = None
    ) -> None:
        """Send to this address (from SDP; again after a re-INVITE); latch anew per policy."""
        address = _checked((host, port))
        leg_id = _leg_id(leg)
        self._submit(lambda: self._engine.set_remote(leg_id, address, rtcp_port))

    def set_sending(self, leg: LegRef, sending: bool) -> None:
        """Stop or resume sending audio to the leg (e.g. while the remote holds the call)."""
        leg_id = _leg_id(leg)
        self._submit(lambda: self._engine.set_sending(leg_id, sending))

    def remove_leg(self, leg: LegRef) -> Future[LegStats | None]:
        """Close the leg (RTCP BYE, sockets released); the future gets its final stats
        (None if the leg was unknown)."""
        done: Future[LegStats | None] = Future()
        leg_id = _leg_id(leg)
        self._submit(lambda: done.set_result(self._engine.unregister(leg_id)))
        return done

    # --- connections ---------------------------------------------------------------------

    def _edit(self, change: Callable[[Connections[int]], None]) -> None:
        self._submit(lambda: self._engine.edit(change))

    def connect(self, source: LegRef, destination: LegRef) -> None:
        """``destination`` hears ``source`` (one direction)."""
        s, d = _leg_id(source), _leg_id(destination)
        self._edit(lambda c: c.connect(s, d))

    def disconnect(self, source: LegRef, destination: LegRef) -> None:
        s, d = _leg_id(source), _leg_id(destination)
        self._edit(lambda c: c.disconnect(s, d))

    def bridge(self, a: LegRef, b: LegRef) -> None:
        x, y = _leg_id(a), _leg_id(b)
        self._edit(lambda c: c.bridge(x, y))

    def conference(self, legs: Iterable[LegRef]) -> None:
        members = [_leg_id(leg) for leg in legs]
        self._edit(lambda c: c.conference(members))

    def listen(self, listener: LegRef, legs: Iterable[LegRef]) -> None:
        who, talkers = _leg_id(listener), [_leg_id(leg) for leg in legs]
        self._edit(lambda c: c.listen(who, talkers))

    def whisper(self, whisperer: LegRef, to: LegRef, listen_to: Iterable[LegRef] = ()) -> None:
        who, target = _leg_id(whisperer), _leg_id(to)
        talkers = [_leg_id(leg) for leg in listen_to]
        self._edit(lambda c: c.whisper(who, target, talkers))

    def barge(self, joiner: LegRef, legs: Iterable[LegRef]) -> None:
        who, talkers = _leg_id(joiner), [_leg_id(leg) for leg in legs]
        self._edit(lambda c: c.barge(who, talkers))

    def isolate(self, leg: LegRef) -> None:
        """The leg hears nobody and nobody hears it."""
        who = _leg_id(leg)
        self._edit(lambda c: c.isolate(who))

    # --- playing -------------------------------------------------------------------------

    def play(
        self,
        leg: LegRef,
        audio: npt.ArrayLike | str | Path,
        *,
        loop: bool = False,
        mix: bool = False,
    ) -> Playback:
        """Play 8 kHz mono samples, or a prompt (name or path, loaded here), to the leg.

        It replaces what the leg was playing. Unless ``mix``, the leg hears only the
        playback while it lasts (its connections resume after).
        """
        samples = load_prompt(audio) if isinstance(audio, str | Path) else as_int16(audio)
        if samples.ndim != 1:
            raise ValueError("play() takes mono samples of shape (n,)")
        leg_id = _leg_id(leg)
        done: Future[bool] = Future()
        player = PlayerState(next(self._ids), leg_id, samples, loop, not mix, done)
        if samples.size == 0:
            done.set_result(True)
            return Playback(player.id, leg_id, done)
        self._submit(lambda: self._engine.start_player(player))
        return Playback(player.id, leg_id, done)

    def play_tone(self, leg: LegRef, tone: Tone | str, *, loop: bool = True) -> Playback:
        """A call-progress tone (:mod:`~.tones`: ``"ringback"``, ``"busy"``, ...)."""
        return self.play(leg, render_tone(tone), loop=loop)

    def play_music_on_hold(self, leg: LegRef) -> Playback:
        return self.play(leg, music_on_hold(), loop=True)

    def stop_play(self, leg: LegRef) -> None:
        leg_id = _leg_id(leg)

        self._submit(lambda: self._engine.stop_player(leg_id))

    # --- DTMF ----------------------------------------------------------------------------

    def send_dtmf(
        self, leg: LegRef, digits: str, *, duration_ms: int = 100, gap_ms: int = 60
    ) -> Future[bool]:
        """Send digits as RFC 4733 events (instead of audio meanwhile). The future is True
        when all were sent, False if the leg went away first."""
        sender = DtmfSender(digits, duration_ms=duration_ms, gap_ms=gap_ms)
        done: Future[bool] = Future()
        leg_id = _leg_id(leg)
        self._submit(lambda: self._engine.queue_dtmf(leg_id, DtmfJob(sender, done)))
        return done

    # --- recording -----------------------------------------------------------------------

    def start_recording(
        self, legs: Sequence[LegRef], path: str | Path, *, stereo: bool = False
    ) -> Recording:
        """Record what the legs say: a mono mix, or stereo with ``legs[0]`` on the left and
        the others on the right. The file is created (and its header written) here."""
        ids = tuple(_leg_id(leg) for leg in legs)
        if not ids:
            raise ValueError("record at least one leg")
        if stereo and len(ids) < 2:
            raise ValueError("a stereo recording needs two legs or more")
        channel_legs = (ids[:1], ids[1:]) if stereo else (ids,)
        file = RecordingFile(path, len(channel_legs))
        done: Future[RecordingResult] = Future()
        recording = Recording(next(self._ids), file.path, file.channels, done)
        done.add_done_callback(
            lambda f: (
                None
                if f.cancelled() or f.exception() is not None
                else self._outbox.append(RecordingFinished(recording.id, f.result()))
            )
        )
        try:
            self._submit(lambda: self._engine.start_recording(recording, file, channel_legs))
        except RuntimeError:
            file.close()
            raise
        return recording

    def set_recording_legs(
        self, recording: Recording, legs: Sequence[LegRef], *, stereo: bool = False
    ) -> None:
        """Record ``legs`` from the next tick on, in the same file (same channel layout as at
        the start: stereo puts ``legs[0]`` left and the others right)."""
        ids = tuple(_leg_id(leg) for leg in legs)
        if not ids:
            raise ValueError("record at least one leg")
        channel_legs = (ids[:1], ids[1:]) if stereo else (ids,)
        self._submit(lambda: self._engine.set_recording_legs(recording.id, channel_legs))

    def stop_recording(self, recording: Recording | int) -> None:
        recording_id = recording.id if isinstance(recording, Recording) else int(recording)
        self._submit(lambda: self._engine.stop_recording(recording_id))

    # --- statistics ----------------------------------------------------------------------

    def request_stats(self, *, reset: bool = False) -> Future[ClockStats]:
        """The clock's stats at the next tick; ``reset`` starts a new timing window."""
        done: Future[ClockStats] = Future()

        def command() -> None:
            done.set_result(self._engine.clock_stats(running=self.running))
            if reset:
                self._engine.reset_window()

        if self.running:
            self._submit(command)
        else:
            command()
        return done

    def stats(self, *, reset: bool = False, timeout: float = 2.0) -> ClockStats:
        return self.request_stats(reset=reset).result(timeout)

    def request_leg_stats(self, leg: LegRef) -> Future[LegStats | None]:
        done: Future[LegStats | None] = Future()
        leg_id = _leg_id(leg)

        def command() -> None:
            done.set_result(self._engine.leg_stats_of(leg_id))

        if self.running:
            self._submit(command)
        else:
            command()
        return done

    def leg_stats(self, leg: LegRef, timeout: float = 2.0) -> LegStats | None:
        return self.request_leg_stats(leg).result(timeout)
