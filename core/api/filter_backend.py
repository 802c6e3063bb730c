"""The filter backend of every API list: django-filter's, stricter about what a query string may say.

An HTML form sends every field, the empty ones as `name=` meaning "any", so django-filter skips an empty value and
reads a boolean it does not understand as "any"; the HTML lists (core/list_filters.py) keep that. An API client
sends only what it means, and the schema promises a number, a date, a choice or a boolean for those parameters: an
empty one (`?kind=`, `?pairing=`) or a boolean other than `true`/`false` is a 400 naming the parameter, not a
filter silently left out; so is a parameter given twice unless it takes several values (`state`). An empty text
parameter (`?search=`) is still "any": the schema allows an empty string.
"""

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import serializers
from rest_framework.request import Request

BOOLEANS = {"true", "false"}


def _parameters(name: str, field: forms.Field) -> list[str]:
    """The query parameters the form field NAME reads: `date_after`/`date_before` for a range, else NAME."""
    suffixes = getattr(field.widget, "suffixes", None)
    if suffixes:
        return [f"{name}_{suffix}" if suffix else name for suffix in suffixes]
    return [name]


def _refusals(request: Request, filterset: django_filters.FilterSet) -> dict[str, list[serializers.ErrorDetail]]:
    refused: dict[str, list[serializers.ErrorDetail]] = {}
    params = request.query_params
    for name, field in filterset.form.fields.items():
        is_text = isinstance(field, forms.CharField)
        is_boolean = isinstance(field, forms.NullBooleanField)
        takes_several = isinstance(field, forms.MultipleChoiceField)
        for param in _parameters(name, field):
            values = params.getlist(param)
            if len(values) > 1 and not takes_several:
                # django-filter would read the last one and drop the others unchecked.
                refused[param] = [serializers.ErrorDetail(_("Give this parameter once."), code="invalid")]
                continue
            for value in values:
                if is_boolean and value.lower() not in BOOLEANS:
                    message = _("Enter true or false.")
                    refused[param] = [serializers.ErrorDetail(message, code="invalid")]
                elif value == "" and not is_text:
                    message = _("Enter a value, or leave the parameter out.")
                    refused[param] = [serializers.ErrorDetail(message, code="blank")]
    return refused


class StrictFilterBackend(DjangoFilterBackend):
    """DjangoFilterBackend refusing empty non-text values and booleans other than `true`/`false` (a 400)."""

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        filterset = self.get_filterset(request, queryset, view)
        if filterset is not None:
            refused = _refusals(request, filterset)
            if refused:
                raise serializers.ValidationError(refused)
        return super().filter_queryset(request, queryset, view)
