"""Projects and their life from selection to evaluation, with construction and supervision records.

The states and actions are a contract (DESIGN.md); each action is one service in services.py.
"""

import os
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import ChoiceLabels, Region
from pairings.models import Pairing


class State(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PROPOSED = "proposed", _("Proposed")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    IN_CONSTRUCTION = "in_construction", _("In construction")
    SUSPENDED = "suspended", _("Suspended")
    COMPLETED = "completed", _("Completed")
    ACCEPTED = "accepted", _("Accepted")
    EVALUATED = "evaluated", _("Evaluated")
    CANCELLED = "cancelled", _("Cancelled")


class Category(models.TextChoices):
    NON_REIMBURSABLE = "non_reimbursable", _("Non-reimbursable")
    INFRASTRUCTURE = "infrastructure", _("Infrastructure")
    COLLABORATIVE = "collaborative", _("Collaborative")
    REIMBURSABLE = "reimbursable", _("Reimbursable")


class Sector(models.TextChoices):
    EDUCATION = "education", _("Education")
    HEALTH = "health", _("Health")
    HOUSING = "housing", _("Housing")
    INFRASTRUCTURE = "infrastructure", _("Infrastructure")
    INDUSTRY = "industry", _("Industry")
    AGRICULTURE = "agriculture", _("Agriculture")
    EMPLOYMENT = "employment", _("Employment")
    CULTURE = "culture", _("Culture")
    GOVERNANCE = "governance", _("Governance")
    ECOLOGY = "ecology", _("Ecology")
    OTHER = "other", _("Other")


class ExecutionMode(models.TextChoices):
    TURNKEY = "turnkey", _("Turnkey")
    FUNDS_TRANSFER = "funds_transfer", _("Funds transfer")


def iati_finance_type(category: str) -> int:
    """The finance type a project of CATEGORY shows (DESIGN: 110 grant, 410 loan for reimbursable projects). The
    IATI export writes 421 for 410, which the 2.03 code list has withdrawn (exchange/iati.py)."""
    return 410 if category == Category.REIMBURSABLE else 110


# IATI activity status codes by state (1 pipeline, 2 implementation, 3 finalisation, 4 closed, 5 cancelled).
IATI_ACTIVITY_STATUS = {
    State.DRAFT: 1,
    State.PROPOSED: 1,
    State.APPROVED: 1,
    State.REJECTED: 5,
    State.IN_CONSTRUCTION: 2,
    State.SUSPENDED: 6,
    State.COMPLETED: 3,
    State.ACCEPTED: 4,
    State.EVALUATED: 4,
    State.CANCELLED: 5,
}


class Project(ChoiceLabels, models.Model):
    code = models.CharField(_("code"), max_length=24, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    pairing = models.ForeignKey(Pairing, verbose_name=_("pairing"), on_delete=models.PROTECT, related_name="projects")
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, blank=True)
    sector = models.CharField(_("sector"), max_length=16, choices=Sector.choices, blank=True)
    execution_mode = models.CharField(
        _("execution mode"), max_length=16, choices=ExecutionMode.choices, default=ExecutionMode.TURNKEY
    )
    location = models.ForeignKey(
        Region, verbose_name=_("location"), null=True, blank=True, on_delete=models.PROTECT, related_name="projects"
    )
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    is_livelihood = models.BooleanField(_("livelihood"), default=False)
    is_self_sustaining = models.BooleanField(
        _("self-sustaining (造血)"),
        default=False,
        help_text=_("Builds the recipient's own capacity: industry, employment, training, collaboration."),
    )
    budget_requested = models.DecimalField(
        _("budget requested"),
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    approved_budget = models.DecimalField(
        _("approved budget"),
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    funding_sources = models.JSONField(
        _("funding sources"), default=list, blank=True, help_text=_('[{"source": "assisting_fiscal", "amount": "…"}]')
    )
    planned_start = models.DateField(_("planned start"), null=True, blank=True)
    planned_end = models.DateField(_("planned end"), null=True, blank=True)
    actual_start = models.DateField(_("actual start"), null=True, blank=True)
    actual_end = models.DateField(_("actual end"), null=True, blank=True)
    expected_beneficiaries = models.PositiveIntegerField(_("expected beneficiaries"), null=True, blank=True)
    reached_beneficiaries = models.PositiveIntegerField(_("beneficiaries reached"), null=True, blank=True)
    implementing_agency = models.CharField(_("implementing agency"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    repayment_terms = models.TextField(_("repayment terms"), blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.DRAFT, db_index=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    is_synthetic = models.BooleanField(_("synthetic"), default=False)
    # Indexed with the id (Meta.indexes): the lists' default order.
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_end__isnull=True)
                | Q(planned_start__isnull=True)
                | Q(planned_end__gte=models.F("planned_start")),
                name="project_planned_dates_in_order",
            ),
            models.CheckConstraint(
                condition=Q(actual_end__isnull=True)
                | Q(actual_start__isnull=True)
                | Q(actual_end__gte=models.F("actual_start")),
                name="project_actual_dates_in_order",
            ),
            models.CheckConstraint(
                condition=Q(budget_requested__isnull=True) | Q(budget_requested__gte=0),
                name="project_budget_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["pairing", "state"]),
            models.Index(fields=["state", "-created_at"]),
            models.Index(fields=["sector", "state"]),
            # An evaluation run's cohort: a programme's projects planned to start by a year's end, approved
            # onwards. With the state and id in the index PostgreSQL reads the ids from the index alone
            # (SQLite, which cannot include columns, gets the plain index).
            models.Index(
                fields=["pairing", "planned_start"], include=["state", "id"], name="project_pairing_planned_start"
            ),
            # The lists' default order, newest first (created, then id): a page by number reads the ids it skips
            # from this index alone instead of sorting the table (page 1 000 of 50: 70 ms to 10 ms at 100 000).
            models.Index(fields=["created_at", "id"], name="project_created_id"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    # A project's timeline also tells of its reports, inspections and documents.
    history_labels = {
        "physical_progress": _("physical progress (%)"),
        "spend_to_date": _("spend to date"),
        "inspection_kind": _("kind"),
        "document_kind": _("kind"),
        "result": _("result"),
        "rectifications": _("rectifications"),
        "review_status": _("review"),
        "finding": _("finding"),
        "rectification_status": _("status"),
        "photos": _("photos"),
        "score": _("score"),
        "evaluation_run": _("evaluation run"),
        "similar_project": _("similar project"),
        # The handover and the yearly operation reports.
        "handover_date": _("handover date"),
        "receiving_organization": _("receiving organization"),
        "asset_value": _("asset value"),
        "asset_register": _("asset register"),
        "handover_status": _("handover"),
        "operation_year": _("year"),
        "operation_status": _("operating status"),
        "utilisation": _("utilisation (%)"),
    }

    @classmethod
    def history_display(cls, name: str, value: object) -> str | None:
        from core.money import format_cny

        # The choices of the one field asked about, not of all seven: a timeline asks this for every value it shows.
        kinds: dict[str, type[models.TextChoices]] = {
            "inspection_kind": InspectionKind,
            "document_kind": DocumentKind,
            "result": InspectionResult,
            "review_status": ReviewStatus,
            "rectification_status": RectificationStatus,
            "handover_status": HandoverStatus,
            "operation_status": OperationStatus,
        }
        if name in kinds and isinstance(value, str):
            return str(dict(kinds[name].choices).get(value, value))
        if name == "receiving_organization" and isinstance(value, dict) and value.get("id"):
            # The organization's name in the reader's language (the label kept is the recorder's).
            from accounts.models import Organization

            org = Organization.objects.filter(pk=value["id"]).first()
            return org.display_name if org is not None else str(value.get("label", "—"))
        if name in ("spend_to_date", "asset_value") and value is not None:
            return format_cny(str(value))
        return None

    @property
    def iati_finance_type(self) -> int:
        return iati_finance_type(self.category)

    @property
    def iati_activity_status(self) -> int:
        return IATI_ACTIVITY_STATUS[State(self.state)]


class ProjectStateCount(models.Model):
    """A rollup row: how many projects of one pairing are in one state — kept exact by triggers on the projects'
    table (`projects.rollups`) and read by `projects.figures` for a whole scope's counts."""

    # No foreign-key constraint, as for the flows' rollup (pairings.models.FlowYearTotal).
    pairing = models.ForeignKey(Pairing, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    state = models.CharField(max_length=16)
    projects = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pairing", "state"], name="project_state_count_key")]

    def __str__(self) -> str:
        return f"{self.pairing_id} {self.state}: {self.projects}"


class Milestone(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("title"), max_length=200)
    due_date = models.DateField(_("due date"))
    done_on = models.DateField(_("done on"), null=True, blank=True)

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")

    def __str__(self) -> str:
        return self.title


class ReviewStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    ACCEPTED = "accepted", pgettext_lazy("report review", "Accepted")
    RETURNED = "returned", pgettext_lazy("report review", "Returned")


class ProgressReport(ChoiceLabels, models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="progress_reports")
    period_end = models.DateField(_("period ending"))
    physical_progress = models.PositiveSmallIntegerField(
        _("physical progress (%)"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    spend_to_date = models.DecimalField(
        _("spend to date"), max_digits=18, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )
    narrative = models.TextField(_("narrative"), blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now)
    review_status = models.CharField(
        _("review"), max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_comment = models.TextField(_("review comment"), blank=True)

    class Meta:
        ordering = ["-period_end", "-id"]
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")
        constraints = [
            models.CheckConstraint(
                condition=Q(physical_progress__gte=0) & Q(physical_progress__lte=100), name="progress_is_a_percentage"
            )
        ]

    def __str__(self) -> str:
        return f"{self.project.code} {self.period_end} {self.physical_progress} %"


class InspectionKind(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    ACCEPTANCE = "acceptance", _("Acceptance")


class InspectionResult(models.TextChoices):
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")


class Inspection(ChoiceLabels, models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="inspections")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=12, choices=InspectionKind.choices)
    result = models.CharField(_("result"), max_length=8, choices=InspectionResult.choices)
    findings = models.TextField(_("findings"), blank=True)
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")

    def __str__(self) -> str:
        return f"{self.project.code} {self.get_kind_display()} {self.date}"


class RectificationStatus(models.TextChoices):
    """Where a rectification stands (who may move it, and to where, is the policy's table)."""

    OPEN = "open", _("To be put right")
    REPORTED = "reported", _("Reported done")
    SENT_BACK = "sent_back", _("Sent back")
    VERIFIED = "verified", _("Verified")


#: The statuses in which a rectification waits for the assisting side to put it right (and can fall overdue).
RECTIFICATION_WAITING = frozenset({RectificationStatus.OPEN, RectificationStatus.SENT_BACK})


class Rectification(ChoiceLabels, models.Model):
    """What an inspection ordered put right by a deadline: the assisting side reports it done with evidence, the
    supervisor verifies it (closed) or sends it back. `closed_on` is the day it was verified."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="rectifications")
    inspection = models.ForeignKey(
        Inspection, null=True, blank=True, on_delete=models.PROTECT, related_name="rectifications"
    )
    finding = models.TextField(_("finding"))
    deadline = models.DateField(_("deadline"))
    status = models.CharField(
        _("status"), max_length=10, choices=RectificationStatus.choices, default=RectificationStatus.OPEN
    )
    report_text = models.TextField(_("how it was put right"), blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    send_back_reason = models.TextField(_("why it was sent back"), blank=True)
    sent_back_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sent_back_at = models.DateTimeField(_("sent back at"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    closure_note = models.TextField(_("closure note"), blank=True)
    evidence = models.ForeignKey(
        "Document", verbose_name=_("evidence"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["closed_on", "deadline", "id"]
        verbose_name = _("rectification")
        verbose_name_plural = _("rectifications")
        indexes = [
            models.Index(fields=["closed_on", "deadline"]),
            models.Index(fields=["status", "deadline"], name="rectification_status_deadline"),
            # The rectifications waiting for the assisting side, by deadline: the navigation counts those due and
            # overdue on every page, read from this index alone (at 1 000 000 projects, 35 000 overdue).
            models.Index(
                fields=["deadline"],
                condition=Q(closed_on__isnull=True, status__in=["open", "sent_back"]),
                name="rectification_waiting",
            ),
        ]

    def __str__(self) -> str:
        return self.finding[:60]

    @property
    def is_open(self) -> bool:
        """Not closed (verified) yet: reported ones too, which still stop the project's acceptance."""
        return self.closed_on is None

    @property
    def is_waiting(self) -> bool:
        """Waiting for the assisting side to put it right (open, or sent back)."""
        return self.closed_on is None and self.status in RECTIFICATION_WAITING

    @property
    def is_overdue(self) -> bool:
        """Waiting for the assisting side past its deadline (one reported done waits for the supervisor)."""
        return self.is_waiting and self.deadline < timezone.localdate()


class DocumentKind(models.TextChoices):
    PHOTO = "photo", _("Photo")
    REPORT = "report", _("Report")
    CONTRACT = "contract", _("Contract")
    ACCEPTANCE = "acceptance", _("Acceptance record")
    EVIDENCE = "evidence", _("Rectification evidence")
    OTHER = "other", _("Other")


#: The longest file name most filesystems store, in bytes (ext4, XFS, tmpfs; NTFS and APFS count 255 characters).
FILE_NAME_MAX_BYTES = 255
#: What the storage may add before the extension when the name is taken: `_` and 7 random ASCII characters.
_TAKEN_SUFFIX_BYTES = 8


def document_path(instance: "Document", filename: str) -> str:
    """Where an upload is stored: by project and month, under its own name cut to fit the filesystem.

    Django cuts a name at the field's length in characters; the filesystem refuses one longer than 255 bytes,
    which is 85 Chinese characters in UTF-8 (a 500 on upload). The name is cut here by bytes, on a character
    boundary, keeping the extension and leaving room for the suffix the storage adds to a name already taken."""
    name = get_valid_filename(filename)
    stem, ext = os.path.splitext(name)
    room = FILE_NAME_MAX_BYTES - _TAKEN_SUFFIX_BYTES - len(ext.encode())
    stem = stem.encode()[: max(room, 1)].decode("utf-8", errors="ignore") or "upload"
    return f"projects/{instance.project_id}/{timezone.now():%Y%m}/{stem}{ext}"


class Document(ChoiceLabels, models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(_("file"), upload_to=document_path, max_length=300)
    kind = models.CharField(_("kind"), max_length=12, choices=DocumentKind.choices, default=DocumentKind.OTHER)
    title = models.CharField(_("title"), max_length=200)
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(_("type"), max_length=100)
    progress_report = models.ForeignKey(
        ProgressReport, null=True, blank=True, on_delete=models.SET_NULL, related_name="photos"
    )
    rectification = models.ForeignKey(
        Rectification, null=True, blank=True, on_delete=models.SET_NULL, related_name="photos"
    )
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")

    def __str__(self) -> str:
        return self.title


# --- duplicate projects across pairings (projects/duplicates.py finds them) -----------------------------------


class SuspectedDuplicate(models.Model):
    """A pair of projects that the portfolio scan (projects.tasks.scan_duplicates) found alike enough to be one
    undertaking, the lower id first. The scan rewrites the pairs it finds; a pair it no longer finds is removed."""

    project_a = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="+")
    project_b = models.ForeignKey(
        Project, verbose_name=_("similar project"), on_delete=models.CASCADE, related_name="+"
    )
    score = models.FloatField(_("similarity"))
    reasons = models.JSONField(_("reasons"), default=list)
    found_at = models.DateTimeField(_("found at"), default=timezone.now)

    class Meta:
        ordering = ["-score", "project_a_id", "project_b_id"]
        verbose_name = _("suspected duplicate")
        verbose_name_plural = _("suspected duplicates")
        constraints = [
            models.UniqueConstraint(fields=["project_a", "project_b"], name="suspected_duplicate_pair"),
            models.CheckConstraint(condition=Q(project_a__lt=models.F("project_b")), name="suspected_duplicate_order"),
        ]
        indexes = [models.Index(fields=["-score"], name="suspected_duplicate_score")]

    def __str__(self) -> str:
        return f"{self.project_a_id} ~ {self.project_b_id} ({self.score:.2f})"


class DuplicateDismissal(models.Model):
    """The word of an official of PROJECT that it is not the same undertaking as CANDIDATE, and why: the approver
    reads it beside the warning (services.duplicate_dismiss records it, with a history event)."""

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="duplicate_dismissals"
    )
    candidate = models.ForeignKey(
        Project, verbose_name=_("similar project"), on_delete=models.CASCADE, related_name="+"
    )
    reason = models.TextField(_("reason"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("not-a-duplicate confirmation")
        verbose_name_plural = _("not-a-duplicate confirmations")
        constraints = [models.UniqueConstraint(fields=["project", "candidate"], name="duplicate_dismissal_pair")]

    def __str__(self) -> str:
        return f"{self.project_id} ≠ {self.candidate_id}"


# --- handover and operation after acceptance (the "hematopoiesis test") -------------------------------------
#
# Not a lifecycle state: a record beside an accepted (or evaluated) project. The assisting side records the
# handover, the recipient side confirms or refuses it; from the handover's year on, the recipient side files one
# operation report a year. Who may do each is projects/policy.py's; the services are projects/handover_services.py.


class HandoverStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    REFUSED = "refused", pgettext_lazy("handover", "Refused")


class Handover(ChoiceLabels, models.Model):
    """A project's handover to the recipient side: one per project. A refused handover is recorded again on the
    same row (back to pending); each step is an event of the project's history, which keeps what came before."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="handover")
    date = models.DateField(_("handover date"))
    receiving_organization = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("receiving organization"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    receiving_name = models.CharField(
        _("receiving body"),
        max_length=200,
        blank=True,
        help_text=_("When the receiver is not an organization of the directory (a school, a hospital, an operator)."),
    )
    asset_value = models.DecimalField(
        _("asset value"), max_digits=18, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )
    asset_register = models.ForeignKey(
        Document, verbose_name=_("asset register"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=HandoverStatus.choices, default=HandoverStatus.PENDING
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    refused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    refused_at = models.DateTimeField(_("refused at"), null=True, blank=True)
    refusal_reason = models.TextField(_("reason for refusal"), blank=True)
    #: How many times the handover was recorded (1, then one more after each refusal).
    round = models.PositiveSmallIntegerField(default=1)

    class Meta:
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        constraints = [
            models.CheckConstraint(condition=Q(asset_value__gte=0), name="handover_asset_value_not_negative"),
            models.CheckConstraint(
                condition=Q(receiving_organization__isnull=False) | ~Q(receiving_name=""),
                name="handover_has_a_receiver",
            ),
        ]
        indexes = [
            # The confirmed handovers, by date: what the missing reports and the evaluation read.
            models.Index(fields=["date"], condition=Q(status="confirmed"), name="handover_confirmed_date"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.date} {self.status}"

    @property
    def receiver(self) -> str:
        return str(self.receiving_organization) if self.receiving_organization_id else self.receiving_name


class OperationStatus(models.TextChoices):
    IN_USE = "in_use", _("In use")
    UNDER_USED = "under_used", _("Under-used")
    IDLE = "idle", _("Idle")
    CLOSED = "closed", pgettext_lazy("operation", "Closed")
    DEMOLISHED = "demolished", _("Demolished")


#: The statuses in which a handed-over asset counts as still in use (the evaluation's "assets in use").
OPERATING_STATUSES = (OperationStatus.IN_USE, OperationStatus.UNDER_USED)


class CostPayer(models.TextChoices):
    RECIPIENT_GOVERNMENT = "recipient_government", _("Recipient government")
    ASSISTING_SIDE = "assisting_side", _("Assisting side")
    OPERATOR = "operator", _("Operator (self-financed)")
    OTHER = "other", _("Other")


class OperationReport(ChoiceLabels, models.Model):
    """How a handed-over project ran in one year, as the recipient side reports it: one per project and year."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="operation_reports")
    year = models.PositiveSmallIntegerField(_("year"))
    status = models.CharField(_("operating status"), max_length=12, choices=OperationStatus.choices)
    utilisation = models.PositiveSmallIntegerField(
        _("utilisation (%)"), null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    operating_cost = models.DecimalField(
        _("operating cost"),
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    maintenance_cost = models.DecimalField(
        _("maintenance cost"),
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    cost_payer = models.CharField(_("costs paid by"), max_length=24, choices=CostPayer.choices, blank=True)
    revenue = models.DecimalField(
        _("revenue"), max_digits=18, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(Decimal(0))]
    )
    jobs = models.PositiveIntegerField(_("jobs"), null=True, blank=True)
    people_served = models.PositiveIntegerField(_("people served"), null=True, blank=True)
    photos = models.ManyToManyField(Document, verbose_name=_("photos"), blank=True, related_name="+")
    notes = models.TextField(_("notes"), blank=True)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    filed_at = models.DateTimeField(_("filed at"), default=timezone.now)

    class Meta:
        ordering = ["-year", "-id"]
        verbose_name = _("operation report")
        verbose_name_plural = _("operation reports")
        constraints = [
            models.UniqueConstraint(fields=["project", "year"], name="one_operation_report_a_year"),
            models.CheckConstraint(
                condition=Q(utilisation__isnull=True) | Q(utilisation__gte=0, utilisation__lte=100),
                name="operation_utilisation_is_a_percentage",
            ),
            models.CheckConstraint(
                condition=(Q(operating_cost__isnull=True) | Q(operating_cost__gte=0))
                & (Q(maintenance_cost__isnull=True) | Q(maintenance_cost__gte=0))
                & (Q(revenue__isnull=True) | Q(revenue__gte=0)),
                name="operation_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.year} {self.status}"

    @property
    def running_cost(self) -> Decimal:
        return (self.operating_cost or Decimal(0)) + (self.maintenance_cost or Decimal(0))
