"""The base of every API view, the OpenAPI schema and its documentation page.

The documentation page is Swagger UI served from drf-spectacular-sidecar's static files: a
hotline's server often has no Internet access, and a page that loads its scripts from a CDN
would show nothing there (and would tell a third party who reads the API docs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authentication import SessionAuthentication
from rest_framework.views import APIView

from aqualine.api.authentication import ApiTokenAuthentication
from aqualine.api.permissions import HasRequiredPerm
from aqualine.core.auth import require_login


def request_language(request: HttpRequest) -> str:
    """An API client says which language it reads with Accept-Language; without the header the
    API speaks like the pages (the language cookie, else Chinese)."""
    if request.headers.get("Accept-Language"):
        return translation.get_language_from_request(request)
    return translation.get_language()


class ApiViewMixin:
    # Declares the permissions a view needs (`required_perms`, one of them is enough; `()`: any
    # signed-in staff member; `post_perms` when POST needs others), checked by
    # `HasRequiredPerm`, and answers in the request's language. (A comment, not a docstring:
    # the schema shows a view's docstring as its description.)

    required_perms: ClassVar[tuple[str, ...] | None] = None
    post_perms: ClassVar[tuple[str, ...] | None] = None
    # For the schema's error responses: a POST may answer 409 (stale version), 422 (reused
    # Idempotency-Key).
    may_conflict: ClassVar[bool] = False
    idempotent_create: ClassVar[bool] = False
    permission_classes: ClassVar[list[Any]] = [HasRequiredPerm]

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Callable[..., HttpResponse]:
        view = super().as_view(**initkwargs)  # type: ignore[misc]
        # read by aqualine/core/tests/test_access.py, like the pages' `require_perm`
        view.required_perms = cls.required_perms
        view.post_perms = cls.post_perms
        return view

    def perms_for(self, method: str) -> tuple[str, ...] | None:
        if method == "POST" and self.post_perms is not None:
            return self.post_perms
        return self.required_perms

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Render inside the override: lazy texts in the body are translated there too, and the
        # thread's language is the middleware's again once the response is made.
        language = request_language(request)
        with translation.override(language):
            response = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        response.headers["Content-Language"] = language
        patch_vary_headers(response, ["Accept-Language"])
        add_never_cache_headers(response)  # customers' data stays out of every cache
        return response


class ApiView(ApiViewMixin, APIView):
    pass


class SchemaView(ApiViewMixin, SpectacularAPIView):
    """The OpenAPI 3 schema, for any signed-in staff member (token, or the browser session of
    someone reading the documentation page)."""

    required_perms = ()
    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    # JSON unless the client asks for YAML (?format=yaml or Accept: application/yaml).
    renderer_classes = [
        OpenApiJsonRenderer2,
        OpenApiJsonRenderer,
        OpenApiYamlRenderer,
        OpenApiYamlRenderer2,
    ]


class DocsView(ApiViewMixin, SpectacularSwaggerView):
    required_perms = ()
    authentication_classes = [SessionAuthentication, ApiTokenAuthentication]
    url_name = "api:schema"
    title = "Aqualine API"


# A page like the others: a visitor who is not signed in goes to the login page.
docs = require_login(DocsView.as_view())
