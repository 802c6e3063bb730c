"""The project list's pages: by number (`page`, as every list) or by key (`cursor`, projects/keyset.py).

A page by number costs what it skips (OFFSET); a page by key costs what page 1 costs however deep it is, so a
client that walks the whole list, or wants its end, asks by cursor. The two are not mixed in one request."""

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.request import Request

from core.api.pagination import StandardPagination
from projects import keyset


class ProjectPagination(StandardPagination):
    """StandardPagination with `cursor` beside `page` (ProjectViewSet.list serves both)."""

    cursor_query_param = "cursor"

    def requested_cursor(self, request: Request) -> str | None:
        """The cursor asked for (None: pages by number); with `page` as well, a 400 naming `cursor`."""
        if self.cursor_query_param not in request.query_params:
            return None
        if self.page_query_param in request.query_params:
            raise serializers.ValidationError(
                {
                    self.cursor_query_param: [
                        serializers.ErrorDetail(
                            _("Ask for a page by number or by cursor, not both."), code="page_and_cursor"
                        )
                    ]
                }
            )
        return request.query_params.get(self.cursor_query_param, "")

    @staticmethod
    def refuse_cursor() -> serializers.ValidationError:
        return serializers.ValidationError(
            {"cursor": [serializers.ErrorDetail(keyset.message(), code="invalid_cursor")]}
        )

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        parameters.append(
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": (
                    "Pages by key instead of by number: `first`, `last`, or a cursor from a response's `next`, "
                    "`previous`, `first` or `last` link (opaque; valid for the ordering it was made with). Any page, "
                    "the last included, costs what the first costs. Not together with `page`. A cursor that is "
                    "not one of the list's, or is of another ordering, is a 400 naming `cursor`. The response adds "
                    "`first` and `last` links; its `count` is exact, filtered or not."
                ),
                "schema": {"type": "string", "maxLength": keyset.MAX_CURSOR_LENGTH},
            }
        )
        return parameters

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        response = super().get_paginated_response_schema(schema)
        for name, which in (("first", "first"), ("last", "last")):
            response["properties"][name] = {
                "type": "string",
                "format": "uri",
                "nullable": True,
                "description": f"With `cursor` only: the {which} page's link (by cursor).",
            }
        return response
