"""The scoring formulas written the slow, obvious way: one object at a time, plain ORM reads, Python arithmetic.

This is not what a run executes (that is `evaluation.scoring`, set-based SQL). It is the yardstick the SQL is held
to: a test generates varied data, runs a real evaluation and checks that every stored score and measured value
equals what this module computes. Each function follows the definitions of `evaluation.measures` as the SQL
applies them — the same None rules, clamps, defaults and order of arithmetic — so the two agree to rounding.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from core.models import COUNTY_LEVEL_AND_BELOW, Region
from pairings.models import AnnualMandate, Deployment, FlowKind, FundFlow, Pairing, Program, Training
from projects.models import Handover, HandoverStatus, InspectionResult, OperationReport, Project

from .coverage import has_enough_data
from .curves import Spec, score_of
from .measures import ASSETS_IN_USE_YEARS, IN_USE_STATUSES, MEASURES, SCORED_STATES
from .models import ExpertScore, SatisfactionRating

Measures = dict[str, float | None]
Scored = tuple[float | None, Measures]

#: A project without a planned start counts as planned to last a year; no project lasts less than a day.
DEFAULT_DURATION_DAYS = 365.0
MIN_DURATION_DAYS = 1.0


def _clamp01(x: float) -> float:
    return 0.0 if x < 0 else 1.0 if x > 1 else x


def _days(a: dt.date, b: dt.date) -> float:
    return float((a - b).days)


def _ratio(a: Decimal | float | int | None, b: Decimal | float | int | None) -> float | None:
    """A ÷ B, None when B is missing or not positive; a missing A counts as 0."""
    if b is None or float(b) <= 0:
        return None
    return float(a or 0) / float(b)


def _sum(values: Iterable[Decimal | int]) -> Decimal | int | None:
    """SQL's SUM: None over no rows."""
    total: Decimal | int | None = None
    for v in values:
        total = v if total is None else total + v
    return total


def _mean(values: Sequence[float]) -> float | None:
    """SQL's AVG: None over no rows."""
    return sum(values) / len(values) if values else None


def year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


# --- project level -----------------------------------------------------------------------------------------


def on_time_completion(project: Project, as_of: dt.date) -> float | None:
    """1 − days late ÷ planned duration, in [0, 1]; late means finished (or still open at AS_OF) after the
    planned end. No planned end: None."""
    if project.planned_end is None:
        return None
    late = max(_days(project.actual_end or as_of, project.planned_end), 0.0)
    if project.planned_start is None:
        duration = DEFAULT_DURATION_DAYS
    else:
        duration = _days(project.planned_end, project.planned_start)
    duration = max(duration, MIN_DURATION_DAYS)
    return _clamp01(1.0 - late / duration)


def budget_adherence(project: Project) -> float | None:
    """2 − spent ÷ approved budget, in [0, 1]: 1 up to the budget, falling to 0 at twice the budget."""
    if project.approved_budget is None or project.approved_budget <= 0:
        return None
    spent = _sum(
        FundFlow.objects.filter(project_id=project.pk, kind=FlowKind.EXPENDITURE).values_list("amount", flat=True)
    )
    return _clamp01(2.0 - float(spent or 0) / float(project.approved_budget))


def inspection_pass_rate(project: Project) -> float | None:
    results = list(project.inspections.values_list("result", flat=True))
    if not results:
        return None
    return float(sum(1 for r in results if r == InspectionResult.PASSED)) / float(len(results))


def rectification_closure(project: Project, as_of: dt.date) -> float | None:
    """Closed by the deadline ÷ closed or due by AS_OF."""
    due = on_time = 0
    for deadline, closed_on in project.rectifications.values_list("deadline", "closed_on"):
        if closed_on is not None or deadline <= as_of:
            due += 1
        if closed_on is not None and closed_on <= deadline:
            on_time += 1
    if due == 0:
        return None
    return float(on_time) / float(due)


def beneficiaries_reached(project: Project) -> float | None:
    if not project.expected_beneficiaries or project.reached_beneficiaries is None:
        return None
    return float(project.reached_beneficiaries) / float(project.expected_beneficiaries)


def project_funds_delivery(project: Project) -> float | None:
    """Disbursed to the project ÷ committed to it (all dates)."""
    flows = list(FundFlow.objects.filter(project_id=project.pk).values_list("kind", "amount"))
    committed = _sum(a for k, a in flows if k == FlowKind.COMMITMENT)
    disbursed = _sum(a for k, a in flows if k == FlowKind.DISBURSEMENT)
    if committed is None or committed <= 0:
        return None
    return float(disbursed or 0) / float(committed)


def recipient_satisfaction(project: Project) -> float | None:
    return _mean([float(s) for s in SatisfactionRating.objects.filter(project=project).values_list("score", flat=True)])


def expert(project: Project, indicator_code: str) -> float | None:
    scores = ExpertScore.objects.filter(project=project, indicator_code=indicator_code).values_list("score", flat=True)
    return _mean([float(s) for s in scores])


