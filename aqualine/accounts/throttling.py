"""Login throttling helpers for django-axes."""

from __future__ import annotations

from typing import Any


def axes_username(request: Any, credentials: dict[str, Any] | None) -> str:
    """One lock per 工号 whatever case was typed (logins ignore case too)."""
    value = ""
    if credentials:
        value = str(credentials.get("username") or "")
    elif request is not None and hasattr(request, "POST"):
        value = str(request.POST.get("username", ""))
    return value.strip().lower()[:150]
