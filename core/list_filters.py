"""The query string of an HTML list, read once: its filters by the API's FilterSet for that list (the same names,
the same meaning, the same checks), its page numbers as whole numbers in range.

A value that does not pass — a word where a number goes, a number out of range, an unknown region, a page past the
last — is not ignored: the page answers 400, shows the list's form with the value kept and a message naming the
parameter, and lists nothing rather than something the user did not ask for.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import EmptyPage, Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError as FilterRefusal

from core.api.bounds import INT_MAX
from core.api.filters import WholeNumberField

Choices = Sequence[tuple[Any, Any]]


class OneOf(forms.Select):
    """A single select for a filter that takes several values (the API's `state=a&state=b`): the page offers one,
    the query string may still carry several."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return data.getlist(name) if hasattr(data, "getlist") else data.get(name)


class ListFilters:
    """One HTML list's filters: FILTERSET_CLASS (the API's) over QUERYSET, bound to the request's query string.

    SHOWN names the filters the page's form offers, each with its label; the other filters still apply (a link may
    carry them) and are kept in the form as hidden inputs. CHOICES turns a filter into a select of those choices
    (the first being the "any" choice); WIDGETS gives a filter another input (a region picker). `qs` is the filtered
    queryset — none at all when a value was refused —
    and `errors` the refusals by parameter.
    """

    def __init__(
        self,
        request: HttpRequest,
        filterset_class: type[django_filters.FilterSet],
        queryset: QuerySet[Any],
        *,
        shown: Mapping[str, str],
        choices: Mapping[str, Choices] | None = None,
        widgets: Mapping[str, forms.Widget] | None = None,
    ) -> None:
        self.request = request
        self.labels = dict(shown)
        self.errors: dict[str, list[str]] = {}
        self.filterset = filterset_class(request.GET, queryset=queryset, request=request)
        self.form = self.filterset.form
        for name, widget in (widgets or {}).items():
            if name in self.form.fields:
                self.form.fields[name].widget = widget
        self._dress(choices or {})
        self.qs: QuerySet[Any] = queryset.none()
        if not self.form.is_valid():
            self._refuse(self.form.errors)
            return
        try:
            self.qs = self.filterset.qs
        except FilterRefusal as exc:  # a filter's own check while filtering (an unknown region code)
            detail = exc.detail if isinstance(exc.detail, dict) else {"": exc.detail}
            self._refuse(detail)

    def _dress(self, choices: Mapping[str, Choices]) -> None:
        """The form as the page shows it: selects where there are choices, Bootstrap classes, labels."""
        self.form.auto_id = "filter-%s"  # apart from the ids of a form on the same page (the revenue form's)
        for name, field in self.form.fields.items():
            if name in choices:
                widget = OneOf if isinstance(field, forms.MultipleChoiceField) else forms.Select
                field.widget = widget(choices=choices[name])
            label = self.labels.get(name)
            if label:
                field.label = label
                field.widget.attrs.setdefault("aria-label", label)
                if not isinstance(field.widget, forms.Select):
                    field.widget.attrs.setdefault("placeholder", label)
            field.widget.attrs["class"] = "form-select" if isinstance(field.widget, forms.Select) else "form-control"

    def _refuse(self, errors: Mapping[str, Iterable[Any]]) -> None:
        for name, problems in errors.items():
            self.errors.setdefault(name, []).extend(str(p) for p in problems)
            if name in self.form.fields:
                self.form.fields[name].widget.attrs["class"] += " is-invalid"

    # --- what the template shows --------------------------------------------------------------------------

    @property
    def shown(self) -> list[forms.BoundField]:
        return [self.form[name] for name in self.labels if name in self.form.fields]

    @property
    def hidden(self) -> list[tuple[str, str]]:
        """The filters asked in the query string that the form does not offer, to keep them when it is sent."""
        return [
            (name, value)
            for name in self.form.fields
            if name not in self.labels
            for value in self.request.GET.getlist(name)
        ]

    @property
    def problems(self) -> list[tuple[str, str, str]]:
        """(parameter, its label, what is wrong) for each refused value."""
        return [(name, self.labels.get(name, ""), " ".join(msgs)) for name, msgs in self.errors.items()]

    @property
    def status(self) -> int:
        return 400 if self.errors else 200

    # --- pages --------------------------------------------------------------------------------------------

    def page(self, queryset: QuerySet[Any] | Sequence[Any], per_page: int, param: str = "page") -> Page:
        """The page named by the query parameter PARAM (1 when none is) of QUERYSET. A page that is not a whole
        number from 1, or past the last page, is refused like a filter; then, as when a filter was refused, the
        page is empty."""
        number = page_number(self.request, param, self.errors)
        if self.errors:
            return Paginator(queryset[:0], per_page).page(1)
        paginator = Paginator(queryset, per_page)
        try:
            return paginator.page(number)
        except EmptyPage:
            self.errors[param] = [
                _("There is no page %(number)s: the last page is %(last)s.")
                % {"number": number, "last": paginator.num_pages}
            ]
            return Paginator(queryset[:0], per_page).page(1)


def page_number(request: HttpRequest, param: str, errors: dict[str, list[str]]) -> int:
    """The query parameter PARAM as a page number (1 when not given); a refusal goes into ERRORS under PARAM."""
    try:
        number = number_param(request, param, min_value=1, max_value=INT_MAX)
    except ValidationError as exc:
        errors[param] = list(exc.messages)
        return 1
    return 1 if number is None else number


def number_param(request: HttpRequest, param: str, *, min_value: int, max_value: int) -> int | None:
    """The query parameter PARAM as a whole number from MIN_VALUE to MAX_VALUE, None when it is not given; a
    ValidationError with Django's own messages otherwise (a word, a fraction, a number out of range, a NUL)."""
    field = WholeNumberField(required=False, min_value=min_value, max_value=max_value)
    return field.clean(request.GET.get(param, ""))


def number_params(
    request: HttpRequest, ranges: Mapping[str, tuple[int, int]]
) -> tuple[dict[str, int | None], dict[str, list[str]]]:
    """The query parameters named in RANGES as whole numbers, each within its (least, greatest), None when not
    given; and the refusals by parameter."""
    values: dict[str, int | None] = {}
    errors: dict[str, list[str]] = {}
    for param, (least, greatest) in ranges.items():
        try:
            values[param] = number_param(request, param, min_value=least, max_value=greatest)
        except ValidationError as exc:
            values[param] = None
            errors[param] = list(exc.messages)
    return values, errors


def status_of(*lists: ListFilters) -> int:
    """The status of a page with several lists: 400 when any refused a value."""
    return 400 if any(each.errors for each in lists) else 200
