"""Reads of the call-centre app."""

from __future__ import annotations

import time
from typing import Any

from aqualine.callcenter.client import SwitchClient, SwitchUnavailable


def switch_health() -> dict[str, Any]:
    """The switch is a separate process: report whether its control API answers."""
    started = time.perf_counter()
    try:
        status = SwitchClient(timeout=1.0).status()
    except SwitchUnavailable as error:
        result: dict[str, Any] = {"ok": False, "error": str(error)[:200]}
    else:
        result = {
            "ok": True,
            "sip_port": status.get("sip_port"),
            "registrations": status.get("registrations"),
            "calls": status.get("calls"),
        }
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result
