from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from aqualine.core.concurrency import ConflictError


def add_service_error(form: forms.Form, error: ValidationError | ConflictError) -> None:
    """Show an error raised by a service on the form: on its field when it names one."""
    if isinstance(error, ConflictError):
        form.add_error(None, str(error))
        return
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


MAX_DB_INT = 2**63 - 1


def clean_query(value: str, max_length: int = 100) -> str:
    """A search box value safe for every database: trimmed, bounded, without NUL bytes."""
    return value.replace("\x00", "").strip()[:max_length]


def safe_int(value: str | None) -> int | None:
    """A primary key from a query string, or None when it is not a plausible one."""
    if not value or not value.isascii() or not value.isdigit() or len(value) > 18:
        return None
    return int(value)


class SafeModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Rejects values that cannot be primary keys before they reach the database (SQLite
    raises OverflowError on integers beyond 64 bits)."""

    def _check_values(self, value: Any) -> Any:
        for pk in value:
            text = str(pk)
            if not (text.isascii() and text.isdigit() and int(text) <= MAX_DB_INT):
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": text[:20]},
                )
        return super()._check_values(value)  # type: ignore[misc]


class SafeModelChoiceField(forms.ModelChoiceField):
    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values:
            text = str(value)
            if not (text.isascii() and text.isdigit() and int(text) <= MAX_DB_INT):
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice"
                )
        return super().to_python(value)
