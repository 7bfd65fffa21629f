"""Helpers for data migrations that grant new permissions to the seeded roles.

They use only the historical models handed to a migration, so they stay valid as models change.
"""

from __future__ import annotations

from typing import Any


def ensure_permissions(apps: Any) -> None:
    """Create the permissions of every app now (Django makes them only after migrate)."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    if apps is global_apps:
        return
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def grant_to_roles(apps: Any, grants: dict[str, list[str]]) -> None:
    """Add permissions ("app_label.codename") to seeded roles by role code, if they exist."""
    ensure_permissions(apps)
    role_model = apps.get_model("accounts", "Role")
    permission_model = apps.get_model("auth", "Permission")
    for code, perms in grants.items():
        role = role_model.objects.filter(code=code).first()
        if role is None:
            continue
        for dotted in perms:
            app_label, codename = dotted.split(".")
            role.permissions.add(
                permission_model.objects.get(content_type__app_label=app_label, codename=codename)
            )
