"""bench/evaluation.py on a small synthetic data set, so that the benchmark cannot rot: its three ways of scoring
the same projects — (a) one run per programme of its latest year through `run_start` with Celery eager, (b) the
pure-SQL limit, (c) the per-object ORM peer — give the same scores and keep the same of each project, its checks
see a difference when there is one, and its reset brings the data set back to where it started."""

import importlib.util
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from core.models import COUNTY_LEVEL_AND_BELOW, Region
from evaluation import scoring, services
from evaluation.measures import SCORED_STATES
from evaluation.models import EvaluationRun, ExpertScore, ProjectScore, RunStatus, SatisfactionRating
from pairings.models import Program
from projects.models import Project
from projects.synthetic import AS_OF

N = 150


def _load_bench():
    path = Path(__file__).resolve().parents[2] / "bench" / "evaluation.py"
    spec = importlib.util.spec_from_file_location("bench_evaluation", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_evaluation"] = module
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


# Runs queue their work on commit, as in production: the test runs outside a transaction.
@pytest.mark.django_db(transaction=True)
def test_run_limit_and_peer_give_the_same_scores_and_the_reset_starts_again():
    call_command("generate_projects", "--projects", str(N), "--seed", "3", verbosity=0)
    assert bench.ensure_inputs() is not None
    assert bench.ensure_inputs() is None  # once only
    assert SatisfactionRating.objects.exists()
    assert ExpertScore.objects.exists()
    # The generator places every project at county level or below: a few move up, so that the county flag varies.
    above = Region.objects.exclude(level__in=COUNTY_LEVEL_AND_BELOW).order_by("pk").first()
    assert above is not None
    Project.objects.filter(pk__in=list(Project.objects.order_by("pk").values_list("pk", flat=True))[::7]).update(
        location=above
    )

    # One run per programme, of its latest evaluable year, over the engine's own cohort of that year.
    groups, unreachable = bench.cohorts()
    assert [c.program.pk for c in groups] == list(
        Program.objects.filter(pairings__projects__state__in=SCORED_STATES)
        .distinct()
        .order_by("code")
        .values_list("pk", flat=True)
    )
    assert len(groups) >= 2
    for c in groups:
        assert c.year == services._program_years(c.program)[1]
        assert c.projects == len(scoring.cohort_ids(EvaluationRun(program=c.program, year=c.year)))
    assert sum(c.projects for c in groups) + unreachable == Project.objects.filter(state__in=SCORED_STATES).count()
    # A portfolio, not a year's new projects: some cohort reaches back over several years.
    assert any(c.since < c.year for c in groups)
    assert set(bench.peer_sample(groups, 10 * N)) == {(c.program.pk, c.year) for c in groups}
    accepted = set(Project.objects.filter(state="accepted").values_list("pk", flat=True))
    assert accepted

    # In the benchmark's order: (b) and (c), then (a).
    bench.create_scratch()
    try:
        limit = bench.limit_statements(groups, AS_OF)
        assert [s.label for s in limit] == [c.label for c in groups]
        _seconds, b_rows = bench.limit_insert(limit)
        b = bench.scratch_scores()
        runs = bench.peer_runs(groups, AS_OF)
        _seconds, c_n = bench.peer(runs, bench.peer_sample(groups, 10 * N))  # larger than the data: every project
        c = bench.run_scores([r.pk for r in runs.values()])
        assert not EvaluationRun.objects.filter(pk__in=[r.pk for r in runs.values()], status=RunStatus.SUCCEEDED)

        stages = bench.Stages()
        run_ids = bench.evaluate_all(groups, AS_OF, stages)
        assert EvaluationRun.objects.filter(pk__in=run_ids, status=RunStatus.SUCCEEDED).count() == len(groups)
        a = bench.run_scores(run_ids)
        assert len(a) == sum(c.projects for c in groups) == b_rows == c_n
        assert bench.differences(a, b) == []
        assert bench.differences(a, c) == []
        assert stages.counts["run_plan"] == stages.counts["run_finalize"] == len(groups)
        assert stages.counts["chunk_execute"] >= len(groups)
        assert stages.counts["sql: scoring upsert"] == stages.counts["chunk_execute"]
        assert stages.counts["sql: pairing measures"] == len(groups)
        assert stages.total >= stages.by["chunk_execute"] > 0
        # Every measure of the framework is fed by the data set somewhere, so the comparisons cover each formula;
        # the kept values vary too (states, flags), so comparing them is not comparing constants.
        codes = {code for _s, measures, _f, _k in a.values() for code, value in measures.items() if value is not None}
        assert codes == set(next(iter(a.values()))[1])
        kept = list(zip(*(k for _s, _m, _f, k in a.values()), strict=True))
        assert {"accepted", "in_construction"} <= set(kept[0])
        assert [set(flags) for flags in kept[2:]] == [{True, False}] * 3
        assert any(budget > Decimal(0) for budget in kept[1])

        # The first round's one-off write: the accepted projects are evaluated now, while (a)'s rows keep the state
        # they were scored in — which (b) computed alike before, and which the check sees differ after.
        assert not Project.objects.filter(pk__in=accepted & set(a), state="accepted").exists()
        bench.limit_insert(limit)
        assert any("kept" in problem for problem in bench.differences(a, bench.scratch_scores()))

        # The check can fail on real rows: a cohort cut at an earlier year misses projects.
        big = max(groups, key=lambda g: g.projects)
        early = bench.Cohort(big.program, big.since, 0, big.since)
        assert len(scoring.cohort_ids(EvaluationRun(program=big.program, year=big.since))) < big.projects
        bench.limit_insert(bench.limit_statements([early], AS_OF))
        mine = set(scoring.cohort_ids(EvaluationRun(program=big.program, year=big.year)))
        problems = bench.differences({pk: v for pk, v in a.items() if pk in mine}, bench.scratch_scores())
        assert "missing" in problems[0]
    finally:
        bench.drop_scratch()

    sample = bench.peer_sample(groups, 10)
    assert 5 <= sum(len(ids) for ids in sample.values()) <= 10
    assert sample == bench.peer_sample(groups, 10)

    # The reset: back to the generated state, and a second first round scores alike, state kept included.
    assert bench.reset_evaluation() == len(accepted & set(a))
    assert set(Project.objects.filter(state="accepted").values_list("pk", flat=True)) == accepted
    assert not Project.objects.filter(state="evaluated").exists()
    assert not EvaluationRun.objects.exists()
    assert not ProjectScore.objects.exists()
    assert bench.differences(a, bench.run_scores(bench.evaluate_all(groups, AS_OF))) == []


def test_differences_name_what_differs():
    k = ("accepted", Decimal("10.00"), True, False, False)
    a = {1: (80.0, {"x": 0.5, "y": None}, True, k), 2: (None, {"x": None, "y": None}, False, k)}
    assert bench.differences(a, dict(a)) == []
    assert bench.differences(a, {**a, 1: (80.0 + 1e-12, {"x": 0.5, "y": None}, True, k)}) == []
    assert "score" in bench.differences(a, {**a, 1: (80.0 + 1e-6, {"x": 0.5, "y": None}, True, k)})[0]
    assert "score" in bench.differences(a, {**a, 2: (0.0, {"x": None, "y": None}, False, k)})[0]
    assert "measures" in bench.differences(a, {**a, 1: (80.0, {"x": 0.5, "y": 0.1}, True, k)})[0]
    assert "final" in bench.differences(a, {**a, 1: (80.0, {"x": 0.5, "y": None}, False, k)})[0]
    for i, other in enumerate(("evaluated", Decimal("10.01"), False, True, True)):
        changed = (*k[:i], other, *k[i + 1 :])
        problems = bench.differences(a, {**a, 1: (80.0, {"x": 0.5, "y": None}, True, changed)})
        assert len(problems) == 1
        assert "kept" in problems[0]
        assert bench.KEPT[i] in problems[0]
    assert "missing" in bench.differences(a, {1: a[1]})[0]
    assert bench.differences(a, {1: a[1]}, subset=True) == []
    assert "should not be there" in bench.differences(a, {**a, 3: a[1]})[0]
