"""Query filters of the organization and user lists."""

from typing import Any

import django_filters

from accounts.models import Organization, OrganizationKind, Role, User
from core.api.filters import FilterSet, id_filter


class OrganizationFilter(FilterSet):
    kind = django_filters.ChoiceFilter(choices=OrganizationKind.choices)
    parent = id_filter("parent_id")
    region = django_filters.CharFilter(field_name="region__code")
    search = django_filters.CharFilter(method="filter_search")

    class Meta:
        model = Organization
        fields = ["kind", "parent", "region", "is_active"]

    def filter_search(self, queryset: Any, name: str, value: str) -> Any:
        from django.db.models import Q

        return queryset.filter(Q(name__icontains=value) | Q(name_en__icontains=value))


class UserFilter(FilterSet):
    organization = id_filter("organization_id")
    role = django_filters.ChoiceFilter(choices=Role.choices, field_name="role_assignments__role")
    search = django_filters.CharFilter(
        method="filter_search", help_text="Part of the username, the first or last name, or the organization's name."
    )

    class Meta:
        model = User
        fields = ["organization", "role", "is_active"]

    def filter_search(self, queryset: Any, name: str, value: str) -> Any:
        from django.db.models import Q

        return queryset.filter(
            Q(username__icontains=value)
            | Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
            | Q(organization__name__icontains=value)
            | Q(organization__name_en__icontains=value)
        )
