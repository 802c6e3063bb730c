"""The set-based SQL of a real run agrees with the pure-Python reference (`evaluation.reference`) on every
project and pairing of a varied data set: the synthetic projects of `generate_projects`, bent into the corners
the formulas have to handle (no inspections, no planned end, a zero-day plan, overspent and doubly overspent
budgets, late finishes, no approved budget, no or zero expected beneficiaries, locations above county level or
none, rectifications closed late or still open, satisfaction ratings and expert scores on a deterministic subset,
a child pairing with projects of its own, mandates with and without a quota, flows, deployments and trainings in
and out of the year; for the shares of the year's disbursements, disbursements of the year linked to projects at
county level and below, above it, without a location or at an XPCC division, livelihood or not, linked ones of other
years, unlinked ones, and a pairing with none in the year). The run is cut into many small chunks. PostgreSQL here; SQLite runs the same SQL in
`make run`."""

import datetime as dt
import math
import random
from collections.abc import Mapping
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.models import Role, User
from core.models import Region, RegionLevel
from evaluation import reference, services
from evaluation.models import EvaluationRun, PairingScorecard, ProjectScore, Ranking, RunChunk, RunStatus
from evaluation.reference import Scored
from pairings.models import AnnualMandate, Deployment, FundFlow, Pairing, Program, Training
from projects.models import Inspection, Project, Rectification
from tests.evaluation.conftest_engine import run_now
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

D = dt.date
TOL = 1e-9


def generated_programme(code: str) -> Program:
    call_command("generate_projects", "--projects", "800", "--seed", "11", verbosity=0)
    return Program.objects.get(code=code)


def users(prefix: str, role: str, n: int) -> list[User]:
    org = OrganizationFactory()
    return [UserFactory(username=f"{prefix}{i}", organization=org, roles=[role]) for i in range(n)]


def coordinator() -> User:
    national = OrganizationFactory(name="国家协调办公室", kind="central_office")
    return UserFactory(username="agreement-coordinator", organization=national, roles=[Role.NATIONAL_COORDINATOR])


