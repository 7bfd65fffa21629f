"""Supervisors, administrators and leaders (viewer) see the wallboard. Administrators may change
this in 角色与权限.

No role is granted `wallboard.kiosk_session` (a days-long sign-in on the wallboard): an
administrator gives it, through a role of its own, to the dedicated account a TV runs under
(see aqualine/wallboard/README.md)."""

from django.db import migrations

from aqualine.core.migration_helpers import grant_to_roles

GRANTS = {
    "admin": ["wallboard.view_wallboard"],
    "supervisor": ["wallboard.view_wallboard"],
    "viewer": ["wallboard.view_wallboard"],
}


def grant(apps, schema_editor):
    grant_to_roles(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("wallboard", "0001_initial"),
        ("accounts", "0002_seed_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
