"""How the services' errors reach API clients:

- django ValidationError → 400 `{"field": ["reason", ...]}` (`non_field_errors` for the rest);
- django PermissionDenied → 403 `{"detail": ...}`, Http404 → 404 (DRF's own handling);
- ConflictError (a stale `version`) → 409 `{"detail": ...}`;
- missing or bad token → 401 with `WWW-Authenticate: Token`.
Messages are in the request's language (Accept-Language, else the site's: Chinese).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from aqualine.core.concurrency import ConflictError


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = ConflictError.message
    default_code = "conflict"


def form_errors(form: forms.Form) -> dict[str, list[str]]:
    """A bound, invalid form's errors as an API error body."""
    errors: dict[str, list[str]] = {}
    for field, messages in form.errors.items():
        key = api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field
        errors[key] = [str(m) for m in messages]
    return errors


def raise_form_errors(form: forms.Form) -> None:
    if not form.is_valid():
        raise exceptions.ValidationError(form_errors(form))


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ConflictError):
        exc = Conflict(str(exc) or None)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    return drf_exception_handler(exc, context)
