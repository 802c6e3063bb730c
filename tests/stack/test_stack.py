"""`make stack` for real: scripts/stack.py migrates and collects the static files once, then honcho runs the
Procfile (gunicorn with 2 workers, a Celery worker, Celery beat; the production settings) on the test database and
a redis-server of the test's own. An evaluation started through the API is done by the worker, its progress seen
moving; Ctrl-C (SIGINT) stops every process of the stack."""

import json
import signal
import time
import uuid
from typing import Any

import pytest

from evaluation.models import EvaluationRun, RunStatus
from tests.celery.conftest import RedisServer

from .conftest import alive, cmdline, descendants

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

RUN_TIMEOUT = 90


def worker_records(log: str) -> list[dict[str, Any]]:
    """The JSON log records of the Celery worker in honcho's output (`HH:MM:SS worker.1 | {...}`)."""
    records = []
    for line in log.splitlines():
        prefix, _bar, rest = line.partition(" | ")
        if prefix.endswith("worker.1") and rest.startswith("{"):
            try:
                records.append(json.loads(rest))
            except ValueError:
                continue  # a line of the worker's banner
    return records


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of the samples NAME{LABELS...} of a scrape."""
    from prometheus_client.parser import text_string_to_metric_families

    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def test_the_stack_serves_runs_an_evaluation_through_its_worker_and_stops_on_ctrl_c(
    start_stack, stack_data, redis_server: RedisServer
):
    program, year = stack_data
    stack = start_stack(redis_server.url, chunk_size=5, concurrency=2)
    stack.wait_ready()
    processes = descendants(stack.process.pid)
    # honcho, then under it gunicorn (master and 2 workers), the Celery worker (and its pool) and beat.
    commands = {cmdline(pid) for pid in processes}
    assert any("gunicorn" in c and "--control-socket" in c for c in commands), stack.log()
    assert any("celery" in c and " worker " in c for c in commands), stack.log()
    assert any("celery" in c and " beat " in c for c in commands), stack.log()

    status, body = stack.request(
        "POST", "/api/v1/auth/login/", {"username": "national_coordinator", "password": "duikou-demo"}
    )
    assert status == 200, body
    request_id = str(uuid.uuid4())
    status, body = stack.request(
        "POST",
        "/api/v1/evaluation/runs/",
        {"program": program.pk, "year": year},
        token=body["token"],
        headers={"X-Request-ID": request_id},
    )
    assert status in (200, 201, 202), body
    run = EvaluationRun.objects.get(program=program, year=year)

    # The test process only watches the database: the work is the worker's.
    seen: list[tuple[int, int]] = []
    end = time.monotonic() + RUN_TIMEOUT
    while True:
        run.refresh_from_db()
        if not seen or seen[-1] != (run.done, run.total):
            seen.append((run.done, run.total))
        if not run.is_active:
            break
        assert time.monotonic() < end, f"The run did not finish in {RUN_TIMEOUT} s: {seen}\n{stack.log()}"
        time.sleep(0.01)

    assert run.status == RunStatus.SUCCEEDED, f"{run.error}\n{stack.log()}"
    assert run.total > 10
    assert run.chunks.count() > 5
    moving = [done for done, total in seen if total and 0 < done < total]
    assert len({done for done, _total in seen}) >= 3, seen
    assert moving, f"no progress between start and end was seen: {seen}"
    assert "evaluation.tasks.score_chunk" in stack.log(tail=10**7)  # the worker did it, not this process

    # The worker's log lines (JSON, production's format) of the tasks the request queued carry its id: the plan it
    # queued, and the chunks and final step the plan queued in turn.
    # (The run is marked succeeded inside the final step, a moment before the worker logs the step's end.)
    expected = {
        "Task evaluation.tasks.plan_run",
        "Task evaluation.tasks.score_chunk",
        "Task evaluation.tasks.finalize_run",
    }
    end = time.monotonic() + 15
    while True:
        task_lines = [r for r in worker_records(stack.log(tail=10**7)) if r.get("logger") == "celery.app.trace"]
        done = {r["message"].split("[")[0] for r in task_lines if r.get("request_id") == request_id}
        if expected <= done or time.monotonic() > end:
            break
        time.sleep(0.2)
    assert expected <= done, stack.log()

    # One scrape adds up every process's metrics: the gunicorn workers' requests, the worker's tasks and run.
    status, text = stack.request("GET", "/metrics")
    assert status == 200, text
    assert metric(text, "duikou_celery_tasks_total", task="evaluation.tasks.score_chunk", outcome="succeeded") >= (
        run.chunks.count() - 1  # the chunks of projects; the final step is a chunk of its own
    )
    assert metric(text, "duikou_evaluation_run_seconds_count", outcome="succeeded") >= 1
    assert metric(text, "duikou_http_request_duration_seconds_count", method="POST", status="2xx") >= 2
    assert metric(text, "duikou_celery_broker_up") == 1

    # Ctrl-C: honcho stops every process (SIGTERM), each exits cleanly, and honcho says it was interrupted (130).
    assert stack.interrupt() == 128 + signal.SIGINT, stack.log()
    for name in ("web", "worker", "beat"):
        assert f"{name}.1 stopped (rc=0)" in stack.log(tail=10**7), stack.log()
    end = time.monotonic() + 30
    while any(alive(pid) for pid in processes) and time.monotonic() < end:
        time.sleep(0.1)
    assert not [pid for pid in processes if alive(pid)], stack.log()
