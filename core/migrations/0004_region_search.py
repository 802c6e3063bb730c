"""Search: pinyin keys on regions (filled for the regions already there), the pg_trgm extension, and trigram
indexes on the names that `?search=` matches with icontains.

Django's icontains on PostgreSQL is `UPPER(col::text) LIKE UPPER('%word%')`, so each index is on that expression
(with gin_trgm_ops): such a LIKE, Chinese included, is then an index scan. The extension and the indexes are
PostgreSQL's alone; on SQLite (`make run`) the same queries run without them.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models


def postgres_only(*statements: str):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


CREATE = [
    'CREATE INDEX IF NOT EXISTS core_region_name_trgm ON core_region USING gin ((UPPER("name"::text)) gin_trgm_ops)',
    "CREATE INDEX IF NOT EXISTS core_region_name_en_trgm ON core_region "
    'USING gin ((UPPER("name_en"::text)) gin_trgm_ops)',
]
DROP = ["DROP INDEX IF EXISTS core_region_name_trgm", "DROP INDEX IF EXISTS core_region_name_en_trgm"]


def fill_search_keys(apps, schema_editor):  # type: ignore[no-untyped-def]
    """The pinyin keys of every region; and the English names generated with 什 read "shen" (乌什 "Wushen",
    阿图什 "Atushen") generated again with the place-name reading "shi" (core.region_names.CHARACTER_READINGS)."""
    from core.region_names import english_name, search_keys

    Region = apps.get_model("core", "Region")
    changed = []
    for region in Region.objects.only("pk", "code", "name", "name_en").iterator(chunk_size=2000):
        region.name_pinyin, region.name_initials = search_keys(region.name)
        if "什" in region.name and "shen" in region.name_en.lower():
            region.name_en = english_name(region.code, region.name)
        changed.append(region)
    Region.objects.bulk_update(changed, ["name_pinyin", "name_initials", "name_en"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_history_xact_id")]

    operations = [
        migrations.AddField(
            model_name="region",
            name="name_pinyin",
            field=models.CharField(
                blank=True, db_index=True, editable=False, max_length=300, verbose_name="name (pinyin)"
            ),
        ),
        migrations.AddField(
            model_name="region",
            name="name_initials",
            field=models.CharField(
                blank=True, db_index=True, editable=False, max_length=100, verbose_name="name (pinyin initials)"
            ),
        ),
        migrations.RunPython(fill_search_keys, migrations.RunPython.noop),
        TrigramExtension(),
        migrations.RunPython(postgres_only(*CREATE), postgres_only(*DROP)),
    ]
