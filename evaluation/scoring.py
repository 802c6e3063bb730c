"""Set-based scoring: each step is one SQL statement over a slice of the data, never a query per object.

- `score_projects(run, specs, first_id, last_id)`: one ``INSERT … SELECT … ON CONFLICT DO UPDATE`` computes the
  measures of the run's projects with ids in [first_id, last_id] (aggregates over inspections, rectifications,
  flows, ratings and expert scores, grouped by project), applies each indicator's curve, the weighted sum and the
  coverage rule (`evaluation.coverage`), and upserts one ProjectScore per project. Run twice, it writes the same rows: that is what makes a chunk
  idempotent.
- `pairing_measures(run, specs)`: one SELECT with the pairing-level measures of every pairing of the run
  (mandate, flows, deployments and trainings of the year, the shares of the year's disbursements to county
  level and below and to livelihood, the self-sustaining share of approved budgets, budget-weighted project
  scores);
  the few hundred rows are then scored with the pure curves of `evaluation.curves`.

The SQL is written here, not composed with the ORM, because the ORM repeats an annotation's subquery each
time another expression refers to it; the statements run on PostgreSQL and on SQLite (`make run`): the few
differences (date arithmetic, JSON, the float type) are the `_Dialect`'s. The arithmetic is the one
`evaluation.curves` and `evaluation.reference` do in Python, in the same order, so the results agree.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from core.models import COUNTY_LEVEL_AND_BELOW, Region
from pairings.models import AnnualMandate, Deployment, FundFlow, Pairing, Training
from projects.models import Handover, Inspection, OperationReport, Project, Rectification

from . import coverage
from .curves import Spec
from .measures import ASSETS_IN_USE_YEARS, FINAL_STATES, IN_USE_STATUSES, SCORED_STATES
from .models import EvaluationRun, ExpertScore, ProjectScore, SatisfactionRating

#: The project measures read from the handover and the latest operation report.
HANDOVER_FORMULAS = frozenset({"assets_in_use", "running_costs_covered"})


def _t(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@dataclass(frozen=True)
class _Dialect:
    float_type: str
    json_object: str

    def days(self, a: str, b: str) -> str:
        """Days from date B to date A as a float."""
        if connection.vendor == "sqlite":
            return f"(julianday({a}) - julianday({b}))"
        return f"CAST(({a}) - ({b}) AS {self.float_type})"

    def f(self, expr: str) -> str:
        return f"CAST({expr} AS {self.float_type})"

    def exact(self, expr: str) -> str:
        """EXPR as an exact decimal (a float's shortest round-tripping digits on PostgreSQL)."""
        if connection.vendor == "sqlite":
            return expr
        return f"CAST({expr} AS numeric)"

    def exact_sum(self, expr: str) -> str:
        """SUM(EXPR) in exact decimal arithmetic, so that the total does not depend on the order the rows are
        added in (floating-point addition does, and a chunk scored twice moves its rows: the sums would differ
        in the last digits from a run that scored it once). Python turns the total into a float."""
        if connection.vendor == "sqlite":  # no decimal type (`make run` only): plain SUM
            return f"SUM({expr})"
        return f"SUM(CAST({expr} AS numeric))"


def _dialect() -> _Dialect:
    if connection.vendor == "sqlite":
        return _Dialect("REAL", "json_object")
    return _Dialect("double precision", "jsonb_build_object")


def _num(x: float) -> str:
    """A float literal (repr round-trips exactly)."""
    return repr(float(x))


def _clamp01(expr: str) -> str:
    return f"(CASE WHEN ({expr}) < 0 THEN 0.0 WHEN ({expr}) > 1 THEN 1.0 ELSE ({expr}) END)"


def curve_sql(spec: Spec, v: str) -> str:
    """SQL for `curves.curve_score(spec, v)`."""
    if spec.curve == "threshold":
        whens = " ".join(f"WHEN {v} >= {_num(at)} THEN {_num(score)}" for at, score in reversed(spec.thresholds))
        return f"(CASE WHEN {v} IS NULL THEN NULL {whens} ELSE 0.0 END)"
    assert spec.floor is not None and spec.target is not None  # noqa: PT018, S101 — an invariant of our own code, not a check of input
    lo, hi = _num(spec.floor), _num(spec.target)
    return (
        f"(CASE WHEN {v} IS NULL THEN NULL WHEN {v} <= {lo} THEN 0.0 WHEN {v} >= {hi} THEN 100.0 "
        f"ELSE 100.0 * ({v} - {lo}) / ({hi} - {lo}) END)"
    )


def combine_sql(specs: Sequence[Spec], s: str = "s") -> str:
    """SQL for `curves.combine`: Σ w·s / Σ w over the scores that are not NULL, summed in the specs' order."""
    if not specs:  # a framework with pairing indicators only; typed, or PostgreSQL takes the NULL for text
        return _dialect().f("NULL")
    num = " + ".join(f"COALESCE({_num(x.weight)} * {s}{i}, 0.0)" for i, x in enumerate(specs))
    den = " + ".join(f"(CASE WHEN {s}{i} IS NULL THEN 0.0 ELSE {_num(x.weight)} END)" for i, x in enumerate(specs))
    # 0.0 + … keeps the left-to-right order of Python's `num += w * s`.
    return f"(CASE WHEN ({den}) = 0 THEN NULL ELSE (0.0 + {num}) / (0.0 + {den}) END)"


#: The project's columns a scoring SELECT carries beside the measures (what the ProjectScore row keeps of the
#: project as it was scored: its state, and the budget and flags its pairing's shares are summed from).
CARRIED = (
    "id",
    "pairing_id",
    "state",
    "approved_budget",
    "at_county_level",
    "is_livelihood",
    "is_self_sustaining",
)


def _county_levels_sql() -> str:
    """The levels of `core.models.COUNTY_LEVEL_AND_BELOW` as an SQL list, for `level IN (…)`."""
    return ", ".join(f"'{level}'" for level in COUNTY_LEVEL_AND_BELOW)


def _year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def project_measures_sql(specs: Sequence[Spec], *, with_bounds: bool = True) -> tuple[str, dict[str, Any]]:
    """The SELECT of the measures (columns id, pairing_id, state, v0…vn in SPECS' order) for the projects
    of a programme-year, optionally only those with ids in [%(lo)s, %(hi)s]. Parameters by name: program,
    y0, y1, as_of (and lo, hi)."""
    d = _dialect()
    bounds = "AND {col} BETWEEN %(lo)s AND %(hi)s" if with_bounds else ""
    # The related rows of the slice's id range, said to the planner as a range of project_id: joined to the slice
    # alone, it hashes the whole table of ratings or scores for every chunk once that table is large (a run's
    # time then grows with the square of the projects: 2.4 s a chunk at 1 000 000 projects, 0.8 s at 100 000).
    related = "WHERE x.project_id BETWEEN %(lo)s AND %(hi)s " if with_bounds else ""
    states = ", ".join(f"'{s}'" for s in SCORED_STATES)
    levels = _county_levels_sql()
    codes = sorted({s.code for s in specs if s.formula == "expert"})
    in_use = ", ".join(f"'{status}'" for status in IN_USE_STATUSES)
    expert_cols = ", ".join(
        f"AVG(CASE WHEN x.indicator_code = '{c}' THEN {d.f('x.score')} END) AS e_{i}" for i, c in enumerate(codes)
    )
    measures: list[str] = []
    for spec in specs:
        f = spec.formula
        if f == "on_time_completion":
            late = d.days("COALESCE(p.actual_end, %(as_of)s)", "p.planned_end")
            duration = (
                f"(CASE WHEN p.planned_start IS NULL THEN 365.0 ELSE {d.days('p.planned_end', 'p.planned_start')} END)"
            )
            late0 = f"(CASE WHEN {late} < 0 THEN 0.0 ELSE {late} END)"
            dur1 = f"(CASE WHEN {duration} < 1 THEN 1.0 ELSE {duration} END)"
            sql = f"(CASE WHEN p.planned_end IS NULL THEN NULL ELSE {_clamp01(f'1.0 - {late0} / {dur1}')} END)"
        elif f == "budget_adherence":
            ratio = f"{d.f('COALESCE(fl.spent, 0)')} / {d.f('p.approved_budget')}"
            sql = (
                "(CASE WHEN p.approved_budget IS NULL OR p.approved_budget <= 0 THEN NULL "
                f"ELSE {_clamp01(f'2.0 - {ratio}')} END)"
            )
        elif f == "inspection_pass_rate":
            sql = f"(CASE WHEN COALESCE(ins.n, 0) = 0 THEN NULL ELSE {d.f('ins.passed')} / {d.f('ins.n')} END)"
        elif f == "rectification_closure":
            sql = f"(CASE WHEN COALESCE(rec.due, 0) = 0 THEN NULL ELSE {d.f('rec.on_time')} / {d.f('rec.due')} END)"
        elif f == "beneficiaries_reached":
            sql = (
                "(CASE WHEN p.expected_beneficiaries IS NULL OR p.expected_beneficiaries = 0 "
                "OR p.reached_beneficiaries IS NULL THEN NULL "
                f"ELSE {d.f('p.reached_beneficiaries')} / {d.f('p.expected_beneficiaries')} END)"
            )
        elif f == "project_funds_delivery":
            sql = (
                "(CASE WHEN COALESCE(fl.committed, 0) <= 0 THEN NULL "
                f"ELSE {d.f('fl.disbursed')} / {d.f('fl.committed')} END)"
            )
        elif f == "assets_in_use":
            sql = (
                "(CASE WHEN ho.op_status IS NULL OR ho.handed_on > %(in_use_by)s THEN NULL "
                f"WHEN ho.op_status IN ({in_use}) THEN {d.f('1')} ELSE {d.f('0')} END)"
            )
        elif f == "running_costs_covered":
            earns = "(p.is_self_sustaining OR COALESCE(ho.revenue, 0) > 0)"
            covers = "COALESCE(ho.revenue, 0) >= COALESCE(ho.operating_cost, 0) + COALESCE(ho.maintenance_cost, 0)"
            sql = (
                f"(CASE WHEN ho.op_status IS NULL OR NOT {earns} THEN NULL "
                f"WHEN {covers} THEN {d.f('1')} ELSE {d.f('0')} END)"
            )
        elif f == "recipient_satisfaction":
            sql = "sat.v"
        elif f == "expert":
            sql = f"ex.e_{codes.index(spec.code)}"
        else:  # validated away; a pairing formula has no project value
            sql = "NULL"
        measures.append(f"{sql} AS v{len(measures)}")

    select = ", ".join([*(f"p.{c}" for c in CARRIED), *measures])
    expert = (
        f"LEFT JOIN (SELECT x.project_id, {expert_cols} FROM {_t(ExpertScore)} x "  # noqa: S608 — SQL built from our own identifiers; values are bound parameters
        f"JOIN c ON c.id = x.project_id {related}GROUP BY x.project_id) ex ON ex.project_id = p.id"
        if codes
        else ""
    )
    # The confirmed handover and the latest operation report up to the run's year, only when a measure reads them.
    handover = (
        f"LEFT JOIN (SELECT h.project_id, h.date AS handed_on, r.status AS op_status, r.revenue, "  # noqa: S608 — SQL built from our own identifiers; values are bound parameters
        f"r.operating_cost, r.maintenance_cost FROM {_t(Handover)} h JOIN c ON c.id = h.project_id "
        f"LEFT JOIN {_t(OperationReport)} r ON r.project_id = h.project_id AND r.year = ("
        f"SELECT MAX(r2.year) FROM {_t(OperationReport)} r2 WHERE r2.project_id = h.project_id "
        f"AND r2.year <= %(year)s) WHERE h.status = 'confirmed' AND h.date <= %(y1)s"
        f"{' AND h.project_id BETWEEN %(lo)s AND %(hi)s' if with_bounds else ''}) ho ON ho.project_id = p.id"
        if any(s.formula in HANDOVER_FORMULAS for s in specs)
        else ""
    )
    # The cohort slice first (c), then each related table aggregated over the slice's projects only:
    # a chunk reads its own projects' rows, whatever the spread of the ids.
    sql = f"""
WITH c AS (
    SELECT p.id, p.pairing_id, p.state, p.planned_start, p.planned_end, p.actual_end, p.approved_budget,
           p.expected_beneficiaries, p.reached_beneficiaries, p.is_livelihood, p.is_self_sustaining,
           (COALESCE(loc.level, rr.level) IN ({levels})) AS at_county_level
    FROM {_t(Project)} p
    JOIN {_t(Pairing)} pa ON pa.id = p.pairing_id
    JOIN {_t(Region)} rr ON rr.id = pa.recipient_region_id
    LEFT JOIN {_t(Region)} loc ON loc.id = p.location_id
    WHERE pa.program_id = %(program)s AND p.planned_start <= %(y1)s
      AND p.state IN ({states}) {bounds.format(col="p.id")}
)
SELECT {select}
FROM c p
LEFT JOIN (
    SELECT x.project_id, COUNT(*) AS n, SUM(CASE WHEN x.result = 'passed' THEN 1 ELSE 0 END) AS passed
    FROM {_t(Inspection)} x JOIN c ON c.id = x.project_id {related}GROUP BY x.project_id
) ins ON ins.project_id = p.id
LEFT JOIN (
    SELECT x.project_id,
           SUM(CASE WHEN x.closed_on IS NOT NULL OR x.deadline <= %(as_of)s THEN 1 ELSE 0 END) AS due,
           SUM(CASE WHEN x.closed_on IS NOT NULL AND x.closed_on <= x.deadline THEN 1 ELSE 0 END) AS on_time
    FROM {_t(Rectification)} x JOIN c ON c.id = x.project_id {related}GROUP BY x.project_id
) rec ON rec.project_id = p.id
LEFT JOIN (
    SELECT x.project_id,
           SUM(CASE WHEN x.kind = 'commitment' THEN x.amount ELSE 0 END) AS committed,
           SUM(CASE WHEN x.kind = 'disbursement' THEN x.amount ELSE 0 END) AS disbursed,
           SUM(CASE WHEN x.kind = 'expenditure' THEN x.amount ELSE 0 END) AS spent
    FROM {_t(FundFlow)} x JOIN c ON c.id = x.project_id {related}GROUP BY x.project_id
) fl ON fl.project_id = p.id
LEFT JOIN (
    SELECT x.project_id, AVG({d.f("x.score")}) AS v
    FROM {_t(SatisfactionRating)} x JOIN c ON c.id = x.project_id {related}GROUP BY x.project_id
) sat ON sat.project_id = p.id
{expert}
{handover}
"""  # noqa: S608 — SQL built from our own identifiers; values are bound parameters
    return sql, {}


def coverage_sql(specs: Sequence[Spec], s: str = "s") -> str:
    """SQL for `coverage.coverage_of`: per cent of the specs' applicable weight whose score is not NULL, summed
    in the specs' order and divided by their total weight (a literal, summed in Python the same way) less the
    weight of the optional measures without a value (not applicable to the project)."""
    d = _dialect()
    total = coverage.total_weight(specs)
    if not specs or not total:
        return d.f("0.0")
    covered = " + ".join(f"(CASE WHEN {s}{i} IS NULL THEN 0.0 ELSE {_num(x.weight)} END)" for i, x in enumerate(specs))
    optional = [(i, x) for i, x in enumerate(specs) if coverage.is_optional(x)]
    if not optional:
        return f"(100.0 * (0.0 + {covered}) / {_num(total)})"
    absent = " + ".join(f"(CASE WHEN {s}{i} IS NULL THEN {_num(x.weight)} ELSE 0.0 END)" for i, x in optional)
    applicable = f"({_num(total)} - (0.0 + {absent}))"
    return f"(CASE WHEN {applicable} > 0 THEN 100.0 * (0.0 + {covered}) / {applicable} ELSE {d.f('0.0')} END)"


def project_scores_select_sql(specs: Sequence[Spec], *, required: Any, with_bounds: bool = True) -> str:
    """SELECT id, pairing_id, state, v0…vn, score, coverage, status: the measures, their curves, the share of the
    weight with data, and the weighted sum where the coverage rule (`evaluation.coverage`, REQUIRED: the
    framework's `min_coverage`) lets the project be scored (NULL and `insufficient_data` where it does not)."""
    inner, _ = project_measures_sql(specs, with_bounds=with_bounds)
    n = len(specs)
    curves = ", ".join(f"{curve_sql(s, f'm.v{i}')} AS s{i}" for i, s in enumerate(specs))
    vs = ", ".join(f"k.v{i}" for i in range(n))
    ok = coverage.enough_data_sql("k.coverage", required)
    return f"""
SELECT {", ".join(f"k.{col}" for col in CARRIED)}{", " + vs if n else ""},
       CASE WHEN {ok} THEN k.raw ELSE NULL END AS score, k.coverage,
       CASE WHEN {ok} THEN '{coverage.SCORED}' ELSE '{coverage.INSUFFICIENT_DATA}' END AS status
FROM (
    SELECT c.*, {combine_sql(specs, "c.s")} AS raw, {coverage_sql(specs, "c.s")} AS coverage
    FROM (SELECT m.*{", " + curves if n else ""} FROM ({inner}) m) c
) k
"""  # noqa: S608 — SQL built from our own identifiers; values are bound parameters


def _params(run: EvaluationRun, lo: int | None = None, hi: int | None = None) -> dict[str, Any]:
    y0, y1 = _year_bounds(run.year)
    params: dict[str, Any] = {
        "program": run.program_id,
        "y0": y0,
        "y1": y1,
        "as_of": run.as_of,
        "year": run.year,
        # Handed over by the end of this day: at least ASSETS_IN_USE_YEARS before the end of the run's year.
        "in_use_by": dt.date(run.year - ASSETS_IN_USE_YEARS, 12, 31),
    }
    if lo is not None:
        params.update(lo=lo, hi=hi)
    return params


def score_projects(run: EvaluationRun, specs: Sequence[Spec], first_id: int, last_id: int) -> int:
    """Compute and upsert the scores of the run's projects with ids in [FIRST_ID, LAST_ID], by the coverage rule
    of the run's framework; returns the rows."""
    d = _dialect()
    select = project_scores_select_sql(specs, required=run.framework.min_coverage)
    pairs = ", ".join(f"'{s.code}', r.v{i}" for i, s in enumerate(specs))
    measures = f"{d.json_object}({pairs})"
    final = ", ".join(f"'{s}'" for s in FINAL_STATES)
    sql = f"""
INSERT INTO {_t(ProjectScore)} (run_id, project_id, pairing_id, score, status, coverage, measures, is_final, state,
    budget, at_county_level, is_livelihood, is_self_sustaining)
SELECT %(run)s, r.id, r.pairing_id, r.score, r.status, r.coverage, {measures}, r.state IN ({final}), r.state,
       COALESCE(r.approved_budget, 0), r.at_county_level, r.is_livelihood, r.is_self_sustaining
FROM ({select}) r
WHERE 1=1
ON CONFLICT (run_id, project_id) DO UPDATE SET
    pairing_id = excluded.pairing_id, score = excluded.score, status = excluded.status,
    coverage = excluded.coverage, measures = excluded.measures,
    is_final = excluded.is_final, state = excluded.state, budget = excluded.budget,
    at_county_level = excluded.at_county_level, is_livelihood = excluded.is_livelihood,
    is_self_sustaining = excluded.is_self_sustaining
"""  # noqa: S608 — SQL built from our own identifiers; values are bound parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, {**_params(run, first_id, last_id), "run": run.pk})
        return max(cursor.rowcount, 0)


def cohort_ids(run: EvaluationRun) -> list[int]:
    """The ids of the projects a run scores, in order: the programme's projects planned to start by the end of
    the year (the portfolio as it stands, not only the year's new projects),
    approved onwards (not rejected or cancelled)."""
    _y0, y1 = _year_bounds(run.year)
    return list(
        Project.objects.filter(pairing__program_id=run.program_id, planned_start__lte=y1, state__in=SCORED_STATES)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def pairing_rows(run: EvaluationRun) -> list[dict[str, Any]]:
    """One dict per pairing of the programme active in the run's year, with every pairing-level measure
    (mandate_fulfilment, funds_delivery, county_share, livelihood_share, self_sustaining_share,
    personnel_vs_quota, people_trained, project_scores: over the projects scored, not those with not enough
    data) and what the scorecard keeps beside (organization_id, parent_id, project_count,
    insufficient_data_count, budget)."""
    d = _dialect()
    s = d.exact_sum
    levels = _county_levels_sql()
    in_use = ", ".join(f"'{status}'" for status in IN_USE_STATUSES)
    earns = "(p.is_self_sustaining OR COALESCE(r.revenue, 0) > 0)"
    covers = "COALESCE(r.revenue, 0) >= COALESCE(r.operating_cost, 0) + COALESCE(r.maintenance_cost, 0)"

    # The flows are narrowed to those that can count (the programme's pairings, the two kinds summed), so that
    # the index on (pairing, kind, date) reads the year's rows of each instead of every flow of every programme.
    # The shares to county level and below and to livelihood are of the year's disbursements, as the programmes
    # publish them: a disbursement counts toward a share by the project it is linked to (the level of its
    # location, or of its pairing's recipient region when it has none; its livelihood flag), whatever state the
    # project is in now; one linked to no project counts in the whole only. Like every flow measure, a flow
    # counts for the pairing it is recorded on (a child pairing's flows for the child, not its parent).
    sql = f"""
SELECT pa.id, pa.assisting_organization_id, pa.parent_id,
       man.funds_required, man.personnel_quota,
       fl.committed, fl.received, fl.county_disbursed, fl.livelihood_disbursed, dep.headcount, tr.trained,
       pj.n, pj.insufficient, pj.budget, pj.sustaining, pj.weighted, pj.weights,
       ho.aged, ho.in_use, ho.earning, ho.covering
FROM {_t(Pairing)} pa
LEFT JOIN {_t(AnnualMandate)} man ON man.pairing_id = pa.id AND man.year = %(year)s
LEFT JOIN (
    SELECT f.pairing_id,
           SUM(CASE WHEN f.kind = 'commitment' THEN f.amount ELSE 0 END) AS committed,
           SUM(CASE WHEN f.kind = 'disbursement' THEN f.amount ELSE 0 END) AS received,
           SUM(CASE WHEN p.id IS NOT NULL AND COALESCE(loc.level, rr.level) IN ({levels})
                    THEN f.amount ELSE 0 END) AS county_disbursed,
           SUM(CASE WHEN p.id IS NOT NULL AND p.is_livelihood THEN f.amount ELSE 0 END) AS livelihood_disbursed
    FROM {_t(FundFlow)} f
    LEFT JOIN {_t(Project)} p ON p.id = f.project_id AND f.kind = 'disbursement'
    LEFT JOIN {_t(Pairing)} ppa ON ppa.id = p.pairing_id
    LEFT JOIN {_t(Region)} rr ON rr.id = ppa.recipient_region_id
    LEFT JOIN {_t(Region)} loc ON loc.id = p.location_id
    WHERE f.pairing_id IN (SELECT id FROM {_t(Pairing)} WHERE program_id = %(program)s)
      AND f.kind IN ('commitment', 'disbursement') AND f.date BETWEEN %(y0)s AND %(y1)s
    GROUP BY f.pairing_id
) fl ON fl.pairing_id = pa.id
LEFT JOIN (
    SELECT pairing_id, SUM(headcount) AS headcount FROM {_t(Deployment)}
    WHERE start_date <= %(y1)s AND (end_date IS NULL OR end_date >= %(y0)s) GROUP BY pairing_id
) dep ON dep.pairing_id = pa.id
LEFT JOIN (
    SELECT pairing_id, SUM(people_trained) AS trained FROM {_t(Training)}
    WHERE start_date BETWEEN %(y0)s AND %(y1)s GROUP BY pairing_id
) tr ON tr.pairing_id = pa.id
LEFT JOIN (
    SELECT ps.pairing_id, COUNT(*) AS n,
           SUM(CASE WHEN ps.status = '{coverage.INSUFFICIENT_DATA}' THEN 1 ELSE 0 END) AS insufficient,
           {s("ps.budget")} AS budget,
           {s("CASE WHEN ps.is_self_sustaining THEN ps.budget ELSE 0 END")} AS sustaining,
           {s(f"CASE WHEN ps.score IS NULL THEN 0 ELSE {d.exact('ps.score')} * ps.budget END")} AS weighted,
           {s("CASE WHEN ps.score IS NULL THEN 0 ELSE ps.budget END")} AS weights
    FROM {_t(ProjectScore)} ps
    WHERE ps.run_id = %(run)s
    GROUP BY ps.pairing_id
) pj ON pj.pairing_id = pa.id
LEFT JOIN (
    SELECT p.pairing_id,
           SUM(CASE WHEN h.date <= %(in_use_by)s AND r.status IS NOT NULL THEN 1 ELSE 0 END) AS aged,
           SUM(CASE WHEN h.date <= %(in_use_by)s AND r.status IN ({in_use}) THEN 1 ELSE 0 END) AS in_use,
           SUM(CASE WHEN r.status IS NOT NULL AND {earns} THEN 1 ELSE 0 END) AS earning,
           SUM(CASE WHEN r.status IS NOT NULL AND {earns} AND {covers} THEN 1 ELSE 0 END) AS covering
    FROM {_t(Handover)} h
    JOIN {_t(Project)} p ON p.id = h.project_id
    LEFT JOIN {_t(OperationReport)} r ON r.project_id = h.project_id AND r.year = (
        SELECT MAX(r2.year) FROM {_t(OperationReport)} r2 WHERE r2.project_id = h.project_id AND r2.year <= %(year)s
    )
    WHERE h.status = 'confirmed' AND h.date <= %(y1)s
      AND p.pairing_id IN (SELECT id FROM {_t(Pairing)} WHERE program_id = %(program)s)
    GROUP BY p.pairing_id
) ho ON ho.pairing_id = pa.id
WHERE pa.program_id = %(program)s AND pa.start_date <= %(y1)s AND (pa.end_date IS NULL OR pa.end_date >= %(y0)s)
ORDER BY pa.id
"""  # noqa: S608 — SQL built from our own identifiers; values are bound parameters
    params = {**_params(run), "run": run.pk}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        cols = [c[0] for c in cursor.description]
        raw = [dict(zip(cols, row, strict=True)) for row in cursor.fetchall()]
    return [_pairing_measures(r) for r in raw]


def _ratio(a: Any, b: Any) -> float | None:
    if b is None or float(b) <= 0:
        return None
    return float(a or 0) / float(b)


def _pairing_measures(r: dict[str, Any]) -> dict[str, Any]:
    budget = float(r["budget"] or 0)
    return {
        "pairing_id": r["id"],
        "organization_id": r["assisting_organization_id"],
        "parent_id": r["parent_id"],
        "project_count": int(r["n"] or 0),
        "insufficient_data_count": int(r["insufficient"] or 0),
        "budget": budget,
        "measures": {
            "mandate_fulfilment": _ratio(r["received"], r["funds_required"]),
            "funds_delivery": _ratio(r["received"], r["committed"]),
            "county_share": _ratio(r["county_disbursed"], r["received"]),
            "livelihood_share": _ratio(r["livelihood_disbursed"], r["received"]),
            "self_sustaining_share": _ratio(r["sustaining"], budget),
            "personnel_vs_quota": _ratio(r["headcount"], r["personnel_quota"]),
            "people_trained": float(r["trained"] or 0),
            "project_scores": _ratio(r["weighted"], r["weights"]),
            "assets_in_use_share": _ratio(r["in_use"], r["aged"]),
            "running_costs_covered_share": _ratio(r["covering"], r["earning"]),
        },
    }
