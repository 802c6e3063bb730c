from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.fields import get_error_detail
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

from .bounds import INT_MAX
from .filters import WholeNumberField


def whole_number(request: Request, name: str, *, min_value: int, max_value: int | None = None) -> int | None:
    """The query parameter `name` as a whole number in range, None when it is not given; otherwise a 400 naming
    it (in the error format, with Django's own messages). Given empty (`?page=`) it is refused too: the schema
    promises a number, and a client that sends the parameter means one."""
    raw = request.query_params.get(name, "")
    if raw == "" and name in request.query_params:
        message = _("Enter a whole number, or leave the parameter out.")
        raise serializers.ValidationError({name: [serializers.ErrorDetail(message, code="blank")]})
    field = WholeNumberField(required=False, min_value=min_value, max_value=max_value)
    try:
        return field.clean(raw)
    except DjangoValidationError as exc:
        raise serializers.ValidationError({name: get_error_detail(exc)}) from None


class StandardPagination(PageNumberPagination):
    """`count`, `next`, `previous`, `results`; `page_size` up to 200.

    `page` is a whole number from 1 (a page past the last is a 404); `page_size` a whole number from 1, larger
    ones counting as 200. Anything else is a 400 naming the parameter."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    # A page number whose offset still fits the database's offsets at any page size.
    max_page = INT_MAX

    def get_page_size(self, request: Request) -> int:
        size = whole_number(request, self.page_size_query_param, min_value=1)
        return self.page_size if size is None else min(size, self.max_page_size)

    def requested_page(self, request: Request) -> int:
        """The page asked for, 1 when none is."""
        number = whole_number(request, self.page_query_param, min_value=1, max_value=self.max_page)
        return 1 if number is None else number

    def get_page_number(self, request: Request, paginator: Paginator) -> int:
        return self.requested_page(request)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page}
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
                parameter["description"] = (
                    f"{parameter['description']} Larger than {self.max_page_size} counts as {self.max_page_size}."
                )
        return parameters
