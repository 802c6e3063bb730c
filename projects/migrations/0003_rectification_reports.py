"""Rectifications both ways: the assisting side reports one done with evidence (text and photos), the supervisor
verifies it or sends it back. Rectifications closed before are verified."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def closed_are_verified(apps, schema_editor):
    Rectification = apps.get_model("projects", "Rectification")
    Rectification.objects.filter(closed_on__isnull=False).update(status="verified")


def verified_are_closed(apps, schema_editor):
    # Back to one-way: only what was verified stays closed; reports and send-backs are dropped with their fields.
    pass


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0002_project_pairing_planned_start"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="rectification",
            name="status",
            field=models.CharField(
                choices=[
                    ("open", "To be put right"),
                    ("reported", "Reported done"),
                    ("sent_back", "Sent back"),
                    ("verified", "Verified"),
                ],
                default="open",
                max_length=10,
                verbose_name="status",
            ),
        ),
        migrations.AddField(
            model_name="rectification",
            name="report_text",
            field=models.TextField(blank=True, verbose_name="how it was put right"),
        ),
        migrations.AddField(
            model_name="rectification",
            name="reported_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="rectification",
            name="reported_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="reported at"),
        ),
        migrations.AddField(
            model_name="rectification",
            name="send_back_reason",
            field=models.TextField(blank=True, verbose_name="why it was sent back"),
        ),
        migrations.AddField(
            model_name="rectification",
            name="sent_back_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="rectification",
            name="sent_back_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="sent back at"),
        ),
        migrations.AddField(
            model_name="document",
            name="rectification",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="photos",
                to="projects.rectification",
            ),
        ),
        migrations.AddIndex(
            model_name="rectification",
            index=models.Index(fields=["status", "deadline"], name="rectification_status_deadline"),
        ),
        migrations.RunPython(closed_are_verified, verified_are_closed, elidable=True),
    ]