def _latest_operation(project: Project, year: int) -> tuple[Handover | None, OperationReport | None]:
    """The project's confirmed handover by the end of YEAR and its latest operation report up to YEAR."""
    handover = Handover.objects.filter(project=project, status=HandoverStatus.CONFIRMED, date__year__lte=year).first()
    if handover is None:
        return None, None
    report = OperationReport.objects.filter(project=project, year__lte=year).order_by("-year").first()
    return handover, report


def _earns(project: Project, report: OperationReport) -> bool:
    return project.is_self_sustaining or (report.revenue or 0) > 0


def _covers(report: OperationReport) -> bool:
    return (report.revenue or 0) >= (report.operating_cost or 0) + (report.maintenance_cost or 0)


def assets_in_use(project: Project, year: int) -> float | None:
    """1 when the latest report says in use or under-used, 0 otherwise, for a project handed over at least
    ASSETS_IN_USE_YEARS before the end of YEAR; None (not applicable) for any other."""
    handover, report = _latest_operation(project, year)
    if handover is None or report is None or handover.date > dt.date(year - ASSETS_IN_USE_YEARS, 12, 31):
        return None
    return 1.0 if report.status in IN_USE_STATUSES else 0.0


def running_costs_covered(project: Project, year: int) -> float | None:
    """1 when the latest report's revenue covers the running costs, 0 when not, for a handed-over project that
    earns revenue; None (not applicable) for any other."""
    handover, report = _latest_operation(project, year)
    if handover is None or report is None or not _earns(project, report):
        return None
    return 1.0 if _covers(report) else 0.0


def project_measure(spec: Spec, project: Project, as_of: dt.date, year: int | None = None) -> float | None:
    """The value of SPEC's formula for PROJECT; None for a formula that does not measure projects."""
    match spec.formula:
        case "on_time_completion":
            return on_time_completion(project, as_of)
        case "budget_adherence":
            return budget_adherence(project)
        case "inspection_pass_rate":
            return inspection_pass_rate(project)
        case "rectification_closure":
            return rectification_closure(project, as_of)
        case "beneficiaries_reached":
            return beneficiaries_reached(project)
        case "project_funds_delivery":
            return project_funds_delivery(project)
        case "recipient_satisfaction":
            return recipient_satisfaction(project)
        case "expert":
            return expert(project, spec.code)
        case "assets_in_use":
            return assets_in_use(project, year if year is not None else as_of.year)
        case "running_costs_covered":
            return running_costs_covered(project, year if year is not None else as_of.year)
    return None


def cohort(program: Program, year: int) -> list[Project]:
    """The projects a run of PROGRAM's YEAR scores: planned to start by the end of the year, approved onwards."""
    _y0, y1 = year_bounds(year)
    out = []
    for project in Project.objects.filter(pairing__program=program).order_by("pk"):
        if project.state not in SCORED_STATES:
            continue
        if project.planned_start is not None and project.planned_start <= y1:
            out.append(project)
    return out


def reference_coverage(specs: Sequence[Spec], measures: Mapping[str, float | None]) -> float:
    """Per cent of the SPECS' applicable weight whose measure has a value: the weights of the measured
    indicators, added one by one, over all the weights less those of the optional measures without a value (not
    applicable to the project)."""
    measured = sum((s.weight for s in specs if measures.get(s.code) is not None), 0.0)
    total = sum((s.weight for s in specs), 0.0)
    absent = sum(
        (
            s.weight
            for s in specs
            if measures.get(s.code) is None and getattr(MEASURES.get(s.formula), "optional", False)
        ),
        0.0,
    )
    applicable = total - absent
    return 100.0 * measured / applicable if applicable > 0 else 0.0


def reference_project_scores(
    program: Program, year: int, as_of: dt.date, specs: Sequence[Spec], required: Any
) -> dict[int, Scored]:
    """Project id → (score, measured value by indicator code) for the cohort of PROGRAM's YEAR, with the
    project-level SPECS; the score is None for a project without enough data by the coverage rule (REQUIRED:
    the framework's `min_coverage`)."""
    out: dict[int, Scored] = {}
    for project in cohort(program, year):
        measures: Measures = {s.code: project_measure(s, project, as_of, year) for s in specs}
        enough = has_enough_data(reference_coverage(specs, measures), required)
        out[project.pk] = (score_of(specs, measures) if enough else None, measures)
    return out


# --- pairing level -----------------------------------------------------------------------------------------


def _is_county_level(project: Project) -> bool:
    """Located at county level or below; a project without a location counts at its recipient region's level."""
    region: Region | None = project.location if project.location_id else project.pairing.recipient_region
    return region is not None and region.level in COUNTY_LEVEL_AND_BELOW


