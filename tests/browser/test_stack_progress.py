"""In the browser, on the real stack (scripts/stack.py: gunicorn with the production settings, a Celery worker and
beat, a redis-server of the test's own): the national coordinator starts an evaluation run from the runs page, and
its page, polling the run's progress, shows the bar moving — at least 3 distinct values before the run finishes —
as the worker scores it chunk by chunk.

What the page shows is made certain, not left to timing: the worker (one pool process) is paused (SIGSTOP) while
the run is started, two of its chunks are held (an uncommitted score of the test's own, `held`), and the worker
goes on; the page shows the progress up to the first hold, the test releases it, the page shows the progress up to
the second, and so on to the end."""

import os
import re
import signal
import time
from collections.abc import Callable
from contextlib import ExitStack

import pytest
from playwright.sync_api import expect

from evaluation import scoring
from evaluation.models import EvaluationRun, RunStatus
from tests.browser.conftest import watch_errors
from tests.browser.test_login_and_language import sign_in
from tests.stack import conftest as stack_fixtures
from tests.stack.conftest import Stack, cmdline, descendants, held

pytestmark = [pytest.mark.browser, pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

redis_server = stack_fixtures.redis_server
start_stack = stack_fixtures.start_stack
stack_data = stack_fixtures.stack_data

CHUNK = 2
TIMEOUT = 60


def worker_pid(stack: Stack) -> int:
    """The Celery worker's main process: honcho started it in a session (and process group) of its own."""
    (pid,) = [
        p
        for p in descendants(stack.process.pid)
        if " worker " in cmdline(p) and os.getpgid(p) == p and "celery" in cmdline(p)
    ]
    return pid


def shown(page) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    bar = page.locator("#run-status .dk-run-progress")
    return int(bar.get_attribute("data-done") or 0), int(bar.get_attribute("data-total") or 0)


def wait_until(condition: Callable[[], bool], what: str, stack: Stack) -> None:
    end = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < end, f"{what} did not happen in {TIMEOUT} s.\n{stack.log()}"
        time.sleep(0.1)


def test_a_run_started_in_the_browser_shows_its_progress_moving_on_the_real_stack(
    browser, start_stack, stack_data, redis_server
):
    program, year = stack_data
    stack = start_stack(redis_server.url, chunk_size=CHUNK, concurrency=1)
    stack.wait_ready()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    try:
        page = context.new_page()
        errors = watch_errors(page)
        page.base_url = stack.url
        sign_in(page, "national_coordinator")
        expect(page).not_to_have_url(re.compile(r"/accounts/login/"))

        values: list[tuple[int, int]] = []

        def page_shows(done: int) -> bool:
            value = shown(page)
            if not values or values[-1] != value:
                values.append(value)
            return value[0] == done and value[1] > 0

        worker = worker_pid(stack)
        with ExitStack() as holds:
            os.killpg(worker, signal.SIGSTOP)
            try:
                page.goto(stack.url + "/evaluation/runs/")
                page.select_option("#run-start-form select[name=program]", program.code)
                page.fill("#run-start-form input[name=year]", str(year))
                page.locator("#run-start").click()
                expect(page).to_have_url(re.compile(r"/evaluation/runs/\d+/$"))
                run = EvaluationRun.objects.get(pk=int(re.search(r"/runs/(\d+)/$", page.url).group(1)))
                ids = scoring.cohort_ids(run)
                chunks = -(-len(ids) // CHUNK)
                assert chunks >= 12, f"only {chunks} chunks"
                stops = [chunks // 3, 2 * chunks // 3]
                releases = [holds.enter_context(held(run, ids[stop * CHUNK])) for stop in stops]
            finally:
                os.killpg(worker, signal.SIGCONT)
            for stop, release in zip(stops, releases, strict=True):
                # The chunks before the hold are done (one pool process: in order), and the page follows.
                wait_until(lambda stop=stop: page_shows(stop * CHUNK), f"the page showing {stop * CHUNK} done", stack)
                run.refresh_from_db()
                assert run.status == RunStatus.RUNNING
                release()

        def succeeded() -> bool:
            run.refresh_from_db()
            return run.status == RunStatus.SUCCEEDED

        wait_until(succeeded, "the run finishing", stack)
        wait_until(lambda: page_shows(run.total), "the page showing the run done", stack)
        expect(page.locator("#run-ranking")).to_be_visible()

        before_the_end = {done for done, total in values if done < run.total}
        assert len(before_the_end) >= 3, values
        assert errors == []
    finally:
        context.close()
