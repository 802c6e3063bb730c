"""Query filters of the evaluation API's lists."""

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema_field

from core.api.bounds import BIGINT_MAX, SMALLINT_MAX
from core.api.filters import FilterSet, id_filter, year_filter
from evaluation.models import (
    EvaluationRun,
    ExpertScore,
    IndicatorFramework,
    PairingScorecard,
    ProjectScore,
    RunStatus,
    SatisfactionRating,
    ScoreStatus,
)
from projects.models import Project


def _program_q(prefix: str, value: str) -> Q:
    match = Q(**{f"{prefix}program__code": value})
    if value.isascii() and value.isdigit() and int(value) <= BIGINT_MAX:  # `¹` is a digit to Python, not to int()
        match |= Q(**{f"{prefix}program_id": int(value)})
    return match


# --- frameworks --------------------------------------------------------------------------------------------


class FrameworkFilter(FilterSet):
    program = django_filters.CharFilter(method="filter_program", help_text="The programme's id or code.")
    # Documented as a boolean: drf-spectacular calls a filter with a method a string.
    current = extend_schema_field({"type": "boolean"})(
        django_filters.BooleanFilter(
            method="filter_current", help_text="true: only the latest version of each programme."
        )
    )

    class Meta:
        model = IndicatorFramework
        fields = ["program", "current"]

    def filter_program(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(_program_q("", value))

    def filter_current(self, queryset: QuerySet[Any], name: str, value: bool | None) -> QuerySet[Any]:
        return queryset.filter(is_current=True) if value else queryset


# --- runs --------------------------------------------------------------------------------------------------


class RunFilter(FilterSet):
    program = django_filters.CharFilter(method="filter_program", help_text="The programme's id or code.")
    year = year_filter("year", max_value=SMALLINT_MAX)
    status = django_filters.ChoiceFilter(choices=RunStatus.choices)

    class Meta:
        model = EvaluationRun
        fields = ["program", "year", "status"]

    def filter_program(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(_program_q("", value))


# --- what a run produces -----------------------------------------------------------------------------------


class ProjectScoreFilter(FilterSet):
    run = id_filter("run_id")
    program = django_filters.CharFilter(method="filter_program", help_text="The programme's id or code.")
    year = year_filter("run__year", max_value=SMALLINT_MAX)
    project = id_filter("project_id")
    pairing = id_filter("pairing_id")
    status = django_filters.ChoiceFilter(
        choices=ScoreStatus.choices, help_text="scored, or insufficient_data (not enough data yet: no score)."
    )

    class Meta:
        model = ProjectScore
        fields = ["run", "program", "year", "project", "pairing", "status"]

    def filter_program(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(_program_q("run__", value))


class ScorecardFilter(FilterSet):
    run = id_filter("run_id")
    program = django_filters.CharFilter(method="filter_program", help_text="The programme's id or code.")
    year = year_filter("run__year", max_value=SMALLINT_MAX)
    pairing = id_filter("pairing_id")
    organization = id_filter("organization_id", help_text="The assisting organization's id.")

    class Meta:
        model = PairingScorecard
        fields = ["run", "program", "year", "pairing", "organization"]

    def filter_program(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(_program_q("run__", value))


class WorklistFilter(FilterSet):
    """The projects waiting on an evaluator or a recipient officer (the ratings page), by programme."""

    program = django_filters.CharFilter(method="filter_program", help_text="The programme's id or code.")

    class Meta:
        model = Project
        fields = ["program"]

    def filter_program(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(_program_q("pairing__", value))


# --- expert scores and satisfaction ratings ----------------------------------------------------------------


class ProjectFilterMixin(FilterSet):
    project = id_filter("project_id")


class ExpertScoreFilter(ProjectFilterMixin):
    indicator = django_filters.CharFilter(field_name="indicator_code")

    class Meta:
        model = ExpertScore
        fields = ["project", "indicator"]


class RatingFilter(ProjectFilterMixin):
    class Meta:
        model = SatisfactionRating
        fields = ["project"]
