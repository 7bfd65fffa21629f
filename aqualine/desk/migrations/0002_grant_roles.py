"""Agents and supervisors use the agent desktop; supervisors and administrators watch the
monitor and force agents' states. Administrators may change this in 角色与权限."""

from django.db import migrations

from aqualine.core.migration_helpers import grant_to_roles

GRANTS = {
    "admin": ["desk.use_desktop", "desk.supervise"],
    "supervisor": ["desk.use_desktop", "desk.supervise"],
    "agent": ["desk.use_desktop"],
}


def grant(apps, schema_editor):
    grant_to_roles(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("desk", "0001_initial"),
        ("accounts", "0002_seed_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
