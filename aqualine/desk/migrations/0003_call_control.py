# Call control (issue 6): agents and supervisors hold, transfer, consult, conference and place
# outbound calls; supervisors (and administrators) listen in on, whisper to and barge into
# agents' calls. Administrators may change this in 角色与权限.

from django.db import migrations

from aqualine.core.migration_helpers import grant_to_roles

GRANTS = {
    "admin": ["desk.control_calls", "desk.supervise_calls"],
    "supervisor": ["desk.control_calls", "desk.supervise_calls"],
    "agent": ["desk.control_calls"],
}


def grant(apps, schema_editor):
    grant_to_roles(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("desk", "0002_grant_roles"),
        ("accounts", "0002_seed_roles"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="missedcallhandled",
            options={
                "default_permissions": (),
                "ordering": ["-handled_at"],
                "permissions": [
                    ("use_desktop", "Use the agent desktop"),
                    ("supervise", "Monitor agents and queues, force agents' states"),
                    (
                        "control_calls",
                        "Hold, transfer and conference own calls, place outbound calls",
                    ),
                    (
                        "supervise_calls",
                        "Listen in on, whisper to and barge into agents' calls",
                    ),
                ],
                "verbose_name": "handled missed call",
                "verbose_name_plural": "handled missed calls",
            },
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
