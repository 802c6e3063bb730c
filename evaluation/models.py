"""Evaluation: indicator frameworks, ratings, runs and what a run produces (scores, scorecards, rankings).

A run's results are kept, keyed by run and object with a unique constraint, so a chunk computed twice
writes the same rows again (upsert) and officials can compare runs and follow trends.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from core.models import ChoiceLabels
from pairings.models import Pairing, Program
from projects.models import Project

#: Grade bands of a framework unless it names its own: the lowest score of each grade, best first.
DEFAULT_GRADE_BANDS = [[90, "A"], [75, "B"], [60, "C"], [0, "D"]]


def default_grade_bands() -> list[list[object]]:
    return [list(b) for b in DEFAULT_GRADE_BANDS]


#: The share (%) of a framework's project-indicator weight that must have data for a project to be scored,
#: unless the framework sets its own (`IndicatorFramework.min_coverage`).
DEFAULT_MIN_COVERAGE = Decimal("50")


class IndicatorFramework(models.Model):
    """One version of a programme's indicators. Editing makes a new version; runs keep the one they used."""

    history_labels = {"version": _("version"), "reason": _("reason"), "min_coverage": _("minimum data coverage")}

    program = models.ForeignKey(
        Program, verbose_name=_("programme"), on_delete=models.PROTECT, related_name="frameworks"
    )
    version = models.PositiveSmallIntegerField(_("version"))
    grade_bands = models.JSONField(_("grade bands"), default=default_grade_bands)
    #: A project is scored only when its indicators with data carry at least this share (%) of the project
    #: indicators' weight (`evaluation.coverage`); below it, it has "not enough data yet".
    min_coverage = models.DecimalField(
        _("minimum data coverage (%)"),
        max_digits=5,
        decimal_places=2,
        default=DEFAULT_MIN_COVERAGE,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    reason = models.TextField(_("reason"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("indicator framework")
        verbose_name_plural = _("indicator frameworks")
        ordering = ["program_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["program", "version"], name="unique_framework_version"),
            models.CheckConstraint(
                condition=Q(min_coverage__gte=0, min_coverage__lte=100), name="framework_min_coverage_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program.code} v{self.version}"

    @property
    def reason_shown(self) -> str:
        """The reason as a reader sees it: the one given, or for the version the system wrote itself "Default
        framework" in the reader's language (no text is stored for it, so it never shows in another language)."""
        if self.reason:
            return self.reason
        return str(_("Default framework")) if self.created_by_id is None and self.version == 1 else ""


class Level(models.TextChoices):
    PROJECT = "project", _("project")
    PAIRING = "pairing", _("pairing")


class Curve(models.TextChoices):
    LINEAR = "linear", _("linear between floor and target")
    THRESHOLD = "threshold", _("thresholds")


class Indicator(models.Model):
    framework = models.ForeignKey(IndicatorFramework, on_delete=models.CASCADE, related_name="indicators")
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name (Chinese)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120)
    level = models.CharField(_("level"), max_length=8, choices=Level.choices)
    formula = models.CharField(_("formula"), max_length=40)
    curve = models.CharField(_("scoring curve"), max_length=10, choices=Curve.choices, default=Curve.LINEAR)
    floor = models.FloatField(_("floor"), null=True, blank=True)
    target = models.FloatField(_("target"), null=True, blank=True)
    thresholds = models.JSONField(_("thresholds"), default=list, blank=True)
    weight = models.DecimalField(_("weight (%)"), max_digits=5, decimal_places=2)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["framework_id", "level", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["framework", "code"], name="unique_indicator_code")]

    def __str__(self) -> str:
        return self.code

    @property
    def label(self) -> str:
        from django.utils.translation import get_language

        return self.name_en if (get_language() or "").startswith("en") and self.name_en else self.name


class ExpertScore(models.Model):
    """An evaluator's score (0–100) of a project on an expert-scored indicator, with the reason."""

    history_labels = {"score": _("score"), "comment": _("comment")}

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="expert_scores")
    indicator_code = models.SlugField(_("indicator"), max_length=40)
    evaluator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    score = models.DecimalField(
        _("score"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    comment = models.TextField(_("comment"))
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("expert score")
        verbose_name_plural = _("expert scores")
        ordering = ["project_id", "indicator_code", "evaluator_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "indicator_code", "evaluator"], name="one_expert_score_per_indicator"
            ),
            models.CheckConstraint(condition=Q(score__gte=0, score__lte=100), name="expert_score_range"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_code}: {self.score}"


class SatisfactionRating(models.Model):
    """A recipient officer's satisfaction with an accepted project, 1 (very unsatisfied) to 5 (very satisfied)."""

    history_labels = {"score": _("rating"), "comment": _("comment")}

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="satisfaction_ratings")
    rated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField(_("rating"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("satisfaction rating")
        verbose_name_plural = _("satisfaction ratings")
        ordering = ["project_id", "rated_by_id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "rated_by"], name="one_rating_per_officer"),
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="satisfaction_range"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id}: {self.score}"


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")


ACTIVE_RUN_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class EvaluationRun(ChoiceLabels, models.Model):
    """One evaluation of a programme's year with one framework version. Progress counts projects and pairings."""

    program = models.ForeignKey(Program, verbose_name=_("programme"), on_delete=models.PROTECT, related_name="runs")
    year = models.PositiveSmallIntegerField(_("year"))
    framework = models.ForeignKey(
        IndicatorFramework, verbose_name=_("framework"), on_delete=models.PROTECT, related_name="runs"
    )
    status = models.CharField(_("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    as_of = models.DateField(_("as of"), default=timezone.localdate)
    total = models.PositiveIntegerField(_("total"), default=0)
    done = models.PositiveIntegerField(_("done"), default=0)
    error = models.TextField(_("error"), blank=True)
    #: Times planning (cutting the cohort into chunks) was tried: past EVALUATION_MAX_ATTEMPTS the run fails
    #: instead of being queued again by the reconciler for ever.
    plan_attempts = models.PositiveSmallIntegerField(default=0)
    #: The run this one's ranking is compared with for trends: the previous succeeded run of the same
    #: programme and year, else the latest of the year before.
    compared_with = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("compared with")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("requested"), default=timezone.now, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("evaluation run")
        verbose_name_plural = _("evaluation runs")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One run per programme-year at a time: the service hands the running one back, this is the backstop.
            models.UniqueConstraint(
                fields=["program", "year"],
                condition=Q(status__in=["queued", "running"]),
                name="one_active_run_per_program_year",
            ),
        ]
        indexes = [models.Index(fields=["program", "year", "status"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.program.code} {self.year}"

    @property
    def percent(self) -> int:
        if self.status == RunStatus.SUCCEEDED:
            return 100
        return int(100 * self.done / self.total) if self.total else 0

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_RUN_STATUSES


class ChunkKind(models.TextChoices):
    PROJECTS = "projects", _("projects")
    FINALIZE = "finalize", _("scorecards and ranking")


class ChunkStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class RunChunk(models.Model):
    """A slice of a run's work: the projects with ids in [first_id, last_id], or the final step."""

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=ChunkKind.choices)
    first_id = models.BigIntegerField(null=True)
    last_id = models.BigIntegerField(null=True)
    size = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=8, choices=ChunkStatus.choices, default=ChunkStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    #: When a chunk that is pending or running counts as stuck: the reconciler queues it again after this.
    deadline = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run_id", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="unique_chunk_index")]
        indexes = [models.Index(fields=["status", "deadline"])]

    def __str__(self) -> str:
        return f"run {self.run_id} chunk {self.index}"


class ScoreStatus(models.TextChoices):
    """Whether a run scored a project, or left it out for too little data (`evaluation.coverage`)."""

    SCORED = "scored", _("scored")
    INSUFFICIENT_DATA = "insufficient_data", _("not enough data yet")


class ProjectScore(ChoiceLabels, models.Model):
    """A project's score in a run, with the measured value of each indicator (keyed by indicator code), and
    the share of the project indicators' weight that had data (`coverage`). A project whose coverage is below
    its framework's `min_coverage` is not scored: status `insufficient_data`, no score, and it does not count
    in its pairing's project scores."""

    # A run writes tens of thousands of these in a few statements, from rows it has just read; the database's
    # foreign-key checks (three trigger calls a row) and single-column indexes (each covered by a composite
    # index below, or never searched) would double the cost of writing them. Django still cascades deletes.
    run = models.ForeignKey(
        EvaluationRun, on_delete=models.CASCADE, related_name="project_scores", db_constraint=False, db_index=False
    )
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="scores", db_constraint=False, db_index=False
    )
    pairing = models.ForeignKey(
        Pairing, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    score = models.FloatField(_("score"), null=True)
    status = models.CharField(
        _("status"), max_length=20, choices=ScoreStatus.choices, default=ScoreStatus.SCORED, db_default="scored"
    )
    #: Per cent of the project indicators' weight whose measure had a value; null in runs before it was kept.
    coverage = models.FloatField(_("data coverage (%)"), null=True, blank=True)
    measures = models.JSONField(_("measured values"), default=dict)
    #: Accepted or evaluated when scored: the score is final and moves an accepted project to `evaluated`.
    is_final = models.BooleanField(_("final"), default=False)
    # The project as it was scored: its state, and what its pairing's shares and weighted mean are summed from.
    state = models.CharField(_("state when scored"), max_length=16, blank=True, db_default="")
    budget = models.DecimalField(_("approved budget"), max_digits=18, decimal_places=2, db_default=0)
    at_county_level = models.BooleanField(_("at county level or below"), db_default=False)
    is_livelihood = models.BooleanField(_("livelihood"), db_default=False)
    is_self_sustaining = models.BooleanField(_("self-sustaining"), db_default=False)

    class Meta:
        verbose_name = _("project score")
        verbose_name_plural = _("project scores")
        ordering = ["run_id", "project_id"]
        constraints = [models.UniqueConstraint(fields=["run", "project"], name="one_score_per_project_and_run")]
        # (run, project) is the unique constraint's index; (project, run) serves a project's scores across runs;
        # (pairing, run) a scorecard's projects (without it each of the scorecard's statements read every score of
        # every run: 156 000 rows at 100 000 projects). One more index written per score, in a run's bulk insert.
        indexes = [models.Index(fields=["project", "run"]), models.Index(fields=["pairing", "run"])]

    def __str__(self) -> str:
        return f"{self.project_id}@{self.run_id}: {self.score}"

    @property
    def has_enough_data(self) -> bool:
        """Scored by its run (the run decided, by `evaluation.coverage.has_enough_data`)."""
        return self.status == ScoreStatus.SCORED


class PairingScorecard(models.Model):
    """A pairing's score in a run: pairing-level indicators (one of them the budget-weighted project scores)
    and compliance flags against the programme's rule."""

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="scorecards")
    pairing = models.ForeignKey(Pairing, on_delete=models.CASCADE, related_name="scorecards")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    score = models.FloatField(_("score"), null=True)
    measures = models.JSONField(_("measured values"), default=dict)
    flags = models.JSONField(_("compliance flags"), default=list)
    project_count = models.PositiveIntegerField(_("projects"), default=0)
    #: Of PROJECT_COUNT, the projects left out of the project scores: not enough data yet.
    insufficient_data_count = models.PositiveIntegerField(
        _("projects left out for too little data"), default=0, db_default=0
    )
    budget = models.DecimalField(_("approved budget"), max_digits=18, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("pairing scorecard")
        verbose_name_plural = _("pairing scorecards")
        ordering = ["run_id", "pairing_id"]
        constraints = [models.UniqueConstraint(fields=["run", "pairing"], name="one_scorecard_per_pairing_and_run")]
        indexes = [models.Index(fields=["pairing", "run"])]

    def __str__(self) -> str:
        return f"{self.pairing_id}@{self.run_id}: {self.score}"

    @property
    def scored_count(self) -> int:
        """The projects whose scores count in the pairing's project scores."""
        return max(self.project_count - self.insufficient_data_count, 0)


class Ranking(models.Model):
    """An assisting organization's place in a run: the mean of its top-level pairings' scores, graded."""

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="rankings")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    score = models.FloatField(_("score"))
    grade = models.CharField(_("grade"), max_length=8)
    rank = models.PositiveIntegerField(_("rank"))
    previous_rank = models.PositiveIntegerField(_("previous rank"), null=True, blank=True)
    previous_score = models.FloatField(_("previous score"), null=True, blank=True)
    pairing_count = models.PositiveIntegerField(_("pairings"), default=1)
    #: Why the score is what it is: the indicators that gained and lost most, and the compliance flags.
    reasons = models.JSONField(_("reasons"), default=list)

    class Meta:
        verbose_name = _("ranking")
        verbose_name_plural = _("rankings")
        ordering = ["run_id", "rank", "organization_id"]
        constraints = [models.UniqueConstraint(fields=["run", "organization"], name="one_rank_per_organization")]

    def __str__(self) -> str:
        return f"{self.rank}. {self.organization_id} {self.score:.1f} {self.grade}"

    @property
    def trend(self) -> str:
        """ "up", "down", "same" or "new", against the previous run the ranking was compared with."""
        if self.previous_rank is None:
            return "new"
        if self.rank < self.previous_rank:
            return "up"
        return "down" if self.rank > self.previous_rank else "same"
