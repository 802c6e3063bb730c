"""Planning a run counts its attempts: a run whose planning keeps failing (a programme-year out of the calendar's
range, a worker that dies while planning) fails with the reason instead of staying queued — re-planned by the
reconciler every minute, and handed back to every new request — and the next request starts a new run."""

import datetime as dt

import pytest
from django.utils import timezone, translation

from evaluation import scoring, services, tasks
from evaluation.models import EvaluationRun, RunStatus
from pairings.models import Program
from tests.evaluation import conftest_engine
from tests.evaluation.conftest_engine import AS_OF, YEAR, Engine

pytestmark = pytest.mark.django_db

eng = conftest_engine.eng


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def past_the_deadline() -> dt.datetime:
    return timezone.now() + services.chunk_timeout() + dt.timedelta(seconds=1)


def test_a_run_of_year_0_fails_with_the_reason_and_the_next_request_starts_a_new_run(
    eng: Engine, django_capture_on_commit_callbacks
):
    """The reproducer of the issue, through Celery's real task code (eager): `plan_run` raises "year 0 is out
    of range", is retried, and fails the run with that reason once its retries are used up."""
    Program.objects.filter(pk=eng.program.pk).update(start_year=0)
    eng.program.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        run, created = services.run_start(program=eng.program, year=0, by=eng.coordinator, as_of=AS_OF)
    assert created

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.plan_attempts == tasks.MAX_RETRIES + 1
    assert "Planning failed" in run.error
    assert "year 0 is out of range" in run.error
    assert run.finished_at is not None
    # Nothing is left for the reconciler, and a new request is a new run (failing the same way, not the old one).
    assert services.runs_reconcile(past_the_deadline())["plans"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        again, created = services.run_start(program=eng.program, year=0, by=eng.coordinator, as_of=AS_OF)
    assert created
    assert again.pk != run.pk


def test_planning_that_fails_once_is_retried_and_the_run_goes_on(
    eng: Engine, monkeypatch, django_capture_on_commit_callbacks
):
    real = scoring.cohort_ids
    calls: list[int] = []

    def flaky(run: EvaluationRun) -> list[int]:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("connection reset")
        return real(run)

    monkeypatch.setattr(scoring, "cohort_ids", flaky)
    with django_capture_on_commit_callbacks(execute=True):
        run, _created = services.run_start(program=eng.program, year=YEAR, by=eng.coordinator, as_of=AS_OF)

    run.refresh_from_db()
    assert len(calls) == 2
    assert run.plan_attempts == 2
    assert run.status == RunStatus.SUCCEEDED
    assert run.error == ""  # the first attempt's reason went with its success


def test_the_reconciler_fails_a_run_whose_planning_never_finishes(eng: Engine, settings, monkeypatch):
    """A worker that dies while planning (nothing raised to the task, its transaction rolled back) still uses up
    an attempt: the reconciler queues the planning again until the attempts are used up, then fails the run."""
    settings.EVALUATION_MAX_ATTEMPTS = 2
    queued: list[int] = []
    monkeypatch.setattr(tasks.plan_run, "delay", queued.append)
    run, _created = services.run_start(program=eng.program, year=YEAR, by=eng.coordinator, as_of=AS_OF)

    class Killed(BaseException):
        """Stands for the worker's death: nothing after it in planning runs."""

    def die(run: EvaluationRun) -> list[int]:
        raise Killed

    monkeypatch.setattr(scoring, "cohort_ids", die)
    for attempt in (1, 2):
        with pytest.raises(Killed):
            services.run_plan(run.pk)
        run.refresh_from_db()
        assert (run.status, run.plan_attempts) == (RunStatus.QUEUED, attempt)
        if attempt == 1:
            assert services.runs_reconcile(past_the_deadline())["plans"] == 1
            assert queued == [run.pk]

    counts = services.runs_reconcile(past_the_deadline())

    assert counts["plans"] == 0
    assert queued == [run.pk]  # not queued again
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "Planning did not finish after 2 attempts" in run.error
    assert services.run_start(program=eng.program, year=YEAR, by=eng.coordinator)[1]  # a new run may start


def test_a_delivery_past_the_attempts_fails_the_run_instead_of_planning(eng: Engine, settings, monkeypatch):
    settings.EVALUATION_MAX_ATTEMPTS = 1
    monkeypatch.setattr(tasks.plan_run, "delay", lambda run_id: None)
    run, _created = services.run_start(program=eng.program, year=YEAR, by=eng.coordinator, as_of=AS_OF)
    services.run_plan_failed(run.pk, "OperationalError: server closed the connection", final=False)
    EvaluationRun.objects.filter(pk=run.pk).update(plan_attempts=1)

    assert services.run_plan(run.pk) == []

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert not run.chunks.exists()
    assert "after 1 attempts" in run.error
    assert "server closed the connection" in run.error  # the last reason is given
