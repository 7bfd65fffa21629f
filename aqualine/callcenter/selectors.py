"""Reads of the call-centre app."""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache

from aqualine.callcenter.client import SwitchClient, SwitchUnavailable

HEALTH_CACHE_KEY = "aqualine:switch-health"
HEALTH_CACHE_SECONDS = 5


def switch_health() -> dict[str, Any]:
    """The switch is a separate process: report whether its control API answers.

    Cached for a few seconds, so that a hung switch cannot tie up every web request that asks
    (health checks, pages) with its timeout."""
    cached: dict[str, Any] | None = cache.get(HEALTH_CACHE_KEY)
    if cached is not None:
        return cached
    started = time.perf_counter()
    try:
        status = SwitchClient(timeout=1.0).status()
    except SwitchUnavailable as error:
        result: dict[str, Any] = {"ok": False, "error": str(error)[:200]}
    else:
        result = {
            "ok": True,
            "sip_ports": status.get("transports"),
            "registrations": status.get("registrations"),
            "calls": status.get("calls"),
        }
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    cache.set(HEALTH_CACHE_KEY, result, HEALTH_CACHE_SECONDS)
    return result
