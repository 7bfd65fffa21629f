"""The media side of a leg the switch rings (an agent, a transfer target, a supervisor, a
customer): its RTP/RTCP sockets before the answer, and its media-clock leg after it."""

from __future__ import annotations

import contextlib
from typing import Any

from aqualine.telephony.media.handles import Leg
from aqualine.telephony.sdp import NegotiatedAudio

Sockets = tuple[Any, Any]  # RTP and RTCP sockets bound for a leg (RTCP may be None)


def add_answered_leg(clock: Any, audio: NegotiatedAudio, socks: Sockets) -> Leg:
    """Put an answered leg on the media clock: its sockets, the codec and address it settled."""
    rtp, rtcp = socks
    leg: Leg = clock.add_leg(
        remote=(audio.remote_address, audio.remote_port),
        codec=audio.codec.name,
        payload_type=audio.codec.payload_type,
        dtmf_payload_type=audio.telephone_event_pt,
        sock=rtp,
        rtcp_sock=rtcp,
        rtcp_port=audio.remote_rtcp_port,
    )
    return leg


def close_sockets(socks: Sockets | None) -> None:
    """Close a leg's sockets that never reached the clock (its ring failed or was withdrawn)."""
    for sock in socks or ():
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()
