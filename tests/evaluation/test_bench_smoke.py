"""bench/evaluation.py on a small synthetic data set, so that the benchmark cannot rot: its three ways of scoring
the same projects — (a) runs through `run_start` with Celery eager, (b) the pure-SQL limit, (c) the per-object
ORM peer — give the same scores, and its reset brings the data set back to where it started."""

import importlib.util
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from evaluation.measures import SCORED_STATES
from evaluation.models import EvaluationRun, ExpertScore, ProjectScore, RunStatus, SatisfactionRating
from projects.models import Project
from projects.synthetic import AS_OF

N = 150
#: The programme-years the runs are tried on: the largest ones (a run's cost is mostly per programme-year).
COHORTS = 6


def _load_bench():
    path = Path(__file__).resolve().parents[2] / "bench" / "evaluation.py"
    spec = importlib.util.spec_from_file_location("bench_evaluation", path)
    assert spec is not None and spec.loader is not None
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
    assert SatisfactionRating.objects.exists() and ExpertScore.objects.exists()

    every, unreachable = bench.cohorts()
    assert every and len({(c.program.pk, c.year) for c in every}) == len(every)
    assert sum(c.projects for c in every) + unreachable == Project.objects.filter(state__in=SCORED_STATES).count()
    groups = sorted(every, key=lambda c: -c.projects)[:COHORTS]
    cohort_ids = set(bench.peer_sample(groups, 10 * N))  # larger than the data: every project, by programme-year
    assert cohort_ids == {(c.program.pk, c.year) for c in groups}
    accepted = set(Project.objects.filter(state="accepted").values_list("pk", flat=True))

    # (a)
    stages = bench.Stages()
    run_ids = bench.evaluate_all(groups, AS_OF, stages)
    assert EvaluationRun.objects.filter(pk__in=run_ids, status=RunStatus.SUCCEEDED).count() == len(groups)
    a = bench.run_scores(run_ids)
    assert len(a) == sum(c.projects for c in groups)
    assert stages.counts["run_plan"] == stages.counts["run_finalize"] == len(groups)
    assert stages.counts["chunk_execute"] >= len(groups)
    assert stages.counts["sql: scoring upsert"] == stages.counts["chunk_execute"]
    assert stages.counts["sql: pairing measures"] == len(groups)
    assert stages.total >= stages.by["chunk_execute"] > 0
    # The first round's one-off write: the cohorts' accepted projects are evaluated now.
    assert Project.objects.filter(state="evaluated").exists()
    # Every measure of the framework is fed by the data set somewhere, so the comparisons cover each formula.
    codes = {code for _s, measures, _f in a.values() for code, value in measures.items() if value is not None}
    assert codes == set(next(iter(a.values()))[1])

    # (b), by programme and by programme-year
    bench.create_scratch()
    try:
        for per_year in (False, True):
            inserts = bench.limit_statements(groups, AS_OF, per_year=per_year)
            ranges = sum(
                len(bench.year_ranges([c.year for c in groups if c.program.pk == pk]))
                for pk in {c.program.pk for c in groups}
            )
            assert len(inserts) == (len(groups) if per_year else ranges)
            _seconds, rows = bench.limit_insert(inserts)
            assert rows == len(a)
            assert bench.differences(a, bench.scratch_scores()) == []
    finally:
        bench.drop_scratch()

    # (c), on every project and on a sample of every k-th
    runs = bench.peer_runs(groups, AS_OF)
    _seconds, n = bench.peer(runs, bench.peer_sample(groups, 10 * N))
    assert n == len(a)
    assert bench.differences(a, bench.run_scores([r.pk for r in runs.values()])) == []
    assert not EvaluationRun.objects.filter(pk__in=[r.pk for r in runs.values()], status=RunStatus.SUCCEEDED)
    sample = bench.peer_sample(groups, 10)
    assert 5 <= sum(len(ids) for ids in sample.values()) <= 10
    assert sample == bench.peer_sample(groups, 10)

    # The reset: back to the generated state, and a second first round scores alike.
    assert bench.reset_evaluation() > 0
    assert set(Project.objects.filter(state="accepted").values_list("pk", flat=True)) == accepted
    assert not Project.objects.filter(state="evaluated").exists()
    assert not EvaluationRun.objects.exists() and not ProjectScore.objects.exists()
    assert bench.differences(a, bench.run_scores(bench.evaluate_all(groups, AS_OF))) == []


def test_differences_name_what_differs():
    a = {1: (80.0, {"x": 0.5, "y": None}, True), 2: (None, {"x": None, "y": None}, False)}
    assert bench.differences(a, dict(a)) == []
    assert bench.differences(a, {**a, 1: (80.0 + 1e-12, {"x": 0.5, "y": None}, True)}) == []
    assert "score" in bench.differences(a, {**a, 1: (80.0 + 1e-6, {"x": 0.5, "y": None}, True)})[0]
    assert "score" in bench.differences(a, {**a, 2: (0.0, {"x": None, "y": None}, False)})[0]
    assert "measures" in bench.differences(a, {**a, 1: (80.0, {"x": 0.5, "y": 0.1}, True)})[0]
    assert "final" in bench.differences(a, {**a, 1: (80.0, {"x": 0.5, "y": None}, False)})[0]
    assert "missing" in bench.differences(a, {1: a[1]})[0]
    assert bench.differences(a, {1: a[1]}, subset=True) == []
    assert "should not be there" in bench.differences(a, {**a, 3: a[1]})[0]


def test_year_ranges_join_consecutive_years():
    assert bench.year_ranges([2011, 2008, 2009, 2013, 2012]) == [(2008, 2009), (2011, 2013)]
    assert bench.year_ranges([]) == []
