from typing import Any, ClassVar

from django.utils.translation import gettext as _
from rest_framework import serializers


class StrictSerializerMixin:
    """Refuse keys the serializer does not know, so a typo in a client is a 400, not a silent no-op."""

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            known = set(self.fields)  # type: ignore[attr-defined]
            unknown = sorted(set(data.keys()) - known)
            if unknown:
                raise serializers.ValidationError(
                    {name: [serializers.ErrorDetail(_("Unknown field."), code="unknown_field")] for name in unknown}
                )
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
