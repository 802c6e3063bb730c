from typing import Any, ClassVar, cast

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from .fields import CodeRelatedField


class StrictSerializerMixin:
    """Refuse keys the serializer does not know, so a typo in a client is a 400, not a silent no-op; and a number
    where text goes (DRF's CharField would take `0` as `"0"`), as the schema says a string."""

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            fields = self.fields  # type: ignore[attr-defined]
            unknown = sorted(set(data.keys()) - set(fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: [serializers.ErrorDetail(_("Unknown field."), code="unknown_field")] for name in unknown}
                )
            # A form's values are all text: only a JSON body can carry a number.
            not_text = {
                name: [serializers.ErrorDetail(str(fields[name].error_messages["invalid"]), code="invalid")]
                for name, value in data.items()
                if isinstance(fields[name], serializers.CharField) and isinstance(value, int | float)
            }
            if not_text:
                raise serializers.ValidationError(not_text)
        return super().to_internal_value(data)  # type: ignore[misc]


class WriteSerializerMixin(StrictSerializerMixin, serializers.Serializer):
    """Strict about keys: a key the serializer does not know is refused as `unknown_field`, and one the resource
    shows but this request may not set (an id, a status, a derived figure) as `read_only` — never ignored.

    `writable`, when set, narrows what a request may set: a PATCH usually changes less than a POST creates.
    """

    writable: ClassVar[frozenset[str] | None] = None

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        if self.writable is not None:
            for name, field in fields.items():
                if name not in self.writable and not field.read_only:
                    field.read_only = True
                    field.required = False
        return fields

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            refused: dict[str, list[serializers.ErrorDetail]] = {}
            for name in sorted(data.keys()):
                field = self.fields.get(name)
                if field is None:
                    refused[name] = [serializers.ErrorDetail(_("Unknown field."), code="unknown_field")]
                elif field.read_only:
                    refused[name] = [serializers.ErrorDetail(_("This field cannot be set here."), code="read_only")]
            if refused:
                raise serializers.ValidationError(refused)
        return super().to_internal_value(data)


class QuerySerializerMixin:
    """A serializer of query parameters: a parameter given empty (`?year=`) is refused (`blank`) rather than read
    as left out, as DRF reads an empty form field; a client that sends the parameter means a value."""

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "getlist"):
            blank = [name for name in self.fields if name in data and "" in data.getlist(name)]  # type: ignore[attr-defined]
            if blank:
                message = _("Enter a value, or leave the parameter out.")
                raise serializers.ValidationError(
                    {name: [serializers.ErrorDetail(message, code="blank")] for name in blank}
                )
        return super().to_internal_value(data)  # type: ignore[misc]


class DecimalFieldExtension(OpenApiSerializerFieldExtension):
    """A decimal string that may not be negative (`min_value` 0 or more) is documented without the `-` that
    drf-spectacular's pattern allows (it drops `min_value` from a decimal shown as a string)."""

    target_class = serializers.DecimalField
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> Any:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        min_value = self.target.min_value
        pattern = schema.get("pattern") if isinstance(schema, dict) else None
        if min_value is not None and min_value >= 0 and isinstance(pattern, str) and pattern.startswith("^-?"):
            schema["pattern"] = "^" + pattern[len("^-?") :]
        return schema


class CodeRelatedFieldExtension(OpenApiSerializerFieldExtension):
    """A code in a body is printable ASCII no longer than its column, as CodeRelatedField checks."""

    target_class = CodeRelatedField
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> Any:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        field = cast(CodeRelatedField, self.target)
        queryset = field.get_queryset()
        if isinstance(schema, dict) and queryset is not None:
            # An empty code is null to DRF when the field takes null.
            schema["pattern"] = "^[ -~]*$" if field.allow_null else "^[ -~]+$"
            if field.allow_null:
                schema.pop("minLength", None)
            max_length = queryset.model._meta.get_field(field.slug_field).max_length
            if max_length is not None:
                schema["maxLength"] = max_length
        return schema
