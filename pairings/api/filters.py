"""Query filters of the pairings API's lists."""

from typing import Any

import django_filters
from django.db.models import Q, QuerySet

from core.api.bounds import BIGINT_MAX
from core.api.filters import FilterSet, id_filter, region_param, search_filter, year_filter
from pairings.models import (
    ContractingMode,
    Deployment,
    DeploymentKind,
    FiscalRevenue,
    FlowKind,
    FlowSource,
    FundFlow,
    Pairing,
    PairingStatus,
    Program,
    ProgramModel,
    Training,
)
from pairings.selectors import pairing_search

# --- serializer building blocks ----------------------------------------------------------------------------


# --- programmes --------------------------------------------------------------------------------------------


class ProgramFilter(FilterSet):
    model = django_filters.ChoiceFilter(choices=ProgramModel.choices)
    year = year_filter(method="filter_year", help_text="Programmes running in this year.")

    class Meta:
        model = Program
        fields = ["model", "year"]

    def filter_year(self, queryset: QuerySet[Program], name: str, value: Any) -> QuerySet[Program]:
        year = int(value)
        return queryset.filter(Q(start_year__lte=year), Q(end_year__isnull=True) | Q(end_year__gte=year))


# --- pairings ----------------------------------------------------------------------------------------------


class PairingFilter(FilterSet):
    program = django_filters.CharFilter(method="filter_program", help_text="The programme's id or code.")
    assisting_organization = id_filter("assisting_organization_id")
    recipient_region = django_filters.CharFilter(
        method="filter_recipient_region",
        help_text=(
            "A region's code, or a name one region has: pairings whose recipient region is that region or lies "
            "within it."
        ),
    )
    status = django_filters.ChoiceFilter(choices=PairingStatus.choices)
    contracting_mode = django_filters.ChoiceFilter(choices=ContractingMode.choices)
    parent = id_filter("parent_id", help_text="The parent pairing's id.")
    search = search_filter(
        "Words in any order, each of which must match: the recipient region (its Chinese, English or pinyin name or "
        "its code, or a region it lies within), the assisting party's name, or the programme's code or name."
    )

    class Meta:
        model = Pairing
        fields = [
            "program",
            "assisting_organization",
            "recipient_region",
            "status",
            "contracting_mode",
            "parent",
            "search",
        ]

    def filter_program(self, queryset: QuerySet[Pairing], name: str, value: str) -> QuerySet[Pairing]:
        match = Q(program__code=value)
        if value.isascii() and value.isdigit() and int(value) <= BIGINT_MAX:  # `¹` is a digit to Python, not to int()
            match |= Q(program_id=int(value))
        return queryset.filter(match)

    def filter_recipient_region(self, queryset: QuerySet[Pairing], name: str, value: str) -> QuerySet[Pairing]:
        return queryset.filter(recipient_region__path__startswith=region_param(value, name).path)

    def filter_search(self, queryset: QuerySet[Pairing], name: str, value: str) -> QuerySet[Pairing]:
        return pairing_search(queryset, value)


# --- fiscal revenue ----------------------------------------------------------------------------------------


class FiscalRevenueFilter(FilterSet):
    organization = id_filter("organization_id")
    year = year_filter(field_name="year")

    class Meta:
        model = FiscalRevenue
        fields = ["organization", "year"]


# --- fund flows --------------------------------------------------------------------------------------------


class FundFlowFilter(FilterSet):
    pairing = id_filter("pairing_id")
    kind = django_filters.ChoiceFilter(choices=FlowKind.choices)
    source = django_filters.ChoiceFilter(choices=FlowSource.choices)
    project = id_filter("project_id")
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte", help_text="On or after this date.")
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte", help_text="On or before this date.")
    year = year_filter(field_name="date", lookup_expr="year")

    class Meta:
        model = FundFlow
        fields = ["pairing", "kind", "source", "project", "date_after", "date_before", "year"]


# --- people ------------------------------------------------------------------------------------------------


class DeploymentFilter(FilterSet):
    pairing = id_filter("pairing_id")
    kind = django_filters.ChoiceFilter(choices=DeploymentKind.choices)
    year = year_filter(
        method="filter_year", help_text="Deployments in post during this year (started by its end, not ended before)."
    )

    class Meta:
        model = Deployment
        fields = ["pairing", "kind", "year"]

    def filter_year(self, queryset: QuerySet[Deployment], name: str, value: Any) -> QuerySet[Deployment]:
        year = int(value)
        return queryset.filter(Q(start_date__year__lte=year), Q(end_date__isnull=True) | Q(end_date__year__gte=year))


class TrainingFilter(FilterSet):
    pairing = id_filter("pairing_id")
    year = year_filter(field_name="start_date", lookup_expr="year")

    class Meta:
        model = Training
        fields = ["pairing", "year"]
