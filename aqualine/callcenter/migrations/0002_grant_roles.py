from django.db import migrations

from aqualine.core.migration_helpers import grant_to_roles

GRANTS = {
    "admin": [
        "callcenter.manage_telephony",
        "callcenter.view_switch",
        "callcenter.view_call_records",
    ],
    "supervisor": ["callcenter.view_switch", "callcenter.view_call_records"],
}


def grant(apps, schema_editor):
    grant_to_roles(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("callcenter", "0001_initial"),
        ("accounts", "0002_seed_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
