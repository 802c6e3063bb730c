"""An evaluation run survives faults: a worker killed mid-chunk (SIGKILL), the broker gone with its messages.

The faulty run goes through real `celery worker` processes and a redis-server of the test's own (no other run's
worker can take its messages, and stopping it disturbs no one); chunks of 10 projects, a chunk deadline of 3 s and
a visibility timeout of 5 s make recovery take seconds. The worker is caught in the middle of a chunk, not at a
moment left to chance: an uncommitted row of the test's own holds its upsert (`held`). The results are compared with
an undisturbed run of the same programme-year, computed in this process by the same services: same scores and
measured values per project, one score per project, same scorecards and ranking.

In this process too: a chunk that keeps failing, or keeps killing its worker, fails its run with the reason; a chunk
scored twice changes no scorecard.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/duikou_worker DJANGO_SETTINGS_MODULE=config.settings.test \
        .venv/bin/pytest tests/celery -q -p no:randomly
"""

import datetime as dt
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from celery import Celery
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test import override_settings
from django.utils import timezone
from django.utils.translation import gettext as _

from evaluation import scoring, services, tasks
from evaluation.measures import SCORED_STATES
from evaluation.models import (
    ChunkKind,
    ChunkStatus,
    EvaluationRun,
    PairingScorecard,
    ProjectScore,
    Ranking,
    RunChunk,
    RunStatus,
)
from pairings.models import Program
from projects.models import Project

from .conftest import RedisServer, Worker, client_app

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

CHUNK = 10
WORKER_ENV = {
    "EVALUATION_CHUNK_SIZE": str(CHUNK),
    "EVALUATION_CHUNK_TIMEOUT": "3",
    "EVALUATION_MAX_ATTEMPTS": "5",
    "CELERY_VISIBILITY_TIMEOUT": "5",
}
RECOVERY_TIMEOUT = 90


# --- the data set and the reference run ----------------------------------------------------------------------


def biggest_cohort() -> tuple[Program, int, set[int]]:
    """The programme-year with the most projects starting in it, and the ids of the projects its run scores
    (the programme's portfolio planned to start by the end of that year)."""
    row = (
        Project.objects.filter(state__in=SCORED_STATES, planned_start__isnull=False)
        .values("pairing__program", "planned_start__year")
        .annotate(n=Count("id"))
        .order_by("-n", "pairing__program", "planned_start__year")
        .first()
    )
    assert row is not None
    program = Program.objects.get(pk=row["pairing__program"])
    year = row["planned_start__year"]
    ids = set(
        Project.objects.filter(
            pairing__program=program,
            planned_start__lte=dt.date(year, 12, 31),
            state__in=SCORED_STATES,
        ).values_list("pk", flat=True)
    )
    return program, year, ids


@pytest.fixture
def cohort() -> tuple[Program, int, set[int]]:
    """Synthetic projects over the real programmes; the biggest programme-year holds a few hundred."""
    call_command("generate_projects", projects=3000, seed=11, verbosity=0)
    program, year, ids = biggest_cohort()
    assert len(ids) >= 150, f"{program} {year}: only {len(ids)} projects to score"
    return program, year, ids


def start(program: Program, year: int, as_of: dt.date) -> EvaluationRun:
    """run_start without its enqueue (this process's Celery is eager): the test queues or runs the steps."""
    with mock.patch.object(services, "_enqueue") as enqueue:
        run, created = services.run_start(program=program, year=year, by=None, as_of=as_of)
    assert created
    assert enqueue.call_count == 1
    return run


def run_in_process(run: EvaluationRun) -> None:
    """The undisturbed run: the steps the tasks take, one after the other."""
    with override_settings(EVALUATION_CHUNK_SIZE=CHUNK):
        chunks = services.run_plan(run.pk)
        assert len(chunks) > 10
        last = [services.chunk_execute(c.pk) for c in chunks]
        assert last[-1]
        assert not any(last[:-1])
        assert services.run_finalize(run.pk)


def results(run: EvaluationRun) -> dict[str, dict[int, Any]]:
    return {
        "projects": {
            p: (score, measures, final, pairing)
            for p, score, measures, final, pairing in ProjectScore.objects.filter(run=run).values_list(
                "project_id", "score", "measures", "is_final", "pairing_id"
            )
        },
        "scorecards": {
            p: rest
            for p, *rest in PairingScorecard.objects.filter(run=run).values_list(
                "pairing_id", "organization_id", "score", "measures", "flags", "project_count", "budget"
            )
        },
        # previous_rank and previous_score differ: the second run is compared with the first.
        "rankings": {
            o: rest
            for o, *rest in Ranking.objects.filter(run=run).values_list(
                "organization_id", "score", "grade", "rank", "pairing_count", "reasons"
            )
        },
    }


