"""Regions: the reference table, readable by anyone signed in."""

from typing import Any

import django_filters
from django.utils.translation import gettext as _
from rest_framework import serializers, viewsets

from core.api.filters import FilterSet, search_filter
from core.api.routers import PLAIN_CODE
from core.models import Region, RegionLevel
from core.selectors import region_search


class RegionSerializer(serializers.ModelSerializer):
    # `parent` shadows Field.parent in the type stubs only; DRF collects declared fields by name.
    # allow_null: each is null when there is none, and the schema says so.
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)  # type: ignore[assignment,var-annotated]
    city = serializers.SlugRelatedField[Region](
        slug_field="code",
        read_only=True,
        allow_null=True,
        help_text="For an XPCC division: the code of the city it runs, if any.",
    )
    superseded_by = serializers.SlugRelatedField[Region](
        slug_field="code",
        read_only=True,
        allow_null=True,
        help_text="For a retired code kept as an alias: the code of the region that replaced it.",
    )

    class Meta:
        model = Region
        fields = [
            "id",
            "code",
            "name",
            "name_en",
            "level",
            "is_xpcc",
            "division_number",
            "city",
            "superseded_by",
            "parent",
            "longitude",
            "latitude",
            "source",
        ]


class RegionFilter(FilterSet):
    code = django_filters.CharFilter(field_name="code")
    level = django_filters.ChoiceFilter(choices=RegionLevel.choices)
    parent = django_filters.CharFilter(method="filter_parent", help_text="The parent region's code.")
    within = django_filters.CharFilter(method="filter_within", help_text="A region's code: it and its subtree.")
    search = search_filter(
        "Words in any order, each of which must match: the start of the code, part of the Chinese or English name, "
        "or the start of the name's pinyin or its initials (shufu or sfx for 疏附县); pinyin may be typed with "
        "spaces."
    )

    class Meta:
        model = Region
        fields = ["code", "level", "parent", "within", "search", "is_xpcc", "division_number"]

    def _region(self, code: str, name: str) -> Region:
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise serializers.ValidationError(
                {
                    name: [
                        serializers.ErrorDetail(
                            _("No region has the code %(code)s.") % {"code": code}, code="unknown_region"
                        )
                    ]
                }
            )
        return region

    def filter_parent(self, queryset: Any, name: str, value: str) -> Any:
        return queryset.filter(parent=self._region(value, name))

    def filter_within(self, queryset: Any, name: str, value: str) -> Any:
        return queryset.filter(path__startswith=self._region(value, name).path)

    def filter_search(self, queryset: Any, name: str, value: str) -> Any:
        return region_search(queryset, value)


class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    """Administrative divisions (GB/T 2260). Filter by `code`, `level`, `parent` (code), `within` (code), `search`."""

    queryset = Region.objects.select_related("parent", "city", "superseded_by").order_by("code")
    serializer_class = RegionSerializer
    filterset_class = RegionFilter
    lookup_field = "code"
    # GB/T 2260 codes are digits; the XPCC's divisions have codes of their own (`XPCC-8`).
    lookup_value_regex = PLAIN_CODE
