"""Search: trigram indexes on the organization names `?search=` matches with icontains, on the expression Django's
icontains compiles to on PostgreSQL (`UPPER(col::text) LIKE UPPER('%word%')`). PostgreSQL's alone."""

from django.db import migrations


def postgres_only(*statements: str):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


CREATE = [
    "CREATE INDEX IF NOT EXISTS accounts_organization_name_trgm ON accounts_organization "
    'USING gin ((UPPER("name"::text)) gin_trgm_ops)',
    "CREATE INDEX IF NOT EXISTS accounts_organization_name_en_trgm ON accounts_organization "
    'USING gin ((UPPER("name_en"::text)) gin_trgm_ops)',
]
DROP = [
    "DROP INDEX IF EXISTS accounts_organization_name_trgm",
    "DROP INDEX IF EXISTS accounts_organization_name_en_trgm",
]


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_notifications"), ("core", "0004_region_search")]

    operations = [migrations.RunPython(postgres_only(*CREATE), postgres_only(*DROP))]
