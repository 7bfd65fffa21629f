# The order lists test "has a task of department X" / "has an overdue task" once per order;
# with this index PostgreSQL answers each test from the index alone (see bench/workorders.py).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("workorders", "0004_task_reminders"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="departmenttask",
            index=models.Index(
                fields=["order", "department", "status", "deadline"], name="wo_task_order_dept"
            ),
        ),
    ]
