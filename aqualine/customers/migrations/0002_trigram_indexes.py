"""Trigram indexes for the address and name fragment searches, on PostgreSQL only.

Django compiles `field__icontains` to `UPPER(field) LIKE UPPER('%...%')` on PostgreSQL, so the
GIN indexes are on UPPER(...) with pg_trgm's operator class; a Chinese fragment of three or more
characters is then answered from the index. SQLite (the embedded mode) has no such index: a
plain LIKE scan is fast enough at the sizes it serves, and this migration does nothing there.
"""

from django.db import migrations

INDEXES = {
    "customers_account_address_trgm": "address",
    "customers_account_name_trgm": "name",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON customers_account "
            f"USING gin (UPPER({column}) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
