"""Handover and post-completion operation: a project's handover and its yearly operation reports."""

from decimal import Decimal

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import core.models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_notification_digest"),
        ("projects", "0007_duplicates"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Handover",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("date", models.DateField(verbose_name="handover date")),
                (
                    "receiving_name",
                    models.CharField(
                        blank=True,
                        help_text="When the receiver is not an organization of the directory (a school, a hospital, an operator).",
                        max_length=200,
                        verbose_name="receiving body",
                    ),
                ),
                (
                    "asset_value",
                    models.DecimalField(
                        decimal_places=2,
                        max_digits=18,
                        validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                        verbose_name="asset value",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting for confirmation"),
                            ("confirmed", "Confirmed"),
                            ("refused", "Refused"),
                        ],
                        default="pending",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                ("recorded_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="recorded at")),
                ("confirmed_at", models.DateTimeField(blank=True, null=True, verbose_name="confirmed at")),
                ("refused_at", models.DateTimeField(blank=True, null=True, verbose_name="refused at")),
                ("refusal_reason", models.TextField(blank=True, verbose_name="reason for refusal")),
                ("round", models.PositiveSmallIntegerField(default=1)),
                (
                    "asset_register",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="projects.document",
                        verbose_name="asset register",
                    ),
                ),
                (
                    "confirmed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "project",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE, related_name="handover", to="projects.project"
                    ),
                ),
                (
                    "receiving_organization",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="accounts.organization",
                        verbose_name="receiving organization",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "refused_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "handover",
                "verbose_name_plural": "handovers",
                "indexes": [
                    models.Index(
                        condition=models.Q(("status", "confirmed")), fields=["date"], name="handover_confirmed_date"
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("asset_value__gte", 0)), name="handover_asset_value_not_negative"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("receiving_organization__isnull", False),
                            models.Q(("receiving_name", ""), _negated=True),
                            _connector="OR",
                        ),
                        name="handover_has_a_receiver",
                    ),
                ],
            },
            bases=(core.models.ChoiceLabels, models.Model),
        ),
        migrations.CreateModel(
            name="OperationReport",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("year", models.PositiveSmallIntegerField(verbose_name="year")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("in_use", "In use"),
                            ("under_used", "Under-used"),
                            ("idle", "Idle"),
                            ("closed", "Closed"),
                            ("demolished", "Demolished"),
                        ],
                        max_length=12,
                        verbose_name="operating status",
                    ),
                ),
                (
                    "utilisation",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(0),
                            django.core.validators.MaxValueValidator(100),
                        ],
                        verbose_name="utilisation (%)",
                    ),
                ),
                (
                    "operating_cost",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        max_digits=18,
                        null=True,
                        validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                        verbose_name="operating cost",
                    ),
                ),
                (
                    "maintenance_cost",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        max_digits=18,
                        null=True,
                        validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                        verbose_name="maintenance cost",
                    ),
                ),
                (
                    "cost_payer",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("recipient_government", "Recipient government"),
                            ("assisting_side", "Assisting side"),
                            ("operator", "Operator (self-financed)"),
                            ("other", "Other"),
                        ],
                        max_length=24,
                        verbose_name="costs paid by",
                    ),
                ),
                (
                    "revenue",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        max_digits=18,
                        null=True,
                        validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                        verbose_name="revenue",
                    ),
                ),
                ("jobs", models.PositiveIntegerField(blank=True, null=True, verbose_name="jobs")),
                ("people_served", models.PositiveIntegerField(blank=True, null=True, verbose_name="people served")),
                ("notes", models.TextField(blank=True, verbose_name="notes")),
                ("filed_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="filed at")),
                (
                    "filed_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "photos",
                    models.ManyToManyField(blank=True, related_name="+", to="projects.document", verbose_name="photos"),
                ),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="operation_reports",
                        to="projects.project",
                    ),
                ),
            ],
            options={
                "verbose_name": "operation report",
                "verbose_name_plural": "operation reports",
                "ordering": ["-year", "-id"],
                "constraints": [
                    models.UniqueConstraint(fields=("project", "year"), name="one_operation_report_a_year"),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("utilisation__isnull", True),
                            models.Q(("utilisation__gte", 0), ("utilisation__lte", 100)),
                            _connector="OR",
                        ),
                        name="operation_utilisation_is_a_percentage",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("operating_cost__isnull", True), ("operating_cost__gte", 0), _connector="OR"),
                            models.Q(("maintenance_cost__isnull", True), ("maintenance_cost__gte", 0), _connector="OR"),
                            models.Q(("revenue__isnull", True), ("revenue__gte", 0), _connector="OR"),
                        ),
                        name="operation_amounts_not_negative",
                    ),
                ],
            },
            bases=(core.models.ChoiceLabels, models.Model),
        ),
    ]
