"""Writes of the API app: issuing and revoking API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from aqualine.accounts.models import User
from aqualine.api.models import ApiToken

# Recognisable in a leaked file or log (secret scanners match on it), then 256 random bits.
TOKEN_PREFIX = "aql_"
# last_used_at is a hint for whoever reviews tokens, not an audit trail: write it at most this
# often, so that a busy client does not turn every read into a write.
TOUCH_EVERY = timedelta(minutes=5)


def token_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_issue(*, user: User) -> str:
    """A new token for `user`, replacing any earlier one; returned once, stored only hashed."""
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        ApiToken.objects.update_or_create(
            user=user,
            defaults={
                "digest": token_digest(key),
                "prefix": key[: len(TOKEN_PREFIX) + 4],
                "created_at": timezone.now(),
                "last_used_at": None,
            },
        )
    return key


def api_token_revoke(*, user: User) -> bool:
    """Delete `user`'s token; False when there was none."""
    deleted, _details = ApiToken.objects.filter(user=user).delete()
    return bool(deleted)


def api_token_touch(*, token: ApiToken, now: datetime | None = None) -> None:
    now = now or timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_EVERY:
        return
    ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOUCH_EVERY), pk=token.pk
    ).update(last_used_at=now)
    token.last_used_at = now