def bend(program: Program, year: int, as_of: dt.date, *, expert_codes: tuple[str, ...], seed: int) -> Region:
    """Push the programme-year's data into every corner the formulas treat specially. Deterministic. Returns
    the XPCC division some projects are moved to."""
    rng = random.Random(seed)
    y0 = D(year, 1, 1)
    cohort = reference.cohort(program, year)
    assert len(cohort) >= 15, "the generated data set should give this programme-year a real cohort"

    # A child pairing with projects of its own (its parent keeps the rest).
    child = Pairing.objects.filter(program=program, parent__isnull=False).order_by("pk").first()
    assert child is not None
    for p in [p for p in cohort if p.pairing_id == child.parent_id][:2] or cohort[:2]:
        Project.objects.filter(pk=p.pk).update(pairing=child, location=child.recipient_region)

    bare: set[int] = set()
    for i, p in enumerate(cohort):
        p.refresh_from_db()
        changes: dict[str, object] = {}
        corner = i % 13
        if corner == 0:  # no inspections at all
            Rectification.objects.filter(project=p).update(inspection=None)
            Inspection.objects.filter(project=p).delete()
        elif corner == 1:
            changes["planned_end"] = None
        elif corner == 2 and p.planned_start:  # a zero-day plan finished a day late: the duration counts as 1 day
            changes["planned_end"] = p.planned_start
            if p.actual_end is not None:
                changes.update(actual_start=p.planned_start, actual_end=p.planned_start + dt.timedelta(days=1))
        elif corner == 3 and p.approved_budget:  # overspent by half, then by more than double
            spend = p.approved_budget * Decimal("1.5") if i % 24 == 3 else p.approved_budget * Decimal("2.4")
            FundFlow.objects.create(
                pairing_id=p.pairing_id, project_id=p.pk, kind="expenditure", amount=spend, date=D(year, 6, 1),
                source="assisting_fiscal",
            )  # fmt: skip
        elif corner == 4 and p.actual_end and p.planned_end:  # finished well after the planned end
            changes["actual_end"] = max(p.actual_end, p.planned_end) + dt.timedelta(days=rng.randint(20, 900))
        elif corner == 5:
            changes["approved_budget"] = None
        elif corner == 6 and i != 6:
            changes["expected_beneficiaries"] = rng.choice([0, None])
        elif corner == 7:
            changes.update(expected_beneficiaries=1000, reached_beneficiaries=rng.choice([None, 1300, 400]))
        elif corner == 8:
            changes["location"] = None
        elif corner == 9 and p.location and p.location.parent_id:  # above county level
            parent = p.location.parent
            while parent is not None and parent.level in (RegionLevel.COUNTY, RegionLevel.TOWNSHIP):
                parent = parent.parent
            changes["location"] = parent
        elif corner == 10:  # rectifications: closed on time, closed late, open past and before the run's date
            for deadline, closed in ((D(year, 5, 1), D(year, 4, 20)), (D(year, 5, 1), D(year, 7, 1)),
                                     (D(year, 8, 1), None), (as_of, None), (D(year + 5, 1, 1), None)):  # fmt: skip
                Rectification.objects.create(project=p, finding="x", deadline=deadline, closed_on=closed)
        elif corner == 11:  # a project that is late and still open at the run's date
            changes.update(planned_end=max(p.planned_start or y0, D(year, 3, 1)), actual_end=None)
        elif corner == 12 or i == 6:
            # Nothing measured but the budget (below the coverage threshold: not scored); and one project measured
            # on schedule, budget and inspections only — in the default framework 20 + 15 + 15, exactly the 50 %
            # a project needs to be scored.
            bare.add(p.pk)
            Rectification.objects.filter(project=p).delete()
            Inspection.objects.filter(project=p).delete()
            FundFlow.objects.filter(project_id=p.pk).delete()
            changes.update(planned_end=None, expected_beneficiaries=None)
            if i == 6:
                Inspection.objects.create(project=p, kind="routine", date=D(year, 5, 1), result="passed")
                start = p.planned_start or y0
                changes.update(
                    planned_end=start + dt.timedelta(days=400),
                    approved_budget=p.approved_budget or Decimal(10**6),
                )
        if changes:
            Project.objects.filter(pk=p.pk).update(**changes)

    # Ratings and expert scores on a deterministic subset; some projects rated twice.
    officers = users(f"ro-{seed}-", Role.RECIPIENT_OFFICER, 2)
    evaluators = users(f"ev-{seed}-", Role.EVALUATOR, 2)
    from evaluation.models import ExpertScore, SatisfactionRating

    for p in (p for p in cohort if p.pk not in bare):
        for officer in officers:
            if rng.random() < 0.4:
                SatisfactionRating.objects.create(project=p, rated_by=officer, score=rng.randint(1, 5))
        for code in expert_codes:
            for evaluator in evaluators:
                if rng.random() < 0.45:
                    ExpertScore.objects.create(
                        project=p,
                        indicator_code=code,
                        evaluator=evaluator,
                        score=Decimal(rng.randint(0, 10000)) / 100,
                        comment="x",
                    )

    # Pairing-level rows: a mandate (sometimes nothing required, sometimes no quota), flows in and out of the
    # year, deployments overlapping the year or not, trainings in and out of the year.
    for n, pairing in enumerate(Pairing.objects.filter(program=program).order_by("pk")):
        if n % 5 != 4:
            AnnualMandate.objects.update_or_create(
                pairing=pairing,
                year=year,
                defaults={
                    "funds_required": Decimal(0) if n % 7 == 3 else Decimal(rng.randint(50, 400)) * 10**6,
                    "personnel_quota": None if n % 3 == 0 else rng.randint(5, 60),
                },
            )
        for kind, when in (
            ("commitment", D(year, 2, 1)),
            ("disbursement", D(year, 9, 1)),
            ("disbursement", D(year - 1, 12, 31)),
            ("commitment", D(year + 1, 1, 1)),
            ("pledge", D(year, 3, 1)),
        ):
            if rng.random() < 0.7:
                FundFlow.objects.create(
                    pairing=pairing, kind=kind, amount=Decimal(rng.randint(1, 300)) * 10**6, date=when,
                    source="assisting_fiscal",
                )  # fmt: skip
        for start, end in ((D(year - 3, 1, 1), D(year - 1, 12, 31)), (D(year - 1, 7, 1), D(year, 1, 1)),
                           (D(year, 6, 1), None), (D(year + 1, 1, 1), None), (D(year, 12, 31), D(year + 2, 1, 1))):  # fmt: skip
            if rng.random() < 0.5:
                Deployment.objects.create(
                    pairing=pairing, kind="cadre", headcount=rng.randint(1, 30), start_date=start, end_date=end
                )
        for when in (D(year, 1, 1), D(year, 12, 31), D(year - 1, 12, 31), D(year + 1, 1, 1)):
            if rng.random() < 0.5:
                Training.objects.create(
                    pairing=pairing, topic="x", people_trained=rng.randint(1, 200), days=Decimal(2), start_date=when
                )

    # The shares of the year's disbursements (the unlinked disbursements are the loop's above). Some projects at
    # an XPCC division (county level for the shares); disbursements linked to projects in the year and in the
    # years either side (those do not count), livelihood flags turned both ways; then one pairing with no
    # disbursement in the year at all, whose shares have no value.
    province = Region.objects.filter(level=RegionLevel.PROVINCE).order_by("pk").first()
    division = Region.objects.create(code="XPCC-99", name="测试师", level="xpcc_division", parent=province)
    for i, p in enumerate(cohort):
        if p.pk in bare:
            continue
        if i % 13 == 10:  # a corner that leaves the location alone; paid in the year, so that the level counts
            Project.objects.filter(pk=p.pk).update(location=division)
            FundFlow.objects.create(
                pairing_id=p.pairing_id, project_id=p.pk, kind="disbursement", amount=Decimal(50 * 10**6),
                date=D(year, 7, 1), source="assisting_fiscal",
            )  # fmt: skip
        if i % 4 == 1:
            Project.objects.filter(pk=p.pk).update(is_livelihood=not p.is_livelihood)
        for when in (D(year, 1, 1), D(year, 12, 31), D(year - 1, 12, 31), D(year + 1, 1, 1)):
            if rng.random() < 0.45:
                FundFlow.objects.create(
                    pairing_id=p.pairing_id, project_id=p.pk, kind="disbursement",
                    amount=Decimal(rng.randint(1, 80)) * 10**6, date=when, source="assisting_fiscal",
                )  # fmt: skip
    dry = Pairing.objects.filter(program=program, parent__isnull=True).order_by("-pk").first()
    FundFlow.objects.filter(pairing=dry, kind="disbursement", date__year=year).delete()
    return division


