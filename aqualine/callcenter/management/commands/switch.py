from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from aqualine.callcenter.ports import OrmDirectory, OrmIvrPorts, OrmRecords
from aqualine.telephony.api.server import ApiServer
from aqualine.telephony.config import SwitchConfig
from aqualine.telephony.events import EventBus

log = logging.getLogger("aqualine.switch")


def switch_config(**overrides: Any) -> SwitchConfig:
    """The switch's settings, from Django settings (and so from the environment)."""
    values: dict[str, Any] = {
        "sip_host": settings.SIP_HOST,
        "sip_port": settings.SIP_PORT,
        "transports": tuple(settings.SIP_TRANSPORTS),
        "realm": settings.SIP_REALM,
        "auth_algorithms": tuple(settings.SIP_AUTH_ALGORITHMS),
        "early_media": settings.SIP_EARLY_MEDIA,
        "nonce_secret": hmac.new(
            settings.SECRET_KEY.encode(), b"aqualine sip nonce", hashlib.sha256
        ).digest(),
        "rtp_host": settings.RTP_HOST,
        "rtp_ports": (settings.RTP_PORT_MIN, settings.RTP_PORT_MAX),
        "rtp_timeout": float(settings.RTP_TIMEOUT),
        "api_host": settings.SWITCH_API_HOST,
        "api_port": settings.SWITCH_API_PORT,
        "api_token": settings.SWITCH_TOKEN,
        "var_dir": str(settings.VAR_DIR),
        "recordings_dir": str(settings.RECORDINGS_DIR),
        "prompt_dirs": (str(settings.PROMPTS_DIR),),
    }
    values.update(overrides)
    return SwitchConfig(**values)


class Command(BaseCommand):
    help = "Run the switch: SIP (registrar, hotline answering), media and its control API."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sip-host", default=settings.SIP_HOST)
        parser.add_argument("--sip-port", type=int, default=settings.SIP_PORT)
        parser.add_argument("--api-port", type=int, default=settings.SWITCH_API_PORT)

    def handle(self, *args: Any, **options: Any) -> None:
        config = switch_config(
            sip_host=options["sip_host"],
            sip_port=options["sip_port"],
            api_port=options["api_port"],
            rtp_host=settings.RTP_HOST
            if settings.RTP_HOST != settings.SIP_HOST
            else options["sip_host"],
        )
        asyncio.run(serve(config))


async def serve(config: SwitchConfig) -> None:
    from aqualine.telephony.switch import Switch

    bus = EventBus()
    switch = Switch(config, OrmDirectory(), OrmRecords(), bus, ivr_ports=OrmIvrPorts())
    await switch.start()
    api = ApiServer(switch, bus, host=config.api_host, port=config.api_port, token=config.api_token)
    await api.start()
    log.info(
        "switch ready: SIP %s:%d (%s), control API %s:%d",
        config.sip_host,
        switch.sip_port,
        "/".join(config.transports),
        config.api_host,
        api.port,
    )
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    try:
        await stopping.wait()
    finally:
        log.info("switch stopping")
        await api.stop()
        await switch.stop()
