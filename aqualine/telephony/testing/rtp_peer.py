"""A small RTP party for tests: plays tones or samples, records and decodes what it hears."""

from __future__ import annotations

import asyncio
from types import TracebackType

import numpy.typing as npt

from aqualine.telephony.media.g711 import PCMU, G711Codec, Samples
from aqualine.telephony.media.player import DEFAULT_DTMF_PAYLOAD_TYPE, Address, RtpLeg
from aqualine.telephony.media.rtp import RtpPacket
from aqualine.telephony.testing.audio import decode_rtp, tone
from aqualine.telephony.testing.wait import wait_until


class RtpPeer:
    """An :class:`RtpLeg` that keeps every RTP packet it accepts. Start with :meth:`start`."""

    def __init__(self) -> None:
        self.packets: list[RtpPacket] = []
        self._leg: RtpLeg | None = None

    @classmethod
    async def start(
        cls,
        host: str = "127.0.0.1",
        codec: G711Codec = PCMU,
        *,
        remote: Address | None = None,
        learn_remote: bool = True,
        dtmf_payload_type: int | None = DEFAULT_DTMF_PAYLOAD_TYPE,
    ) -> RtpPeer:
        peer = cls()
        peer._leg = await RtpLeg.open(
            host,
            codec,
            remote=remote,
            learn_remote=learn_remote,
            dtmf_payload_type=dtmf_payload_type,
            on_rtp=peer.packets.append,
        )
        return peer

    @property
    def leg(self) -> RtpLeg:
        if self._leg is None:
            raise RuntimeError("RtpPeer.start() was not awaited")
        return self._leg

    @property
    def address(self) -> Address:
        return self.leg.local_address

    @property
    def port(self) -> int:
        return self.leg.port

    def send_to(self, host: str, port: int) -> None:
        self.leg.set_remote(host, port)

    def play(self, samples: npt.ArrayLike, *, loop: bool = False) -> asyncio.Future[bool]:
        return self.leg.play(samples, loop=loop)

    def play_tone(
        self, freq: float, seconds: float, *, amplitude: float = 0.3, loop: bool = False
    ) -> asyncio.Future[bool]:
        return self.leg.play(tone(freq, seconds, amplitude=amplitude), loop=loop)

    def send_dtmf(self, digits: str, **options: int) -> asyncio.Future[None]:
        return self.leg.send_dtmf(digits, **options)

    @property
    def audio_packets(self) -> list[RtpPacket]:
        payload_type = self.leg.payload_type
        return [packet for packet in self.packets if packet.payload_type == payload_type]

    def received_audio(self, *, fill_gaps: bool = True) -> Samples:
        """Everything heard so far, decoded in sequence order (gaps filled with silence)."""
        return decode_rtp(self.packets, self.leg.payload_type, fill_gaps=fill_gaps)

    def clear(self) -> None:
        self.packets.clear()

    async def wait_for_audio_packets(self, count: int, timeout: float = 5.0) -> bool:
        return await wait_until(lambda: len(self.audio_packets) >= count, timeout)

    async def receive_digits(self, count: int, timeout: float = 5.0) -> str:
        """The next ``count`` DTMF digits; fewer if the deadline passes first."""
        digits = ""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(digits) < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                pressed = await asyncio.wait_for(self.leg.dtmf.get(), remaining)
            except TimeoutError:
                break
            digits += pressed.digit
        return digits

    async def close(self) -> None:
        if self._leg is not None:
            await self._leg.close()

    async def __aenter__(self) -> RtpPeer:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