def assert_same(a: float | None, b: float | None, what: str) -> None:
    if a is None or b is None:
        assert a is None, f"{what}: SQL {a!r}, reference {b!r}"
        assert b is None, f"{what}: SQL {a!r}, reference {b!r}"
    else:
        assert math.isclose(a, b, rel_tol=0, abs_tol=TOL), f"{what}: SQL {a!r}, reference {b!r}"


def assert_measures(got: Mapping[str, float | None], want: Mapping[str, float | None], what: str) -> None:
    assert set(got) == set(want), what
    for code in want:
        assert_same(got[code], want[code], f"{what} {code}")


def run_and_compare(capture, program: Program, year: int, by: User, as_of: dt.date) -> tuple[EvaluationRun, dict]:
    framework = services.framework_current(program)
    project_specs = services.specs_of(framework, "project")
    pairing_specs = services.specs_of(framework, "pairing")
    want_projects: dict[int, Scored] = reference.reference_project_scores(
        program, year, as_of, project_specs, framework.min_coverage
    )
    want_pairings = reference.reference_pairing_scores(program, year, pairing_specs, want_projects)

    run = run_now(capture, program=program, year=year, by=by, as_of=as_of)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.framework_id == framework.pk
    assert RunChunk.objects.filter(run=run, kind="projects").count() >= 3, "the run should be cut into chunks"
    assert run.done == run.total == len(want_projects) + len(want_pairings)

    got_projects = {s.project_id: s for s in ProjectScore.objects.filter(run=run)}
    assert set(got_projects) == set(want_projects)
    for pk, (score, measures) in want_projects.items():
        assert_same(got_projects[pk].score, score, f"project {pk} score")
        assert_measures(got_projects[pk].measures, measures, f"project {pk}")
        # The coverage rule: the share of the weight with data, and scored only at the framework's minimum.
        assert_same(got_projects[pk].coverage, reference.reference_coverage(project_specs, measures), f"{pk} coverage")
        assert got_projects[pk].status == ("scored" if score is not None else "insufficient_data"), pk

    got_cards = {c.pairing_id: c for c in PairingScorecard.objects.filter(run=run)}
    assert set(got_cards) == set(want_pairings)
    for pk, (score, measures) in want_pairings.items():
        assert_same(got_cards[pk].score, score, f"pairing {pk} score")
        assert_measures(got_cards[pk].measures, measures, f"pairing {pk}")
        mine = [p for p in want_projects if Project.objects.get(pk=p).pairing_id == pk]
        assert got_cards[pk].project_count == len(mine)
        assert got_cards[pk].insufficient_data_count == sum(1 for p in mine if want_projects[p][0] is None)

    want_ranking = reference.reference_ranking(want_pairings)
    got_ranking = {r.organization_id: r for r in Ranking.objects.filter(run=run)}
    assert set(got_ranking) == set(want_ranking)
    for org, (score, rank) in want_ranking.items():
        assert_same(got_ranking[org].score, score, f"organization {org} score")
        assert got_ranking[org].rank == rank
    return run, {"projects": want_projects, "pairings": want_pairings}