@pytest.fixture
def reference(cohort) -> tuple[EvaluationRun, dict[str, dict[int, Any]]]:
    program, year, ids = cohort
    run = start(program, year, timezone.localdate())
    run_in_process(run)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    found = results(run)
    assert set(found["projects"]) == ids
    assert found["scorecards"]
    assert found["rankings"]
    assert len({v[0] for v in found["projects"].values()}) > 20, "the scores should differ between projects"
    return run, found


# --- driving a run through the worker --------------------------------------------------------------------------


def send(client: Celery, name: str, *args: Any) -> None:
    client.send_task(f"evaluation.tasks.{name}", args=list(args), queue="evaluation")


def chunk_counts(run: EvaluationRun) -> Counter[str]:
    return Counter(
        dict(
            RunChunk.objects.filter(run=run, kind=ChunkKind.PROJECTS)
            .values_list("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
    )


def state_of(run: EvaluationRun) -> str:
    run.refresh_from_db()
    chunks = list(RunChunk.objects.filter(run=run).values_list("index", "kind", "status", "attempts", "deadline"))
    return f"run {run.pk}: {run.status} {run.done}/{run.total} {run.error!r}\nchunks: {chunks}"


def wait_for(
    condition: Callable[[], Any], what: str, timeout: float, run: EvaluationRun, *workers: Worker, every: float = 0.01
) -> Any:
    """CONDITION's first true value, polled every EVERY seconds; after TIMEOUT, fail with the run and the logs."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = condition()
        if found:
            return found
        time.sleep(every)
    logs = "\n".join(w.log() for w in workers)
    pytest.fail(f"Timed out after {timeout} s waiting for {what}.\n{state_of(run)}\n{logs}")


#: The chunk a worker is caught in the middle of (0-based): three are done before it.
HELD = 3


@contextmanager
def held(run: EvaluationRun, project_id: int) -> Iterator[None]:
    """An uncommitted score of PROJECT_ID in RUN, from a connection of its own: the worker's upsert of the chunk
    that holds the project waits for it. That catches the worker in the middle of the chunk (marked running,
    attempt counted and committed; its scores being written) for as long as the test likes. Rolled back."""
    import psycopg

    db = connection.settings_dict
    pairing = Project.objects.values_list("pairing_id", flat=True).get(pk=project_id)
    with psycopg.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432
    ) as other:
        other.execute(
            f"INSERT INTO {ProjectScore._meta.db_table} (run_id, project_id, pairing_id, score, measures, is_final) "
            "VALUES (%s, %s, %s, NULL, '{}', false)",
            (run.pk, project_id, pairing),
        )
        try:
            yield
        finally:
            other.rollback()


def wait_held(run: EvaluationRun, *workers: Worker) -> None:
    """Until the worker waits on the held score, in chunk HELD, the ones before it done."""

    def waiting() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            (blocked,) = cursor.fetchone()
        return bool(blocked) and RunChunk.objects.filter(run=run, index=HELD, status=ChunkStatus.RUNNING).exists()

    wait_for(waiting, f"the worker to be held in chunk {HELD}", 60, run, *workers, every=0.05)
    counts = chunk_counts(run)
    assert counts[ChunkStatus.DONE] == HELD, state_of(run)
    assert counts[ChunkStatus.RUNNING] == 1, state_of(run)


def unfinished_tasks(worker: Worker) -> list[str]:
    """The ids of the tasks WORKER received and never finished (from its log)."""
    log = worker.log_path.read_text(errors="replace")
    received = re.findall(r"Task evaluation\.tasks\.\w+\[([0-9a-f-]+)\] received", log)
    finished = set(re.findall(r"Task evaluation\.tasks\.\w+\[([0-9a-f-]+)\] (?:succeeded|failed|retry)", log))
    return [task_id for task_id in received if task_id not in finished]


def recover(run: EvaluationRun, client: Celery, *workers: Worker) -> int:
    """Send the reconciler every second until the run is over; returns the most projects it counted as done
    while it ran (a chunk counted twice would push it past the cohort)."""
    most, sent, errors = 0, 0.0, []
    end = time.monotonic() + RECOVERY_TIMEOUT
    while time.monotonic() < end:
        run.refresh_from_db()
        if run.status == RunStatus.RUNNING:
            most = max(most, run.done)
        if run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
            break
        if time.monotonic() - sent >= 1:
            sent = time.monotonic()
            try:
                send(client, "reconcile_runs")
            except Exception as exc:  # the client reconnects on the next try
                errors.append(repr(exc))
        time.sleep(0.1)
    logs = "\n".join(w.log() for w in workers)
    assert run.status == RunStatus.SUCCEEDED, (
        f"The run did not recover within {RECOVERY_TIMEOUT} s.\n{state_of(run)}\nsend errors: {errors[-3:]}\n{logs}"
    )
    return most


def assert_same_as_reference(run: EvaluationRun, reference: EvaluationRun, expected: dict, ids: set[int]) -> None:
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.error == ""
    assert run.done == run.total
    assert run.total >= len(ids)
    assert run.compared_with_id == reference.pk
    # Every chunk done, none left pending, running or failed, and as many as the cohort needs.
    statuses = Counter(RunChunk.objects.filter(run=run).values_list("status", flat=True))
    assert statuses == {ChunkStatus.DONE: -(-len(ids) // CHUNK) + 1}, statuses
    # One score per project of the cohort, no more.
    scores = ProjectScore.objects.filter(run=run)
    assert scores.count() == len(ids) == scores.values("project").distinct().count()
    found = results(run)
    assert set(found["projects"]) == ids
    differing = [p for p in ids if found["projects"][p] != expected["projects"][p]]
    assert not differing, [(p, found["projects"][p], expected["projects"][p]) for p in differing[:3]]
    assert found["scorecards"] == expected["scorecards"]
    assert found["rankings"] == expected["rankings"]
    previous = dict(Ranking.objects.filter(run=reference).values_list("organization_id", "rank"))
    assert dict(Ranking.objects.filter(run=run).values_list("organization_id", "previous_rank")) == previous


# --- the tests -----------------------------------------------------------------------------------------------


def test_a_worker_killed_mid_chunk_leaves_a_run_that_finishes_with_the_same_results(
    redis_server: RedisServer, start_worker, cohort, reference
):
    program, year, ids = cohort
    first, expected = reference
    client = client_app(redis_server.url)
    w1 = start_worker(redis_server.url, queues=("evaluation",), env=WORKER_ENV)
    w1.wait_ready()

    run = start(program, year, first.as_of)
    with held(run, sorted(ids)[HELD * CHUNK]):
        send(client, "plan_run", run.pk)
        wait_held(run, w1)
        w1.kill()
    # Its transaction died with it: the chunk is marked running (attempt 1), none of its scores were written.
    in_flight = unfinished_tasks(w1)
    assert len(in_flight) == 1, f"one task should have died with the worker: {in_flight}\n{w1.log()}"
    time.sleep(0.5)
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING, state_of(run)
    assert run.done == HELD * CHUNK, state_of(run)
    killed = RunChunk.objects.get(run=run, index=HELD)
    assert (killed.status, killed.attempts) == (ChunkStatus.RUNNING, 1)
    assert chunk_counts(run)[ChunkStatus.PENDING] == -(-len(ids) // CHUNK) - HELD - 1, state_of(run)

    # A new worker takes the queued chunks, and Redis hands it the dead worker's message once the visibility
    # timeout is over (acks_late): the same task comes back, without the reconciler.
    w2 = start_worker(redis_server.url, queues=("evaluation",), env=WORKER_ENV)
    w2.wait_ready()
    wait_for(
        lambda: f"[{in_flight[0]}] received" in w2.log_path.read_text(errors="replace"),
        "the killed worker's task to be delivered again",
        40,
        run,
        w1,
        w2,
        every=0.2,
    )
    most = recover(run, client, w1, w2)
    assert most <= len(ids), f"progress counted a chunk twice: {most} done of {len(ids)}"
    killed.refresh_from_db()
    assert killed.status == ChunkStatus.DONE, killed.__dict__
    assert killed.attempts >= 2, killed.__dict__
    assert_same_as_reference(run, first, expected, ids)


def test_a_broker_lost_with_its_messages_leaves_a_run_the_reconciler_finishes(
    redis_server: RedisServer, start_worker, cohort, reference
):
    program, year, ids = cohort
    first, expected = reference
    client = client_app(redis_server.url)
    worker = start_worker(redis_server.url, queues=("evaluation",), env=WORKER_ENV)
    worker.wait_ready()

    run = start(program, year, first.as_of)
    with held(run, sorted(ids)[HELD * CHUNK]):
        send(client, "plan_run", run.pk)
        wait_held(run, worker)
        # Redis goes, with the queued chunks and the message of the one in flight; the chunk then finishes.
        redis_server.stop()
    wait_for(
        lambda: RunChunk.objects.filter(run=run, index=HELD, status=ChunkStatus.DONE).exists(),
        "the chunk in flight to finish without its broker",
        30,
        run,
        worker,
        every=0.1,
    )
    time.sleep(3)
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING, state_of(run)
    assert run.done == (HELD + 1) * CHUNK, state_of(run)
    redis_server.start()

    # The queued chunks went with the old server: only the reconciler can bring them back (their state is in
    # PostgreSQL), and only through a worker that reconnected by itself.
    import redis

    assert redis.Redis.from_url(redis_server.url).llen("evaluation") == 0
    assert chunk_counts(run)[ChunkStatus.PENDING] == -(-len(ids) // CHUNK) - HELD - 1, state_of(run)
    most = recover(run, client, worker)
    assert worker.poll() is None, worker.log()
    assert "Connection to broker lost" in worker.log_path.read_text(errors="replace"), worker.log()
    assert most <= len(ids), f"progress counted a chunk twice: {most} done of {len(ids)}"
    assert_same_as_reference(run, first, expected, ids)


@pytest.fixture
def small_cohort() -> tuple[Program, int, set[int]]:
    call_command("generate_projects", projects=800, seed=5, verbosity=0)
    program, year, ids = biggest_cohort()
    assert len(ids) > 3 * CHUNK
    return program, year, ids


@override_settings(EVALUATION_CHUNK_SIZE=CHUNK)
def test_a_chunk_that_keeps_failing_fails_its_run_with_the_reason(small_cohort):
    """In this process, Celery eager: the task retries the chunk, then gives up and fails the run."""
    program, year, ids = small_cohort
    assert tasks.plan_run.app.conf.task_always_eager, "this process's tasks should run eagerly (no broker)"
    bad = sorted(ids)[2 * CHUNK]  # in the third chunk
    real = scoring.score_projects

    def score_projects(run, specs, first_id, last_id):  # type: ignore[no-untyped-def]
        if first_id <= bad <= last_id:
            raise RuntimeError("the disk is full")
        return real(run, specs, first_id, last_id)

    with mock.patch.object(scoring, "score_projects", score_projects):
        run, created = services.run_start(program=program, year=year, by=None)  # planned and run on commit
    assert created
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.finished_at is not None
    # System-written messages are in the site's default language (no one's request is being served).
    assert run.error == _("Chunk %(n)s failed: %(reason)s") % {"n": 2, "reason": "RuntimeError: the disk is full"}
    chunks = list(RunChunk.objects.filter(run=run).order_by("index"))
    failed = chunks[2]
    assert (failed.status, failed.error, failed.attempts) == (ChunkStatus.FAILED, run.error, tasks.MAX_RETRIES + 1)
    assert [c.status for c in chunks[:2]] == [ChunkStatus.DONE, ChunkStatus.DONE]
    # Nothing is left running, and nothing brings the failed run back.
    assert not any(c.status == ChunkStatus.RUNNING for c in chunks)
    later = timezone.now() + dt.timedelta(hours=1)
    assert services.runs_reconcile(later) == {"chunks": 0, "finalize": 0, "plans": 0}
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert ProjectScore.objects.filter(run=run, project_id=bad).count() == 0

    # The programme-year is free again: the next run (the disk fixed) succeeds.
    again, created = services.run_start(program=program, year=year, by=None)
    assert created
    assert again.pk != run.pk
    again.refresh_from_db()
    assert again.status == RunStatus.SUCCEEDED, again.error
    assert ProjectScore.objects.filter(run=again).count() == len(ids)


class WorkerDied(BaseException):
    """What the process sees of a SIGKILL: nothing after this point runs, no handler catches it."""


@override_settings(EVALUATION_CHUNK_SIZE=CHUNK, EVALUATION_CHUNK_TIMEOUT=3, EVALUATION_MAX_ATTEMPTS=5)
def test_a_chunk_that_kills_its_worker_every_time_fails_its_run_after_the_attempts(small_cohort):
    """The task never gets to fail the run itself: the reconciler re-queues it past its deadline and gives up
    after the attempts, naming the chunk."""
    program, year, _ids = small_cohort
    run = start(program, year, timezone.localdate())
    chunks = services.run_plan(run.pk)
    poison = chunks[1]
    requeued: list[int] = []

    def dies(*args: Any) -> int:
        raise WorkerDied

    now = timezone.now()
    with (
        mock.patch.object(scoring, "score_projects", dies),
        mock.patch.object(tasks.score_chunk, "delay", lambda pk: requeued.append(pk)),
        mock.patch.object(tasks.finalize_run, "delay", return_value=None),
    ):
        for attempt in range(1, 6):
            with pytest.raises(WorkerDied):
                services.chunk_execute(poison.pk)
            poison.refresh_from_db()
            assert (poison.status, poison.attempts) == (ChunkStatus.RUNNING, attempt)
            now += dt.timedelta(seconds=4)  # past its deadline
            services.runs_reconcile(now)
            run.refresh_from_db()
            if attempt < 5:
                assert run.status == RunStatus.RUNNING, attempt
                assert poison.pk in requeued, attempt
    assert run.status == RunStatus.FAILED
    reason = _("it did not finish after %(a)s attempts") % {"a": 5}
    assert run.error == _("Chunk %(n)s failed: %(reason)s") % {"n": 1, "reason": reason}
    poison.refresh_from_db()
    assert poison.status == ChunkStatus.FAILED
    assert not ProjectScore.objects.filter(run=run, project__pk__range=(poison.first_id, poison.last_id)).exists()
    assert services.runs_reconcile(now + dt.timedelta(hours=1)) == {"chunks": 0, "finalize": 0, "plans": 0}


@override_settings(EVALUATION_CHUNK_SIZE=CHUNK, EVALUATION_CHUNK_TIMEOUT=3, EVALUATION_MAX_ATTEMPTS=5)
def test_a_final_step_that_kills_its_worker_every_time_fails_its_run_after_the_attempts(small_cohort):
    """The final step's work is one transaction that dies with the worker; its attempt is counted all the same,
    so the reconciler gives up after the attempts instead of queuing it again for ever."""
    program, year, _ids = small_cohort
    run = start(program, year, timezone.localdate())
    for chunk in services.run_plan(run.pk):
        services.chunk_execute(chunk.pk)
    accepted = set(ProjectScore.objects.filter(run=run, project__state="accepted").values_list("project", flat=True))
    assert accepted
    requeued: list[int] = []

    def dies(*args: Any) -> list:
        raise WorkerDied

    now = timezone.now()
    with (
        mock.patch.object(scoring, "pairing_rows", dies),
        mock.patch.object(tasks.finalize_run, "delay", lambda pk: requeued.append(pk)),
    ):
        for attempt in range(1, 6):
            with pytest.raises(WorkerDied):
                services.run_finalize(run.pk)
            final = RunChunk.objects.get(run=run, kind=ChunkKind.FINALIZE)
            assert (final.status, final.attempts) == (ChunkStatus.RUNNING, attempt)
            now += dt.timedelta(seconds=4)  # past its deadline
            services.runs_reconcile(now)
            run.refresh_from_db()
            if attempt < 5:
                assert run.status == RunStatus.RUNNING, attempt
                assert requeued.count(run.pk) == attempt, attempt
    assert run.status == RunStatus.FAILED
    assert run.error == _("The final step did not finish after %(a)s attempts.") % {"a": 5}
    assert not PairingScorecard.objects.filter(run=run).exists()
    assert not Ranking.objects.filter(run=run).exists()
    assert Project.objects.filter(pk__in=accepted, state="accepted").count() == len(accepted)


@override_settings(EVALUATION_CHUNK_SIZE=CHUNK)
def test_chunks_scored_again_in_another_order_change_no_scorecard(small_cohort):
    """A chunk run twice rewrites its rows elsewhere in the table; the pairing sums do not depend on where."""
    program, year, ids = small_cohort
    run = start(program, year, timezone.localdate())
    chunks = services.run_plan(run.pk)
    for chunk in chunks:
        services.chunk_execute(chunk.pk)
    before = scoring.pairing_rows(run)
    specs = services.specs_of(run.framework, "project")
    for chunk in reversed(chunks):
        scoring.score_projects(run, specs, int(chunk.first_id), int(chunk.last_id))
    assert ProjectScore.objects.filter(run=run).count() == len(ids)
    after = scoring.pairing_rows(run)
    assert [r for r in after if r["project_count"]]
    assert after == before
