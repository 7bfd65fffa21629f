"""G.711 µ-law (PCMU) and A-law (PCMA) with numpy lookup tables.

The tables are built once at import from the ITU-T G.711 quantisers, following the conventions of
the ITU-T G.191 reference software for 16-bit linear samples:

* µ-law works on 14-bit magnitudes (``sample >> 2``), A-law on 13-bit ones (``sample >> 3``);
* negative samples are folded with the one's complement (``~sample``), so the quantiser is
  exactly antisymmetric about -0.5 and -1 encodes as "negative zero";
* µ-law code bytes are transmitted inverted, A-law code bytes with the even bits inverted (0x55).

Decoding is a 256-entry ``int16`` table indexed by the code byte; encoding is a 65536-entry
``uint8`` table indexed by the ``int16`` sample reinterpreted as ``uint16``. Both are plain arrays
so that the media clock can use ``np.take(table, codes, out=...)`` on many legs at once.

µ-law 0x7F ("negative zero") decodes to 0, which encodes to 0xFF: it does not round-trip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.int16]
Codes = npt.NDArray[np.uint8]
BytesLike = bytes | bytearray | memoryview

CLOCK_RATE: Final = 8000


def _every_sample() -> npt.NDArray[np.int32]:
    return np.arange(-32768, 32768, dtype=np.int32)


def _encode_table(samples: npt.NDArray[np.int32], codes: npt.NDArray[np.int32]) -> Codes:
    table = np.empty(65536, dtype=np.uint8)
    table[samples & 0xFFFF] = codes.astype(np.uint8)
    return table


def _build_ulaw_encode() -> Codes:
    samples = _every_sample()
    negative = samples < 0
    magnitude = np.where(negative, ~samples, samples) >> 2  # 0 .. 8191
    biased = np.minimum(magnitude + 33, 0x1FFF)  # 33 .. 8191: bit 5 .. bit 12 is the top bit
    segment = np.searchsorted(np.array([64 << k for k in range(7)]), biased, side="right")
    mantissa = (biased >> (segment + 1)) & 0x0F
    code = ((7 - segment) << 4) | (15 - mantissa) | np.where(negative, 0x00, 0x80)
    return _encode_table(samples, code)


def _build_ulaw_decode() -> Samples:
    inverted = ~np.arange(256, dtype=np.int32) & 0xFF
    segment = (inverted >> 4) & 0x07
    mantissa = inverted & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << segment) - 0x84
    return np.where(inverted & 0x80, -magnitude, magnitude).astype(np.int16)


def _build_alaw_encode() -> Codes:
    samples = _every_sample()
    negative = samples < 0
    magnitude = np.where(negative, ~samples, samples) >> 4  # 0 .. 2047
    segment = np.searchsorted(np.array([16 << k for k in range(7)]), magnitude, side="right")
    mantissa = np.where(segment == 0, magnitude, magnitude >> np.maximum(segment - 1, 0)) & 0x0F
    code = (segment << 4) | mantissa | np.where(negative, 0x00, 0x80)
    return _encode_table(samples, code ^ 0x55)


def _build_alaw_decode() -> Samples:
    codes = np.arange(256, dtype=np.int32)
    plain = codes ^ 0x55
    segment = (plain >> 4) & 0x07
    mantissa = plain & 0x0F
    step_units = np.where(segment == 0, mantissa, mantissa + 16)  # 13-bit scale, in steps of 2
    magnitude = ((step_units << 4) + 8) << np.maximum(segment - 1, 0)
    return np.where(plain & 0x80, magnitude, -magnitude).astype(np.int16)


ULAW_DECODE: Final[Samples] = _build_ulaw_decode()
"""µ-law code byte → linear int16 sample (256 entries)."""
ULAW_ENCODE: Final[Codes] = _build_ulaw_encode()
"""int16 sample viewed as uint16 → µ-law code byte (65536 entries)."""
ALAW_DECODE: Final[Samples] = _build_alaw_decode()
"""A-law code byte → linear int16 sample (256 entries)."""
ALAW_ENCODE: Final[Codes] = _build_alaw_encode()
"""int16 sample viewed as uint16 → A-law code byte (65536 entries)."""

for _table in (ULAW_DECODE, ULAW_ENCODE, ALAW_DECODE, ALAW_ENCODE):
    _table.flags.writeable = False

ULAW_SILENCE: Final = int(ULAW_ENCODE[0])  # 0xFF
ALAW_SILENCE: Final = int(ALAW_ENCODE[0])  # 0xD5


def as_codes(data: BytesLike | npt.ArrayLike) -> Codes:
    """View encoded G.711 data (bytes or an integer array of code bytes) as a uint8 array."""
    if isinstance(data, bytes | bytearray | memoryview):
        return np.frombuffer(data, dtype=np.uint8)
    array = np.asarray(data)
    if array.dtype == np.uint8:
        return array
    if not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"G.711 codes must be bytes or integers, not {array.dtype}")
    if array.size and (array.min() < 0 or array.max() > 255):
        raise ValueError("G.711 codes must be in 0..255")
    return array.astype(np.uint8)


def as_int16(samples: npt.ArrayLike) -> Samples:
    """Return samples as an int16 array: integers are clipped, floats rounded and clipped."""
    array = np.asarray(samples)
    if array.dtype == np.int16:
        return array
    if np.issubdtype(array.dtype, np.floating):
        array = np.rint(array)
    elif not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"samples must be numeric, not {array.dtype}")
    return np.clip(array, -32768, 32767).astype(np.int16)


def decode(data: BytesLike | npt.ArrayLike, table: Samples) -> Samples:
    """Decode G.711 code bytes through a 256-entry decode table."""
    return np.take(table, as_codes(data))


def encode_array(samples: npt.ArrayLike, table: Codes) -> Codes:
    """Encode int16 samples through a 65536-entry encode table into a uint8 array."""
    return np.take(table, as_int16(samples).view(np.uint16))


def ulaw_decode(data: BytesLike | npt.ArrayLike) -> Samples:
    """µ-law bytes (or uint8 codes) → int16 samples."""
    return decode(data, ULAW_DECODE)


def ulaw_encode(samples: npt.ArrayLike) -> bytes:
    """int16 samples → µ-law bytes."""
    return encode_array(samples, ULAW_ENCODE).tobytes()


def alaw_decode(data: BytesLike | npt.ArrayLike) -> Samples:
    """A-law bytes (or uint8 codes) → int16 samples."""
    return decode(data, ALAW_DECODE)


def alaw_encode(samples: npt.ArrayLike) -> bytes:
    """int16 samples → A-law bytes."""
    return encode_array(samples, ALAW_ENCODE).tobytes()


@dataclass(frozen=True, eq=False)
class G711Codec:
    """One G.711 variant as negotiated in SDP (static payload type, 8 kHz, one byte a sample)."""

    name: str
    payload_type: int
    decode_table: Samples
    encode_table: Codes
    silence: int
    clock_rate: int = CLOCK_RATE

    def decode(self, data: BytesLike | npt.ArrayLike) -> Samples:
        return decode(data, self.decode_table)

    def encode(self, samples: npt.ArrayLike) -> bytes:
        return encode_array(samples, self.encode_table).tobytes()

    def encode_array(self, samples: npt.ArrayLike) -> Codes:
        return encode_array(samples, self.encode_table)

    def silence_frame(self, samples: int) -> bytes:
        return bytes([self.silence]) * samples

    def __repr__(self) -> str:
        return f"G711Codec({self.name}/{self.clock_rate}, pt={self.payload_type})"


PCMU: Final = G711Codec("PCMU", 0, ULAW_DECODE, ULAW_ENCODE, ULAW_SILENCE)
PCMA: Final = G711Codec("PCMA", 8, ALAW_DECODE, ALAW_ENCODE, ALAW_SILENCE)
CODECS: Final = (PCMU, PCMA)


def codec_for(name_or_payload_type: str | int) -> G711Codec:
    """Find PCMU/PCMA by SDP encoding name (case-insensitive) or static payload type."""
    for codec in CODECS:
        if isinstance(name_or_payload_type, str):
            if codec.name == name_or_payload_type.upper():
                return codec
        elif codec.payload_type == name_or_payload_type:
            return codec
    raise ValueError(f"not a G.711 codec: {name_or_payload_type!r}")