def assert_the_coverage_rule(run: EvaluationRun, projects_code: str) -> None:
    """A project below the framework's minimum coverage is not scored and not in its pairing's budget-weighted
    project scores; one exactly at the minimum is scored."""
    rows = list(ProjectScore.objects.filter(run=run))
    required = float(run.framework.min_coverage)
    at = [r for r in rows if r.coverage is not None and math.isclose(r.coverage, required, abs_tol=TOL)]
    assert at, "some project should have exactly the required coverage"
    assert all(r.status == "scored" and r.score is not None for r in at)
    below = [r for r in rows if r.coverage is not None and r.coverage < required - TOL]
    assert below, "some project should be below the required coverage"
    assert all(r.status == "insufficient_data" and r.score is None for r in below)
    assert all(r.status == "scored" and r.score is not None for r in rows if r.coverage >= required - TOL)
    left_out = {r.pairing_id for r in below if r.budget > 0}
    assert left_out
    for pairing_id in left_out:
        scored = [r for r in rows if r.pairing_id == pairing_id and r.status == "scored" and r.budget > 0]
        weights = sum(float(r.budget) for r in scored)
        mean = sum(float(r.score or 0) * float(r.budget) for r in scored) / weights if weights else None
        card = PairingScorecard.objects.get(run=run, pairing_id=pairing_id)
        assert_same(card.measures[projects_code], mean, f"pairing {pairing_id}: the mean of its scored projects")
        assert card.insufficient_data_count == sum(1 for r in below if r.pairing_id == pairing_id)


def values_of(scored: Mapping[int, Scored], code: str) -> list[float | None]:
    return [measures[code] for _score, measures in scored.values()]


def test_the_sql_of_a_run_agrees_with_the_reference_on_the_default_framework(
    settings, django_capture_on_commit_callbacks
):
    settings.EVALUATION_CHUNK_SIZE = 4
    program = generated_programme("wenchuan-2008")
    division = bend(program, 2009, D(2010, 6, 30), expert_codes=("quality",), seed=1)
    run, want = run_and_compare(django_capture_on_commit_callbacks, program, 2009, coordinator(), D(2010, 6, 30))

    # The data reached the corners (so the agreement is not that of two Nones everywhere).
    projects, pairings = want["projects"], want["pairings"]
    assert None in values_of(projects, "inspections")
    assert None in values_of(projects, "on_time")
    assert {0.0, 1.0} <= set(values_of(projects, "budget"))
    assert None in values_of(projects, "budget")
    assert any(v is not None and 0 < v < 1 for v in values_of(projects, "on_time"))
    assert any(v is not None and v > 1 for v in values_of(projects, "beneficiaries"))
    assert any(v is not None and 0 < v < 1 for v in values_of(projects, "rectifications"))
    assert len({v for v in values_of(projects, "satisfaction") if v is not None}) >= 3
    assert len({v for v in values_of(projects, "quality") if v is not None}) >= 3
    assert any(v is not None and 0 < v < 1 for v in values_of(pairings, "county_share"))
    assert any(v is not None and 0 < v < 1 for v in values_of(pairings, "livelihood_share"))
    assert None in values_of(pairings, "county_share")
    assert None in values_of(pairings, "livelihood_share")
    at_division = Project.objects.filter(location=division).values("pk")
    assert FundFlow.objects.filter(kind="disbursement", date__year=2009, project_id__in=at_division).exists()
    assert None in values_of(pairings, "mandate")
    assert None in values_of(pairings, "personnel")
    assert any(v is not None and v > 0 for v in values_of(pairings, "personnel"))
    assert len({s for s, _m in projects.values() if s is not None}) >= 10
    child = Pairing.objects.filter(program=program, parent__isnull=False).order_by("pk").first()
    assert child is not None
    assert PairingScorecard.objects.get(run=run, pairing=child).project_count >= 1
    assert not Ranking.objects.filter(run=run, organization_id=child.assisting_organization_id).exists()
    assert run.framework.min_coverage == 50
    assert_the_coverage_rule(run, "projects")


