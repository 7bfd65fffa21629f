"""Test helper: an API client that authenticates like an integration, with a real token."""

from __future__ import annotations

from rest_framework.test import APIClient

from aqualine.accounts.models import User
from aqualine.api.services import api_token_issue


def api_client_for(user: User | None, language: str | None = None) -> APIClient:
    """A client sending `user`'s freshly issued token (none for `user=None`) and, if given,
    `Accept-Language: language`."""
    client = APIClient()
    headers = {}
    if user is not None:
        headers["HTTP_AUTHORIZATION"] = f"Token {api_token_issue(user=user)}"
    if language is not None:
        headers["HTTP_ACCEPT_LANGUAGE"] = language
    client.credentials(**headers)
    return client
