"""Media for the switch: G.711, RTP/RTCP, RFC 4733 DTMF, WAV files, prompts and the part-1
per-leg player. The codec tables and packet helpers are shared with the later media clock."""

from aqualine.telephony.media.g711 import (
    PCMA,
    PCMU,
    G711Codec,
    alaw_decode,
    alaw_encode,
    codec_for,
    ulaw_decode,
    ulaw_encode,
)
from aqualine.telephony.media.player import LegStats, PortUnavailable, RtpLeg
from aqualine.telephony.media.prompts import WELCOME, load_prompt, render_tts
from aqualine.telephony.media.rtp import (
    DtmfDetector,
    DtmfDigit,
    RtcpError,
    RtpError,
    RtpPacket,
    TelephoneEvent,
    parse_rtp,
    try_parse_rtp,
)
from aqualine.telephony.media.wav import WavError, load_audio, read_wav, write_wav

__all__ = [
    "PCMA",
    "PCMU",
    "WELCOME",
    "DtmfDetector",
    "DtmfDigit",
    "G711Codec",
    "LegStats",
    "PortUnavailable",
    "RtcpError",
    "RtpError",
    "RtpLeg",
    "RtpPacket",
    "TelephoneEvent",
    "WavError",
    "alaw_decode",
    "alaw_encode",
    "codec_for",
    "load_audio",
    "load_prompt",
    "parse_rtp",
    "read_wav",
    "render_tts",
    "try_parse_rtp",
    "ulaw_decode",
    "ulaw_encode",
    "write_wav",
]
