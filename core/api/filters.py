"""Filters every app's API uses, and the FilterSet their lists derive from.

A number in a query string is a whole number within the range of the column it reaches, checked before the query
is built: one out of range, an id below 1, a float or a word is a 400 naming the parameter (the error format of
core/api/errors.py), never an overflow in the database. The schema documents each range.
"""

from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request

from core.models import Region
from core.selectors import MAX_SEARCH_LENGTH, MAX_SEARCH_WORDS, region_by_code_or_name

from .bounds import BIGINT_MAX, DATE_YEAR_MAX, INT_MAX, SMALLINT_MAX


class WholeNumberField(forms.DecimalField):
    """A whole number, refused as a decimal is (`max_decimal_places` for 2012.5, `max_value`, `min_value`,
    `invalid`), handed on as an int."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(decimal_places=0, **kwargs)

    def clean(self, value: Any) -> int | None:  # type: ignore[override]
        number = super().clean(value)
        return None if number is None else int(number)


class IntegerFilter(django_filters.NumberFilter):
    """A whole number from `min_value` to `max_value`."""

    field_class = WholeNumberField

    def __init__(self, *args: Any, min_value: int, max_value: int, **kwargs: Any) -> None:
        super().__init__(*args, min_value=min_value, max_value=max_value, **kwargs)
        schema: dict[str, Any] = {"type": "integer", "minimum": min_value, "maximum": max_value}
        if kwargs.get("help_text"):
            schema["description"] = str(kwargs["help_text"])
        # Documented as the filter's own schema: drf-spectacular would otherwise call an id `number`, unbounded.
        extend_schema_field(schema)(self)

    def get_max_validator(self) -> None:
        # The form field's own max_value bounds the number; NumberFilter's default (1e50) would only repeat it.
        return None


def year_filter(field_name: str | None = None, *, max_value: int = DATE_YEAR_MAX, **kwargs: Any) -> IntegerFilter:
    """A whole year: by default one a date can hold (a date lookup on year 99999 would fail in the database layer);
    `max_value` for a year stored in a column of its own."""
    if field_name is not None:
        kwargs["field_name"] = field_name
    return IntegerFilter(min_value=1, max_value=max_value, **kwargs)


def id_filter(field_name: str, *, max_value: int = BIGINT_MAX, **kwargs: Any) -> IntegerFilter:
    """A row's id: 1 to the largest its column holds (ids are `bigint` unless a model says otherwise)."""
    return IntegerFilter(field_name=field_name, min_value=1, max_value=max_value, **kwargs)


def _column_range(minimum: int, maximum: int) -> dict[str, Any]:
    return {"filter_class": IntegerFilter, "extra": lambda field: {"min_value": minimum, "max_value": maximum}}


class FilterSet(django_filters.FilterSet):
    """The FilterSet of every API list. Declared number filters are `id_filter` and `year_filter`; those that
    Meta.fields generates from integer columns are bounded by their column's range in the same way."""

    # The most specific column class wins (django-filter walks each field's classes in order).
    FILTER_DEFAULTS = {
        **django_filters.FilterSet.FILTER_DEFAULTS,
        models.AutoField: _column_range(1, INT_MAX),
        models.BigAutoField: _column_range(1, BIGINT_MAX),
        models.SmallAutoField: _column_range(1, SMALLINT_MAX),
        models.IntegerField: _column_range(-INT_MAX - 1, INT_MAX),
        models.SmallIntegerField: _column_range(-SMALLINT_MAX - 1, SMALLINT_MAX),
        models.BigIntegerField: _column_range(-BIGINT_MAX - 1, BIGINT_MAX),
        models.PositiveIntegerField: _column_range(0, INT_MAX),
        models.PositiveSmallIntegerField: _column_range(0, SMALLINT_MAX),
        models.PositiveBigIntegerField: _column_range(0, BIGINT_MAX),
    }


def _few_words(value: str) -> None:
    if len(value.split()) > MAX_SEARCH_WORDS:
        raise ValidationError(
            _("Search with at most %(count)d words.") % {"count": MAX_SEARCH_WORDS}, code="too_many_words"
        )


def search_filter(help_text: str, method: str = "filter_search") -> django_filters.CharFilter:
    """A list's `search`: words in any order, every one of which must match (the list's search selector says
    where). At most MAX_SEARCH_LENGTH characters and MAX_SEARCH_WORDS words: more is a 400 naming `search`."""
    help_text = f"{help_text} At most {MAX_SEARCH_WORDS} words."
    search = django_filters.CharFilter(
        method=method, help_text=help_text, max_length=MAX_SEARCH_LENGTH, validators=[_few_words]
    )
    extend_schema_field({"type": "string", "maxLength": MAX_SEARCH_LENGTH, "description": help_text})(search)
    return search


class StrictOrderingFilter(OrderingFilter):
    """`ordering` by the view's `ordering_fields` only (an unknown one is a 400 naming `ordering`, not ignored).
    A field the view lists in `ordering_expressions` orders by that expression (a name, an annotation); the
    others by the column of that name. Rows without the value come last either way, and ties are broken by id so
    that pages do not overlap. The view's `ordering_help` ends the parameter's description (the default order)."""

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        term = "-?(?:" + "|".join(view.ordering_fields) + ")"
        fields = list(view.ordering_fields)
        description = (
            f"Order by {', '.join(fields[:-1])} or {fields[-1]}; `-` in front for descending, several separated by "
            f"commas. {getattr(view, 'ordering_help', '')}"
        ).strip()
        for parameter in parameters:
            if parameter["name"] == self.ordering_param:
                # Empty: the default order.
                parameter["schema"] = {"type": "string", "pattern": f"^(?:{term}(?:,{term})*)?$"}
                parameter["description"] = description
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
        expressions = getattr(view, "ordering_expressions", None) or {}
        ordering = []
        for term in terms:
            name = term.lstrip("-")
            expression = expressions.get(name, F(name))
            ordering.append(
                expression.desc(nulls_last=True) if term.startswith("-") else expression.asc(nulls_last=True)
            )
        return ordering


def region_param(value: str, name: str) -> Region:
    """The region a filter parameter NAME names — its code, or a name one current region has (as the pages' region
    picker takes it) — or a 400 naming NAME (`unknown_region`, `ambiguous_region`)."""
    try:
        return region_by_code_or_name(value)
    except ValidationError as exc:
        problem = exc.error_list[0]
        message = problem.message % problem.params if problem.params else problem.message
        raise serializers.ValidationError({name: [serializers.ErrorDetail(str(message), problem.code)]}) from None
