# Recordings (T12–T15): the permissions to listen, download and delete, granted to the seeded
# roles; indexes for the recording search (exact number ordered by time, rare talk times) and the
# retention policy.

from django.db import migrations, models

from aqualine.core.migration_helpers import grant_to_roles

GRANTS = {
    "admin": [
        "callcenter.listen_recordings",
        "callcenter.listen_all_recordings",
        "callcenter.download_recordings",
        "callcenter.delete_recordings",
    ],
    "supervisor": [
        "callcenter.listen_recordings",
        "callcenter.listen_all_recordings",
        "callcenter.download_recordings",
        "callcenter.delete_recordings",
    ],
    "agent": ["callcenter.listen_recordings"],
}


def grant(apps, schema_editor):
    grant_to_roles(apps, GRANTS)


def _talk_statistics(target):
    def run(apps, schema_editor):
        # A search for rare talk times ("longer than 30 minutes") needs the planner to know how
        # rare they are; PostgreSQL's default histogram (100 buckets) does not tell it.
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.quote_name
        table = apps.get_model("callcenter", "CallRecord")._meta.db_table
        schema_editor.execute(
            f"ALTER TABLE {quote(table)} ALTER COLUMN {quote('talk_seconds')} "
            f"SET STATISTICS {int(target)}"
        )

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("callcenter", "0003_part2_queues_flows_recordings"),
        ("accounts", "0002_seed_roles"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="recording",
            options={
                "default_permissions": (),
                "ordering": ["-started_at"],
                "permissions": [
                    ("listen_recordings", "Listen to the recordings of own calls"),
                    ("listen_all_recordings", "Listen to all recordings"),
                    ("download_recordings", "Download recordings"),
                    ("delete_recordings", "Delete recordings"),
                ],
                "verbose_name": "recording",
                "verbose_name_plural": "recordings",
            },
        ),
        migrations.AddIndex(
            model_name="callrecord",
            index=models.Index(fields=["caller", "started_at"], name="cc_call_caller_started"),
        ),
        migrations.AddIndex(
            model_name="callrecord",
            index=models.Index(fields=["callee", "started_at"], name="cc_call_callee_started"),
        ),
        migrations.AddIndex(
            model_name="callrecord",
            index=models.Index(fields=["talk_seconds"], name="cc_call_talk"),
        ),
        migrations.AddIndex(
            model_name="recording",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", True)),
                fields=["started_at"],
                name="cc_rec_kept_started",
            ),
        ),
        migrations.RunPython(_talk_statistics(1000), _talk_statistics(-1)),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
