"""The OpenAPI schema: each operation says which permission it needs and which errors it
answers with (the shapes `aqualine.api.exceptions` gives them)."""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
VALIDATION_ERROR = {
    "type": "object",
    "description": "Reasons by field name; `non_field_errors` for the others.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}
DESCRIPTIONS = {
    "400": "Invalid input: the reasons by field, in the request's language.",
    "401": "No token, or an invalid one (header `WWW-Authenticate: Token`).",
    "403": "The user lacks the permission, or may not do this to this record.",
    "404": "No such record within the user's scope.",
    "409": "Someone else changed the record after the client read it (stale `version`): "
    "read it again and repeat the change.",
    "422": "The Idempotency-Key was used before with a different body.",
    "429": "Too many requests; wait the seconds in `Retry-After`.",
}


class AutoSchema(openapi.AutoSchema):
    def _perms(self) -> tuple[str, ...] | None:
        perms_for = getattr(self.view, "perms_for", None)
        return None if perms_for is None else perms_for(self.method)

    def get_description(self) -> str:
        text = str(super().get_description() or "")
        perms = self._perms()
        if perms is None:
            return text
        if perms:
            needed = "Needs the permission " + " or ".join(f"`{p}`" for p in perms) + "."
        else:
            needed = "Open to every signed-in staff member."
        return f"{text}\n\n{needed}".strip()

    def _component(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema
        )
        self.registry.register_on_missing(component)
        return component.ref

    def _error_codes(self) -> list[str]:
        codes = ["401", "403", "429"]
        if "{" in self.path:
            codes.append("404")
        if self.method != "GET" or self.get_override_parameters():
            codes.append("400")
        if self.method == "POST" and getattr(self.view, "may_conflict", False):
            codes.append("409")
        if self.method == "POST" and getattr(self.view, "idempotent_create", False):
            codes.append("422")
        return sorted(codes)

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        bodies: dict[str, Any] = super()._get_response_bodies(direction)
        if direction != "response" or self._perms() is None:
            return bodies
        for code in self._error_codes():
            name, schema = (
                ("ValidationError", VALIDATION_ERROR)
                if code == "400"
                else (
                    "Error",
                    ERROR,
                )
            )
            bodies.setdefault(
                code,
                {
                    "content": {"application/json": {"schema": self._component(name, schema)}},
                    "description": DESCRIPTIONS[code],
                },
            )
        return bodies
