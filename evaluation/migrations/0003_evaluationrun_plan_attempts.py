from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("evaluation", "0002_project_scores_lighter"),
    ]

    operations = [
        migrations.AddField(
            model_name="evaluationrun",
            name="plan_attempts",
            field=models.PositiveSmallIntegerField(default=0),
        ),
    ]
