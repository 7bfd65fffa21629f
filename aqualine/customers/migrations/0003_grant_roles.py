from django.db import migrations

from aqualine.core.migration_helpers import grant_to_roles

GRANTS = {
    "admin": [
        "customers.view_customers",
        "customers.import_customers",
        "customers.manage_outages",
    ],
    "supervisor": ["customers.view_customers", "customers.manage_outages"],
    "agent": ["customers.view_customers"],
    "dispatcher": ["customers.view_customers"],
    "handler": ["customers.view_customers"],
}


def grant(apps, schema_editor):
    grant_to_roles(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_trigram_indexes"),
        ("accounts", "0002_seed_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
