"""Serializer fields of the evaluation API: scores and measured values rounded for output, a programme by id
or code, grade bands."""

import re
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.routers import PLAIN_CODE
from evaluation.models import Ranking
from pairings.models import Program


def rounded(value: float | None, places: int) -> float | None:
    return None if value is None else round(float(value), places)


def find_program(value: str) -> Program | None:
    """A programme by its code or its numeric id (a code wins over an id, as in `programs/{code_or_id}/`)."""
    value = value.strip()
    # A code is a slug: a NUL byte or any other odd character would be refused by the database, not matched.
    if not re.fullmatch(PLAIN_CODE, value):
        return None
    program = Program.objects.filter(code=value).first()
    # isascii: `¹` is a digit to str.isdigit, not to int().
    if program is None and value.isascii() and value.isdigit() and int(value) <= 2**31 - 1:
        program = Program.objects.filter(pk=int(value)).first()
    return program


# --- fields ------------------------------------------------------------------------------------------------


class ScoreField(serializers.FloatField):
    """A 0–100 score, rounded to 2 places for output (null when nothing could be measured)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        kwargs["help_text"] = f"{kwargs.get('help_text') or 'A score from 0 to 100.'} Rounded to 2 places."
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> float | None:  # type: ignore[override]
        return rounded(value, 2)


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "number", "nullable": True},
        "description": "Indicator code → measured value (4 places; null when there was nothing to measure).",
    }
)
class MeasuresField(serializers.Field):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> dict[str, float | None]:
        return {str(k): rounded(v, 4) for k, v in (value or {}).items()}


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string", "pattern": r"[^\s\x1c-\x1f]"}],
        "description": "The programme's id or its code (e.g. `xinjiang-2010`); a code wins over an id.",
    }
)
class ProgramField(serializers.Field):
    default_error_messages = {
        "invalid": gettext_lazy("Give the programme's id or code."),
        "does_not_exist": gettext_lazy("No programme has the id or code {value}."),
    }

    def to_internal_value(self, data: Any) -> Program:
        if isinstance(data, bool) or not isinstance(data, int | str) or not str(data).strip():
            self.fail("invalid")
        program = find_program(str(data))
        if program is None:
            self.fail("does_not_exist", value=str(data)[:100])
        assert program is not None  # noqa: S101 — an invariant of our own code, not a check of input
        return program

    def to_representation(self, value: Program) -> int:
        return value.pk


GRADE_MAX_LENGTH = Ranking._meta.get_field("grade").max_length or 8


@extend_schema_field(
    {
        "type": "array",
        "nullable": True,
        "items": {
            "type": "array",
            "minItems": 2,
            "maxItems": 2,
            "items": {"oneOf": [{"type": "number"}, {"type": "string"}]},
        },
        "description": 'Pairs [lowest score, grade], e.g. [[90, "A"], [75, "B"], [60, "C"], [0, "D"]]; '
        "one band starts at 0. Left out: the default bands.",
        "example": [[90, "A"], [75, "B"], [60, "C"], [0, "D"]],
    }
)
class GradeBandsField(serializers.JSONField):
    """[[lowest score, grade], ...]: the shape here (pairs, a grade that fits its column), the meaning (scores
    from 0 to 100, one band at 0) in the service."""

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        if value is None:
            return None
        ok = isinstance(value, list) and all(
            isinstance(band, list)
            and len(band) == 2
            and not isinstance(band[0], bool)
            and isinstance(band[0], int | float | str)
            and isinstance(band[1], str)
            and 0 < len(band[1].strip()) <= GRADE_MAX_LENGTH
            for band in value
        )
        if not ok:
            raise serializers.ValidationError(
                _("Grade bands are pairs [lowest score, grade], the grade %(n)s characters at most.")
                % {"n": GRADE_MAX_LENGTH},
                code="invalid_grade_bands",
            )
        return value


# --- what a run produces -----------------------------------------------------------------------------------


class RoundedItemsField(serializers.Field):
    """A stored list of small objects, their measured values rounded to 4 places for output."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> list[dict[str, Any]]:
        return [
            {k: rounded(v, 4) if isinstance(v, float) else v for k, v in item.items()}
            for item in (value or [])
            if isinstance(item, Mapping)
        ]


@extend_schema_field(
    {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "code": {
                    "type": "string",
                    "enum": ["county_share_below_minimum", "livelihood_share_below_minimum", "mandate_shortfall"],
                },
                "value": {"type": "number", "description": "The measured value (4 places)."},
                "minimum": {"type": "number", "description": "What the programme's rule asks for."},
            },
        },
    }
)
class FlagsField(RoundedItemsField):
    pass


# --- rankings ----------------------------------------------------------------------------------------------


@extend_schema_field(
    {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "kind": {"type": "string", "enum": ["strength", "weakness", "flag"]},
                "indicator": {"type": "string", "description": "strength, weakness: the indicator's code."},
                "points": {"type": "number", "description": "strength: points gained; weakness: points lost."},
                "code": {"type": "string", "description": "flag: the compliance flag."},
                "value": {"type": "number", "nullable": True, "description": "The measured value (mean)."},
                "minimum": {"type": "number", "description": "flag: the rule's minimum."},
            },
        },
        "description": "Why the score is what it is: the two indicators that gained most, the two that lost most, "
        "and the compliance flags of the organization's pairings.",
    }
)
class ReasonsField(RoundedItemsField):
    pass
