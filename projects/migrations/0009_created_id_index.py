"""The lists' default order (created, then id) read from an index: a page by number no longer sorts the table.

The index on `created_at` alone is dropped on PostgreSQL, where the new one serves everything it served. On SQLite
it stays: Django changes a SQLite column's index by rebuilding the table, which would drop the table's triggers
(the rollups', projects 0005) — the models only say that the column is no longer indexed on its own."""

import django.utils.timezone
from django.db import migrations, models

#: The index Django named for `created_at`'s `db_index=True` (its name is a hash of the table and the column).
OLD_INDEX = "projects_project_created_at_b0d9c9b8"


def drop_old_index(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {OLD_INDEX}")


def create_old_index(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS {OLD_INDEX} ON "projects_project" ("created_at")')


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0008_handover"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="project",
                    name="created_at",
                    field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="created"),
                ),
            ],
            database_operations=[migrations.RunPython(drop_old_index, create_old_index)],
        ),
        migrations.AddIndex(
            model_name="project",
            index=models.Index(fields=["created_at", "id"], name="project_created_id"),
        ),
    ]
