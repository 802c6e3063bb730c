"""Whether a project has enough data to be scored: the coverage rule, declared here once.

A project's coverage is the share (%) of its framework's project-indicator weight whose measure has a value. A
measure that applies to some projects only (`Measure.optional`: the handover's and operation's measures) is not
applicable where it has no value: its weight leaves the whole as well, so a project not handed over yet is judged
on the rest, never pushed below the threshold by them.
A project is scored only when its coverage is above 0 and reaches the framework's `min_coverage` (default
50 %); below it, it has "not enough data yet": its run stores it with status `insufficient_data`, its coverage,
no score (so no grade), and it does not count in its pairing's project scores (the budget-weighted mean), so
not in the pairing's score nor in the ranking. A project approved but not started, with two indicators out of
eight measured, is therefore not scored 100.

`has_enough_data` is the rule; `enough_data_sql` writes the same comparison, with the same numbers, into the
run's set-based SQL (`evaluation.scoring`), and the reference agreement test holds the two equal. Everything
that shows a project score afterwards (pages, API, exports, PDF) reads the status the run stored.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from .curves import Spec, curve_score, score_of
from .measures import MEASURES
from .models import ScoreStatus

#: Coverage is a sum of weights in floating point: 33.33 + 16.67 may come out a hair under 50. A project within
#: this much (of a percentage point) of the threshold counts as reaching it.
TOLERANCE = 1e-6

SCORED = ScoreStatus.SCORED.value
INSUFFICIENT_DATA = ScoreStatus.INSUFFICIENT_DATA.value


def total_weight(specs: Sequence[Spec]) -> float:
    """The project indicators' weight, summed in the specs' order (as the SQL's literal is)."""
    total = 0.0
    for s in specs:
        total += s.weight
    return total


def is_optional(spec: Spec) -> bool:
    """SPEC's measure applies to some projects only: without a value it is not applicable, not missing."""
    measure = MEASURES.get(spec.formula)
    return measure is not None and measure.optional


def coverage_of(specs: Sequence[Spec], measures: Mapping[str, float | None]) -> float:
    """Per cent of SPECS' applicable weight whose measure has a value (0 when nothing applies). An optional
    measure without a value (a project not handed over yet) is not applicable: its weight leaves the whole too,
    so it never pushes a project below the threshold."""
    covered = 0.0
    absent = 0.0
    for s in specs:
        if curve_score(s, measures.get(s.code)) is not None:
            covered += s.weight
        elif is_optional(s):
            absent += s.weight
    applicable = total_weight(specs) - absent
    return 100.0 * covered / applicable if applicable > 0 else 0.0


def _threshold(required: Any) -> float:
    return float(required) - TOLERANCE


def has_enough_data(coverage: float | None, required: Any) -> bool:
    """THE rule: a project is scored when its COVERAGE (%) is above 0 and reaches REQUIRED (%, the framework's
    `min_coverage`)."""
    return coverage is not None and coverage > 0 and coverage >= _threshold(required)


def enough_data_sql(coverage: str, required: Any) -> str:
    """`has_enough_data` in SQL, over the SQL expression COVERAGE."""
    return f"(({coverage}) IS NOT NULL AND ({coverage}) > 0 AND ({coverage}) >= {_threshold(required)!r})"


def judge(
    specs: Sequence[Spec], measures: Mapping[str, float | None], required: Any
) -> tuple[str, float, float | None]:
    """(status, coverage, score) of a project with MEASURES: the weighted score when it has enough data, else
    none. What the run's SQL computes, one project at a time in Python (the benchmark's per-object peer)."""
    coverage = coverage_of(specs, measures)
    if has_enough_data(coverage, required):
        return SCORED, coverage, score_of(specs, measures)
    return INSUFFICIENT_DATA, coverage, None
