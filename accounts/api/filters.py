"""Query filters of the organization and user lists."""

from typing import Any

import django_filters

from accounts.models import Organization, OrganizationKind, Role, User
from accounts.selectors import organization_search, user_search
from core.api.filters import FilterSet, id_filter, search_filter


class OrganizationFilter(FilterSet):
    kind = django_filters.ChoiceFilter(choices=OrganizationKind.choices)
    parent = id_filter("parent_id")
    region = django_filters.CharFilter(field_name="region__code")
    search = search_filter("Words in any order, each of which must be part of the Chinese or English name.")

    class Meta:
        model = Organization
        fields = ["kind", "parent", "region", "is_active"]

    def filter_search(self, queryset: Any, name: str, value: str) -> Any:
        return organization_search(queryset, value)


class UserFilter(FilterSet):
    organization = id_filter("organization_id")
    role = django_filters.ChoiceFilter(choices=Role.choices, field_name="role_assignments__role")
    search = search_filter(
        "Words in any order, each of which must be part of the username, the first or last name, or the "
        "organization's name."
    )

    class Meta:
        model = User
        fields = ["organization", "role", "is_active"]

    def filter_search(self, queryset: Any, name: str, value: str) -> Any:
        return user_search(queryset, value)
