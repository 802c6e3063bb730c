"""Scoring curves and the weighted sum, pure Python: the page's explanations, the reference implementation
and the validation of frameworks use these; `evaluation.scoring` writes the same arithmetic in SQL.

- linear: 0 at or below the floor, 100 at or above the target, a straight line between;
- thresholds: bands [[from_value, score], ...] ascending; the score of the highest band the value reaches,
  0 below the first band;
- an indicator whose measure is None is left out and the weights of the others count in full:
  score = Σ wᵢ·sᵢ / Σ wᵢ over the indicators with a value (None when none has one).
"""

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from core.errors import Problem

from .measures import MEASURES

#: What an indicator code may be (the column is a 40-character slug).
CODE = re.compile(r"[a-z0-9_-]{1,40}")


@dataclass(frozen=True)
class Spec:
    """What scoring needs of an indicator (a model instance or a dict from an API body converts to this)."""

    code: str
    level: str
    formula: str
    curve: str = "linear"
    floor: float | None = None
    target: float | None = None
    thresholds: tuple[tuple[float, float], ...] = field(default_factory=tuple)
    weight: float = 0.0

    @classmethod
    def of(cls, indicator: Any) -> "Spec":
        return cls(
            code=indicator.code,
            level=indicator.level,
            formula=indicator.formula,
            curve=indicator.curve,
            floor=indicator.floor,
            target=indicator.target,
            thresholds=tuple((float(a), float(b)) for a, b in (indicator.thresholds or [])),
            weight=float(indicator.weight),
        )


def curve_score(spec: Spec, value: float | None) -> float | None:
    """The 0–100 score of VALUE on SPEC's curve; None when there is no value."""
    if value is None:
        return None
    if spec.curve == "threshold":
        score = 0.0
        for at, band_score in spec.thresholds:
            if value >= at:
                score = band_score
        return score
    assert spec.floor is not None and spec.target is not None  # noqa: PT018, S101 — an invariant of our own code, not a check of input
    if value <= spec.floor:
        return 0.0
    if value >= spec.target:
        return 100.0
    return 100.0 * (value - spec.floor) / (spec.target - spec.floor)


def combine(items: Iterable[tuple[float, float | None]]) -> float | None:
    """Σ w·s / Σ w over (weight, score) pairs whose score is not None."""
    num = den = 0.0
    for weight, score in items:
        if score is not None:
            num += weight * score
            den += weight
    return num / den if den else None


def score_of(specs: Sequence[Spec], measures: Mapping[str, float | None]) -> float | None:
    return combine((s.weight, curve_score(s, measures.get(s.code))) for s in specs)


@dataclass(frozen=True)
class Line:
    """One row of a score's explanation."""

    spec: Spec
    value: float | None
    score: float | None
    weight_share: float  # the weight as counted (0 when left out), in % of the counted weights
    contribution: float  # points this indicator adds to the total


def explain(specs: Sequence[Spec], measures: Mapping[str, float | None]) -> list[Line]:
    """Each indicator's value, curve score, counted weight and contribution: the lines add up to the score."""
    scored = [(s, measures.get(s.code), curve_score(s, measures.get(s.code))) for s in specs]
    counted = sum(s.weight for s, _v, sc in scored if sc is not None)
    lines = []
    for spec, value, sc in scored:
        share = 100.0 * spec.weight / counted if sc is not None and counted else 0.0
        lines.append(Line(spec, value, sc, share, (sc or 0.0) * share / 100.0))
    return lines


def grade_for(score: float | None, bands: Sequence[Sequence[Any]]) -> str:
    """The grade of the first band (best first) whose lowest score SCORE reaches."""
    if score is None:
        return "—"
    for lowest, grade in sorted(bands, key=lambda b: -float(b[0])):
        if score >= float(lowest):
            return str(grade)
    return str(bands[-1][1]) if bands else "—"


# --- validation --------------------------------------------------------------------------------------------


def _number(raw: Any) -> float | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise ValueError
    try:
        value = float(Decimal(str(raw)))
    except (InvalidOperation, ValueError) as e:
        raise ValueError from e
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError
    return value


