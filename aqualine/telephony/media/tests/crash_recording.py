"""Run by ``test_recorder``: a media clock recording a bridged call between two tone senders
(440 Hz and 1000 Hz) into the WAV given on the command line, until it is killed.

    python -m aqualine.telephony.media.tests.crash_recording PATH
"""

from __future__ import annotations

import socket
import sys
import time

from aqualine.telephony.media.clock import MediaClock
from aqualine.telephony.media.g711 import ulaw_encode
from aqualine.telephony.media.rtp import build_rtp
from aqualine.telephony.testing.audio import tone

TONES = (440, 1000)


def main(path: str) -> None:
    clock = MediaClock(shared_port=0, flush_ticks=10)
    clock.start()
    senders = []
    for _ in TONES:
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sender.bind(("127.0.0.1", 0))
        sender.setblocking(False)
        senders.append(sender)
    legs = [clock.add_leg(remote=sender.getsockname()) for sender in senders]
    clock.bridge(*legs)
    clock.start_recording(legs, path)
    loops = [ulaw_encode(tone(freq, 1.0)) for freq in TONES]  # whole cycles: loops cleanly
    print("recording", flush=True)
    started = time.monotonic()
    count = 0
    while True:  # until SIGKILL
        frame = slice((count % 50) * 160, (count % 50 + 1) * 160)
        for index, sender in enumerate(senders):
            packet = build_rtp(0, count & 0xFFFF, count * 160, 1000 + index, loops[index][frame])
            sender.sendto(packet, legs[index].address)
            try:
                while sender.recv(2048):  # drain what the clock sends back
                    pass
            except BlockingIOError:
                pass
        count += 1
        time.sleep(max(0.0, started + count * 0.02 - time.monotonic()))


if __name__ == "__main__":
    main(sys.argv[1])