def test_the_sql_agrees_with_the_reference_on_thresholds_and_two_expert_indicators(
    settings, django_capture_on_commit_callbacks
):
    settings.EVALUATION_CHUNK_SIZE = 3
    program = generated_programme("wenchuan-2008")
    by = coordinator()
    default = services.framework_current(program)
    rows = [
        {"code": "on_time", "name": "按期", "formula": "on_time_completion", "curve": "threshold",
         "thresholds": [[0.2, 30], [0.6, 70], [0.95, 100]], "weight": 40},
        {"code": "inspections", "name": "检查", "formula": "inspection_pass_rate", "curve": "threshold",
         "thresholds": [[0.5, 50], [1, 100]], "weight": 10},
        {"code": "rectifications", "name": "整改", "formula": "rectification_closure", "floor": 0, "target": 1,
         "weight": 5},
        {"code": "beneficiaries", "name": "受益", "formula": "beneficiaries_reached", "floor": 0.3, "target": 1.2,
         "weight": 5},
        {"code": "funds", "name": "到位", "formula": "project_funds_delivery", "floor": 0.1, "target": 0.9,
         "weight": 10},
        {"code": "satisfaction", "name": "满意", "formula": "recipient_satisfaction", "floor": 1, "target": 5,
         "weight": 10},
        {"code": "quality", "name": "质量", "formula": "expert", "floor": 20, "target": 80, "weight": 12.5},
        {"code": "safety", "name": "安全", "formula": "expert", "curve": "threshold",
         "thresholds": [[0, 10], [50, 60], [75, 90]], "weight": 7.5},
        {"code": "projects", "name": "项目", "formula": "project_scores", "curve": "threshold",
         "thresholds": [[30, 20], [50, 60], [70, 100]], "weight": 30},
        {"code": "mandate", "name": "任务", "formula": "mandate_fulfilment", "floor": 0.2, "target": 0.9, "weight": 15},
        {"code": "delivery", "name": "到位", "formula": "funds_delivery", "floor": 0.1, "target": 2, "weight": 10},
        {"code": "county", "name": "县级", "formula": "county_share", "floor": 0.3, "target": 0.95, "weight": 10},
        {"code": "livelihood", "name": "民生", "formula": "livelihood_share", "floor": 0.2, "target": 0.7, "weight": 10},
        {"code": "sustaining", "name": "造血", "formula": "self_sustaining_share", "floor": 0, "target": 0.3,
         "weight": 5},
        {"code": "personnel", "name": "人才", "formula": "personnel_vs_quota", "curve": "threshold",
         "thresholds": [[0.25, 40], [0.75, 80], [1, 100]], "weight": 10},
        {"code": "trained", "name": "培训", "formula": "people_trained", "curve": "threshold",
         "thresholds": [[1, 25], [100, 50], [300, 100]], "weight": 10},
    ]  # fmt: skip
    framework = services.framework_revise(
        program=program, by=by, indicators=rows, reason="Thresholds and two expert indicators", min_coverage="50"
    )
    assert framework.version == default.version + 1
    bend(program, 2010, D(2011, 3, 31), expert_codes=("quality", "safety", "not-in-framework"), seed=2)

    run, want = run_and_compare(django_capture_on_commit_callbacks, program, 2010, by, D(2011, 3, 31))
    assert_the_coverage_rule(run, "projects")  # on time 40 + inspections 10: exactly 50 %

    projects, pairings = want["projects"], want["pairings"]
    safety = [v for v in values_of(projects, "safety") if v is not None]
    assert safety
    assert any(v != q for v, q in zip(values_of(projects, "safety"), values_of(projects, "quality"), strict=True))
    assert len(set(values_of(pairings, "trained"))) >= 3
    assert all("not-in-framework" not in m for _s, m in projects.values())
    # A project with a budget and no score: left out of its pairing's budget-weighted project scores.
    unscored = [pk for pk, (score, _m) in projects.items() if score is None]
    assert unscored
    assert Project.objects.filter(pk__in=unscored, approved_budget__gt=0).exists()
