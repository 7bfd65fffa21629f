"""pjsua2 (PJSIP 2.15) as a real phone: it registers with digest auth, calls the hotline
and records what it hears.  The phone runs in its own process (``pjsua_phone.py``)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from aqualine.telephony.config import SwitchConfig
from aqualine.telephony.media.wav import load_audio
from aqualine.telephony.ports import TrunkInfo
from aqualine.telephony.testing.audio import frame_levels, rms_dbfs
from aqualine.telephony.testing.wait import run, wait_until
from aqualine.telephony.tests.fakes import (
    HOTLINE,
    MemoryDirectory,
    RunningSwitch,
    make_config,
    running_switch,
)

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(
        importlib.util.find_spec("pjsua2") is None, reason="pjsua2-python is not installed"
    ),
]


async def phone(
    running: RunningSwitch, tmp_path: Path, *, seconds: float = 2.0, tcp: bool = False
) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "aqualine.telephony.tests.pjsua_phone",
        "--port",
        str(running.port),
        "--user",
        "8001",
        "--password",
        "secret-8001",
        "--call",
        HOTLINE,
        "--seconds",
        str(seconds),
        "--wav",
        str(tmp_path / "heard.wav"),
        *(["--tcp"] if tcp else []),
    ]
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-3000:]
    result: dict[str, Any] = json.loads(text.strip().splitlines()[-1])
    return result


def call_and_listen(
    config: SwitchConfig, tmp_path: Path, directory: MemoryDirectory | None = None, **options: Any
) -> tuple[dict[str, Any], RunningSwitch]:
    async def go() -> tuple[dict[str, Any], RunningSwitch]:
        async with running_switch(config, directory=directory) as running:
            result = await phone(running, tmp_path, **options)
            assert await wait_until(lambda: len(running.records.ended) == 1)
            return result, running

    return run(go(), timeout=90)


def assert_heard_the_prompt(path: Path) -> None:
    audio = load_audio(path)
    assert audio.size >= 8000 * 1.5
    assert rms_dbfs(audio) > -35
    assert np.mean(frame_levels(audio) > -45) > 0.6


def test_pjsua2_registers_with_digest_and_hears_the_prompt_on_the_hotline(tmp_path: Path) -> None:
    result, running = call_and_listen(make_config(), tmp_path)

    assert result["register"] == 200
    assert result["states"][-2:] == ["CONFIRMED", "DISCONNECTED"]
    assert result["media"] >= 1
    assert_heard_the_prompt(tmp_path / "heard.wav")
    # pjsua2 2.15 answers the SHA-256 challenge the switch offers first.
    assert set(running.switch.auth.algorithms_used) == {"SHA-256"}
    record = running.records.ended[0]
    assert (record.direction, record.outcome, record.end_cause) == (
        "inbound",
        "ivr_only",  # it heard the IVR and hung up there
        "caller hung up",
    )


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_an_extension_calling_the_hotline_authenticates_its_invite(
    tmp_path: Path, tcp: bool
) -> None:
    # The trunk is elsewhere, so the phone's INVITE is challenged like any extension's;
    # an MD5-only switch also works with pjsua2.
    directory = MemoryDirectory(trunks=[TrunkInfo("carrier", ("192.0.2.1",), (HOTLINE,))])
    config = make_config(auth_algorithms=("MD5",))
    result, running = call_and_listen(config, tmp_path, directory, tcp=tcp)

    assert result["register"] == 200
    assert "CONFIRMED" in result["states"]
    assert_heard_the_prompt(tmp_path / "heard.wav")
    assert set(running.switch.auth.algorithms_used) == {"MD5"}  # REGISTERs and the INVITE
    record = running.records.ended[0]
    assert (record.direction, record.caller, record.outcome) == ("internal", "8001", "ivr_only")
