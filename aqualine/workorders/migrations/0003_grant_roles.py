from django.db import migrations

from aqualine.core.migration_helpers import grant_to_roles

ALL = [
    "workorders.create_orders",
    "workorders.dispatch_orders",
    "workorders.follow_up_orders",
    "workorders.urge_orders",
    "workorders.handle_tasks",
    "workorders.record_for_department",
    "workorders.redo_closed_orders",
    "workorders.view_all_orders",
    "workorders.view_department_orders",
]

GRANTS = {
    "admin": ALL,
    "supervisor": ALL,
    "agent": [
        "workorders.create_orders",
        "workorders.dispatch_orders",
        "workorders.urge_orders",
        "workorders.view_all_orders",
    ],
    "dispatcher": [
        "workorders.dispatch_orders",
        "workorders.follow_up_orders",
        "workorders.urge_orders",
        "workorders.record_for_department",
        "workorders.view_all_orders",
    ],
    "handler": ["workorders.handle_tasks", "workorders.view_department_orders"],
    "viewer": ["workorders.view_all_orders"],
}


def grant(apps, schema_editor):
    grant_to_roles(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("workorders", "0002_seed_categories"),
        ("accounts", "0002_seed_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
