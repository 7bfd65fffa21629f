"""Hotline capacity: the whole switch over SIP at N concurrent bridged, recorded calls.

The switch -- :class:`~aqualine.telephony.switch.Switch` as ``aqualine switch`` runs it, with
in-memory ports: N extensions 7xxxx and N agents in the queue ``hotline``, and a fast IVR flow
(a short menu prompt; key 0 → the queue) -- runs in a child process (this script, role
``switch``) pinned to CPU 0. This process is the load generator, pinned to CPU 1, on one
asyncio loop with non-blocking sockets and numpy for the RTP:

1. N agent UAs register their extensions (digest auth, one SIP socket), then the switch logs
   the agents in and signs them on; each agent UA answers the switch's INVITE at once (180,
   200 with SDP) and sends a 1000 Hz tone;
2. N caller UAs INVITE 96000 from the demo trunk (``--rate`` new calls per second), send a
   440 Hz tone, wait until they hear the menu prompt, and press 0 (RFC 4733). The time from the
   digit (its first end packet: when the switch's detector reports the key) to the agent's
   INVITE arriving here is measured for every call ("digit → ring");
3. once all N calls are bridged and recorded: a warm-up, then a steady window of ``--seconds``:
   the switch's media-clock statistics (tick lateness mean/p99/max, work per tick, jitter-buffer
   underruns, packets lost towards the switch, skipped ticks), its CPU (% of one core, from
   /proc/<pid>/stat, and the clock thread's own share) and RSS, packet loss towards the phones
   (sequence numbers) and whether sampled phones hear the other party's tone;
4. every caller hangs up; the switch's call records and recordings are checked: every call
   recorded, the WAV complete (its length is the talk time, its size its length), both tones in
   a sample.

With ``--hold-share``/``--conference-share`` (issue 6: call control) a share of the calls, once
all are bridged and before the warm-up, is put on hold by the agent's ``hold`` command (the
caller hears music on hold from the clock, the agent nothing), and another share becomes a
three-party conference: the agent ``consult``s an extension 8xxxx that the generator registered
and answers at once (sending a 1600 Hz tone), then ``conference`` (commands through
``Switch.agent_command``, as the control API carries them). In the window, a sample of held
callers must hear the music-on-hold loop, their agents silence, and every member of sampled
conferences the two others; afterwards each call record must say hold / conference, every
recording be complete, and sampled conference recordings hold all three tones.

    python bench/hotline_capacity.py                          # N = 50, 100, 200
    python bench/hotline_capacity.py --calls 400 --seconds 20
    python bench/hotline_capacity.py --calls 400 --hold-share 0.1 --conference-share 0.1

Nothing is asserted: speed is measured here, not tested. The load average (other processes on
the machine) is printed with each run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from hotline_mix import (
    THIRD_HZ,
    hears_all,
    is_silence,
    music_match,
    pick_mix,
    third_extension,
    third_password,
)
from media_clock import frames_with_tone_band, pin

from aqualine.telephony.digest import answer_challenge
from aqualine.telephony.media.g711 import ULAW_DECODE, ulaw_encode
from aqualine.telephony.sdp import parse_sdp
from aqualine.telephony.sip import Request, Response, SipParseError, parse_message
from aqualine.telephony.testing.audio import frames_with_tone, tone

HOTLINE = "96000"
CALLER_HZ, AGENT_HZ = 440.0, 1000.0
PACKET = 172  # 12-byte RTP header + 160 PCMU samples
FRAME_SECONDS = 0.020
SAMPLE_CALLS = 8
DTMF_PT = 101
COUNTERS = (
    "packets_received",
    "packets_sent",
    "packets_lost",
    "underruns",
    "late",
    "duplicates",
    "wrong_source",
    "malformed",
    "send_errors",
)

FAST_FLOW: dict[str, Any] = {
    "version": 1,
    "name": "bench: press 0",
    "start": "menu",
    "nodes": [
        {
            "id": "menu",
            "type": "menu",
            "label": "主菜单",
            "params": {"prompt": {"tts": "人工服务请按0。"}, "timeout": 10, "retries": 3},
            "edges": {"0": "agent_queue", "exhausted": "agent_queue"},
        },
        {
            "id": "agent_queue",
            "type": "queue",
            "label": "人工服务",
            "params": {"queue": "hotline"},
            "edges": {"failed": "end"},
        },
        {"id": "end", "type": "hangup", "params": {"cause": "no queue"}},
    ],
}


def extension(index: int) -> str:
    return f"7{index:04d}"


def agent_id(index: int) -> str:
    return f"9{index:04d}"


def password(index: int) -> str:
    return f"pw-{index:04d}-bench"


def caller_number(index: int) -> str:
    return f"139{index:08d}"


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mib(pid: int) -> tuple[float, float]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(value.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


# --- the switch (child process) ----------------------------------------------------------------


def switch_main(args: argparse.Namespace) -> None:
    """Run a Switch with in-memory ports; obey JSON commands on stdin (one reply line each)."""
    if not args.no_pin:
        pin(0)
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    asyncio.run(serve_switch(json.loads(sys.stdin.readline())))


async def serve_switch(setup: dict[str, Any]) -> None:
    import dataclasses

    from aqualine.telephony.acd.model import QueueConfig
    from aqualine.telephony.events import EventBus
    from aqualine.telephony.ivr.fakes import MemoryIvrPorts
    from aqualine.telephony.media.wav import load_audio
    from aqualine.telephony.ports import AgentInfo, CallCentreSettings, ExtensionInfo
    from aqualine.telephony.switch import Switch
    from aqualine.telephony.tests.fakes import (
        DEMO_TRUNK,
        MemoryDirectory,
        MemoryRecords,
        make_config,
    )

    calls = int(setup["calls"])
    thirds = int(setup.get("thirds", 0))
    folder = Path(setup["folder"])
    extensions = {extension(i): ExtensionInfo(extension(i), password(i)) for i in range(calls)}
    for j in range(thirds):
        extensions[third_extension(j)] = ExtensionInfo(third_extension(j), third_password(j))
    directory = MemoryDirectory(extensions=extensions, trunks=(DEMO_TRUNK,))
    directory.agents = {agent_id(i): AgentInfo(agent_id(i), f"bench {i}") for i in range(calls)}
    directory.queue_list = [QueueConfig("hotline", members=tuple(directory.agents))]
    directory.flows[HOTLINE] = FAST_FLOW
    directory.settings = CallCentreSettings(wrap_up_seconds=0, ring_seconds=60)
    records = MemoryRecords()

    config = make_config(
        rtp_ports=(20000, 29999),
        timer_t1=0.5,
        timer_t2=4.0,
        timer_t4=5.0,
        transports=("udp",),
        auth_max_failures=1_000_000,
        var_dir=str(folder),
        recordings_dir=str(folder / "recordings"),
    )
    switch = Switch(config, directory, records, EventBus(), ivr_ports=MemoryIvrPorts())
    await switch.start()
    clock = switch.clock
    centre = switch.centre
    assert clock is not None and centre is not None
    reply = {"port": switch.sip_port, "pid": os.getpid()}
    print(json.dumps(reply), flush=True)
    loop = asyncio.get_running_loop()
    window: dict[str, float] = {}
    before: Any = None
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        request = json.loads(line)
        command = request["cmd"]
        result: dict[str, Any] = {}
        if command == "login":
            failed = []
            for i in range(calls):
                try:
                    await switch.agent_command("login", agent_id(i), {"extension": extension(i)})
                    await switch.agent_command("sign_on", agent_id(i), {})
                except Exception as exc:
                    failed.append(f"{agent_id(i)}: {exc}")
            result = {"signed_on": calls - len(failed), "failed": failed[:5]}
        elif command == "status":
            states: dict[str, int] = {}
            for session in centre.sessions.values():
                states[session.state] = states.get(session.state, 0) + 1
            result = {
                "calls": len(switch.calls()),
                "sessions": states,
                **control_counts(centre),
                "ended": len(records.ended),
                "recordings_complete": sum(
                    1 for r in records.recordings.values() if r.kind == "call" and r.complete
                ),
                "errors": switch.errors,
            }
        elif command == "control":
            result = await apply_mix(switch, request["hold"], request["conference"])
            result.update(control_counts(centre))
        elif command == "begin":
            before = await asyncio.wrap_future(clock.request_stats(reset=True))
            window = {"cpu": time.process_time(), "wall": time.monotonic()}
        elif command == "end":
            stats = await asyncio.wrap_future(clock.request_stats())
            wall = time.monotonic() - window["wall"]
            figures = dataclasses.asdict(stats)
            for name in COUNTERS:  # cumulative in ClockStats: the window's share
                figures[name] -= getattr(before, name)
            result = {
                "clock_cpu": stats.cpu_percent,
                "process_cpu_self": 100 * (time.process_time() - window["cpu"]) / wall,
                "stats": figures,
                **control_counts(centre),  # still held / in conference at the window's end
            }
        elif command == "report":
            result = await asyncio.to_thread(
                check_recordings,
                records,
                folder / "recordings",
                load_audio,
                frozenset(request.get("held", ())),
                frozenset(request.get("conference", ())),
            )
            result["errors"] = switch.errors
        elif command == "stop":
            await switch.stop()
            print(json.dumps({}), flush=True)
            return
        print(json.dumps(result, default=str), flush=True)


def control_counts(centre: Any) -> dict[str, int]:
    """How many hotline calls are on hold / in a three-party conference now."""
    held = conference = 0
    for session in centre.sessions.values():
        control = getattr(session, "control", None)
        if control is None or session.state != "talking":
            continue
        held += bool(control.held and not control.conference)
        conference += bool(
            control.conference and control.consult is not None and control.consult.answered
        )
    return {"held": held, "in_conference": conference}


async def apply_mix(switch: Any, hold: list[str], conference: list[list[str]]) -> dict[str, Any]:
    """The agents' commands: ``hold`` for each agent in ``hold``; ``consult`` the extension
    then, once it answered, ``conference`` for each (agent, extension) in ``conference``."""
    from aqualine.telephony.api.server import CommandRefused

    failed: list[str] = []
    seconds: list[float] = []

    async def one_hold(agent: str) -> None:
        began = time.monotonic()
        try:
            await switch.agent_command("hold", agent, {})
        except CommandRefused as refused:
            failed.append(f"hold {agent}: {refused.code} {refused.reason}")
            return
        seconds.append(time.monotonic() - began)

    async def one_conference(agent: str, target: str) -> None:
        try:
            await switch.agent_command("consult", agent, {"target": target, "kind": "extension"})
        except CommandRefused as refused:
            failed.append(f"consult {agent} -> {target}: {refused.code} {refused.reason}")
            return
        deadline = time.monotonic() + 30
        while True:
            try:
                await switch.agent_command("conference", agent, {})
                return
            except CommandRefused as refused:
                if refused.code != "consult_pending" or time.monotonic() > deadline:
                    failed.append(f"conference {agent}: {refused.code} {refused.reason}")
                    return
            await asyncio.sleep(0.05)

    began = time.monotonic()
    semaphore = asyncio.Semaphore(20)

    async def limited(coroutine: Any) -> None:
        async with semaphore:
            await coroutine

    await asyncio.gather(
        *(limited(one_hold(agent)) for agent in hold),
        *(limited(one_conference(agent, target)) for agent, target in conference),
    )
    return {
        "failed": failed[:10],
        "failures": len(failed),
        "setup_s": time.monotonic() - began,
        "hold_command_ms_max": 1000 * max(seconds, default=0.0),
    }


def check_recordings(
    records: Any,
    folder: Path,
    load_audio: Any,
    held_callers: frozenset[str] = frozenset(),
    conference_callers: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Every answered call has one complete recording as long as its talk time (±0.5 s) whose
    file holds exactly that many samples; a sample of the plain ones holds both tones. The
    held calls' records count hold time, the conferences' say so; a sample of the conference
    recordings holds the three tones in their second half."""
    recordings = {r.call_id: r for r in records.recordings.values() if r.kind == "call"}
    answered = [r for r in records.ended if r.outcome == "answered"]
    complete = 0
    odd: list[dict[str, Any]] = []
    for record in answered:
        info = recordings.get(record.call_id)
        path = folder / info.path if info is not None else None
        size = path.stat().st_size if path is not None and path.exists() else -1
        ok = (
            info is not None
            and info.complete
            and record.talk_seconds is not None
            and abs(info.duration_seconds - record.talk_seconds) <= 0.5
            and size == 44 + 2 * round(info.duration_seconds * 8000)
        )
        complete += ok
        if not ok and len(odd) < 5:
            odd.append(
                {
                    "call": record.call_id,
                    "talk": record.talk_seconds,
                    "recorded": info.duration_seconds if info else None,
                    "size": size,
                }
            )
    mixed = held_callers | conference_callers
    plain = [r for r in answered if r.caller not in mixed]
    both = 0
    sample = plain[:: max(1, len(plain) // SAMPLE_CALLS)][:SAMPLE_CALLS]
    for record in sample:
        info = recordings.get(record.call_id)
        if info is None:
            continue
        audio = load_audio(folder / info.path, 8000)[8000:-8000]
        frames = len(audio) // 800
        if frames == 0:
            continue
        present = [
            float(np.mean(frames_with_tone_band(audio[: frames * 800], hz)))
            for hz in (CALLER_HZ, AGENT_HZ)
        ]
        both += min(present) >= 0.9
    outcomes: dict[str, int] = {}
    for record in records.ended:
        outcomes[record.outcome] = outcomes.get(record.outcome, 0) + 1
    by_caller = {r.caller: r for r in answered}
    held_records = [by_caller[c] for c in held_callers if c in by_caller]
    conference_records = [by_caller[c] for c in conference_callers if c in by_caller]
    wrong_flags = len(
        [r for r in answered if r.caller not in mixed and (r.hold_seconds > 0 or r.conference)]
    )
    three = 0
    conference_sample = sorted(conference_records, key=lambda r: r.caller)
    conference_sample = conference_sample[:: max(1, len(conference_sample) // SAMPLE_CALLS)]
    conference_sample = conference_sample[:SAMPLE_CALLS]
    for record in conference_sample:
        info = recordings.get(record.call_id)
        if info is None:
            continue
        audio = load_audio(folder / info.path, 8000)
        half = audio[len(audio) // 2 : -8000]
        three += hears_all(half, (CALLER_HZ, AGENT_HZ, THIRD_HZ))
    return {
        "records": len(records.ended),
        "outcomes": outcomes,
        "answered": len(answered),
        "complete": complete,
        "both_tones": both,
        "sampled": len(sample),
        "odd": odd,
        "held_records": sum(1 for r in held_records if r.hold_seconds > 0),
        "hold_seconds_min": min((r.hold_seconds for r in held_records), default=None),
        "of_held": len(held_callers),
        "conference_records": sum(1 for r in conference_records if r.conference),
        "of_conference": len(conference_callers),
        "plain_flagged": wrong_flags,
        "three_tones": three,
        "conference_sampled": len(conference_sample),
    }


# --- the load generator: RTP for 2N endpoints, batched ------------------------------------------


class Rtp:
    """Callers are endpoints 0..N-1, agents N..2N-1, the consulted third parties 2N..2N+M-1;
    one UDP socket each, connected to the switch's port once known. One send per active
    endpoint per 20 ms tick, numpy-built."""

    def __init__(
        self, calls: int, held: list[int] | None = None, conference: list[int] | None = None
    ) -> None:
        held, conference = held or [], conference or []
        self.calls = calls
        self.thirds = len(conference)
        self.count = count = 2 * calls + self.thirds
        self.socks: list[socket.socket] = []
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("127.0.0.1", 0))
            sock.setblocking(False)
            self.socks.append(sock)
        self.ports = [s.getsockname()[1] for s in self.socks]
        self.rtcp_sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtcp_sink.bind(("127.0.0.1", 0))
        self.rtcp_sink.setblocking(False)
        self.rtcp_port = self.rtcp_sink.getsockname()[1]
        self.tx = np.zeros((count, PACKET), dtype=np.uint8)
        self.tx[:, 0] = 0x80
        self.seq = np.ndarray((count,), ">u2", self.tx, 2, (PACKET,))
        self.ts = np.ndarray((count,), ">u4", self.tx, 4, (PACKET,))
        ssrc = np.ndarray((count,), ">u4", self.tx, 8, (PACKET,))
        ssrc[:] = np.arange(count) + 0x20000
        self.next_seq = np.random.default_rng().integers(0, 0x8000, count).astype(np.int64)
        self.views = [memoryview(self.tx[row]) for row in range(count)]
        self.frames = {
            role: np.frombuffer(ulaw_encode(tone(hz, 1.0)), dtype=np.uint8).reshape(50, 160)
            for role, hz in (("caller", CALLER_HZ), ("agent", AGENT_HZ), ("third", THIRD_HZ))
        }
        self.active: list[int] = []  # endpoints sending (connected)
        self.dtmf: dict[int, list[tuple[bytes, bool, bool]]] = {}  # endpoint -> packets to send
        self.dtmf_ts: dict[int, int] = {}
        self.on_digit_end: dict[int, Any] = {}  # endpoint -> callback(time) at first end packet
        self.menu_waiters: dict[int, asyncio.Future[float]] = {}  # caller endpoint -> future
        self.tick = 0
        self.rx = np.zeros((4 * count + 64, 200), dtype=np.uint8)
        self.rx_views = [memoryview(self.rx[row]) for row in range(len(self.rx))]
        self.epoll = select.epoll()
        self.by_fd = {}
        for index, sock in enumerate(self.socks):
            self.epoll.register(sock.fileno(), select.EPOLLIN)
            self.by_fd[sock.fileno()] = index
        self.epoll.register(self.rtcp_sink.fileno(), select.EPOLLIN)
        self.by_fd[self.rtcp_sink.fileno()] = -1
        self.rtcp_received = 0
        self.lateness: list[float] = []
        self.skipped = 0
        mixed = set(held) | set(conference)
        sample = [c for c in range(0, calls, max(1, calls // SAMPLE_CALLS)) if c not in mixed][
            :SAMPLE_CALLS
        ]
        # endpoint -> what it should hear: a tone (the FFT peak), tones (each in its band),
        # "music" (the music-on-hold loop) or "silence" (or nothing at all)
        self.expect: dict[int, tuple[str, Any]] = {}
        for c in sample:
            self.expect[c] = ("plain", AGENT_HZ)  # a caller hears the agent
            self.expect[calls + c] = ("plain", CALLER_HZ)
        for c in held[:: max(1, len(held) // SAMPLE_CALLS)][:SAMPLE_CALLS]:
            self.expect[c] = ("held caller", "music")
            self.expect[calls + c] = ("held agent", "silence")
        step = max(1, len(conference) // SAMPLE_CALLS)
        for j in range(0, len(conference), step)[:SAMPLE_CALLS]:
            c = conference[j]
            self.expect[c] = ("conference", (AGENT_HZ, THIRD_HZ))
            self.expect[calls + c] = ("conference", (CALLER_HZ, THIRD_HZ))
            self.expect[2 * calls + j] = ("conference", (CALLER_HZ, AGENT_HZ))
        self.monitored: dict[int, list[tuple[int, bytes]]] = {i: [] for i in self.expect}
        self.reset_window()

    def reset_window(self) -> None:
        self.received = np.zeros(self.count, dtype=np.int64)
        self.first = np.full(self.count, -1, dtype=np.int64)
        self.highest = np.full(self.count, -1, dtype=np.int64)
        self.sent_in_window = 0
        for packets in self.monitored.values():
            packets.clear()

    def connect(self, index: int, port: int) -> None:
        self.socks[index].connect(("127.0.0.1", port))
        if index not in self.active:
            self.active.append(index)

    def press(self, index: int, digit: str, on_end: Any) -> None:
        """Queue one RFC 4733 press (60 ms; the end packet three times) on this endpoint."""
        event = "0123456789*#".index(digit)
        packets = []
        for step in range(1, 4):
            end = step == 3
            payload = bytes([event, (0x80 if end else 0) | 10]) + (step * 160).to_bytes(2, "big")
            packets.append((payload, step == 1, end))
        packets += [packets[-1], packets[-1]]
        self.dtmf[index] = packets
        self.on_digit_end[index] = on_end

    def send_tick(self) -> None:
        frame = self.tick % 50
        calls = self.calls
        self.tx[:calls, 12:] = self.frames["caller"][frame]
        self.tx[calls : 2 * calls, 12:] = self.frames["agent"][frame]
        self.tx[2 * calls :, 12:] = self.frames["third"][frame]
        self.tx[:, 1] = 0
        self.seq[:] = self.next_seq & 0xFFFF
        self.ts[:] = (self.tick * 160) & 0xFFFFFFFF
        special: dict[int, int] = {}
        for index, packets in list(self.dtmf.items()):
            payload, marker, end = packets.pop(0)
            if marker:
                self.dtmf_ts[index] = (self.tick * 160) & 0xFFFFFFFF
            self.tx[index, 1] = DTMF_PT | (0x80 if marker else 0)
            self.tx[index, 12:16] = np.frombuffer(payload, dtype=np.uint8)
            self.ts[index] = self.dtmf_ts[index]
            special[index] = 16
            if end and index in self.on_digit_end:
                self.on_digit_end.pop(index)(time.monotonic())
            if not packets:
                del self.dtmf[index]
        views, socks = self.views, self.socks
        for index in self.active:
            length = special.get(index)
            with contextlib.suppress(OSError):
                socks[index].send(views[index] if length is None else views[index][:length])
        self.next_seq[self.active] += 1
        self.sent_in_window += len(self.active)
        self.tick += 1

    def receive(self) -> None:
        rows = 0
        owners = []
        for drain in (False, True):
            for fd, _ in self.epoll.poll(0):
                index = self.by_fd[fd]
                if index < 0:
                    with contextlib.suppress(OSError):
                        while True:
                            self.rtcp_sink.recv(2048)
                            self.rtcp_received += 1
                    continue
                sock = self.socks[index]
                for _ in range(32 if drain else 4):
                    if rows >= len(self.rx):
                        break
                    try:
                        sock.recv_into(self.rx_views[rows])
                    except OSError:
                        break
                    owners.append(index)
                    rows += 1
        if not rows:
            return
        who = np.array(owners, dtype=np.int64)
        data = self.rx[:rows]
        audio = data[:, 1] & 0x7F == 0
        who, kept = who[audio], np.flatnonzero(audio)
        seq = data[kept, 2].astype(np.int64) << 8 | data[kept, 3]
        base = np.where(self.highest[who] >= 0, self.highest[who], seq)
        extended = base + (((seq - base + 0x8000) & 0xFFFF) - 0x8000)
        np.add.at(self.received, who, 1)
        fresh = self.first[who] < 0
        self.first[who[fresh]] = extended[fresh]
        np.maximum.at(self.highest, who, extended)
        np.minimum.at(self.first, who, extended)
        if self.menu_waiters:
            for row, index in zip(kept.tolist(), who.tolist(), strict=True):
                future = self.menu_waiters.get(index)
                if future is not None and np.abs(ULAW_DECODE[data[row, 12:172]]).max() > 2000:
                    del self.menu_waiters[index]
                    if not future.done():
                        future.set_result(time.monotonic())
        if self.monitored:
            for row, index, number in zip(
                kept.tolist(), who.tolist(), extended.tolist(), strict=True
            ):
                packets = self.monitored.get(index)
                if packets is not None:
                    packets.append((number, bytes(data[row, 12:172])))

    def window_loss(self) -> tuple[int, int]:
        expected = np.where(self.first >= 0, self.highest - self.first + 1, 0)
        return int(expected.sum()), int(expected.sum() - self.received.sum())

    def heard(self) -> dict[str, list[int]]:
        """Per kind of party: [how many heard what they should, how many were sampled]; and
        the worst music-on-hold match of the held callers."""
        result: dict[str, list[int]] = {}
        worst_music = 1.0
        for index, packets in self.monitored.items():
            kind, want = self.expect[index]
            ordered = dict(sorted(packets))
            audio = ULAW_DECODE[np.frombuffer(b"".join(ordered.values()), dtype=np.uint8)]
            if want == "silence":
                ok = is_silence(audio)
            elif not ordered:
                ok = False
            elif want == "music":
                match = music_match(audio)
                worst_music = min(worst_music, match)
                ok = match >= 0.8
            elif isinstance(want, tuple):
                ok = hears_all(audio, want)
            else:
                ok = frames_with_tone(audio, want) >= 0.9
            counts = result.setdefault(kind, [0, 0])
            counts[0] += int(ok)
            counts[1] += 1
        if "held caller" in result:
            result["music_match_min"] = [round(worst_music, 3)]  # type: ignore[list-item]
        return result

    async def run(self, stop: asyncio.Event) -> None:
        """Send on absolute 20 ms deadlines (like a phone's sound card) until ``stop``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        while not stop.is_set():
            delay = deadline - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            now = loop.time()
            self.lateness.append(now - deadline)
            self.receive()
            due = int((now - deadline) / FRAME_SECONDS) + 1
            if due > 5:  # stalled: drop what a phone would have lost, keep the clock
                self.tick += due - 5
                self.skipped += due - 5
                deadline += (due - 5) * FRAME_SECONDS
                due = 5
            for _ in range(due):
                self.send_tick()
            deadline += due * FRAME_SECONDS

    def close(self) -> None:
        self.epoll.close()
        for sock in [*self.socks, self.rtcp_sink]:
            sock.close()


# --- the load generator: SIP user agents ----------------------------------------------------------


def _branch() -> str:
    return "z9hG4bK" + secrets.token_hex(8)


def _sdp(port: int, rtcp_port: int) -> bytes:
    lines = [
        "v=0",
        f"o=bench {secrets.randbelow(10**6)} 1 IN IP4 127.0.0.1",
        "s=-",
        "c=IN IP4 127.0.0.1",
        "t=0 0",
        f"m=audio {port} RTP/AVP 0 101",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-15",
        f"a=rtcp:{rtcp_port}",
        "a=sendrecv",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def _message(first: str, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    lines = [first, *(f"{name}: {value}" for name, value in headers)]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Sip(asyncio.DatagramProtocol):
    """Every UA of the generator on one UDP socket: the agents' registrations and answers, the
    callers' INVITEs, ACKs and BYEs. Responses go to the waiting request by Call-ID."""

    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.transport: asyncio.DatagramTransport | None = None
        self.waiting: dict[tuple[str, str], asyncio.Future[Response]] = {}  # (Call-ID, method)
        self.provisional: dict[str, asyncio.Event] = {}

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        sock = transport.get_extra_info("socket")
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)

    @property
    def local_port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def send(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.sendto(data, self.bench.switch_address)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        try:
            message = parse_message(data)
        except SipParseError:
            return
        if isinstance(message, Response):
            if message.status < 200:
                return
            key = (message.call_id, message.cseq.method)
            future = self.waiting.get(key)
            if future is not None and not future.done():
                future.set_result(message)
            elif message.cseq.method == "INVITE" and 200 <= message.status < 300:
                self.bench.ack(message)  # a retransmitted 2xx: ACK again
            return
        self.bench.on_request(message, addr)

    async def transact(
        self, call_id: str, method: str, data: bytes, timeout: float = 30
    ) -> Response:
        """Send a request; its final response (retransmitted on T1 doubling, as UAs do)."""
        future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self.waiting[(call_id, method)] = future
        try:
            interval = 0.5
            deadline = time.monotonic() + timeout
            while True:
                self.send(data)
                try:
                    return await asyncio.wait_for(asyncio.shield(future), interval)
                except TimeoutError:
                    if time.monotonic() > deadline:
                        raise
                    interval = min(interval * 2, 4.0)
        finally:
            self.waiting.pop((call_id, method), None)


class Bench:
    def __init__(
        self,
        calls: int,
        switch_port: int,
        args: argparse.Namespace,
        held: list[int] | None = None,
        conference: list[int] | None = None,
    ) -> None:
        self.calls = calls
        self.args = args
        self.switch_address = ("127.0.0.1", switch_port)
        self.rtp = Rtp(calls, held, conference)
        self.sip = Sip(self)
        self.digit_at: dict[str, float] = {}
        self.ring_at: dict[str, float] = {}
        self.answers: dict[str, list[bytes]] = {}  # agent-side Call-ID -> responses sent
        self.caller_dialogs: dict[str, dict[str, str]] = {}
        self.failures: list[str] = []

    # --- requests from the switch (to agents, or in the callers' dialogs) -----------------

    def on_request(self, request: Request, addr: Any) -> None:
        method = request.method
        if method == "INVITE":
            self.agent_invite(request, addr)
        elif method in ("BYE", "CANCEL", "OPTIONS", "INFO"):
            self.respond(request, 200, addr)
            if method == "CANCEL":
                self.failures.append("the switch cancelled an agent's ring")

    def respond(
        self,
        request: Request,
        status: int,
        addr: Any,
        *,
        to_tag: str = "",
        extra: list[tuple[str, str]] = (),  # type: ignore[assignment]
        body: bytes = b"",
    ) -> bytes:
        headers: list[tuple[str, str]] = [("Via", v) for v in request.headers.values("Via")]
        to = request.headers.get("To") or ""
        if to_tag and ";tag=" not in to:
            to += f";tag={to_tag}"
        headers += [
            ("From", request.headers.get("From") or ""),
            ("To", to),
            ("Call-ID", request.call_id),
            ("CSeq", f"{request.cseq.number} {request.cseq.method}"),
            *extra,
        ]
        reason = {180: "Ringing", 200: "OK"}.get(status, "OK")
        data = _message(f"SIP/2.0 {status} {reason}", headers, body)
        assert self.sip.transport is not None
        self.sip.transport.sendto(data, addr)
        return data

    def agent_invite(self, invite: Request, addr: Any) -> None:
        sent = self.answers.get(invite.call_id)
        if sent is not None:  # a retransmission
            assert self.sip.transport is not None
            for data in sent:
                self.sip.transport.sendto(data, addr)
            return
        now = time.monotonic()
        user = getattr(invite.uri, "user", "") or ""
        index = int(user[1:]) if user[:1] in ("7", "8") and user[1:].isdigit() else -1
        if user.startswith("8") and 0 <= index < self.rtp.thirds:  # a consulted third party
            endpoint = 2 * self.calls + index
        elif user.startswith("7") and 0 <= index < self.calls:
            caller = getattr(invite.from_addr.uri, "user", "") or ""
            self.ring_at[caller] = now
            endpoint = self.calls + index
        else:
            self.failures.append(f"INVITE for an unknown agent {user}")
            return
        offer = parse_sdp(invite.body)
        self.rtp.connect(endpoint, offer.media[0].port)
        tag = secrets.token_hex(6)
        contact = [("Contact", f"<sip:{user}@127.0.0.1:{self.sip.local_port}>")]
        ringing = self.respond(invite, 180, addr, to_tag=tag, extra=contact)
        body = _sdp(self.rtp.ports[endpoint], self.rtp.rtcp_port)
        ok = self.respond(
            invite,
            200,
            addr,
            to_tag=tag,
            extra=[*contact, ("Content-Type", "application/sdp")],
            body=body,
        )
        self.answers[invite.call_id] = [ringing, ok]

    # --- agents ---------------------------------------------------------------------------------

    async def register(self, user: str, secret: str) -> None:
        host = f"127.0.0.1:{self.switch_address[1]}"
        call_id = secrets.token_hex(12)
        tag = secrets.token_hex(6)
        uri = f"sip:{host}"

        def request(cseq: int, authorization: str | None) -> bytes:
            headers = [
                ("Via", f"SIP/2.0/UDP 127.0.0.1:{self.sip.local_port};branch={_branch()};rport"),
                ("Max-Forwards", "70"),
                ("From", f"<sip:{user}@{host}>;tag={tag}"),
                ("To", f"<sip:{user}@{host}>"),
                ("Call-ID", call_id),
                ("CSeq", f"{cseq} REGISTER"),
                ("Contact", f"<sip:{user}@127.0.0.1:{self.sip.local_port}>"),
                ("Expires", "3600"),
            ]
            if authorization:
                headers.append(("Authorization", authorization))
            return _message(f"REGISTER {uri} SIP/2.0", headers)

        response = await self.sip.transact(call_id, "REGISTER", request(1, None))
        if response.status == 401:
            challenge = response.headers.get_all("WWW-Authenticate")[0]
            authorization = answer_challenge(
                www_authenticate_value=challenge,
                method="REGISTER",
                uri=uri,
                username=user,
                password=secret,
            )
            response = await self.sip.transact(call_id, "REGISTER", request(2, authorization))
        if response.status != 200:
            self.failures.append(f"REGISTER {user}: {response.status}")

    # --- callers --------------------------------------------------------------------------------

    async def call(self, index: int) -> None:
        number = caller_number(index)
        host = f"127.0.0.1:{self.switch_address[1]}"
        call_id = secrets.token_hex(12)
        tag = secrets.token_hex(6)
        via = f"SIP/2.0/UDP 127.0.0.1:{self.sip.local_port};branch={_branch()};rport"
        headers = [
            ("Via", via),
            ("Max-Forwards", "70"),
            ("From", f"<sip:{number}@127.0.0.1>;tag={tag}"),
            ("To", f"<sip:{HOTLINE}@{host}>"),
            ("Call-ID", call_id),
            ("CSeq", "1 INVITE"),
            ("Contact", f"<sip:{number}@127.0.0.1:{self.sip.local_port}>"),
            ("Content-Type", "application/sdp"),
        ]
        body = _sdp(self.rtp.ports[index], self.rtp.rtcp_port)
        invite = _message(f"INVITE sip:{HOTLINE}@{host} SIP/2.0", headers, body)
        try:
            response = await self.sip.transact(call_id, "INVITE", invite, timeout=32)
        except TimeoutError:
            self.failures.append(f"caller {index}: no answer to the INVITE")
            return
        if response.status != 200:
            self.failures.append(f"caller {index}: INVITE {response.status}")
            return
        self.caller_dialogs[call_id] = {"tag": tag, "number": number}
        self.ack(response)
        self.rtp.connect(index, parse_sdp(response.body).media[0].port)
        menu: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.rtp.menu_waiters[index] = menu
        try:
            await asyncio.wait_for(menu, 30)
        except TimeoutError:
            self.failures.append(f"caller {index}: never heard the menu")
            return
        await asyncio.sleep(0.2)

        def pressed(at: float) -> None:
            self.digit_at[number] = at

        self.rtp.press(index, "0", pressed)

    def ack(self, response: Response) -> None:
        dialog = self.caller_dialogs.get(response.call_id)
        if dialog is None:
            return
        contacts = response.contacts
        contact = contacts[0].uri if isinstance(contacts, list) and contacts else None
        dialog["to"] = response.headers.get("To") or ""
        dialog["target"] = str(contact)
        headers = [
            ("Via", f"SIP/2.0/UDP 127.0.0.1:{self.sip.local_port};branch={_branch()};rport"),
            ("Max-Forwards", "70"),
            ("From", f"<sip:{dialog['number']}@127.0.0.1>;tag={dialog['tag']}"),
            ("To", dialog["to"]),
            ("Call-ID", response.call_id),
            ("CSeq", f"{response.cseq.number} ACK"),
        ]
        self.sip.send(_message(f"ACK {contact} SIP/2.0", headers))

    async def hang_up(self, call_id: str) -> None:
        dialog = self.caller_dialogs[call_id]
        headers = [
            ("Via", f"SIP/2.0/UDP 127.0.0.1:{self.sip.local_port};branch={_branch()};rport"),
            ("Max-Forwards", "70"),
            ("From", f"<sip:{dialog['number']}@127.0.0.1>;tag={dialog['tag']}"),
            ("To", dialog["to"]),
            ("Call-ID", call_id),
            ("CSeq", "2 BYE"),
        ]
        data = _message(f"BYE {dialog['target']} SIP/2.0", headers)
        with contextlib.suppress(TimeoutError):
            await self.sip.transact(call_id, "BYE", data, timeout=10)

    def latencies_ms(self) -> np.ndarray:
        values = [
            (self.ring_at[n] - at) * 1000 for n, at in self.digit_at.items() if n in self.ring_at
        ]
        return np.array(values, dtype=np.float64)


# --- one run ------------------------------------------------------------------------------------


class SwitchProcess:
    def __init__(self, calls: int, folder: Path, args: argparse.Namespace, thirds: int = 0) -> None:
        command = [sys.executable, __file__, "switch"]
        if args.no_pin:
            command.append("--no-pin")
        if args.switch_interval:
            command += ["--switch-interval", str(args.switch_interval)]
        self.child = subprocess.Popen(  # noqa: S603 - this very script
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=open(folder / "switch.log", "w"),  # noqa: SIM115
            text=True,
        )
        setup = {"calls": calls, "folder": str(folder), "thirds": thirds}
        self.hello = self._ask_raw(json.dumps(setup))

    def _ask_raw(self, line: str) -> dict[str, Any]:
        assert self.child.stdin is not None and self.child.stdout is not None
        self.child.stdin.write(line + "\n")
        self.child.stdin.flush()
        answer = self.child.stdout.readline()
        if not answer:
            raise RuntimeError(f"the switch process died (exit {self.child.wait()})")
        result: dict[str, Any] = json.loads(answer)
        return result

    async def ask(self, command: str, **params: Any) -> dict[str, Any]:
        return await asyncio.to_thread(self._ask_raw, json.dumps({"cmd": command, **params}))


async def gather_limited(limit: int, coroutines: list[Any]) -> None:
    semaphore = asyncio.Semaphore(limit)

    async def one(coroutine: Any) -> None:
        async with semaphore:
            await coroutine

    await asyncio.gather(*(one(c) for c in coroutines))


async def wait_for(predicate: Any, timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(interval)
    return False


async def run_one(calls: int, args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="aqualine-hotline-bench-", dir=args.folder))
    held, conference = pick_mix(calls, args.hold_share, args.conference_share)
    switch = SwitchProcess(calls, folder, args, thirds=len(conference))
    pid = int(switch.hello["pid"])
    bench = Bench(calls, int(switch.hello["port"]), args, held, conference)
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(lambda: bench.sip, local_addr=("127.0.0.1", 0))
    stop = asyncio.Event()
    rtp_task = loop.create_task(bench.rtp.run(stop))
    result: dict[str, Any] = {
        "calls": calls,
        "mix": {"held": len(held), "conference": len(conference)},
    }
    try:
        began = time.monotonic()
        users = [(extension(i), password(i)) for i in range(calls)]
        users += [(third_extension(j), third_password(j)) for j in range(len(conference))]
        await gather_limited(50, [bench.register(user, secret) for user, secret in users])
        signed = await switch.ask("login")
        result["setup_register_s"] = time.monotonic() - began
        if signed["signed_on"] != calls:
            raise RuntimeError(f"agents not signed on: {signed}")
        # the callers, at --rate per second
        began = time.monotonic()
        tasks = []
        for index in range(calls):
            tasks.append(loop.create_task(bench.call(index)))
            await asyncio.sleep(1.0 / args.rate)
        await asyncio.gather(*tasks)

        async def all_talking() -> bool:
            status = await switch.ask("status")
            return bool(status["sessions"].get("talking", 0) >= calls)

        if not await wait_for(all_talking, 30 + calls / 10):
            status = await switch.ask("status")
            raise RuntimeError(f"not all calls are bridged: {status}, {bench.failures[:5]}")
        result["setup_calls_s"] = time.monotonic() - began
        if held or conference:
            control = await switch.ask(
                "control",
                hold=[agent_id(i) for i in held],
                conference=[[agent_id(i), third_extension(j)] for j, i in enumerate(conference)],
            )
            result["control"] = control
            if control["held"] != len(held) or control["in_conference"] != len(conference):
                raise RuntimeError(f"the call-control mix did not take: {control}")
        load_before = os.getloadavg()
        await asyncio.sleep(args.warmup)
        await switch.ask("begin")
        bench.rtp.reset_window()
        bench.rtp.lateness.clear()
        cpu0, wall0 = proc_cpu_seconds(pid), time.monotonic()
        gen0 = time.process_time()
        await asyncio.sleep(args.seconds)
        cpu1, wall1 = proc_cpu_seconds(pid), time.monotonic()
        gen1 = time.process_time()
        window = await switch.ask("end")
        rss, peak = proc_rss_mib(pid)
        expected, lost = bench.rtp.window_loss()
        heard = bench.rtp.heard()
        result.update(
            {
                "load": (load_before, os.getloadavg()),
                "switch_cpu": 100 * (cpu1 - cpu0) / (wall1 - wall0),
                "switch": window,
                "rss_mib": rss,
                "peak_rss_mib": peak,
                "to_phones": {"expected": expected, "lost": lost, "heard": heard},
                "generator_cpu": 100 * (gen1 - gen0) / (wall1 - wall0),
                "generator_late_p99_ms": float(np.percentile(bench.rtp.lateness, 99) * 1000),
                "generator_skipped": bench.rtp.skipped,
            }
        )
        latencies = bench.latencies_ms()
        result["digit_to_ring_ms"] = {
            "count": int(latencies.size),
            "p50": float(np.percentile(latencies, 50)) if latencies.size else None,
            "p95": float(np.percentile(latencies, 95)) if latencies.size else None,
            "max": float(latencies.max()) if latencies.size else None,
        }
        # everyone hangs up; the records and recordings are checked
        await gather_limited(100, [bench.hang_up(c) for c in list(bench.caller_dialogs)])

        async def all_recorded() -> bool:
            status = await switch.ask("status")
            return bool(status["ended"] >= calls and status["recordings_complete"] >= calls)

        await wait_for(all_recorded, 30)
        result["recordings"] = await switch.ask(
            "report",
            held=[caller_number(i) for i in held],
            conference=[caller_number(i) for i in conference],
        )
        result["failures"] = bench.failures[:10]
        await switch.ask("stop")
        switch.child.wait(30)
    finally:
        stop.set()
        await asyncio.gather(rtp_task, return_exceptions=True)
        if bench.sip.transport is not None:
            bench.sip.transport.close()
        bench.rtp.close()
        if switch.child.poll() is None:
            switch.child.kill()
            switch.child.wait()
        if args.keep:
            print(f"kept in {folder}", flush=True)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return result


def show(result: dict[str, Any]) -> None:
    window = result["switch"]
    s = window["stats"]
    r = result["recordings"]
    phones = result["to_phones"]
    latency = result["digit_to_ring_ms"]
    load = result["load"]
    heard = phones["heard"]
    plain = heard.get("plain", [0, 0])
    mix = result["mix"]
    mixed = ""
    if mix["held"] or mix["conference"]:
        control = result["control"]

        def share(kind: str) -> str:
            ok, of = heard.get(kind, [0, 0])
            return f"{ok}/{of}"

        mixed = (
            f" | mix: held {control['held']}/{mix['held']} (still {window['held']} at the "
            f"window's end), conference {control['in_conference']}/{mix['conference']} (still "
            f"{window['in_conference']}), set up in {control['setup_s']:.1f} s | held callers "
            f"hear music {share('held caller')} (match ≥ {heard.get('music_match_min', [0])[0]}), "
            f"held agents silent {share('held agent')}, conference members hear both others "
            f"{share('conference')} | records: hold {r['held_records']}/{r['of_held']} "
            f"(min {r['hold_seconds_min'] or 0:.1f} s), conference {r['conference_records']}/"
            f"{r['of_conference']}, plain ones flagged {r['plain_flagged']}, conference "
            f"recordings with 3 tones {r['three_tones']}/{r['conference_sampled']}"
        )
    print(
        f"N={result['calls']:3d} | switch CPU {result['switch_cpu']:5.1f}% of a core "
        f"= {result['switch_cpu'] / result['calls']:.3f}% per call "
        f"(clock thread {window['clock_cpu']:4.1f}%) RSS {result['rss_mib']:4.0f} MiB | "
        f"RTP in/out {s['packets_received']}/{s['packets_sent']} lost to switch "
        f"{s['packets_lost']} to phones {phones['lost']}/{phones['expected']} | "
        f"underruns {s['underruns']} "
        f"late {s['late']} | tick lateness mean {s['lateness_mean_ms']:.2f} "
        f"p99 {s['lateness_p99_ms']:.2f} max {s['lateness_max_ms']:.1f} ms, "
        f"work mean {s['work_mean_ms']:.2f} p99 {s['work_p99_ms']:.2f} ms, "
        f"skipped {s['skipped_ticks']} | digit→ring p50 {latency['p50']:.0f} "
        f"p95 {latency['p95']:.0f} max {latency['max']:.0f} ms ({latency['count']}) | "
        f"recordings complete {r['complete']}/{r['answered']} of {r['records']} records, "
        f"both tones {r['both_tones']}/{r['sampled']}, phones hear {plain[0]}/"
        f"{plain[1]} | generator CPU {result['generator_cpu']:.0f}% "
        f"late p99 {result['generator_late_p99_ms']:.1f} ms | "
        f"load {load[0][0]:.1f} -> {load[1][0]:.1f}"
        + mixed
        + (f" | failures {result['failures']}" if result["failures"] else ""),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("role", nargs="?", default="generator", choices=["generator", "switch"])
    parser.add_argument("--calls", default="50,100,200")
    parser.add_argument("--seconds", type=float, default=20.0, help="the steady window")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--rate", type=float, default=25.0, help="new calls per second")
    parser.add_argument("--folder", default=None, help="where recordings go (deleted after)")
    parser.add_argument("--keep", action="store_true", help="keep recordings and the log")
    parser.add_argument("--no-pin", action="store_true", help="do not pin to CPUs 0 and 1")
    parser.add_argument(
        "--switch-interval",
        type=float,
        default=0.0,
        help="sys.setswitchinterval for the switch process (the clock's docstring suggests "
        "0.001); 0: Python's default, as `aqualine switch` runs",
    )
    parser.add_argument(
        "--hold-share",
        type=float,
        default=0.0,
        help="share of the calls the agent puts on hold once all are bridged (e.g. 0.1)",
    )
    parser.add_argument(
        "--conference-share",
        type=float,
        default=0.0,
        help="share of the calls made three-party conferences (consult an extension the "
        "generator answers, then conference), e.g. 0.1",
    )
    parser.add_argument("--json", action="store_true", help="also print each result as JSON")
    args = parser.parse_args()
    if args.role == "switch":
        switch_main(args)
        return
    if not args.no_pin:
        pin(1)
    print(
        f"{os.cpu_count()} CPUs; switch on CPU 0, generator on CPU 1"
        if not args.no_pin
        else f"{os.cpu_count()} CPUs, not pinned",
        flush=True,
    )
    for calls in (int(n) for n in args.calls.split(",")):
        result = asyncio.run(run_one(calls, args))
        show(result)
        if args.json:
            print(json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    main()
