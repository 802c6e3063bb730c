"""Query filters and ordering of the project list."""

from typing import Any

import django_filters
from django.db.models import Q, QuerySet

from core.api.bounds import BIGINT_MAX
from core.api.filters import FilterSet, id_filter, region_param, search_filter, year_filter
from projects.models import Category, Project, Sector, State
from projects.selectors import project_search


def is_row_id(value: str) -> bool:
    """Whether VALUE (a programme's id or code) can be a row's id: ASCII digits (`¹` is a digit to Python, not to
    int()) within the id column's range."""
    return value.isascii() and value.isdigit() and int(value) <= BIGINT_MAX


# --- projects ----------------------------------------------------------------------------------------------


class ProjectFilter(FilterSet):
    program = django_filters.CharFilter(method="filter_program", help_text="The programme's id or code.")
    pairing = id_filter("pairing_id")
    state = django_filters.MultipleChoiceFilter(
        choices=State.choices,
        method="filter_state",
        help_text="One or more states, repeated (`state=a&state=b`) or comma-separated (`state=a,b`).",
    )
    category = django_filters.ChoiceFilter(choices=Category.choices)
    sector = django_filters.ChoiceFilter(choices=Sector.choices)
    region = django_filters.CharFilter(
        method="filter_region",
        help_text=(
            "A region's code, or a name one region has: projects located within it, or whose pairing's recipient "
            "region lies within it."
        ),
    )
    year = year_filter("planned_start", lookup_expr="year", help_text="The year of the planned start.")
    search = search_filter(
        "Words in any order, each of which must match: part of the code or the title, or a place — the location's "
        "or the pairing's recipient region's name (Chinese, English or pinyin) or code, and the regions within "
        "it — or the pairing's assisting party or programme by name."
    )
    assisting_organization = id_filter("pairing__assisting_organization_id")

    class Meta:
        model = Project
        fields = [
            "program",
            "pairing",
            "state",
            "category",
            "sector",
            "region",
            "year",
            "search",
            "assisting_organization",
        ]

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        if data is not None and hasattr(data, "getlist") and "state" in data:
            # `state=a,b` and `state=a&state=b` alike: split before the choices are checked.
            data = data.copy()
            data.setlist("state", [s.strip() for v in data.getlist("state") for s in v.split(",") if s.strip()])
        super().__init__(data, *args, **kwargs)

    def filter_program(self, queryset: QuerySet[Project], name: str, value: str) -> QuerySet[Project]:
        match = Q(pairing__program__code=value)
        if is_row_id(value):
            match |= Q(pairing__program_id=int(value))
        return queryset.filter(match)

    def filter_state(self, queryset: QuerySet[Project], name: str, value: list[str]) -> QuerySet[Project]:
        return queryset.filter(state__in=value) if value else queryset

    def filter_region(self, queryset: QuerySet[Project], name: str, value: str) -> QuerySet[Project]:
        region = region_param(value, name)
        return queryset.filter(
            Q(location__path__startswith=region.path) | Q(pairing__recipient_region__path__startswith=region.path)
        )

    def filter_search(self, queryset: QuerySet[Project], name: str, value: str) -> QuerySet[Project]:
        return project_search(queryset, value)
