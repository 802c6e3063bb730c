"""Evaluation's reads, scoped like everything else: rankings and runs are a programme's published results
(everyone signed in sees them, as they see programmes); a pairing's scorecard and a project's score are
seen by whoever sees the pairing or the project."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import User
from pairings.models import AnnualMandate, Program
from pairings.selectors import pairing_scope_q

from .curves import Line, Spec, explain, grade_for
from .measures import MEASURES
from .models import (
    EvaluationRun,
    ExpertScore,
    Indicator,
    IndicatorFramework,
    PairingScorecard,
    ProjectScore,
    Ranking,
    RunStatus,
    SatisfactionRating,
)


def frameworks_visible_to(user: User) -> QuerySet[IndicatorFramework]:
    return IndicatorFramework.objects.select_related("program", "created_by").prefetch_related("indicators")


def runs_visible_to(user: User) -> QuerySet[EvaluationRun]:
    return EvaluationRun.objects.select_related("program", "framework", "requested_by")


def mandate_unverified() -> Exists:
    """Whether the scorecard's pairing owes the run's year under a rule whose rate or base year no source gives."""
    return Exists(
        AnnualMandate.objects.filter(
            pairing_id=OuterRef("pairing_id"), year=OuterRef("run__year"), rule__is_unverified=True
        )
    )


def scorecards_visible_to(user: User) -> QuerySet[PairingScorecard]:
    return (
        PairingScorecard.objects.filter(pairing_scope_q(user, "pairing__"))
        .annotate(mandate_unverified=mandate_unverified())
        .select_related(
            "run__program",
            "run__framework",
            "pairing__program",
            "pairing__assisting_organization",
            "pairing__recipient_region",
            "organization",
        )
    )


def project_scores_visible_to(user: User) -> QuerySet[ProjectScore]:
    return ProjectScore.objects.filter(pairing_scope_q(user, "pairing__")).select_related(
        "run__program",
        "run__framework",
        "project",
        "pairing__assisting_organization",
        "pairing__recipient_region",
    )


def expert_scores_visible_to(user: User) -> QuerySet[ExpertScore]:
    return ExpertScore.objects.filter(pairing_scope_q(user, "project__pairing__")).select_related(
        "project", "evaluator"
    )


def ratings_visible_to(user: User) -> QuerySet[SatisfactionRating]:
    return SatisfactionRating.objects.filter(pairing_scope_q(user, "project__pairing__")).select_related(
        "project", "rated_by"
    )


def latest_run(program: Program | int, year: int | None = None) -> EvaluationRun | None:
    """The latest succeeded run of a programme (for YEAR, or its latest year evaluated)."""
    qs = EvaluationRun.objects.filter(program=program, status=RunStatus.SUCCEEDED).select_related(
        "program", "framework"
    )
    if year is not None:
        qs = qs.filter(year=year)
    return qs.order_by("-year", "-finished_at", "-pk").first()


def rankings_of(run: EvaluationRun) -> QuerySet[Ranking]:
    return Ranking.objects.filter(run=run).select_related("organization").order_by("rank", "organization__name")


def indicators_of(framework: IndicatorFramework, level: str) -> list[Indicator]:
    """The framework's indicators of LEVEL, in order (uses a prefetched `indicators` when there is one)."""
    return [i for i in framework.indicators.all() if i.level == level]


@dataclass(frozen=True)
class ExplainedLine:
    """One row of "why this score": the indicator, its measured value, its curve, its weight and its points."""

    indicator: Indicator
    measure_label: Any
    value: float | None
    score: float | None
    weight: float  # as configured, %
    weight_share: float  # as counted, % (0 when the indicator had no value and was left out)
    contribution: float  # points added to the total


def explain_score(framework: IndicatorFramework, level: str, measures: dict[str, Any]) -> list[ExplainedLine]:
    """Lines that add up to a stored score, from the values the run stored and the framework it used."""
    indicators = indicators_of(framework, level)
    lines: list[Line] = explain([Spec.of(i) for i in indicators], measures)
    return [
        ExplainedLine(
            indicator=i,
            measure_label=MEASURES[i.formula].label if i.formula in MEASURES else i.formula,
            value=line.value,
            score=line.score,
            weight=float(i.weight),
            weight_share=line.weight_share,
            contribution=line.contribution,
        )
        for i, line in zip(indicators, lines, strict=True)
    ]


def explained_total(lines: list[ExplainedLine]) -> float:
    """The points the explanation's lines add up to: the total its table shows under them (the page and the PDF)."""
    return sum(line.contribution for line in lines)


def grade_of(framework: IndicatorFramework, score: float | None) -> str:
    return grade_for(score, framework.grade_bands)


def score_history(pairing_id: int) -> QuerySet[PairingScorecard]:
    """A pairing's scorecards in every succeeded run, oldest first: the trend across runs and years."""
    return (
        PairingScorecard.objects.filter(pairing_id=pairing_id, run__status=RunStatus.SUCCEEDED)
        .select_related("run")
        .order_by("run__year", "run__finished_at", "run_id")
    )
