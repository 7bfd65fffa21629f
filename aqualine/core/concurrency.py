"""Optimistic locking: a row's `version` column guards against silent lost updates."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _


class ConflictError(Exception):
    """Someone else saved the record after this editor loaded it."""

    message = _(
        "Someone else changed this record after you opened it. Your changes were not saved; "
        "reload the page to see the current version and apply your changes again."
    )


def claim_version(instance: models.Model, expected: int) -> None:
    """Atomically move `instance` from version `expected` to the next one, or raise.

    Call inside `transaction.atomic()` before writing the other fields: the conditional UPDATE is
    a compare-and-swap on every database, SQLite included.
    """
    model = type(instance)
    updated = model._default_manager.filter(pk=instance.pk, version=expected).update(
        version=F("version") + 1
    )
    if updated != 1:
        raise ConflictError(str(ConflictError.message))
    instance.version = expected + 1  # type: ignore[attr-defined]


@contextmanager
def unique_or(error: ValidationError) -> Iterator[None]:
    """Turn a unique-constraint violation (someone saved the same name a moment ago, after our
    check) into the form error the check would have given."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        raise error from None
