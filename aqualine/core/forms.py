from __future__ import annotations

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