def validate(rows: Sequence[Mapping[str, Any]], grade_bands: Any = None) -> tuple[list[Spec], list[Problem]]:
    """Check a framework's indicators (dicts with code, level, formula, curve, floor, target, thresholds,
    weight) and grade bands. Returns the specs and every problem found, each naming its field as
    ``indicators[i].field`` so a form or a client can point at it."""
    problems: list[Problem] = []
    specs: list[Spec] = []
    codes: set[str] = set()
    if not rows:
        problems.append(Problem("no_indicators", _("A framework needs at least one indicator."), "indicators"))
    for i, row in enumerate(rows):
        at = f"indicators[{i}]"
        code = str(row.get("code") or "").strip()
        if not code:
            problems.append(Problem("required", _("Give the indicator a code."), f"{at}.code"))
        elif not CODE.fullmatch(code):
            problems.append(
                Problem(
                    "invalid_code",
                    _("A code is up to 40 lowercase letters, digits, hyphens or underscores."),
                    f"{at}.code",
                )
            )
        elif code in codes:
            problems.append(
                Problem("duplicate_code", _("The code %(code)s is used twice.") % {"code": code}, f"{at}.code")
            )
        codes.add(code)
        if not str(row.get("name") or "").strip():
            problems.append(Problem("required", _("Give the indicator a name."), f"{at}.name"))
        for name_field in ("name", "name_en"):
            if len(str(row.get(name_field) or "").strip()) > 120:
                problems.append(Problem("too_long", _("A name is at most 120 characters."), f"{at}.{name_field}"))
        formula = str(row.get("formula") or "")
        measure = MEASURES.get(formula)
        level = str(row.get("level") or (measure.level if measure else ""))
        if measure is None:
            problems.append(
                Problem(
                    "unknown_formula",
                    _("Unknown formula %(formula)s: choose one of %(known)s.")
                    % {"formula": formula or "—", "known": ", ".join(MEASURES)},
                    f"{at}.formula",
                )
            )
        elif level != measure.level:
            problems.append(
                Problem(
                    "wrong_level",
                    _("The formula %(formula)s measures a %(level)s, not a %(other)s.")
                    % {"formula": formula, "level": measure.level, "other": level},
                    f"{at}.level",
                )
            )
        curve = str(row.get("curve") or "linear")
        floor = target = None
        bands: list[tuple[float, float]] = []
        if curve == "linear":
            # Each parsed on its own, so that the problem names the field that is not a number.
            not_numbers = []
            try:
                floor = _number(row.get("floor"))
            except ValueError:
                not_numbers.append("floor")
            try:
                target = _number(row.get("target"))
            except ValueError:
                not_numbers.append("target")
            for name in not_numbers:
                problems.append(Problem("invalid", _("Floor and target must be numbers."), f"{at}.{name}"))
            if not not_numbers:
                if floor is None:
                    problems.append(Problem("required", _("A linear curve needs a floor."), f"{at}.floor"))
                if target is None:
                    problems.append(Problem("required", _("A linear curve needs a target."), f"{at}.target"))
                if floor is not None and target is not None and target <= floor:
                    problems.append(
                        Problem(
                            "target_below_floor",
                            _("The target (%(target)s) must be above the floor (%(floor)s).")
                            % {"target": target, "floor": floor},
                            f"{at}.target",
                        )
                    )
        elif curve == "threshold":
            raw = row.get("thresholds") or []
            try:
                bands = [(float(_number(a) or 0.0), float(_number(b) or 0.0)) for a, b in raw]
            except (TypeError, ValueError):
                problems.append(
                    Problem(
                        "invalid_thresholds",
                        _("Thresholds are pairs [from value, score], e.g. [[0.5, 60], [0.8, 100]]."),
                        f"{at}.thresholds",
                    )
                )
            else:
                if not bands:
                    problems.append(
                        Problem("required", _("A threshold curve needs at least one band."), f"{at}.thresholds")
                    )
                elif any(b[0] >= c[0] for b, c in itertools.pairwise(bands)):
                    problems.append(
                        Problem(
                            "thresholds_not_ascending",
                            _("Threshold values must rise from band to band."),
                            f"{at}.thresholds",
                        )
                    )
                elif any(not 0 <= b[1] <= 100 for b in bands):
                    problems.append(
                        Problem("score_out_of_range", _("Band scores go from 0 to 100."), f"{at}.thresholds")
                    )
        else:
            problems.append(
                Problem(
                    "unknown_curve", _("The curve is linear or threshold, not %(c)s.") % {"c": curve}, f"{at}.curve"
                )
            )
        try:
            weight = _number(row.get("weight"))
        except ValueError:
            weight = None
        if weight is None or weight <= 0 or weight > 100:
            problems.append(
                Problem("invalid_weight", _("The weight is a percentage above 0 and at most 100."), f"{at}.weight")
            )
            weight = 0.0
        specs.append(Spec(code, level, formula, curve, floor, target, tuple(bands), float(weight)))
    for level, label in (("project", _("project")), ("pairing", _("pairing"))):
        weights = [s.weight for s in specs if s.level == level]
        if weights and abs(sum(weights) - 100.0) > 0.005:
            problems.append(
                Problem(
                    "weights_not_100",
                    _("The weights of the %(level)s indicators add up to %(sum)s %%, not 100 %%.")
                    % {"level": label, "sum": f"{sum(weights):g}"},
                    "indicators",
                )
            )
    if not any(s.level == "pairing" for s in specs) and rows:
        problems.append(
            Problem("no_pairing_indicators", _("A framework needs at least one pairing indicator."), "indicators")
        )
    if grade_bands is not None:
        try:
            ok = (
                bool(grade_bands)
                and all(len(str(g).strip()) <= 8 for _lo, g in grade_bands)
                and all(0 <= float(lo) <= 100 and str(g).strip() for lo, g in grade_bands)
                and any(float(lo) == 0 for lo, _g in grade_bands)
            )
        except (TypeError, ValueError):
            ok = False
        if not ok:
            problems.append(
                Problem(
                    "invalid_grade_bands",
                    _(
                        "Grade bands are pairs [lowest score, grade] from 0 to 100, one of them starting at 0; "
                        "a grade is at most 8 characters."
                    ),
                    "grade_bands",
                )
            )
    return specs, problems
