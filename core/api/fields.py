"""Serializer fields every app's API uses: money and fractions as stored, named enums, users by username, and
ids looked up within the caller's scope."""

from collections.abc import Callable
from typing import Any, cast

from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from core.models import Region

from .caller import user_of


def money(**kwargs: Any) -> serializers.DecimalField:
    """Yuan, as a decimal string with two places."""
    return serializers.DecimalField(max_digits=18, decimal_places=2, **kwargs)


def fraction(**kwargs: Any) -> serializers.DecimalField:
    # Six places as stored; the whole part is left wide so that "1.5" reaches the service and is refused
    # there as above 1 (`max_value`), not as a malformed number.
    return serializers.DecimalField(max_digits=12, decimal_places=6, required=False, allow_null=True, **kwargs)


class CodeRelatedField(serializers.SlugRelatedField):
    """A row named by its code (`slug_field`), the code checked before it reaches the database: a code is printable
    ASCII no longer than its column, so a NUL byte (which PostgreSQL refuses with a DataError, a 500), a control
    character or a code too long is a 400 naming the field (`invalid`), never a query."""

    default_error_messages = {
        "invalid": _("Not a valid code."),
        "does_not_exist": _("Nothing has the code {value}."),
    }

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str) or not data.isascii() or not data.isprintable():
            self.fail("invalid")
        queryset = self.get_queryset()
        max_length = queryset.model._meta.get_field(self.slug_field).max_length if queryset is not None else None
        if max_length is not None and len(data) > max_length:
            self.fail("invalid")
        return super().to_internal_value(data)


def region_by_code(**kwargs: Any) -> CodeRelatedField:
    """A region in a body, by its code (`650000`)."""
    return CodeRelatedField(slug_field="code", queryset=Region.objects.all(), **kwargs)


def by_username() -> "serializers.SlugRelatedField[Any]":
    """A user shown by their username (null when the system acted)."""
    return serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)


class NamedChoiceField(serializers.ChoiceField):
    """A choice field documented as its own named enum component (`FundFlowKindEnum`) in the schema.

    drf-spectacular names enums after the field; `kind` already names the organizations' enum, which two
    components share, so a second `kind` enum makes it warn and fall back to a hashed name. A named component
    keeps every name readable without touching the settings' ENUM_NAME_OVERRIDES.
    """

    def __init__(self, choices: type[models.TextChoices], *, enum_name: str, **kwargs: Any) -> None:
        self.enum_name = enum_name
        super().__init__(choices=choices.choices, **kwargs)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField

    def get_name(self) -> str | None:
        return cast(NamedChoiceField, self.target).enum_name

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        field = cast(NamedChoiceField, self.target)
        return {
            "type": "string",
            "enum": list(field.choices),
            "description": "\n".join(f"* `{value}` - {label}" for value, label in field.choices.items()),
        }


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """An id in a body, looked up among the rows the caller may see (`visible_to(user)`, the owning app's
    selector): one outside the caller's scope is as unknown as a missing one, so the field never confirms
    that a hidden row exists. Without a request nothing is visible."""

    def __init__(self, model: type[models.Model], visible_to: Callable[[Any], QuerySet[Any]], **kwargs: Any) -> None:
        self.related_model = model
        self.visible_to = visible_to
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        request = self.context.get("request")
        if request is None:
            return self.related_model._default_manager.none()
        return self.visible_to(user_of(request))
