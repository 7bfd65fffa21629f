"""Everyone with a seeded role reads published articles; supervisors and administrators write
them and shape the category tree. Administrators may change this in 角色与权限."""

from django.db import migrations

from aqualine.core.migration_helpers import grant_to_roles

GRANTS = {
    "admin": [
        "knowledge.view_articles",
        "knowledge.manage_articles",
        "knowledge.manage_categories",
    ],
    "supervisor": [
        "knowledge.view_articles",
        "knowledge.manage_articles",
        "knowledge.manage_categories",
    ],
    "agent": ["knowledge.view_articles"],
    "dispatcher": ["knowledge.view_articles"],
    "handler": ["knowledge.view_articles"],
    "viewer": ["knowledge.view_articles"],
}


def grant(apps, schema_editor):
    grant_to_roles(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0001_initial"),
        ("accounts", "0002_seed_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
