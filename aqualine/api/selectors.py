"""Reads of the API app."""

from __future__ import annotations

from django.db.models import QuerySet

from aqualine.api.models import ApiToken
from aqualine.api.services import TOKEN_PREFIX, token_digest


def api_token_for_key(key: str) -> ApiToken | None:
    """The token whose key is `key` (looked up by digest), with its user."""
    if not key.startswith(TOKEN_PREFIX) or len(key) > 100:
        return None
    return ApiToken.objects.select_related("user").filter(digest=token_digest(key)).first()


def api_token_list() -> QuerySet[ApiToken]:
    return ApiToken.objects.select_related("user").order_by("user__agent_id")
