"""The media clock's work on its own thread: every leg's state in numpy arrays, and the steps
of one tick. :class:`~aqualine.telephony.media.clock.MediaClock` owns a :class:`MediaEngine`
and its thread; nothing here is thread-safe, and nothing here is called from another thread
while the clock runs (commands are queued and applied between ticks).

Each wake-up (:meth:`MediaEngine.wake`):

1. read every datagram waiting on the shared port (``recvmmsg``) and on the ready dedicated
   sockets (epoll + ``recv_into``) into one :class:`~.transport.RxBatch`;
2. classify all of them at once; plain 20 ms G.711 packets are decoded through lookup tables
   and stored in the legs' :class:`~.jitter.JitterBuffer` in one step; DTMF, RTCP, other sizes
   and first packets take a slower path, packet by packet;

then for each due tick (:meth:`MediaEngine.run_tick`):

3. play one frame of every leg out of the jitter buffers (a ``legs x 160`` int16 array) and one
   frame of every player (prompts, tones, music on hold);
4. mix by the :class:`~.mixer.MixPlan` of the current connections (who hears whom), into one
   row per leg and one row per recording channel;
5. encode every sending leg's row into its outgoing packet, write all headers at once, and send
   them: ``sendmmsg`` on the shared port, ``send`` on dedicated sockets; legs sending DTMF or
   with a ptime over 20 ms go packet by packet;
6. hand the recording rows to the :class:`~.recorder.RecorderBank`;
7. now and then: RTCP reports (staggered), media time-outs (vectorised).
"""

from __future__ import annotations

import functools
import logging
import math
import random
import secrets
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from aqualine.telephony.media.g711 import (
    ALAW_DECODE,
    ALAW_ENCODE,
    ULAW_DECODE,
    ULAW_ENCODE,
)
from aqualine.telephony.media.handles import (
    Address,
    ClockStats,
    DtmfReceived,
    DtmfSent,
    Latch,
    LegStats,
    MediaEvent,
    MediaTimeout,
    PlaybackFinished,
    Recording,
    RemoteBye,
    RemoteLatched,
)
from aqualine.telephony.media.jitter import FRAME, JitterBuffer
from aqualine.telephony.media.legs import (
    DtmfJob,
    LegArrays,
    LegState,
    PlayerState,
    RecordingState,
    Totals,
)
from aqualine.telephony.media.mixer import Connections, MixPlan
from aqualine.telephony.media.player import bind_rtp_ports
from aqualine.telephony.media.recorder import (
    RecorderBank,
    RecordingFile,
    RecordingWriter,
)
from aqualine.telephony.media.rtcp import (
    ReportBlock,
    build_report,
    parse_incoming,
)
from aqualine.telephony.media.rtp import (
    RtpError,
    looks_like_rtcp,
    pack_rtp_header,
    try_parse_rtp,
)
from aqualine.telephony.media.transport import (
    AUDIO_PACKET,
    AddressMap,
    RxBatch,
    SharedSocket,
    TxBuffer,
    address_key,
    disconnect_udp,
    key_address,
)

FRAME_SECONDS: Final = 0.020
CN_PAYLOAD_TYPE: Final = 13
TIMING_WINDOW: Final = 1 << 16
_DECODE: Final = np.concatenate([ULAW_DECODE, ALAW_DECODE])
_ENCODE: Final = np.concatenate([ULAW_ENCODE, ALAW_ENCODE])
_CODEC_INDEX: Final = {"PCMU": 0, "PCMA": 1}

Ints = npt.NDArray[np.int64]

log = logging.getLogger(__name__)


# --- the engine ------------------------------------------------------------------------------


