"""The API's one error format for every 4xx: {"errors": [{"code", "message", "field"}]}."""

import re
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.fields import get_error_detail
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError

NON_FIELD = {"non_field_errors", "__all__"}


def _flatten(detail: Any, field: str | None, out: list[dict[str, Any]]) -> None:
    if isinstance(detail, dict):
        for key, value in detail.items():
            # A nested serializer's own (non-field) errors belong to the field that holds it.
            name = field if key in NON_FIELD else (f"{field}.{key}" if field else str(key))
            _flatten(value, name, out)
    elif isinstance(detail, list):
        for i, value in enumerate(detail):
            # Lists of dicts are nested serializers (many=True): keep the index in the field path.
            sub = f"{field}.{i}" if isinstance(value, dict) and field else field
            _flatten(value, sub, out)
    else:
        code = getattr(detail, "code", None) or "invalid"
        out.append({"code": str(code), "message": str(detail), "field": field})


def errors_body(detail: Any) -> dict[str, list[dict[str, Any]]]:
    out: list[dict[str, Any]] = []
    _flatten(detail, None, out)
    return {"errors": out}


_WHERE = re.compile(r"line (\d+) column (\d+)")


def _parse_error(exc: exceptions.ParseError) -> exceptions.ParseError:
    """DRF's parse errors carry the parser's own English ("JSON parse error - Expecting value: line 1 column 45"):
    say it in the caller's language, keeping where the body went wrong."""
    text = str(exc.detail)
    if text.startswith("JSON parse error"):
        where = _WHERE.search(text)
        message = (
            _("The body is not valid JSON: the error is at line %(line)s, column %(column)s.")
            % {"line": where.group(1), "column": where.group(2)}
            if where
            else _("The body is not valid JSON.")
        )
    elif text.startswith("Multipart form parse error"):
        message = _("The body could not be read as a multipart form.")
    else:
        return exc
    return exceptions.ParseError(message, code="parse_error")


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        body = {"errors": [{"code": p.code, "message": str(p.message), "field": p.field} for p in exc.problems]}
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        # get_error_detail keeps each message's code ("required", "unique", ...), which message_dict drops.
        django_detail = get_error_detail(exc)
        exc = exceptions.ValidationError(
            django_detail if isinstance(django_detail, dict) else {"non_field_errors": django_detail}
        )
    if isinstance(exc, exceptions.ParseError):
        exc = _parse_error(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.APIException):
        detail: Any = exc.detail
        if isinstance(detail, str) or not isinstance(detail, dict | list):
            codes = exc.get_codes()
            detail = [exceptions.ErrorDetail(str(detail), code=codes if isinstance(codes, str) else exc.default_code)]
        response.data = errors_body(detail)
    if response.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
        response.data = errors_body([exceptions.ErrorDetail(str(exc.detail), code="method_not_allowed")])  # type: ignore[attr-defined]
    return response
