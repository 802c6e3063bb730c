# How each user's notifications reach their e-mail (at once, a daily digest, none), and the digests sent.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_organization_search")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="notification_email",
            field=models.CharField(
                choices=[("at_once", "At once"), ("daily_digest", "Daily digest"), ("none", "No e-mail")],
                default="at_once",
                max_length=16,
                verbose_name="notification e-mails",
            ),
        ),
        migrations.CreateModel(
            name="NotificationDigest",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField(verbose_name="day")),
                ("sent_at", models.DateTimeField(auto_now_add=True, verbose_name="sent at")),
                ("count", models.PositiveIntegerField(default=0, verbose_name="notifications")),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notification_digests",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "notification digest",
                "verbose_name_plural": "notification digests",
                "ordering": ["-day"],
                "constraints": [models.UniqueConstraint(fields=("user", "day"), name="unique_digest_per_day")],
            },
        ),
        migrations.AddField(
            model_name="notification",
            name="digest",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="notifications",
                to="accounts.notificationdigest",
            ),
        ),
    ]
