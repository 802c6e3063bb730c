"""bench/evaluation.py --workers on a small data set, so that it cannot rot: a round starts a real prefork worker of
1, then 2 processes on a redis-server of the test's own, queues the runs through `run_start` (not eager), waits on
the run rows, and gives the same scores either way."""

import importlib.util
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from evaluation import tasks
from evaluation.models import EvaluationRun, ProjectScore, RunChunk, RunStatus
from projects.synthetic import AS_OF

from .conftest import _database_url, client_app

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


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


def test_runs_through_one_and_two_worker_processes_score_alike(redis_server, tmp_path, monkeypatch):
    call_command("generate_projects", "--projects", "200", "--seed", "3", verbosity=0)
    bench.ensure_inputs()
    groups, _unreachable = bench.cohorts()
    scored = sum(c.projects for c in groups)
    # This process's Celery is eager (test settings): `run_start` queues the plan on the test's broker instead.
    client = client_app(redis_server.url)
    queue = bench.evaluation_queue()
    monkeypatch.setattr(
        tasks.plan_run,
        "delay",
        lambda run_id: client.send_task("evaluation.tasks.plan_run", args=[run_id], queue=queue),
    )
    conf = bench.WorkerConf(
        redis_server.url,
        _database_url(),
        "config.settings.test",
        tmp_path,
        env={"DATABASE_POOL": "false", "EVALUATION_CHUNK_SIZE": "10"},
        timeout=120,
    )

    one = bench.workers_round(groups, AS_OF, 1, conf)
    assert one.processes == 1
    assert len(one.run_ids) == len(groups)
    assert one.seconds > 0
    assert one.chunks == RunChunk.objects.filter(run_id__in=one.run_ids, kind="projects").count() > len(groups)
    assert one.chunk_seconds > 0
    assert set(one.cores) == {"workers", "postgres", "bench", "other", "machine"}
    assert one.cores["workers"] > 0
    first = bench.run_scores(one.run_ids)
    assert len(first) == scored

    bench.reset_evaluation()  # the same states again: the scores must be the same to the last digit
    two = bench.workers_round(groups, AS_OF, 2, conf)
    assert bench.differences(first, bench.run_scores(two.run_ids)) == []
    assert ProjectScore.objects.filter(run_id__in=two.run_ids).count() == scored
    assert set(EvaluationRun.objects.filter(pk__in=two.run_ids).values_list("status", flat=True)) == {
        RunStatus.SUCCEEDED
    }
