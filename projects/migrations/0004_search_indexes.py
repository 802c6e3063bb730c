"""Search: trigram indexes on what `?search=` matches with icontains in the project list (the title and the code),
on the expression Django's icontains compiles to on PostgreSQL (`UPPER(col::text) LIKE UPPER('%word%')`).
PostgreSQL's alone; on SQLite the same queries run without them."""

from django.db import migrations


def postgres_only(*statements: str):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


CREATE = [
    "CREATE INDEX IF NOT EXISTS projects_project_title_trgm ON projects_project "
    'USING gin ((UPPER("title"::text)) gin_trgm_ops)',
    "CREATE INDEX IF NOT EXISTS projects_project_code_trgm ON projects_project "
    'USING gin ((UPPER("code"::text)) gin_trgm_ops)',
]
DROP = ["DROP INDEX IF EXISTS projects_project_title_trgm", "DROP INDEX IF EXISTS projects_project_code_trgm"]


class Migration(migrations.Migration):
    dependencies = [("projects", "0003_rectification_reports"), ("core", "0004_region_search")]

    operations = [migrations.RunPython(postgres_only(*CREATE), postgres_only(*DROP))]
