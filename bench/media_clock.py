"""Media clock capacity: N concurrent bridged, recorded calls (issue "switch part 2").

The switch side -- a :class:`~aqualine.telephony.media.clock.MediaClock` with two legs per call,
each pair bridged and recorded -- runs in a child process pinned to CPU 0; this process is the
load generator, pinned to CPU 1: one non-blocking socket per caller and per agent, each sending
20 ms PCMU packets of its tone (callers 440 Hz, agents 1000 Hz) on absolute deadlines, reading
what comes back (epoll + ``recv_into``), counting loss from sequence numbers and checking on a
few calls that each side hears the other's tone. sipp cannot drive hundreds of RTP legs; this
does it in one process with a handful of numpy steps per tick.

    python bench/media_clock.py                       # N = 50, 100, 200, 400; shared port
    python bench/media_clock.py --calls 400 --mode both --seconds 30
    python bench/media_clock.py --mode both --realtime 10   # SCHED_RR: what the switch can do
                                                            # when other work cannot starve it

Per N it prints the switch's figures over a steady window (after a warm-up): CPU of the clock
thread and of the whole switch process (% of one core), RSS, packet loss in both directions,
jitter-buffer underruns and late packets, tick lateness (mean/p99/max) and work per wake-up,
skipped ticks, and whether every recording is complete (its length matches the ticks it was
recording, to a flush) and, for a sample, holds both tones. It asserts nothing: speed is
measured here, not tested. Load on the machine (other processes) shows in the load average
printed with each run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aqualine.telephony.media.clock import MediaClock
from aqualine.telephony.media.g711 import ULAW_DECODE, ulaw_encode
from aqualine.telephony.media.handles import Latch
from aqualine.telephony.media.recorder import RecordingResult
from aqualine.telephony.media.wav import read_wav
from aqualine.telephony.testing.audio import frames_with_tone, tone

CALLER_HZ, AGENT_HZ = 440.0, 1000.0
PACKET = 172
FRAME_SECONDS = 0.020
SAMPLE_CALLS = 8  # calls whose audio is checked (generator side and recordings)


def pin(cpu: int) -> None:
    """Run this process on one CPU (when the machine has it)."""
    with contextlib.suppress(AttributeError, OSError):
        if cpu < (os.cpu_count() or 1):
            os.sched_setaffinity(0, {cpu})


def memory_kib() -> tuple[int, int]:
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields.get("VmRSS", 0), fields.get("VmHWM", 0)


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


# --- the switch side (child process) ---------------------------------------------------------


class LoopProbe:
    """An asyncio loop on its own thread, standing in for the SIP side of the switch process:
    it sleeps 10 ms again and again and notes how late it wakes, i.e. what the clock thread's
    hold on the GIL costs the event loop."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._probe(), self.loop)

    async def _probe(self) -> None:
        while True:
            started = time.monotonic()
            await asyncio.sleep(0.010)
            self.lags.append(time.monotonic() - started - 0.010)

    def reset(self) -> None:
        self.loop.call_soon_threadsafe(self.lags.clear)

    def figures(self) -> dict[str, float]:
        lags = np.array(list(self.lags)) * 1000
        if not len(lags):
            return {}
        return {
            "mean": float(lags.mean()),
            "p99": float(np.percentile(lags, 99)),
            "max": float(lags.max()),
        }


def engine(args: argparse.Namespace) -> None:
    pin(0)
    setup = json.loads(sys.stdin.readline())
    if setup["switch_interval"]:
        sys.setswitchinterval(setup["switch_interval"])
    shared = setup["mode"] == "shared"
    folder = Path(setup["folder"])
    clock = MediaClock(
        "127.0.0.1",
        shared_port=0 if shared else None,
        capacity=2 * len(setup["remotes"]) + 16,
        media_timeout=None,
        jitter_depth=setup["depth"],
        thread_nice=setup["nice"] or None,
        realtime_priority=setup["realtime"] or None,
    )
    clock.start()
    legs = []
    recordings = []
    for index, (caller_port, agent_port) in enumerate(setup["remotes"]):
        caller = clock.add_leg(remote=("127.0.0.1", caller_port), latch=Latch.STRICT)
        agent = clock.add_leg(remote=("127.0.0.1", agent_port), latch=Latch.STRICT)
        clock.bridge(caller, agent)
        legs.append((caller.port, agent.port))
        recordings.append(clock.start_recording([caller, agent], folder / f"call-{index}.wav"))
    first_tick = clock.stats().ticks
    probe = LoopProbe()
    print(json.dumps({"legs": legs}), flush=True)
    window: dict[str, Any] = {}
    for line in sys.stdin:
        command = line.strip()
        if command == "begin":
            clock.stats(reset=True)
            probe.reset()
            window = {"cpu": cpu_seconds(), "wall": time.monotonic()}
            print("{}", flush=True)
        elif command == "end":
            stats = clock.stats()
            wall = time.monotonic() - window["wall"]
            rss, peak = memory_kib()
            report = {
                "clock_cpu": stats.cpu_percent,
                "process_cpu": 100 * (cpu_seconds() - window["cpu"]) / wall,
                "rss_mib": rss / 1024,
                "peak_rss_mib": peak / 1024,
                "asyncio_lag_ms": probe.figures(),
                "stats": stats.__dict__,
            }
            print(json.dumps(report), flush=True)
        elif command == "stop":
            for recording in recordings:
                clock.stop_recording(recording)
            results: list[RecordingResult] = [r.done.result(60) for r in recordings]
            last_tick = clock.stats().ticks
            clock.stop()
            print(json.dumps(check_recordings(results, first_tick, last_tick)), flush=True)
            return


