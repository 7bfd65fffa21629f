"""Grant the announcement permissions to the seeded roles and seed three announcement types
(data: administrators may rename, reorder or retire them)."""

from django.db import migrations

from aqualine.core.migration_helpers import grant_to_roles

GRANTS = {
    "admin": [
        "notices.view_notices",
        "notices.publish_notices",
        "notices.manage_notices",
        "notices.manage_notice_types",
    ],
    "supervisor": ["notices.view_notices", "notices.publish_notices"],
    "agent": ["notices.view_notices"],
    "dispatcher": ["notices.view_notices"],
    "handler": ["notices.view_notices"],
    "viewer": ["notices.view_notices"],
}

TYPES = ["通知", "制度", "停水公告"]


def grant(apps, schema_editor):
    grant_to_roles(apps, GRANTS)


def seed_types(apps, schema_editor):
    NoticeType = apps.get_model("notices", "NoticeType")
    for order, name in enumerate(TYPES):
        NoticeType.objects.get_or_create(name=name, defaults={"sort_order": order})


class Migration(migrations.Migration):
    dependencies = [
        ("notices", "0001_initial"),
        ("accounts", "0002_seed_roles"),
    ]

    operations = [
        migrations.RunPython(grant, migrations.RunPython.noop),
        migrations.RunPython(seed_types, migrations.RunPython.noop),
    ]
