from typing import Any

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
