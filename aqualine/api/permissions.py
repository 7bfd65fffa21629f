"""Every API view names the permissions it needs in `required_perms` (one of them is enough;
`post_perms` when a POST to it needs others); `()` means any signed-in staff member. A view that
names none is a programming error."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework.permissions import BasePermission


class HasRequiredPerm(BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        perms = view.perms_for(request.method)
        if perms is None:
            raise ImproperlyConfigured(f"{type(view).__name__} does not set required_perms")
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        return not perms or any(user.has_perm(p) for p in perms)
