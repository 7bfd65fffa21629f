"""Administrators may download anyone's report exports (我的导出); everyone with the export
permission downloads their own."""

from django.db import migrations

from aqualine.core.migration_helpers import grant_to_roles

GRANTS = {"admin": ["reports.view_all_exports"]}


def grant(apps, schema_editor):
    grant_to_roles(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [("reports", "0003_summaries_and_exports")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