def check_recordings(results: list[RecordingResult], first: int, last: int) -> dict[str, Any]:
    """Complete: no error, and the length of the ticks it recorded (to one flush, 1 s)."""
    expected = (last - first) * 160
    complete = [
        r.error is None
        and abs(r.frames - expected) <= 8000 + 160
        and r.path.stat().st_size == 44 + 2 * r.frames
        for r in results
    ]
    sample = results[:: max(1, len(results) // SAMPLE_CALLS)][:SAMPLE_CALLS]
    both = 0
    odd = []
    for result in sample:
        audio = read_wav(result.path).samples[8000:]
        frames = len(audio) // 800
        present = {
            freq: float(np.mean(frames_with_tone_band(audio[: frames * 800], freq)))
            for freq in (CALLER_HZ, AGENT_HZ)
        }
        if min(present.values()) >= 0.9:
            both += 1
        else:
            odd.append({"file": result.path.name, "present": present, "frames": result.frames})
    return {
        "complete": sum(complete),
        "count": len(results),
        "seconds": expected / 8000,
        "both_tones": both,
        "sampled": len(sample),
        "odd": odd,
    }


def frames_with_tone_band(audio: np.ndarray, freq: float) -> np.ndarray:
    """Per 100 ms frame: whether the band freq ± 20 Hz is above -40 dBFS (both tones can be
    in one frame, which a strongest-peak check cannot see)."""
    frames = audio.reshape(-1, 800).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(800), axis=1)) ** 2
    bins = np.fft.rfftfreq(800, 1 / 8000)
    amplitude = np.sqrt(spectrum[:, np.abs(bins - freq) <= 20].sum(axis=1) / 1.5) / 200 / 32768
    result: np.ndarray = amplitude >= 10 ** (-40 / 20)
    return result


# --- the load generator (this process) -------------------------------------------------------


