"""How a run is spread over worker processes, through the Celery tasks' own code (run here, each message applied
as a worker applies it): planning queues one message per chunk, so that any worker process may take any chunk;
the chunk that finishes last queues the final step, which waits for every chunk; a message delivered twice — a
chunk's or the final step's, as when two chunks finish at once and both queue it — counts nothing twice.

The real worker processes are in tests/celery/ (a worker killed mid-chunk) and bench/evaluation.py --workers."""

import pytest

from core.models import HistoryEvent
from evaluation import services, tasks
from evaluation.models import ChunkKind, ChunkStatus, EvaluationRun, PairingScorecard, ProjectScore, RunStatus
from tests.evaluation import conftest_engine
from tests.evaluation.conftest_engine import AS_OF, YEAR, Engine

pytestmark = pytest.mark.django_db

eng = conftest_engine.eng


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, int]]:
    """The messages the tasks queue, in order ((task, argument)), instead of running them."""
    messages: list[tuple[str, int]] = []
    for task in (tasks.score_chunk, tasks.finalize_run):
        monkeypatch.setattr(task, "delay", lambda arg, name=task.name: messages.append((name.split(".")[-1], arg)))
    return messages


def started(eng: Engine) -> EvaluationRun:
    """A run started and not planned (the test transaction never commits: run_start's enqueue does not fire)."""
    run, created = services.run_start(program=eng.program, year=YEAR, by=eng.coordinator, as_of=AS_OF)
    assert created
    return run


def test_planning_queues_every_chunk_on_its_own_and_the_last_chunk_queues_the_final_step(eng: Engine, settings, sent):
    settings.EVALUATION_CHUNK_SIZE = 1
    run = started(eng)

    assert tasks.plan_run.apply(args=[run.pk]).get() == 3
    chunks = list(run.chunks.filter(kind=ChunkKind.PROJECTS).order_by("index"))
    # One message per chunk, nothing for the final step yet: each chunk is a task any worker process may take.
    assert sent == [("score_chunk", c.pk) for c in chunks]
    sent.clear()

    # In any order, as worker processes finish them; only the last one queues the final step.
    assert [tasks.score_chunk.apply(args=[c.pk]).get() for c in (chunks[2], chunks[0], chunks[1])] == [
        False,
        False,
        True,
    ]
    assert sent == [("finalize_run", run.pk)]
    run.refresh_from_db()
    assert (run.status, run.done, run.total) == (RunStatus.RUNNING, 3, 3 + 2)


def test_the_final_step_waits_for_every_chunk(eng: Engine, settings, sent):
    settings.EVALUATION_CHUNK_SIZE = 1
    run = started(eng)
    tasks.plan_run.apply(args=[run.pk])
    first, *rest = run.chunks.filter(kind=ChunkKind.PROJECTS).order_by("index")
    tasks.score_chunk.apply(args=[first.pk])

    # Delivered early (the reconciler, a stray message): nothing happens, nor is an attempt used up.
    assert tasks.finalize_run.apply(args=[run.pk]).get() is False
    final = run.chunks.get(kind=ChunkKind.FINALIZE)
    assert (final.status, final.attempts) == (ChunkStatus.PENDING, 0)
    assert not PairingScorecard.objects.filter(run=run).exists()

    for chunk in rest:
        tasks.score_chunk.apply(args=[chunk.pk])
    assert tasks.finalize_run.apply(args=[run.pk]).get() is True
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED


def test_messages_delivered_twice_count_nothing_twice(eng: Engine, settings, sent):
    settings.EVALUATION_CHUNK_SIZE = 2
    run = started(eng)
    tasks.plan_run.apply(args=[run.pk])
    tasks.plan_run.apply(args=[run.pk])  # planning delivered again queues the same chunks, makes no new ones
    chunks = list(run.chunks.filter(kind=ChunkKind.PROJECTS).order_by("index"))
    assert len(chunks) == 2
    assert sent == [("score_chunk", c.pk) for c in chunks] * 2
    sent.clear()

    # Each chunk delivered twice: the second delivery finds it done.
    results = [tasks.score_chunk.apply(args=[c.pk]).get() for c in (chunks[0], chunks[0], chunks[1], chunks[1])]
    assert results == [False, False, True, False]
    run.refresh_from_db()
    assert run.done == 3
    assert ProjectScore.objects.filter(run=run).count() == 3
    assert sent == [("finalize_run", run.pk)]

    # The final step delivered twice (two chunks finishing at once both queue it): it happens once.
    assert tasks.finalize_run.apply(args=[run.pk]).get() is True
    cards = list(PairingScorecard.objects.filter(run=run).order_by("pk").values_list("pk", "score"))
    events = HistoryEvent.objects.filter(action="evaluate").count()
    assert tasks.finalize_run.apply(args=[run.pk]).get() is False
    run.refresh_from_db()
    assert (run.status, run.done, run.total) == (RunStatus.SUCCEEDED, 5, 5)
    assert list(PairingScorecard.objects.filter(run=run).order_by("pk").values_list("pk", "score")) == cards
    assert HistoryEvent.objects.filter(action="evaluate").count() == events == 2
    assert run.chunks.get(kind=ChunkKind.FINALIZE).attempts == 1
