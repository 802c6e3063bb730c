"""An evaluation run's duration reaches the metrics (core/observability.py) when it ends."""

import pytest

from evaluation.models import RunStatus
from tests.core.test_observability import scrape, value
from tests.evaluation.conftest import YEAR, run_eagerly

pytestmark = pytest.mark.django_db


def test_an_evaluation_runs_duration_is_observed_by_outcome(ev, django_capture_on_commit_callbacks):
    name = "duikou_evaluation_run_seconds_count"
    before = value(scrape(), name, outcome="succeeded")

    with django_capture_on_commit_callbacks(execute=True):
        run = run_eagerly(ev.program, YEAR)

    assert run.status == RunStatus.SUCCEEDED
    assert value(scrape(), name, outcome="succeeded") == before + 1