class MediaEngine:
    """Every leg's media state, and the work of each tick. Owned by the clock thread."""

    def __init__(
        self,
        host: str,
        outbox: deque[MediaEvent],
        *,
        shared_port: int | None = None,
        jitter_depth: int = 3,
        jitter_frames: int = 16,
        rtcp_interval: float = 5.0,
        media_timeout: float | None = 30.0,
        flush_ticks: int = 50,
        capacity: int = 64,
    ) -> None:
        self.host = host
        self.outbox = outbox
        """Events for the clock to deliver (a deque: other threads may append too)."""
        self.rtcp_interval = rtcp_interval
        self.media_timeout = media_timeout
        capacity = max(8, capacity)
        self.capacity = capacity
        self.jitter = JitterBuffer(capacity, depth=jitter_depth, frames=jitter_frames)
        self._tx = TxBuffer(capacity)
        self._arr = LegArrays(capacity)
        self._rx = RxBatch(max(1024, 2 * capacity + 256))
        self.writer = RecordingWriter()
        self._bank = RecorderBank(self.writer, flush_ticks=flush_ticks)
        self.connections: Connections[int] = Connections()
        self._addresses = AddressMap()
        self._host_waiting: dict[str, list[int]] = {}
        self._by_slot: list[LegState | None] = [None] * capacity
        self._senders: list[Callable[[memoryview], object]] = [_no_sender] * capacity
        """Per dedicated slot: sends a packet to the leg's remote (bound once, called a lot)."""
        self._generation: Ints = np.zeros(capacity, dtype=np.int64)
        """Bumped whenever a slot changes hands, to spot stale rows of a receive batch."""
        self._free_slots: list[int] = list(range(capacity - 1, -1, -1))
        self.legs: dict[int, LegState] = {}
        self._players: dict[int, PlayerState] = {}
        self._player_rows = 16
        self._free_player_rows: list[int] = list(range(self._player_rows - 1, -1, -1))
        self._recordings: dict[int, RecordingState] = {}
        self._plan: MixPlan | None = None
        self.plan_dirty = True
        self._src = np.zeros((1, FRAME), dtype=np.int16)
        self._dst = np.zeros((1, FRAME), dtype=np.int16)
        self._allocate_matrices()
        self.tick = 0
        self._fds: dict[int, tuple[LegState, bool]] = {}
        self._shared: SharedSocket | None = None
        self._shared_rtcp: socket.socket | None = None
        self.shared_address: Address | None = None
        self.shared_rtcp_port: int | None = None
        self._removed = Totals()
        self._unknown_source = 0
        self._skipped = 0
        self._lateness = np.zeros(TIMING_WINDOW)
        self._work = np.zeros(TIMING_WINDOW)
        self._wakes = 0
        self._window = (0, 0.0, 0.0, 0)  # wakes, monotonic, thread cpu, skipped at reset
        self.thread: threading.Thread | None = None
        """The thread that runs the ticks (for the CPU figure in the stats)."""
        self._rng = random.Random(secrets.randbits(64))  # noqa: S311 - jitter for RTCP timing
        self._epoll = select.epoll()
        if shared_port is not None:
            try:
                self._open_shared(shared_port)
            except BaseException:
                self._epoll.close()
                raise

    def _open_shared(self, port: int) -> None:
        rtp_sock, rtcp_sock = bind_rtp_ports(self.host, port=port, rtcp=True)
        try:
            self._shared = SharedSocket(rtp_sock)
        except (OSError, ValueError):
            rtp_sock.close()
            if rtcp_sock is not None:
                rtcp_sock.close()
            raise
        self._shared_rtcp = rtcp_sock
        if rtcp_sock is not None:
            rtcp_sock.setblocking(False)
            self.shared_rtcp_port = int(rtcp_sock.getsockname()[1])
        self.shared_address = self._shared.address

    @property
    def has_shared(self) -> bool:
        return self._shared is not None

    def wake(self, due: int, now: float) -> None:
        """Classify what :meth:`receive` read, then run ``due`` ticks (more than one after a
        late wake-up). The clock applies queued commands between the two, so that a packet
        read in this wake-up finds the leg whose ``add_leg`` came before it.

        When behind, more is read -- but only about what the due ticks will play (a leg sends
        one packet a tick): reading on without playing would take packets from beyond the
        jitter window, and each of those would re-sync its leg the slow way."""
        self._process_received(self.tick, now)
        wanted = (due + 2) * max(1, len(self.legs))
        read = self._rx.count
        while self._rx.full and read < wanted:
            self.receive()
            self._process_received(self.tick, now)
            read += self._rx.count
        for _ in range(due):
            self.run_tick(self.tick)
            self.tick += 1

    def note_timing(self, lateness: float, work: float) -> None:
        index = self._wakes % TIMING_WINDOW
        self._lateness[index] = lateness
        self._work[index] = work
        self._wakes += 1

    def edit(self, change: Any) -> None:
        """Change the connections (a callable taking them) and re-plan the mix."""
        change(self.connections)
        self.plan_dirty = True

    def leg_stats_of(self, leg_id: int) -> LegStats | None:
        state = self.legs.get(leg_id)
        return None if state is None else self.leg_stats(state)

    def stop_player(self, leg_id: int) -> None:
        state = self.legs.get(leg_id)
        if state is not None and state.player is not None:
            self.end_player(state.player, completed=False)

    def skip_ticks(self, count: int) -> None:
        """The clock fell too far behind: drop ``count`` ticks (counted), keep time running."""
        self._skipped += count
        scratch = np.zeros((self.capacity, FRAME), dtype=np.int16)
        for _ in range(min(count, self.jitter.frames)):
            self.jitter.pull(scratch, self.tick)
        extra = count - min(count, self.jitter.frames)
        if extra:
            self.jitter.play += extra * self.jitter.synced
        self._arr.ts_out = (self._arr.ts_out + count * FRAME) & 0xFFFFFFFF

    def shutdown(self) -> None:
        """Close every recording and leg (their futures and events complete), free sockets."""
        for recording_id in list(self._recordings):
            self.stop_recording(recording_id)
        for leg_id in list(self.legs):
            self.unregister(leg_id)
        if self._shared is not None:
            self._shared.close()
        if self._shared_rtcp is not None:
            self._shared_rtcp.close()
        self._epoll.close()

    # --- slots and matrices --------------------------------------------------------------

    def _allocate_matrices(self) -> None:
        self._src = np.zeros((self.capacity + self._player_rows + 1, FRAME), dtype=np.int16)
        self._dst = np.zeros((self.capacity + self._bank.rows, FRAME), dtype=np.int16)
        self.plan_dirty = True

    def _grow(self) -> None:
        old = self.capacity
        capacity = old * 2
        self.jitter.grow(capacity)
        self._tx.grow(capacity)
        self._arr.grow(capacity)
        self._by_slot.extend([None] * (capacity - old))
        self._senders.extend([_no_sender] * (capacity - old))
        self._generation = np.concatenate([self._generation, np.zeros(capacity - old, np.int64)])
        self._free_slots = list(range(capacity - 1, old - 1, -1)) + self._free_slots
        self.capacity = capacity
        self._rx.grow(max(1024, 2 * capacity + 256))
        self._allocate_matrices()

    def _rebuild_plan(self) -> None:
        if (
            len(self._dst) != self.capacity + self._bank.rows
            or len(self._src) != self.capacity + self._player_rows + 1
        ):
            self._allocate_matrices()
        players = self.capacity
        hears: dict[int, list[int]] = {}
        for leg_id, state in self.legs.items():
            player = state.player
            if player is not None and player.exclusive:
                hears[state.slot] = [players + player.row]
                continue
            sources = [
                self.legs[source].slot
                for source in self.connections.sources_of(leg_id)
                if source in self.legs
            ]
            if player is not None:
                sources.append(players + player.row)
            if sources:
                hears[state.slot] = sources
        for recording in self._recordings.values():
            for row, legs in zip(recording.rows, recording.channel_legs, strict=True):
                hears[self.capacity + row] = [
                    self.legs[leg].slot for leg in legs if leg in self.legs
                ]
        self._plan = MixPlan(hears, len(self._dst))
        self.plan_dirty = False

    # --- commands ------------------------------------------------------------------------

    def register(self, state: LegState) -> None:
        if not self._free_slots:
            self._grow()
        slot = self._free_slots.pop()
        self._generation[slot] += 1
        state.slot = slot
        self._by_slot[slot] = state
        self.legs[state.id] = state
        a = self._arr
        a.clear(slot)
        self.jitter.reset(slot)
        a.in_use[slot] = True
        a.shared[slot] = state.shared
        a.audio_pt[slot] = state.payload_type
        a.codec[slot] = _CODEC_INDEX[state.codec.name]
        a.seq_out[slot] = secrets.randbits(16)
        a.ts_out[slot] = secrets.randbits(32)
        a.marker[slot] = True
        a.last_rx_tick[slot] = self.tick
        interval = self._rtcp_ticks()
        a.next_rtcp[slot] = self.tick + self._rng.randrange(interval // 2, interval + 1)
        self._tx.ssrc[slot] = state.handle.ssrc
        a.special[slot] = state.ptime != 20
        if state.sock is not None:
            self._watch(state.sock, state, rtcp=False)
        if state.rtcp_sock is not None:
            self._watch(state.rtcp_sock, state, rtcp=True)
        self._route(state)
        self.plan_dirty = True

    def _watch(self, sock: socket.socket, state: LegState, *, rtcp: bool) -> None:
        fd = sock.fileno()
        self._epoll.register(fd, select.EPOLLIN)
        self._fds[fd] = (state, rtcp)

    def _route(self, state: LegState) -> None:
        """After the remote changed: address lookups, where to send, whether we can."""
        slot = state.slot
        if state.shared:
            if state.key is not None:
                self._addresses.remove(state.key, slot)
                state.key = None
            for waiting in self._host_waiting.values():
                if slot in waiting:
                    waiting.remove(slot)
            if state.remote is not None:
                state.key = address_key(*state.remote)
                self._addresses.set(state.key, slot)
                self._tx.set_address(slot, *state.remote)
                if not state.latched and state.latch is Latch.HOST:
                    self._host_waiting.setdefault(state.remote[0], []).append(slot)
        self._arr.latched[slot] = state.latched
        self._update_can_send(state)

    def _update_can_send(self, state: LegState) -> None:
        self._arr.can_send[state.slot] = state.sending and state.remote is not None
        sock, remote = state.sock, state.remote
        if sock is None or remote is None:
            self._senders[state.slot] = _no_sender
        elif state.connected:
            self._senders[state.slot] = sock.send
        else:
            self._senders[state.slot] = functools.partial(_send_to, sock, remote)

    def set_remote(self, leg_id: int, address: Address, rtcp_port: int | None) -> None:
        state = self.legs.get(leg_id)
        if state is None:
            return
        if state.connected and state.sock is not None:
            try:
                disconnect_udp(state.sock)
                state.connected = False
            except OSError:
                state.socket_errors += 1
                log.warning("leg %s: could not disconnect its socket", leg_id)
        if state.latched and state.remote != address:
            state.previous_remote = state.remote
        state.sdp_remote = state.remote = address
        state.rtcp_port = rtcp_port
        state.rtcp_learned = None
        state.latched = False
        self._arr.marker[state.slot] = True
        self._route(state)

    def set_sending(self, leg_id: int, sending: bool) -> None:
        state = self.legs.get(leg_id)
        if state is not None:
            state.sending = sending
            self._update_can_send(state)

    def unregister(self, leg_id: int) -> LegStats | None:
        state = self.legs.get(leg_id)
        if state is None:
            return None
        if state.player is not None:
            self.end_player(state.player, completed=False)
        while state.dtmf_jobs:
            job = state.dtmf_jobs.popleft()
            self._finish_dtmf(state, job, completed=False)
        self._send_rtcp(state, time.monotonic(), bye=True)
        stats = self.leg_stats(state)
        removed = self._removed
        removed.received += stats.packets_received
        removed.sent += stats.packets_sent
        removed.lost += stats.packets_lost
        removed.underruns += stats.underruns
        removed.late += stats.late
        removed.duplicates += stats.duplicates
        removed.wrong_source += stats.wrong_source
        removed.malformed += stats.malformed
        removed.send_errors += stats.send_errors
        self.connections.isolate(leg_id)
        slot = state.slot
        if state.key is not None:
            self._addresses.remove(state.key, slot)
        for waiting in self._host_waiting.values():
            if slot in waiting:
                waiting.remove(slot)
        for sock in (state.sock, state.rtcp_sock):
            if sock is not None:
                fd = sock.fileno()
                if fd in self._fds:
                    self._epoll.unregister(fd)
                    del self._fds[fd]
                sock.close()
        del self.legs[leg_id]
        self._by_slot[slot] = None
        self._senders[slot] = _no_sender
        self._generation[slot] += 1
        self._arr.clear(slot)
        self.jitter.reset(slot)
        self._free_slots.append(slot)
        self.plan_dirty = True
        return stats

    def start_player(self, player: PlayerState) -> None:
        state = self.legs.get(player.leg)
        if state is None:
            player.done.set_result(False)
            return
        if state.player is not None:
            self.end_player(state.player, completed=False)
        if not self._free_player_rows:
            old = self._player_rows
            self._player_rows *= 2
            self._free_player_rows = list(range(self._player_rows - 1, old - 1, -1))
            self._allocate_matrices()
        player.row = self._free_player_rows.pop()
        state.player = player
        self._players[player.id] = player
        self.plan_dirty = True

    def end_player(self, player: PlayerState, *, completed: bool) -> None:
        if self._players.pop(player.id, None) is None:
            return
        state = self.legs.get(player.leg)
        if state is not None and state.player is player:
            state.player = None
        self._free_player_rows.append(player.row)
        self.plan_dirty = True
        if not player.done.done():
            player.done.set_result(completed)
        self.outbox.append(PlaybackFinished(player.leg, player.id, completed))

    def queue_dtmf(self, leg_id: int, job: DtmfJob) -> None:
        state = self.legs.get(leg_id)
        if state is None:
            job.done.set_result(False)
            return
        if state.dtmf_payload_type is None:
            job.done.set_exception(RuntimeError("telephone-event was not negotiated"))
            return
        state.dtmf_jobs.append(job)
        self._arr.special[state.slot] = True

    def _finish_dtmf(self, state: LegState, job: DtmfJob, *, completed: bool) -> None:
        if not job.done.done():
            job.done.set_result(completed)
        self.outbox.append(DtmfSent(state.id, job.sender.digits, completed))
        self._arr.special[state.slot] = bool(state.dtmf_jobs) or state.ptime != 20
        self._arr.marker[state.slot] = True

    def start_recording(
        self, recording: Recording, file: RecordingFile, channel_legs: tuple[tuple[int, ...], ...]
    ) -> None:
        rows = self._bank.allocate_rows(len(channel_legs))
        self._bank.start(recording.id, file, rows, self.tick, recording.done)
        self._recordings[recording.id] = RecordingState(
            recording.id, rows, channel_legs, recording.done
        )
        self.plan_dirty = True

    def set_recording_legs(
        self, recording_id: int, channel_legs: tuple[tuple[int, ...], ...]
    ) -> None:
        """Record other legs from now on (a transfer, a conference); the file goes on."""
        state = self._recordings.get(recording_id)
        if state is None or len(channel_legs) != len(state.channel_legs):
            return
        state.channel_legs = channel_legs
        self.plan_dirty = True

    def stop_recording(self, recording_id: int) -> None:
        if self._recordings.pop(recording_id, None) is None:
            return
        self._bank.stop(recording_id, self.tick - 1)
        self.plan_dirty = True

    # --- receiving -----------------------------------------------------------------------

    def receive(self) -> None:
        """Read what is waiting on every socket into the batch (nothing is interpreted yet)."""
        batch = self._rx
        batch.clear()
        if self._shared is not None:
            self._shared.receive(batch)
            if self._shared_rtcp is not None:
                self._read_shared_rtcp()
        if not self._fds:
            return
        # Level-triggered epoll: first one datagram from every ready socket (nearly always all
        # there is); then, from the sockets still ready, everything (a burst after a network
        # hiccup) -- so that only those pay for the final receive that finds nothing.
        ready = self._epoll.poll(0)
        if not ready or not self._read_once(ready):
            return
        ready = self._epoll.poll(0)
        for fd, _mask in ready:
            entry = self._fds.get(fd)
            if entry is None:
                continue
            state, rtcp = entry
            if rtcp:
                self._read_rtcp_socket(state)
            elif not self._read_dedicated(state, drain=True):
                return  # the batch is full: the rest waits for the next tick

    def _read_once(self, ready: list[tuple[int, int]]) -> bool:
        """One datagram from each ready socket, with the bookkeeping done in bulk after the
        loop (this is the loop that runs once per dedicated leg and tick). False if the
        batch filled up."""
        batch = self._rx
        views = batch.views
        fds = self._fds
        start = row = batch.count
        rows = batch.rows
        slots: list[int] = []
        sizes: list[int] = []
        room = True
        for fd, _mask in ready:
            entry = fds.get(fd)
            if entry is None:
                continue
            state, rtcp = entry
            if rtcp:
                self._read_rtcp_socket(state)
                continue
            if row >= rows:
                room = False
                break
            if not state.connected:  # not latched yet (or could not connect): the slow way
                batch.count = row
                self._read_dedicated(state, drain=False)
                if batch.count > row:
                    slots.append(state.slot)
                    sizes.append(int(batch.length[row]))
                    row += 1
                continue
            try:
                size = state.sock.recv_into(views[row])  # type: ignore[union-attr]
            except BlockingIOError:
                continue
            except OSError:
                state.socket_errors += 1  # e.g. ICMP port unreachable on a connected socket
                continue
            slots.append(state.slot)
            sizes.append(size)
            row += 1
        if row > start:
            taken = np.array(slots, dtype=np.int64)
            batch.slot[start:row] = taken
            batch.length[start:row] = sizes
            batch.key[start:row] = 0
            batch.generation[start:row] = self._generation[taken]
        batch.count = row
        return room

    def _read_dedicated(self, state: LegState, drain: bool) -> bool:
        """Read one datagram (or all, when ``drain``) of a leg's socket; False if no room."""
        batch = self._rx
        sock = state.sock
        assert sock is not None
        slot = state.slot
        for _ in range(64 if drain else 1):
            row = batch.count
            if row >= batch.rows:
                return False
            try:
                if state.connected:
                    size = sock.recv_into(batch.views[row])
                else:
                    size, source = sock.recvfrom_into(batch.views[row])
                    if not self._admit(state, (str(source[0]), int(source[1])), row):
                        continue
            except BlockingIOError:
                return True
            except OSError:
                state.socket_errors += 1  # e.g. ICMP port unreachable on a connected socket
                return True
            batch.length[row] = size
            batch.slot[row] = slot
            batch.key[row] = 0
            batch.generation[row] = self._generation[slot]
            batch.count = row + 1
        return True

    def _admit(self, state: LegState, source: Address, row: int) -> bool:
        """Whether a dedicated leg accepts a datagram from ``source``; latches on the first."""
        if state.latched:
            if source == state.remote:
                return True
            state.wrong_source += 1
            return False
        if self._rx.data[row, 0] >> 6 != 2:  # not RTP/RTCP: never latch onto it
            state.malformed += 1
            return False
        sdp = state.sdp_remote
        if state.latch is Latch.STRICT:
            accepted = source == sdp
        elif source == state.previous_remote and source != sdp:
            accepted = False  # stragglers from before a re-INVITE moved the media
        elif state.latch is Latch.HOST:
            accepted = sdp is not None and source[0] == sdp[0]
        else:
            accepted = True
        if not accepted:
            state.wrong_source += 1
            return False
        self._latch(state, source)
        return True

    def _latch(self, state: LegState, source: Address) -> None:
        changed = source != state.remote
        state.remote = source
        state.latched = True
        if state.sock is not None:
            try:
                state.sock.connect(source)
                state.connected = True
            except OSError:
                state.socket_errors += 1
        elif state.shared and changed:
            if state.key is not None:
                self._addresses.remove(state.key, state.slot)
            state.key = address_key(*source)
            self._addresses.set(state.key, state.slot)
            self._tx.set_address(state.slot, *source)
        for waiting in self._host_waiting.values():
            if state.slot in waiting:
                waiting.remove(state.slot)
        self._arr.latched[state.slot] = True
        self._update_can_send(state)
        self.outbox.append(RemoteLatched(state.id, source))

    def _learn_shared(self, key: int) -> int:
        """An unknown source on the shared port. A HOST leg waiting for that host takes it --
        only if it is the only one waiting: with two (two calls through one gateway, say) the
        packet could be either's, and a cross-connected call is worse than a late latch."""
        host, port = key_address(key)
        waiting = self._host_waiting.get(host)
        state = self._by_slot[waiting[0]] if waiting and len(waiting) == 1 else None
        if state is None or state.previous_remote == (host, port):
            self._unknown_source += 1
            return -1
        self._latch(state, (host, port))
        return state.slot

    def _process_received(self, tick: int, now: float) -> None:
        batch = self._rx
        count = batch.count
        if not count:
            return
        a = self._arr
        slots = batch.slot[:count]
        keys = batch.key[:count]
        from_shared = keys != 0
        dedicated = ~from_shared & (slots >= 0)
        if dedicated.any():  # a leg removed (and its slot maybe reused) since the read
            stale = self._generation[slots[dedicated]] != batch.generation[:count][dedicated]
            if stale.any():
                rows = np.flatnonzero(dedicated)[stale]
                slots[rows] = -1
        if from_shared.any():
            slots[from_shared] = self._addresses.lookup(keys[from_shared])
            for row in np.flatnonzero(from_shared & (slots < 0)).tolist():
                key = int(keys[row])
                known = self._addresses.get(key)  # learned from an earlier row of this batch?
                slots[row] = self._learn_shared(key) if known is None else known
            fresh = from_shared & (slots >= 0)
            fresh[fresh] = ~a.latched[slots[fresh]]
            for slot in np.unique(slots[fresh]).tolist():
                state = self._by_slot[slot]
                if state is not None and not state.latched and state.remote is not None:
                    self._latch(state, state.remote)
        valid = slots >= 0
        data = batch.data[:count]
        header = np.ascontiguousarray(data[:, :12])
        words = header.view(">u4").astype(np.int64)
        payload_type = header[:, 1] & 0x7F
        safe = np.where(valid, slots, 0)
        fast = (
            valid
            & (header[:, 0] == 0x80)
            & (batch.length[:count] == AUDIO_PACKET)
            & (payload_type == a.audio_pt[safe])
        )
        if fast.any():
            rows = np.flatnonzero(fast)
            legs = slots[rows]
            codes = data[rows, 12:AUDIO_PACKET]
            codec = a.codec[legs]
            if codec.any():
                decoded = np.take(_DECODE, codes + (codec << 8)[:, np.newaxis])
            else:
                decoded = np.take(ULAW_DECODE, codes)
            timestamps = words[rows, 1]
            self.jitter.put(legs, words[rows, 2], words[rows, 0] & 0xFFFF, timestamps, decoded)
            a.last_rx_tick[legs] = tick
            self._estimate_jitter(legs, timestamps, now)
        for row in np.flatnonzero(valid & ~fast).tolist():
            self._slow_packet(row, int(slots[row]), tick, now)

    def _estimate_jitter(self, legs: Ints, timestamps: Ints, now: float) -> None:
        """RFC 3550 interarrival jitter from each leg's first packet of this wake-up."""
        a = self._arr
        unique, first = np.unique(legs, return_index=True)
        arrival = int(now * 8000)
        transit = (arrival - timestamps[first]) & 0xFFFFFFFF
        delta = ((transit - a.transit[unique] + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
        usable = a.transit_ok[unique] & (np.abs(delta) < 4000)
        a.jitter[unique] += np.where(usable, (np.abs(delta) - a.jitter[unique]) / 16.0, 0.0)
        a.transit[unique] = transit
        a.transit_ok[unique] = True

    def _slow_packet(self, row: int, slot: int, tick: int, now: float) -> None:
        state = self._by_slot[slot]
        if state is None:
            return
        batch = self._rx
        raw = bytes(batch.data[row, : batch.length[row]])
        if looks_like_rtcp(raw):
            self._handle_rtcp(state, raw, now)
            return
        packet = try_parse_rtp(raw)
        if packet is None:
            state.malformed += 1
            return
        self._arr.last_rx_tick[slot] = tick
        jitter = self.jitter
        if packet.payload_type == state.dtmf_payload_type:
            if not jitter.count_packet(slot, packet.ssrc, packet.sequence):
                return
            try:
                digits = state.detector.feed(packet)
            except RtpError:
                state.malformed += 1
                return
            jitter.mark_quiet(slot, tick + jitter.depth + 3)
            for digit in digits:
                state.dtmf_received += 1
                milliseconds = digit.duration * 1000 // state.codec.clock_rate
                self.outbox.append(DtmfReceived(state.id, digit.digit, milliseconds))
            return
        if packet.payload_type == state.payload_type:
            samples = state.codec.decode(packet.payload)
            jitter.put_samples(slot, packet.ssrc, packet.sequence, packet.timestamp, samples)
            return
        state.other_payload += 1
        if packet.payload_type == CN_PAYLOAD_TYPE:  # the remote is in silence: no underruns
            jitter.count_packet(slot, packet.ssrc, packet.sequence)
            jitter.mark_quiet(slot, tick + jitter.frames)

    def _handle_rtcp(self, state: LegState, raw: bytes, now: float) -> None:
        packets = parse_incoming(raw)
        if packets is None:
            state.malformed += 1
            return
        state.rtcp_received += 1
        if state.reporter.received_packets(packets, now):
            self.outbox.append(RemoteBye(state.id))

    def _read_rtcp_socket(self, state: LegState) -> None:
        sock = state.rtcp_sock
        if sock is None:
            return
        for _ in range(8):
            try:
                raw, source = sock.recvfrom(2048)
            except BlockingIOError:
                return
            except OSError:
                state.socket_errors += 1
                return
            remote = state.remote
            if remote is None or source[0] != remote[0]:
                state.wrong_source += 1
                continue
            if state.latched:
                state.rtcp_learned = (str(source[0]), int(source[1]))
            self._handle_rtcp(state, raw, time.monotonic())

    def _read_shared_rtcp(self) -> None:
        sock = self._shared_rtcp
        assert sock is not None
        for _ in range(64):
            try:
                raw, source = sock.recvfrom(2048)
            except BlockingIOError:
                return
            except OSError:
                return
            host, port = str(source[0]), int(source[1])
            slot = None
            for candidate in (port - 1, port):
                if 0 < candidate < 65536:
                    slot = self._addresses.get(address_key(host, candidate))
                    if slot is not None:
                        break
            state = None if slot is None else self._by_slot[slot]
            if state is None:
                self._unknown_source += 1
                continue
            self._handle_rtcp(state, raw, time.monotonic())

    # --- one tick ------------------------------------------------------------------------

    def run_tick(self, tick: int) -> None:
        if self.plan_dirty or self._plan is None:
            self._rebuild_plan()  # first: it may reallocate the matrices
        assert self._plan is not None
        cap = self.capacity
        self.jitter.pull(self._src, tick)
        finished: list[PlayerState] = []
        if self._players:
            src = self._src
            for player in self._players.values():
                if player.fill(src[cap + player.row]):
                    finished.append(player)
        self._plan.apply(self._src, self._dst)
        self._send()
        if self._recordings:
            self._bank.record(self._dst[cap:], tick)
        a = self._arr
        a.ts_out += FRAME
        a.ts_out &= 0xFFFFFFFF
        for player in finished:
            self.end_player(player, completed=True)
        if tick % 50 == 0:
            self._check_timeouts(tick)
        due = np.flatnonzero(a.in_use & (a.next_rtcp <= tick))
        if len(due):
            now = time.monotonic()
            interval = self._rtcp_ticks()
            for slot in due.tolist():
                a.next_rtcp[slot] = tick + self._rng.randrange(interval // 2, interval * 3 // 2)
                state = self._by_slot[slot]
                if state is not None:
                    self._send_rtcp(state, now)

    def _send(self) -> None:
        a = self._arr
        slots = np.flatnonzero(a.can_send)
        if not len(slots):
            return
        tx = self._tx
        frames = self._dst[slots]
        codec = a.codec[slots]
        if codec.any():
            index = frames.view(np.uint16).astype(np.int64) + (codec << 16)[:, np.newaxis]
            tx.payload[slots] = np.take(_ENCODE, index)
        else:
            tx.payload[slots] = np.take(ULAW_ENCODE, frames.view(np.uint16))
        tx.seq[slots] = a.seq_out[slots]
        tx.timestamp[slots] = a.ts_out[slots]
        tx.marker_pt[slots] = a.audio_pt[slots] | (a.marker[slots] << 7)
        special = a.special[slots]
        plain = slots[~special] if special.any() else slots
        if len(plain):
            shared = a.shared[plain]
            if self._shared is not None and shared.any():
                self._shared.send(tx, plain[shared])
            views = tx.views
            senders = self._senders
            for slot in plain[~shared].tolist():
                try:
                    senders[slot](views[slot])
                except OSError:
                    state = self._by_slot[slot]
                    if state is not None:
                        state.send_errors += 1
            a.seq_out[plain] = (a.seq_out[plain] + 1) & 0xFFFF
            a.marker[plain] = False
            a.tx_packets[plain] += 1
            a.tx_octets[plain] += FRAME
        if special.any():
            for slot in slots[special].tolist():
                state = self._by_slot[slot]
                if state is not None:
                    self._send_special(state)

    def _send_bytes(self, state: LegState, data: bytes | memoryview) -> None:
        remote = state.remote
        if remote is None:
            return
        try:
            if state.shared:
                assert self._shared is not None
                if not self._shared.send_one(bytes(data), remote):
                    state.send_errors += 1
            elif state.sock is not None:
                if state.connected:
                    state.sock.send(data)
                else:
                    state.sock.sendto(data, remote)
        except OSError:
            state.send_errors += 1

    def _next_sequence(self, slot: int) -> int:
        a = self._arr
        sequence = int(a.seq_out[slot])
        a.seq_out[slot] = (sequence + 1) & 0xFFFF
        return sequence

    def _send_special(self, state: LegState) -> None:
        """A leg sending DTMF, or with a ptime over 20 ms: packet by packet."""
        slot = state.slot
        a = self._arr
        if state.dtmf_jobs:
            job = state.dtmf_jobs[0]
            packet = job.sender.step(int(a.ts_out[slot]))
            if job.sender.finished:
                state.dtmf_jobs.popleft()
                self._finish_dtmf(state, job, completed=True)
            if packet is not None:
                assert state.dtmf_payload_type is not None
                header = pack_rtp_header(
                    state.dtmf_payload_type,
                    self._next_sequence(slot),
                    packet.timestamp,
                    state.handle.ssrc,
                    marker=packet.marker,
                )
                self._send_bytes(state, header + packet.payload)
                a.tx_packets[slot] += 1
                a.tx_octets[slot] += len(packet.payload)
                state.pending.clear()
                return
        if state.ptime == 20:
            self._send_bytes(state, self._tx.views[slot])
            a.seq_out[slot] = (a.seq_out[slot] + 1) & 0xFFFF
            a.marker[slot] = False
            a.tx_packets[slot] += 1
            a.tx_octets[slot] += FRAME
            return
        state.pending.append(self._tx.payload[slot].tobytes())
        frames = state.ptime // 20
        if len(state.pending) < frames:
            return
        payload = b"".join(state.pending)
        state.pending.clear()
        timestamp = (int(a.ts_out[slot]) - (frames - 1) * FRAME) & 0xFFFFFFFF
        header = pack_rtp_header(
            state.payload_type,
            self._next_sequence(slot),
            timestamp,
            state.handle.ssrc,
            marker=bool(a.marker[slot]),
        )
        self._send_bytes(state, header + payload)
        a.marker[slot] = False
        a.tx_packets[slot] += 1
        a.tx_octets[slot] += len(payload)

    def _rtcp_ticks(self) -> int:
        return max(2, round(self.rtcp_interval / FRAME_SECONDS))

    def _send_rtcp(self, state: LegState, now: float, *, bye: bool = False) -> None:
        destination = state.rtcp_destination()
        if destination is None:
            return
        if state.rtcp_mux:
            send_via: Any = None
        elif state.shared:
            send_via = self._shared_rtcp
        else:
            send_via = state.rtcp_sock
        if send_via is None and not state.rtcp_mux:
            return
        slot = state.slot
        a = self._arr
        packets = int(a.tx_packets[slot])
        blocks: tuple[ReportBlock, ...] = ()
        jitter = self.jitter
        if jitter.synced[slot] and jitter.ssrc[slot] >= 0:
            expected = jitter.expected()[slot]
            blocks = (
                state.reporter.block(
                    int(jitter.ssrc[slot]),
                    expected=int(expected),
                    received=int(jitter.received[slot]),
                    highest_sequence=int(jitter.seq_max[slot]),
                    jitter=float(a.jitter[slot]),
                    now=now,
                ),
            )
        report = build_report(
            state.handle.ssrc,
            cname=state.cname,
            unix_time=time.time(),
            rtp_timestamp=int(a.ts_out[slot]),
            packets_sent=packets,
            octets_sent=int(a.tx_octets[slot]),
            sent_since_last=packets != state.reported_packets,
            blocks=blocks,
            bye=bye,
        )
        state.reported_packets = packets
        try:
            if send_via is None:
                self._send_bytes(state, report)
            else:
                send_via.sendto(report, destination)
        except OSError:
            state.send_errors += 1
            return
        state.rtcp_sent += 1

    def _check_timeouts(self, tick: int) -> None:
        if self.media_timeout is None:
            return
        a = self._arr
        limit = round(self.media_timeout / FRAME_SECONDS)
        silent = a.in_use & (tick - a.last_rx_tick > limit)
        newly = silent & ~a.timed_out
        a.timed_out = silent
        for slot in np.flatnonzero(newly).tolist():
            state = self._by_slot[slot]
            if state is not None:
                seconds = (tick - int(a.last_rx_tick[slot])) * FRAME_SECONDS
                self.outbox.append(MediaTimeout(state.id, seconds))

    # --- events and statistics -----------------------------------------------------------

    def leg_stats(self, state: LegState) -> LegStats:
        slot = state.slot
        reception = self.jitter.stats(slot)
        a = self._arr
        return LegStats(
            leg=state.id,
            packets_received=reception.received,
            packets_expected=reception.expected,
            packets_lost=reception.lost,
            late=reception.late,
            duplicates=reception.duplicates,
            underruns=reception.underruns,
            frames_played=reception.played,
            resyncs=reception.resyncs,
            packets_sent=int(a.tx_packets[slot]),
            octets_sent=int(a.tx_octets[slot]),
            dtmf_received=state.dtmf_received,
            wrong_source=state.wrong_source,
            malformed=state.malformed,
            other_payload=state.other_payload,
            rtcp_received=state.rtcp_received,
            rtcp_sent=state.rtcp_sent,
            send_errors=state.send_errors,
            socket_errors=state.socket_errors,
            jitter_ms=float(a.jitter[slot]) / 8.0,
            remote=state.remote,
            latched=state.latched,
        )

    def reset_window(self) -> None:
        self._window = (self._wakes, time.monotonic(), time.thread_time(), self._skipped)

    def clock_stats(self, *, running: bool) -> ClockStats:
        wakes, started, cpu, skipped = self._window
        count = min(self._wakes - wakes, TIMING_WINDOW)
        if count:
            end = self._wakes % TIMING_WINDOW
            positions = (np.arange(end - count, end)) % TIMING_WINDOW
            lateness = self._lateness[positions] * 1000
            work = self._work[positions] * 1000
            late_figures = (
                float(lateness.mean()),
                float(np.percentile(lateness, 99)),
                float(lateness.max()),
            )
            work_figures = (float(work.mean()), float(np.percentile(work, 99)), float(work.max()))
        else:
            late_figures = work_figures = (0.0, 0.0, 0.0)
        on_clock_thread = threading.current_thread() is self.thread
        legs = [self.leg_stats(state) for state in self.legs.values()]
        removed = self._removed
        shared_errors = 0 if self._shared is None else self._shared.send_errors
        return ClockStats(
            running=running,
            ticks=self.tick,
            legs=len(self.legs),
            players=len(self._players),
            recordings=len(self._recordings),
            window_seconds=time.monotonic() - started,
            cpu_seconds=time.thread_time() - cpu if on_clock_thread else math.nan,
            lateness_mean_ms=late_figures[0],
            lateness_p99_ms=late_figures[1],
            lateness_max_ms=late_figures[2],
            work_mean_ms=work_figures[0],
            work_p99_ms=work_figures[1],
            work_max_ms=work_figures[2],
            skipped_ticks=self._skipped - skipped,
            packets_received=removed.received + sum(s.packets_received for s in legs),
            packets_sent=removed.sent + sum(s.packets_sent for s in legs),
            packets_lost=removed.lost + sum(s.packets_lost for s in legs),
            underruns=removed.underruns + sum(s.underruns for s in legs),
            late=removed.late + sum(s.late for s in legs),
            duplicates=removed.duplicates + sum(s.duplicates for s in legs),
            wrong_source=removed.wrong_source + sum(s.wrong_source for s in legs),
            unknown_source=self._unknown_source,
            malformed=removed.malformed + sum(s.malformed for s in legs),
            send_errors=removed.send_errors + sum(s.send_errors for s in legs) + shared_errors,
            recorder_backlog=self.writer.backlog,
        )


def _no_sender(data: memoryview) -> object:
    return None


def _send_to(sock: socket.socket, remote: Address, data: memoryview) -> int:
    return sock.sendto(data, remote)
