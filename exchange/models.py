"""What data exchange keeps: exports (files made for a user), imports (a spreadsheet checked, then committed) and
webhook subscriptions with their deliveries and every attempt."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# --- exports ----------------------------------------------------------------------------------------------


class ExportFormat(models.TextChoices):
    XLSX = "xlsx", _("Excel (XLSX)")
    CSV = "csv", _("CSV")
    PDF = "pdf", _("PDF")


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


def export_path(instance: "Export", filename: str) -> str:
    return f"exports/{instance.created_at:%Y/%m}/{instance.pk}/{filename}"


class Export(models.Model):
    """A file made for one user from a list (with the filters in force then) or a report; only its creator may
    download it, until it expires."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.CASCADE, related_name="exports"
    )
    kind = models.CharField(_("kind"), max_length=32)
    format = models.CharField(_("format"), max_length=8, choices=ExportFormat.choices)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    object_id = models.PositiveBigIntegerField(_("object"), null=True, blank=True)
    # The language the headers and names are written in: the creator's when they asked.
    language = models.CharField(_("language"), max_length=8)
    status = models.CharField(_("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    done = models.PositiveIntegerField(_("rows written"), default=0)
    total = models.PositiveIntegerField(_("rows in all"), default=0)
    file = models.FileField(_("file"), upload_to=export_path, max_length=300, blank=True)
    filename = models.CharField(_("file name"), max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        indexes = [models.Index(fields=["created_by", "-created_at"]), models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.kind}.{self.format} #{self.pk}"


# --- imports ----------------------------------------------------------------------------------------------


class ImportKind(models.TextChoices):
    PROJECTS = "projects", _("Projects")
    FUND_FLOWS = "fund_flows", _("Fund flows")
    FISCAL_REVENUES = "fiscal_revenues", _("Fiscal revenues")
    DEPLOYMENTS = "deployments", _("Deployments")
    TRAININGS = "trainings", _("Trainings")


class ImportStatus(models.TextChoices):
    CHECKED = "checked", _("Checked, ready to commit")
    INVALID = "invalid", _("Has errors")
    COMMITTED = "committed", _("Committed")
    FAILED = "failed", _("Failed")


def import_path(instance: "Import", filename: str) -> str:
    return f"imports/{instance.created_by_id}/{uuid.uuid4().hex}/{filename}"


def _no_rows() -> dict[str, int]:
    return {"total": 0, "new": 0, "updated": 0, "unchanged": 0, "invalid": 0}


class Import(models.Model):
    """One uploaded spreadsheet: checked on upload (the dry run: per row new, updated, unchanged or invalid, and
    every error), then committed all or nothing. The record names the file and its outcome."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="imports"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ImportKind.choices)
    file = models.FileField(_("file"), upload_to=import_path, max_length=300)
    filename = models.CharField(_("file name"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=ImportStatus.choices)
    rows = models.JSONField(_("rows"), default=_no_rows)
    # [{"row", "column", "code", "message"}], every problem found, in row order.
    errors = models.JSONField(_("errors"), default=list, blank=True)
    # What the dry run found per row ({"row", "action", "key"}), so that the page can show it.
    outcome = models.JSONField(_("outcome per row"), default=list, blank=True)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    committed_at = models.DateTimeField(_("committed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.kind}: {self.filename}"


# --- webhooks ---------------------------------------------------------------------------------------------


class WebhookEvent(models.TextChoices):
    PROJECT_CREATED = "project.created", _("Project created")
    PROJECT_TRANSITIONED = "project.transitioned", _("Project moved to another state")
    FUND_FLOW_RECORDED = "fund_flow.recorded", _("Fund flow recorded")
    INSPECTION_RECORDED = "inspection.recorded", _("Inspection recorded")
    RECTIFICATION_OVERDUE = "rectification.overdue", _("Rectification overdue")
    EVALUATION_RUN_FINISHED = "evaluation_run.finished", _("Evaluation run finished")
    IMPORT_COMMITTED = "import.committed", _("Import committed")


def _new_secret() -> str:
    import secrets

    return secrets.token_hex(32)


class Webhook(models.Model):
    """A URL that receives the events it asked for, on objects its owner may see, signed with its secret."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    description = models.CharField(_("description"), max_length=200, blank=True)
    secret = models.CharField(_("secret"), max_length=128, default=_new_secret)
    is_active = models.BooleanField(_("active"), default=True)
    # Set when a delivery used up its attempts; cleared by the next delivery that succeeds.
    is_failing = models.BooleanField(_("failing"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Delivered")
    RETRYING = "retrying", _("Retrying")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One event for one webhook: the body sent (the same on every attempt, so one signature) and its outcome."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(_("event"), max_length=40, choices=WebhookEvent.choices)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [models.Index(fields=["webhook", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One try at a delivery: the answer's status code (none when the connection failed), how long it took, why it
    failed."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField(_("attempt"))
    at = models.DateTimeField(_("at"), auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    error = models.CharField(_("error"), max_length=300, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_once")]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}: {self.status_code or self.error}"

    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
