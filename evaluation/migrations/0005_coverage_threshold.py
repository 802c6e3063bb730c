"""The coverage rule: a framework's minimum share of project-indicator weight with data, a project score's status
and coverage, and a scorecard's count of projects left out for too little data.

Rows of runs made before the rule keep their scores (coverage unknown: null); the few without a score had no
indicator with data at all, so they are marked as such (coverage 0, not enough data)."""

from decimal import Decimal

import django.core.validators
from django.db import migrations, models


def mark_unscored(apps, schema_editor):  # type: ignore[no-untyped-def]
    ProjectScore = apps.get_model("evaluation", "ProjectScore")
    ProjectScore.objects.filter(score__isnull=True).update(status="insufficient_data", coverage=0.0)


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0004_default_framework_reason")]

    operations = [
        migrations.AddField(
            model_name="indicatorframework",
            name="min_coverage",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal("50"),
                max_digits=5,
                validators=[
                    django.core.validators.MinValueValidator(0),
                    django.core.validators.MaxValueValidator(100),
                ],
                verbose_name="minimum data coverage (%)",
            ),
        ),
        migrations.AddConstraint(
            model_name="indicatorframework",
            constraint=models.CheckConstraint(
                condition=models.Q(("min_coverage__gte", 0), ("min_coverage__lte", 100)),
                name="framework_min_coverage_range",
            ),
        ),
        migrations.AddField(
            model_name="projectscore",
            name="status",
            field=models.CharField(
                choices=[("scored", "scored"), ("insufficient_data", "not enough data yet")],
                db_default="scored",
                default="scored",
                max_length=20,
                verbose_name="status",
            ),
        ),
        migrations.AddField(
            model_name="projectscore",
            name="coverage",
            field=models.FloatField(blank=True, null=True, verbose_name="data coverage (%)"),
        ),
        migrations.AddField(
            model_name="pairingscorecard",
            name="insufficient_data_count",
            field=models.PositiveIntegerField(
                db_default=0, default=0, verbose_name="projects left out for too little data"
            ),
        ),
        migrations.RunPython(mark_unscored, migrations.RunPython.noop, elidable=True),
    ]
