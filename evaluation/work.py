"""Evaluation's kinds of work (core.worklist): expert scores to give, projects to rate, runs that failed. The
ratings worklist and "My tasks" read the same functions."""

from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.worklist import WorkKind, WorkRow, register_work
from projects.models import Project
from projects.selectors import projects_visible_to

from . import policy, selectors
from .measures import FINAL_STATES, SCORED_STATES
from .models import EvaluationRun, ExpertScore, RunStatus, SatisfactionRating

_NAMES = ("pairing__program", "pairing__assisting_organization", "pairing__recipient_region")


def projects_to_score(user: User, projects: QuerySet[Project] | None = None) -> QuerySet[Project]:
    """Projects in a scored state that USER (an evaluator) has given no expert score yet (of PROJECTS, by
    default every project the user sees)."""
    projects = projects_visible_to(user) if projects is None else projects
    scored = ExpertScore.objects.filter(project=OuterRef("pk"), evaluator=user)
    return projects.filter(state__in=SCORED_STATES).filter(~Exists(scored)).select_related(*_NAMES)


def projects_to_rate(user: User) -> QuerySet[Project]:
    """Accepted (or evaluated) projects USER (a recipient officer) has not rated yet."""
    rated = SatisfactionRating.objects.filter(project=OuterRef("pk"), rated_by=user)
    return projects_visible_to(user).filter(state__in=FINAL_STATES).filter(~Exists(rated)).select_related(*_NAMES)


def runs_failed(user: User) -> QuerySet[EvaluationRun]:
    """Failed runs of a programme-year that no later run has since done successfully."""
    redone = EvaluationRun.objects.filter(
        program=OuterRef("program"),
        year=OuterRef("year"),
        status=RunStatus.SUCCEEDED,
        created_at__gt=OuterRef("created_at"),
    )
    return selectors.runs_visible_to(user).filter(status=RunStatus.FAILED).filter(~Exists(redone))


def _project_row(anchor: str):  # type: ignore[no-untyped-def]
    def row(p: Project) -> WorkRow:
        return WorkRow(
            title=f"{p.code} {p.title}",
            url=reverse("evaluation:project_assess", args=[p.pk]) + anchor,
            detail=f"{p.pairing.assisting_organization} → {p.pairing.recipient_region}",
        )

    return row


def _run_row(run: EvaluationRun) -> WorkRow:
    return WorkRow(
        title=f"{run.program} {run.year} #{run.pk}",
        url=reverse("evaluation:run_detail", args=[run.pk]),
        detail=run.error[:120],
    )


def register() -> None:
    register_work(
        WorkKind(
            "expert_scores",
            _("Expert scores to give"),
            projects_to_score,
            _project_row("#expert-scores"),
            action=_("Give scores"),
            order=60,
            allowed=policy.may_score,
        )
    )
    register_work(
        WorkKind(
            "ratings",
            _("Projects to rate"),
            projects_to_rate,
            _project_row("#satisfaction"),
            action=_("Rate"),
            order=65,
            allowed=policy.may_rate,
        )
    )
    register_work(
        WorkKind(
            "runs_failed",
            _("Evaluation runs that failed"),
            runs_failed,
            _run_row,
            action=_("See why and run again"),
            order=70,
            allowed=policy.may_run,
            urgent=True,
        )
    )
