"""Idempotent creates: a POST retried with the same `Idempotency-Key` header returns what the
first one created instead of creating it again (the IETF draft "The Idempotency-Key HTTP Header
Field"). Keys are scoped to the user and to the kind of write.

- no key → 400: an API create must be retryable safely, as the intake form is (its form token);
- the same key with another body → 422, a client bug that must not pass silently;
- two requests with one key at the same moment: the unique constraint makes the second wait for
  the first transaction and then answer with its result.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status

from aqualine.api.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 100


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _(
        "This Idempotency-Key was already used for a request with a different body; "
        "use a new key for a new request."
    )
    default_code = "idempotency_key_reused"


def idempotency_key(request: Any) -> str:
    """The request's `Idempotency-Key` header, or a 400 that names it."""
    key = (request.headers.get(HEADER) or "").strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise exceptions.ValidationError(
            {
                HEADER: [
                    _(
                        "Send an Idempotency-Key header (1 to 100 printable ASCII characters, "
                        "e.g. a UUID), new for each order and the same when retrying."
                    )
                ]
            }
        )
    return key


def fingerprint(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Outcome:
    resource_id: int
    replayed: bool


def find_key(*, user: Any, scope: str, key: str) -> IdempotencyKey | None:
    return IdempotencyKey.objects.filter(user=user, scope=scope, key=key).first()


def _replay(record: IdempotencyKey, digest: str) -> Outcome:
    if record.fingerprint != digest or record.resource_id is None:
        raise IdempotencyKeyReused
    return Outcome(record.resource_id, replayed=True)


def run_once(*, user: Any, scope: str, key: str, data: Any, create: Callable[[], int]) -> Outcome:
    """Run `create` (which returns the new resource's id) once per (user, scope, key).

    Check the key before validating the body, so that a retry of a request that succeeded is
    answered even when the data it named has changed since (a category deactivated ...)."""
    digest = fingerprint(data)
    found = find_key(user=user, scope=scope, key=key)
    if found is not None:
        return _replay(found, digest)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    user=user, scope=scope, key=key, fingerprint=digest
                )
        except IntegrityError:
            # Another request with this key committed while we waited for the row lock.
            return _replay(IdempotencyKey.objects.get(user=user, scope=scope, key=key), digest)
        record.resource_id = create()
        record.save(update_fields=["resource_id"])
    return Outcome(record.resource_id, replayed=False)
