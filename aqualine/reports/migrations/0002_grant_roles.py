"""Who sees the reports (administrators may change this in 角色与权限):

- work-order reports and custom queries: administrators, supervisors, dispatchers, leaders
  (viewer) — all orders — and department handlers, who see only the orders of their department
  (the data scope of `workorders_visible_to`);
- call-centre reports: administrators, supervisors and leaders;
- Excel downloads: administrators, supervisors and leaders.
"""

from django.db import migrations

from aqualine.core.migration_helpers import grant_to_roles

VIEW, CALLS, EXPORT = "reports.view_reports", "reports.view_call_reports", "reports.export"

GRANTS = {
    "admin": [VIEW, CALLS, EXPORT],
    "supervisor": [VIEW, CALLS, EXPORT],
    "viewer": [VIEW, CALLS, EXPORT],
    "dispatcher": [VIEW],
    "handler": [VIEW],
}


def grant(apps, schema_editor):
    grant_to_roles(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("accounts", "0002_seed_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