def pairing_measures(pairing: Pairing, year: int, project_scores: Mapping[int, Scored]) -> Measures:
    """Every pairing-level measure of PAIRING in YEAR, by formula. PROJECT_SCORES are the run's project scores
    (of every pairing: this one's are picked out)."""
    y0, y1 = year_bounds(year)
    mandate = AnnualMandate.objects.filter(pairing=pairing, year=year).first()
    funds_required = mandate.funds_required if mandate else None
    quota = mandate.personnel_quota if mandate else None

    flows = list(FundFlow.objects.filter(pairing=pairing).values_list("kind", "amount", "date", "project_id"))
    in_year = [(k, a, project_id) for k, a, d, project_id in flows if y0 <= d <= y1]
    committed = _sum(a for k, a, _p in in_year if k == FlowKind.COMMITMENT)
    received = _sum(a for k, a, _p in in_year if k == FlowKind.DISBURSEMENT)

    # The shares of the year's disbursements: each linked to a project counts by that project (whatever its
    # state); one linked to none, or to a project that is gone, counts in the whole only.
    disbursed = [(a, project_id) for k, a, project_id in in_year if k == FlowKind.DISBURSEMENT]
    linked = Project.objects.select_related("location", "pairing__recipient_region").in_bulk(
        {project_id for _a, project_id in disbursed if project_id is not None}
    )
    to_county = _sum(a for a, pid in disbursed if pid in linked and _is_county_level(linked[pid]))
    to_livelihood = _sum(a for a, pid in disbursed if pid in linked and linked[pid].is_livelihood)

    headcount = _sum(
        d.headcount
        for d in Deployment.objects.filter(pairing=pairing)
        if d.start_date <= y1 and (d.end_date is None or d.end_date >= y0)
    )
    trained = _sum(t.people_trained for t in Training.objects.filter(pairing=pairing) if y0 <= t.start_date <= y1)

    budget = sustaining = weighted = weights = 0.0
    projects = (
        Project.objects.filter(pk__in=list(project_scores))
        .select_related("location", "pairing__recipient_region")
        .order_by("pk")
    )
    for project in projects:
        if project.pairing_id != pairing.pk:
            continue
        b = float(project.approved_budget or 0)
        score = project_scores[project.pk][0]
        budget += b
        sustaining += b if project.is_self_sustaining else 0.0
        if score is not None:
            weighted += score * b
            weights += b

    aged = in_use = earning = covering = 0
    for project in Project.objects.filter(pairing=pairing).order_by("pk"):
        handover, report = _latest_operation(project, year)
        if handover is None or report is None:
            continue
        if handover.date <= dt.date(year - ASSETS_IN_USE_YEARS, 12, 31):
            aged += 1
            in_use += 1 if report.status in IN_USE_STATUSES else 0
        if _earns(project, report):
            earning += 1
            covering += 1 if _covers(report) else 0

    return {
        "assets_in_use_share": _ratio(in_use, aged),
        "running_costs_covered_share": _ratio(covering, earning),
        "mandate_fulfilment": _ratio(received, funds_required),
        "funds_delivery": _ratio(received, committed),
        "county_share": _ratio(to_county, received),
        "livelihood_share": _ratio(to_livelihood, received),
        "self_sustaining_share": _ratio(sustaining, budget),
        "personnel_vs_quota": _ratio(headcount, quota),
        "people_trained": float(trained or 0),
        "project_scores": _ratio(weighted, weights),
    }


def pairings_of(program: Program, year: int) -> list[Pairing]:
    """PROGRAM's pairings active at some time in YEAR."""
    y0, y1 = year_bounds(year)
    return [
        p
        for p in Pairing.objects.filter(program=program).order_by("pk")
        if p.start_date <= y1 and (p.end_date is None or p.end_date >= y0)
    ]


def reference_pairing_scores(
    program: Program, year: int, specs: Sequence[Spec], project_scores: Mapping[int, Scored]
) -> dict[int, Scored]:
    """Pairing id → (score, measured value by indicator code) for PROGRAM's pairings active in YEAR, with the
    pairing-level SPECS, over PROJECT_SCORES (what `reference_project_scores` gives, or the run's own)."""
    out: dict[int, Scored] = {}
    for pairing in pairings_of(program, year):
        by_formula = pairing_measures(pairing, year, project_scores)
        measures: Measures = {s.code: by_formula.get(s.formula) for s in specs}
        out[pairing.pk] = (score_of(specs, measures), measures)
    return out


def reference_ranking(pairing_scores: Mapping[int, Scored]) -> dict[int, tuple[float, int]]:
    """Assisting organization id → (mean score of its top-level scored pairings, rank); equal scores share a
    rank (the next one skips)."""
    by_org: dict[int, list[float]] = defaultdict(list)
    for pairing in Pairing.objects.filter(pk__in=list(pairing_scores), parent__isnull=True):
        score = pairing_scores[pairing.pk][0]
        if score is not None:
            by_org[pairing.assisting_organization_id].append(score)
    means = sorted(((sum(s) / len(s), org) for org, s in by_org.items()), key=lambda x: (-x[0], x[1]))
    out: dict[int, tuple[float, int]] = {}
    for i, (score, org) in enumerate(means):
        tied = i > 0 and round(score, 6) == round(means[i - 1][0], 6)
        out[org] = (score, out[means[i - 1][1]][1] if tied else i + 1)
    return out
