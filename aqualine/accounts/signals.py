"""Security events into the audit log. Django's auth signals are the only hook for these."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from aqualine.core.audit import audit_record


@receiver(user_logged_in)
def _logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit_record(actor=user, action="auth.login", target=user, request=request)


@receiver(user_logged_out)
def _logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(actor=user, action="auth.logout", target=user, request=request)


@receiver(user_login_failed)
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username", ""))[:50]
    audit_record(
        actor=None,
        action="auth.login_failed",
        target_type="user",
        target_label=username,
        data={"agent_id": username},
        request=request,
    )


@receiver(user_locked_out)
def _locked_out(
    sender: Any, request: HttpRequest | None = None, username: str | None = None, **kwargs: Any
) -> None:
    audit_record(
        actor=None,
        action="auth.locked_out",
        target_type="user",
        target_label=(username or "")[:50],
        data={"agent_id": username or ""},
        request=request,
    )
