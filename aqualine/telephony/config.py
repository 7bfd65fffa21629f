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
    # SIP engine (added with the switch): RFC 3261 timers, digest and rate limits, routing.
    sip_public_host: str = ""  # put in Via/Contact when sip_host is a wildcard address
    force_rport: bool = True  # answer UDP requests to their source address and port (NAT)
    timer_t1: float = 0.5
    timer_t2: float = 4.0
    timer_t4: float = 5.0
    nonce_ttl: float = 300.0
    auth_max_failures: int = 10  # failures per source address within the window ...
    auth_failure_window: float = 60.0
    auth_block_seconds: float = 300.0  # ... block the address for this long
    hotline_numbers: tuple[str, ...] = ()  # reached by extensions, besides the trunks' numbers
    # Before answering, send 183 Session Progress with the SDP answer and play the prompt as
    # early media (RFC 3261 §13.3.1.1; unreliable, no PRACK), instead of a plain 180.
    early_media: bool = False
    ring_seconds: float = 0.5  # 180 Ringing before the hotline answers
    max_call_seconds: float = 0.0  # the switch hangs up after this long (0: never)
    # A call whose caller (or agent phone) sends no RTP for this long, while not on hold, is
    # hung up: a phone that died without a BYE must not keep an agent talking (0: never).
    rtp_timeout: float = 60.0
    # Call centre (part 2): where recordings and rendered prompts go, uploaded prompt folders.
    var_dir: str = ""  # "": the system's temporary directory
    recordings_dir: str = ""  # "": <var_dir>/recordings
    prompt_dirs: tuple[str, ...] = ()
    extra: dict[str, object] = field(default_factory=dict)
