"""Media for the switch: G.711, RTP/RTCP, RFC 4733 DTMF, WAV files, prompts and the part-1
per-leg player. The codec tables and packet helpers are shared with the later media clock.

Part 2: :class:`MediaClock` (:mod:`~aqualine.telephony.media.clock`) carries every leg's media
in one thread -- jitter buffers, bridges and conferences, prompts, tones and music on hold,
recordings, RFC 4733 DTMF both ways, RTCP. Its leg statistics are
:class:`aqualine.telephony.media.handles.LegStats` (not the part-1 :class:`LegStats`).
"""

from aqualine.telephony.media.clock import MediaClock
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
from aqualine.telephony.media.handles import (
    ClockStats,
    DtmfReceived,
    DtmfSent,
    Latch,
    Leg,
    MediaEvent,
    MediaTimeout,
    Playback,
    PlaybackFinished,
    Recording,
    RecordingFinished,
    RemoteBye,
    RemoteLatched,
)
from aqualine.telephony.media.moh import music_on_hold, write_music_on_hold
from aqualine.telephony.media.player import LegStats, PortUnavailable, RtpLeg
from aqualine.telephony.media.prompts import WELCOME, load_prompt, render_tts
from aqualine.telephony.media.recorder import RecordingResult, recover_wav
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
from aqualine.telephony.media.tones import CHINA as CHINA_TONES
from aqualine.telephony.media.tones import Tone, render_tone
from aqualine.telephony.media.wav import WavError, load_audio, read_wav, write_wav

__all__ = [
    "CHINA_TONES",
    "PCMA",
    "PCMU",
    "WELCOME",
    "ClockStats",
    "DtmfDetector",
    "DtmfDigit",
    "DtmfReceived",
    "DtmfSent",
    "G711Codec",
    "Latch",
    "Leg",
    "LegStats",
    "MediaClock",
    "MediaEvent",
    "MediaTimeout",
    "Playback",
    "PlaybackFinished",
    "PortUnavailable",
    "Recording",
    "RecordingFinished",
    "RecordingResult",
    "RemoteBye",
    "RemoteLatched",
    "RtcpError",
    "RtpError",
    "RtpLeg",
    "RtpPacket",
    "TelephoneEvent",
    "Tone",
    "WavError",
    "alaw_decode",
    "alaw_encode",
    "codec_for",
    "load_audio",
    "load_prompt",
    "music_on_hold",
    "parse_rtp",
    "read_wav",
    "recover_wav",
    "render_tone",
    "render_tts",
    "try_parse_rtp",
    "ulaw_decode",
    "ulaw_encode",
    "write_music_on_hold",
    "write_wav",
]
