"""Settings of the switch process (built from Django settings by `aqualine switch`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class SwitchConfig:
    sip_host: str = "127.0.0.1"
    sip_port: int = 5060
    transports: tuple[str, ...] = ("udp", "tcp")
    realm: str = "aqualine"
    nonce_secret: bytes = b""
    # Address put into SDP and bound for RTP; a port range for the media sockets.
    rtp_host: str = "127.0.0.1"
    rtp_ports: tuple[int, int] = (20000, 30000)
    welcome_prompt: Path | None = None
    api_host: str = "127.0.0.1"
    api_port: int = 5080
    api_token: str = ""
    register_min_expires: int = 60
    register_max_expires: int = 3600
    auth_algorithms: tuple[str, ...] = ("SHA-256", "MD5")
    user_agent: str = "Aqualine"
    extra: dict[str, object] = field(default_factory=dict)
