"""Fixtures of the evaluation pages, on the shared `ev` world (tests/evaluation/conftest.py): runs finished the
way the pages start them (the work queued after commit, done by eager Celery)."""

import pytest

from evaluation import services
from evaluation.models import EvaluationRun, RunStatus


def finish_run(ev, capture, by=None) -> EvaluationRun:
    """Start a run of the `ev` programme-year and let its queued work run (eager Celery) as the commit does."""
    with capture(execute=True):
        run, _created = services.run_start(program=ev.program, year=ev.year, by=by)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    return run


@pytest.fixture
def finished(ev, disbursed, django_capture_on_commit_callbacks) -> EvaluationRun:
    return finish_run(ev, django_capture_on_commit_callbacks, by=ev.coordinator)


@pytest.fixture
def two_runs(ev, finished, django_capture_on_commit_callbacks) -> tuple[EvaluationRun, EvaluationRun]:
    """Two succeeded runs of the same programme-year, the second compared with the first."""
    second = finish_run(ev, django_capture_on_commit_callbacks, by=ev.evaluator)
    assert second.compared_with_id == finished.pk
    return finished, second