class Generator:
    """2N endpoints: callers (even indexes) and agents (odd), batched in numpy."""

    def __init__(self, calls: int) -> None:
        self.count = 2 * calls
        self.socks = []
        for _ in range(self.count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("127.0.0.1", 0))
            sock.setblocking(False)
            self.socks.append(sock)
        self.ports = [sock.getsockname()[1] for sock in self.socks]
        self.tx = np.zeros((self.count, PACKET), dtype=np.uint8)
        self.tx[:, 0] = 0x80
        self.seq = np.ndarray((self.count,), ">u2", self.tx, 2, (PACKET,))
        self.ts = np.ndarray((self.count,), ">u4", self.tx, 4, (PACKET,))
        ssrc = np.ndarray((self.count,), ">u4", self.tx, 8, (PACKET,))
        ssrc[:] = np.arange(self.count) + 0x10000
        self.views = [memoryview(self.tx[row]) for row in range(self.count)]
        self.frames = {
            role: np.frombuffer(ulaw_encode(tone(freq, 1.0)), dtype=np.uint8).reshape(50, 160)
            for role, freq in ((0, CALLER_HZ), (1, AGENT_HZ))
        }
        self.rx = np.zeros((4 * self.count, 200), dtype=np.uint8)
        self.rx_views = [memoryview(self.rx[row]) for row in range(len(self.rx))]
        self.epoll = select.epoll()
        self.by_fd = {}
        for index, sock in enumerate(self.socks):
            self.epoll.register(sock.fileno(), select.EPOLLIN)
            self.by_fd[sock.fileno()] = index
        self.tick = 0
        """The RTP clock, in frames: it follows wall-clock time, like a phone's sound card."""
        self.packets = 0
        """Packets sent per endpoint (the sequence number)."""
        self.skipped = 0
        self.sent = 0
        self.reset_window()
        sample = list(range(0, calls, max(1, calls // SAMPLE_CALLS)))[:SAMPLE_CALLS]
        self.monitored: dict[int, list[tuple[int, bytes]]] = {
            index: [] for c in sample for index in (2 * c, 2 * c + 1)
        }
        self.lateness: list[float] = []

    def reset_window(self) -> None:
        self.received = np.zeros(self.count, dtype=np.int64)
        self.first = np.full(self.count, -1, dtype=np.int64)
        self.highest = np.full(self.count, -1, dtype=np.int64)
        self.sent_in_window = 0
        self.skipped = 0
        for packets in getattr(self, "monitored", {}).values():
            packets.clear()

    def connect(self, ports: list[int]) -> None:
        for sock, port in zip(self.socks, ports, strict=True):
            sock.connect(("127.0.0.1", port))

    def send_tick(self) -> None:
        frame = self.tick % 50
        self.tx[0::2, 12:] = self.frames[0][frame]
        self.tx[1::2, 12:] = self.frames[1][frame]
        self.seq[:] = self.packets & 0xFFFF
        self.ts[:] = (self.tick * 160) & 0xFFFFFFFF
        for sock, view in zip(self.socks, self.views, strict=True):
            with contextlib.suppress(OSError):
                sock.send(view)
        self.tick += 1
        self.packets += 1
        self.sent += self.count
        self.sent_in_window += self.count

    def receive(self) -> None:
        rows = 0
        owners = []
        for drain in (False, True):
            ready = self.epoll.poll(0)
            for fd, _ in ready:
                index = self.by_fd[fd]
                sock = self.socks[index]
                for _ in range(32 if drain else 1):
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
        seq = data[:, 2].astype(np.int64) << 8 | data[:, 3]
        audio = data[:, 1] & 0x7F == 0
        who, seq, rows_kept = who[audio], seq[audio], np.flatnonzero(audio)
        base = np.where(self.highest[who] >= 0, self.highest[who], seq)
        extended = base + (((seq - base + 0x8000) & 0xFFFF) - 0x8000)
        np.add.at(self.received, who, 1)
        fresh = self.first[who] < 0
        self.first[who[fresh]] = extended[fresh]
        np.maximum.at(self.highest, who, extended)
        np.minimum.at(self.first, who, extended)
        kept = zip(rows_kept.tolist(), who.tolist(), extended.tolist(), strict=True)
        for row, index, number in kept:
            if index in self.monitored:
                self.monitored[index].append((number, bytes(data[row, 12:172])))

    def window_loss(self) -> tuple[int, int]:
        expected = np.where(self.first >= 0, self.highest - self.first + 1, 0)
        return int(expected.sum()), int(expected.sum() - self.received.sum())

    def heard(self) -> tuple[int, int]:
        ok = 0
        for index, packets in self.monitored.items():
            ordered = dict(sorted(packets))
            if not ordered:
                continue
            audio = ULAW_DECODE[np.frombuffer(b"".join(ordered.values()), dtype=np.uint8)]
            want = AGENT_HZ if index % 2 == 0 else CALLER_HZ  # a caller hears the agent
            ok += int(frames_with_tone(audio, want) >= 0.9)
        return ok, len(self.monitored)

    def run_for(self, seconds: float, deadline_base: float) -> float:
        """Send on absolute deadlines for ``seconds``; return the new deadline base."""
        end = time.monotonic() + seconds
        next_deadline = deadline_base
        while time.monotonic() < end:
            now = time.monotonic()
            if now < next_deadline:
                time.sleep(next_deadline - now)
            now = time.monotonic()
            self.lateness.append(now - next_deadline)
            self.receive()
            due = int((now - next_deadline) / FRAME_SECONDS) + 1
            if due > 5:  # stalled: drop the frames a phone would have lost, keep the clock
                self.tick += due - 5
                self.skipped += due - 5
                next_deadline += (due - 5) * FRAME_SECONDS
                due = 5
            for _ in range(due):
                self.send_tick()
            next_deadline += due * FRAME_SECONDS
        return next_deadline

    def close(self) -> None:
        self.epoll.close()
        for sock in self.socks:
            sock.close()


def ask(child: subprocess.Popen[str], command: str) -> dict[str, Any]:
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(command + "\n")
    child.stdin.flush()
    line = child.stdout.readline()
    if not line:
        raise RuntimeError(f"the switch process died (exit {child.wait()})")
    result: dict[str, Any] = json.loads(line)
    return result


def run(calls: int, mode: str, args: argparse.Namespace) -> dict[str, Any]:
    pin(1)
    with contextlib.suppress(OSError):  # the generator must keep up too
        if args.realtime:
            os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(args.realtime))
        elif args.nice:
            os.setpriority(os.PRIO_PROCESS, 0, args.nice)
    generator = Generator(calls)
    folder = Path(tempfile.mkdtemp(prefix="aqualine-bench-", dir=args.folder))
    child = subprocess.Popen(  # noqa: S603 - this very script
        [sys.executable, __file__, "engine"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        remotes = [generator.ports[i : i + 2] for i in range(0, generator.count, 2)]
        setup = {
            "mode": mode,
            "remotes": remotes,
            "folder": str(folder),
            "depth": args.depth,
            "nice": args.nice,
            "realtime": args.realtime,
            "switch_interval": args.switch_interval,
        }
        legs = ask(child, json.dumps(setup))["legs"]
        generator.connect([port for pair in legs for port in pair])
        load_before = os.getloadavg()
        base = generator.run_for(args.warmup, time.monotonic())
        ask(child, "begin")
        generator.reset_window()
        generator.lateness.clear()
        cpu_before, wall_before = cpu_seconds(), time.monotonic()
        base = generator.run_for(args.seconds, base)
        report = ask(child, "end")
        generator_cpu = 100 * (cpu_seconds() - cpu_before) / (time.monotonic() - wall_before)
        expected, lost = generator.window_loss()
        heard, monitored = generator.heard()
        recordings = ask(child, "stop")
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
        generator.close()
        if args.keep:
            print(f"recordings kept in {folder}", flush=True)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    late = np.array(generator.lateness) * 1000
    return {
        "calls": calls,
        "mode": mode,
        "load": (load_before, os.getloadavg()),
        "switch": report,
        "to_phones": {"expected": expected, "lost": lost, "heard": heard, "of": monitored},
        "recordings": recordings,
        "generator_cpu": generator_cpu,
        "generator_late_p99": float(np.percentile(late, 99)) if len(late) else 0.0,
        "generator_skipped": generator.skipped,
    }


def show(result: dict[str, Any]) -> None:
    switch = result["switch"]
    lag = switch["asyncio_lag_ms"]
    s = switch["stats"]
    r = result["recordings"]
    phones = result["to_phones"]
    load = result["load"]
    print(
        f"{result['mode']:>9} N={result['calls']:3d} | "
        f"clock CPU {switch['clock_cpu']:5.1f}% process {switch['process_cpu']:5.1f}%"
        f" RSS {switch['rss_mib']:5.0f} MiB | "
        f"lost to switch {s['packets_lost']} to phones {phones['lost']}/{phones['expected']}"
        f" underruns {s['underruns']} late {s['late']} | "
        f"lateness mean {s['lateness_mean_ms']:.2f} p99 {s['lateness_p99_ms']:.2f} "
        f"max {s['lateness_max_ms']:.1f} ms, work mean {s['work_mean_ms']:.2f} "
        f"p99 {s['work_p99_ms']:.2f} ms, skipped {s['skipped_ticks']} | "
        f"recordings complete {r['complete']}/{r['count']} ({r['seconds']:.0f} s), "
        f"both tones {r['both_tones']}/{r['sampled']}, phones hear {phones['heard']}/"
        f"{phones['of']} | generator CPU {result['generator_cpu']:.0f}% "
        f"late p99 {result['generator_late_p99']:.1f} ms, "
        f"frames dropped {result['generator_skipped']} | "
        f"asyncio lag p99 {lag.get('p99', 0):.2f} max {lag.get('max', 0):.1f} ms | "
        f"load {load[0][0]:.1f} -> {load[1][0]:.1f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("role", nargs="?", default="generator", choices=["generator", "engine"])
    parser.add_argument("--calls", default="50,100,200,400")
    parser.add_argument("--mode", default="shared", choices=["shared", "dedicated", "both"])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--depth", type=int, default=3, help="jitter buffer, in 20 ms frames")
    parser.add_argument("--folder", default=None, help="where recordings go (deleted after)")
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="raise the clock thread's and the generator's priority (e.g. -10; needs root)",
    )
    parser.add_argument(
        "--realtime",
        type=int,
        default=0,
        help="run the clock thread and the generator SCHED_RR at this priority (needs root)",
    )
    parser.add_argument("--json", action="store_true", help="also print each result as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the recordings")
    parser.add_argument(
        "--switch-interval",
        type=float,
        default=0.0,
        help="sys.setswitchinterval in the switch process (the GIL hand-over; default 0.005)",
    )
    args = parser.parse_args()
    if args.role == "engine":
        engine(args)
        return
    modes = ["shared", "dedicated"] if args.mode == "both" else [args.mode]
    print(
        f"{os.cpu_count()} CPUs; switch on CPU 0, generator on CPU 1; "
        f"nice {args.nice}, realtime {args.realtime or 'no'}",
        flush=True,
    )
    for mode in modes:
        for calls in (int(n) for n in args.calls.split(",")):
            result = run(calls, mode, args)
            show(result)
            if args.json:
                print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
