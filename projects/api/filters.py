"""Query filters and ordering of the project list."""

from typing import Any

import django_filters
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request

from core.api.bounds import BIGINT_MAX
from core.api.filters import FilterSet, id_filter, year_filter
from core.models import Region
from projects.models import Category, Project, Sector, State


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
        help_text="A region's code: projects located within it, or whose pairing's recipient region lies within it.",
    )
    year = year_filter("planned_start", lookup_expr="year", help_text="The year of the planned start.")
    search = django_filters.CharFilter(method="filter_search", help_text="Part of the code or the title.")
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
        region = Region.objects.filter(code=value).first()
        if region is None:
            raise serializers.ValidationError(
                {
                    name: [
                        serializers.ErrorDetail(
                            _("No region has the code %(code)s.") % {"code": value}, "unknown_region"
                        )
                    ]
                }
            )
        return queryset.filter(
            Q(location__path__startswith=region.path) | Q(pairing__recipient_region__path__startswith=region.path)
        )

    def filter_search(self, queryset: QuerySet[Project], name: str, value: str) -> QuerySet[Project]:
        return queryset.filter(Q(code__icontains=value) | Q(title__icontains=value))


class StrictOrderingFilter(OrderingFilter):
    """`ordering` by the listed fields only (an unknown one is a 400, not ignored). Rows without the value come
    last either way, and ties are broken by id so that pages do not overlap."""

    ordering_description = (
        "Order by code, title, state, budget_requested, planned_start or created_at; `-` in front for descending, "
        "several separated by commas. Newest first by default."
    )

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        term = "-?(?:" + "|".join(view.ordering_fields) + ")"
        for parameter in parameters:
            if parameter["name"] == self.ordering_param:
                # Empty: the default order.
                parameter["schema"] = {"type": "string", "pattern": f"^(?:{term}(?:,{term})*)?$"}
        return parameters

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> list[Any]:
        params = request.query_params.get(self.ordering_param) or ""
        terms = [term.strip() for term in params.split(",") if term.strip()]
        if not terms:
            return list(self.get_default_ordering(view) or [])
        allowed = set(view.ordering_fields)
        unknown = [term for term in terms if term.lstrip("-") not in allowed]
        if unknown:
            raise serializers.ValidationError(
                {
                    self.ordering_param: [
                        serializers.ErrorDetail(
                            _("Order by one of: %(fields)s.") % {"fields": ", ".join(view.ordering_fields)},
                            code="invalid_choice",
                        )
                    ]
                }
            )
        terms.append("-id" if terms[-1].startswith("-") else "id")
        return [
            F(term[1:]).desc(nulls_last=True) if term.startswith("-") else F(term).asc(nulls_last=True)
            for term in terms
        ]
