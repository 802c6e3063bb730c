"""A request's id reaches the log lines of the Celery tasks it enqueued, in a real worker (JSON logs).

An evaluation run is requested through the API with an `X-Request-ID`; the project's Celery app sends the tasks to
a redis-server of the test's own (for this test only: the suite otherwise runs tasks eagerly), and a real worker
runs them. Every task of the run — the plan the request enqueued, the chunks and the final step the plan enqueued in
turn — logs with the request's id.
"""

import json
import time
import uuid
from collections.abc import Callable, Iterator

import kombu.pools
import pytest

from config.celery_app import app
from evaluation.models import EvaluationRun, RunStatus
from tests.conftest import api_as
from tests.evaluation.conftest import YEAR, ev  # noqa: F401 — the fixture used below

from .conftest import RedisServer, Worker

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _forget_connections() -> None:
    """Celery keeps a connection pool and a producer pool built for the broker it first used, and kombu keeps its
    pools in a registry of its own: drop them all, so the next send builds fresh ones for the broker configured now
    (closing one and keeping the registry would hand later tests a closed pool)."""
    app._pool = None
    app.amqp._producer_pool = None
    kombu.pools.reset()


@pytest.fixture
def sending_to(redis_server: RedisServer) -> Iterator[str]:
    """The project's app sends its tasks to the test's redis-server instead of running them here, then goes back
    to running them eagerly."""
    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url")}
    _forget_connections()
    app.conf.update(task_always_eager=False, broker_url=redis_server.url)
    try:
        yield redis_server.url
    finally:
        app.conf.update(**saved)
        _forget_connections()


def test_the_tasks_a_request_enqueued_log_with_its_id(
    ev,  # noqa: F811 — the fixture imported above
    sending_to: str,
    start_worker: Callable[..., Worker],
) -> None:
    worker = start_worker(sending_to, queues=("default", "evaluation"), env={"DJANGO_LOG_FORMAT": "json"})
    worker.wait_ready()
    request_id = str(uuid.uuid4())

    response = api_as(ev.coordinator).post(
        "/api/v1/evaluation/runs/",
        {"program": ev.program.code, "year": YEAR},
        format="json",
        HTTP_X_REQUEST_ID=request_id,
    )
    assert response.status_code == 202, response.content
    assert response["X-Request-ID"] == request_id

    run = EvaluationRun.objects.get(pk=response.json()["id"])
    end = time.monotonic() + 90
    while run.status not in (RunStatus.SUCCEEDED, RunStatus.FAILED) and time.monotonic() < end:
        time.sleep(0.2)
        run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, worker.log()

    records = []
    for line in worker.log_path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))
    task_lines = [r for r in records if r.get("logger") == "celery.app.trace"]
    names = {r["message"].split("[")[0] for r in task_lines}
    assert {
        "Task evaluation.tasks.plan_run",
        "Task evaluation.tasks.score_chunk",
        "Task evaluation.tasks.finalize_run",
    } <= names, worker.log()
    assert {r["request_id"] for r in task_lines} == {request_id}, worker.log()
