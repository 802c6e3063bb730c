"""The default framework's reason was stored in the site's language ("默认指标体系"); it is now shown in the
reader's (`IndicatorFramework.reason_shown`), so the stored text goes."""

from django.db import migrations

WRITTEN = ["默认指标体系", "Default framework"]


def forward(apps, schema_editor):
    framework = apps.get_model("evaluation", "IndicatorFramework")
    framework.objects.filter(created_by__isnull=True, version=1, reason__in=WRITTEN).update(reason="")


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0003_evaluationrun_plan_attempts")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
