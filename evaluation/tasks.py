"""Celery tasks of a run. Each is idempotent (see `evaluation.services`): a message delivered twice, or a task
re-run after its worker died (acks_late, reject_on_worker_lost), changes nothing the first run did not."""

import logging
from typing import Any

from celery import shared_task

from . import services
from .models import RunChunk

logger = logging.getLogger(__name__)

#: Retries of a failing chunk before the run fails; the backoff doubles from 2 s, capped at a minute.
MAX_RETRIES = 3


def _backoff(retries: int) -> int:
    return int(min(60, 2 ** (retries + 1)))


def _retry(task: Any, exc: Exception) -> Any:
    """Retry TASK after EXC, later. Run in-process (no broker: `make run`, the tests), a raised Retry would
    reach the caller (task_eager_propagates) and leave the run running for good, the chunk never retried nor
    failed; returned, Celery applies the task again at once (without the countdown), up to its max_retries."""
    if task.request.is_eager:
        return task.retry(exc=exc, throw=False)
    raise task.retry(exc=exc, countdown=_backoff(task.request.retries)) from exc


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES)
def plan_run(self, run_id: int) -> int:  # type: ignore[no-untyped-def]
    """Cut the run into chunks and queue them; returns how many were queued. Planning that keeps failing
    fails the run with the reason (it does not stay queued)."""
    try:
        chunks = services.run_plan(run_id)
    except Exception as exc:
        final = self.request.retries >= self.max_retries
        if final:
            logger.exception("planning run %s failed for good", run_id)
        services.run_plan_failed(run_id, f"{type(exc).__name__}: {exc}", final=final)
        return 0 if final else _retry(self, exc)
    for chunk in chunks:
        if chunk.kind == "finalize":
            finalize_run.delay(run_id)
        else:
            score_chunk.delay(chunk.pk)
    return len(chunks)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES)
def score_chunk(self, chunk_id: int) -> bool:  # type: ignore[no-untyped-def]
    """Score one chunk; the last one to finish queues the final step."""
    try:
        last = services.chunk_execute(chunk_id)
    except Exception as exc:
        if self.request.retries >= self.max_retries:
            logger.exception("chunk %s failed for good", chunk_id)
            services.chunk_fail(chunk_id, f"{type(exc).__name__}: {exc}")
            return False
        return _retry(self, exc)
    if last:
        finalize_run.delay(RunChunk.objects.get(pk=chunk_id).run_id)
    return last


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES)
def finalize_run(self, run_id: int) -> bool:  # type: ignore[no-untyped-def]
    """Scorecards, ranking, evaluated projects; the run succeeds."""
    try:
        return services.run_finalize(run_id)
    except Exception as exc:
        if self.request.retries >= self.max_retries:
            logger.exception("the final step of run %s failed for good", run_id)
            services.run_fail(run_id, f"{type(exc).__name__}: {exc}")
            return False
        return _retry(self, exc)


@shared_task
def reconcile_runs() -> dict[str, int]:
    """Every minute on beat: re-queue chunks stuck past their deadline, fail runs that keep failing."""
    return services.runs_reconcile()


@shared_task
def nightly_evaluation() -> list[int]:
    """Every night on beat: this year's run of every programme still running."""
    return services.nightly_runs()
