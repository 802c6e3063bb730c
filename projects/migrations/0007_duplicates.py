"""Duplicate projects across pairings (projects/duplicates.py): the pairs the portfolio scan suspects, the
officials' "not a duplicate" with its reason, and on PostgreSQL an index on the projects' points, so that the
projects within a few kilometres of one are found without reading every row (SQLite runs the same query
without it)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def postgres_only(*statements: str):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


POINT_INDEX = (
    "CREATE INDEX IF NOT EXISTS projects_project_point ON projects_project (latitude, longitude) "
    "WHERE latitude IS NOT NULL AND longitude IS NOT NULL"
)


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0006_rectification_waiting_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="DuplicateDismissal",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("reason", models.TextField(verbose_name="reason")),
                ("at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="at")),
                (
                    "by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="by",
                    ),
                ),
                (
                    "candidate",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="projects.project",
                        verbose_name="similar project",
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="duplicate_dismissals",
                        to="projects.project",
                        verbose_name="project",
                    ),
                ),
            ],
            options={
                "verbose_name": "not-a-duplicate confirmation",
                "verbose_name_plural": "not-a-duplicate confirmations",
                "ordering": ["-at", "-id"],
                "constraints": [
                    models.UniqueConstraint(fields=("project", "candidate"), name="duplicate_dismissal_pair")
                ],
            },
        ),
        migrations.CreateModel(
            name="SuspectedDuplicate",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("score", models.FloatField(verbose_name="similarity")),
                ("reasons", models.JSONField(default=list, verbose_name="reasons")),
                ("found_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="found at")),
                (
                    "project_a",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="projects.project",
                        verbose_name="project",
                    ),
                ),
                (
                    "project_b",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="projects.project",
                        verbose_name="similar project",
                    ),
                ),
            ],
            options={
                "verbose_name": "suspected duplicate",
                "verbose_name_plural": "suspected duplicates",
                "ordering": ["-score", "project_a_id", "project_b_id"],
                "indexes": [models.Index(fields=["-score"], name="suspected_duplicate_score")],
                "constraints": [
                    models.UniqueConstraint(fields=("project_a", "project_b"), name="suspected_duplicate_pair"),
                    models.CheckConstraint(
                        condition=models.Q(("project_a__lt", models.F("project_b"))), name="suspected_duplicate_order"
                    ),
                ],
            },
        ),
        migrations.RunPython(postgres_only(POINT_INDEX), postgres_only("DROP INDEX IF EXISTS projects_project_point")),
    ]
