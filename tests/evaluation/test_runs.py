"""Evaluation runs: one per programme-year at a time (also under a real race), who may start one and for which
years, a run done eagerly from start to end, idempotent chunks and final step, the reconciler, retries that end in
a failed run with its reason, the next run after a rating, the nightly run, ties and child pairings in the ranking."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation

from accounts.models import Organization
from core.errors import DomainError, PermissionDenied
from core.models import HistoryEvent, Region, RegionLevel
from evaluation import scoring, services, tasks
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
from pairings import services as pairing_services
from pairings.models import Pairing, Program
from projects.models import Project
from tests.evaluation import conftest_engine
from tests.evaluation.conftest_engine import AS_OF, YEAR, Engine, inspection, project, run_now
from tests.factories import OrganizationFactory, RegionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """The reasons a run failed are written in the language active when it fails; these tests read them in
    English whatever an earlier test left active."""
    with translation.override("en"):
        yield


eng = conftest_engine.eng
D = dt.date


def planned(eng: Engine) -> tuple[EvaluationRun, list[RunChunk]]:
    """A run started and cut into chunks, none of them executed (nothing is queued: the test transaction never
    commits, so `run_start`'s on-commit enqueue does not fire)."""
    run, _created = services.run_start(program=eng.program, year=YEAR, by=eng.coordinator, as_of=AS_OF)
    chunks = services.run_plan(run.pk)
    run.refresh_from_db()
    return run, chunks


def snapshot(run: EvaluationRun) -> list[tuple]:
    return list(
        ProjectScore.objects.filter(run=run)
        .order_by("project_id")
        .values_list("pk", "project_id", "pairing_id", "score", "measures", "is_final")
    )


def evaluate_events(p: Project) -> list[HistoryEvent]:
    return list(HistoryEvent.objects.for_object(p).filter(action="evaluate"))


# --- starting ------------------------------------------------------------------------------------------------


def test_starting_a_run_again_hands_back_the_active_one(eng: Engine):
    first, created = services.run_start(program=eng.program, year=YEAR, by=eng.coordinator)
    again, created_again = services.run_start(program=eng.program, year=str(YEAR), by=eng.evaluator)

    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert again.requested_by == eng.coordinator
    assert EvaluationRun.objects.count() == 1
    assert first.status == RunStatus.QUEUED
    assert first.framework == services.framework_current(eng.program)
    (event,) = HistoryEvent.objects.for_object(first)
    assert event.action == "run_started"
    assert event.actor == eng.coordinator


def test_another_year_or_a_finished_run_gives_a_new_run(eng: Engine):
    first, _ = services.run_start(program=eng.program, year=YEAR, by=eng.coordinator)
    other_year, created = services.run_start(program=eng.program, year=YEAR + 1, by=eng.coordinator)
    assert created
    assert other_year.pk != first.pk
    EvaluationRun.objects.filter(pk=first.pk).update(status=RunStatus.FAILED)
    again, created = services.run_start(program=eng.program, year=YEAR, by=eng.coordinator)
    assert created
    assert again.pk != first.pk


def test_the_database_holds_one_active_run_per_programme_year(eng: Engine):
    framework = services.framework_current(eng.program)
    EvaluationRun.objects.create(program=eng.program, year=YEAR, framework=framework, status=RunStatus.RUNNING)
    EvaluationRun.objects.create(program=eng.program, year=YEAR, framework=framework, status=RunStatus.SUCCEEDED)
    with pytest.raises(IntegrityError), transaction.atomic():
        EvaluationRun.objects.create(program=eng.program, year=YEAR, framework=framework, status=RunStatus.QUEUED)


@pytest.mark.django_db(transaction=True)
def test_two_coordinators_starting_the_same_run_at_once_make_one_run(eng: Engine, monkeypatch):
    queued: list[str] = []
    monkeypatch.setattr(services, "_enqueue", lambda send, what: queued.append(what))
    services.framework_current(eng.program)
    barrier = threading.Barrier(2)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def start(by) -> None:
        try:
            barrier.wait(timeout=10)
            run, created = services.run_start(program=Program.objects.get(pk=eng.program.pk), year=YEAR, by=by)
            results.append((run.pk, created))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=start, args=(u,)) for u in (eng.coordinator, eng.evaluator)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert not errors, errors
    assert sorted(created for _pk, created in results) == [False, True]
    assert len({pk for pk, _created in results}) == 1
    assert EvaluationRun.objects.count() == 1
    assert len(queued) == 1  # planned once


@pytest.mark.parametrize("year", [2010, 2021, 1900, "2015a", "", None, 20.15])
def test_a_year_the_programme_does_not_cover_is_refused_by_name(eng: Engine, year):
    with pytest.raises(DomainError) as caught:  # the programme runs 2011–2020
        services.run_start(program=eng.program, year=year, by=eng.coordinator)
    assert [(p.code, p.field) for p in caught.value.problems] == [("invalid_year", "year")]
    assert "2011" in caught.value.message
    assert "2020" in caught.value.message
    assert not EvaluationRun.objects.exists()


@pytest.mark.parametrize("who", ["provincial_coordinator", "local_evaluator", "assisting", "recipient"])
def test_runs_are_started_nationally(eng: Engine, who):
    with pytest.raises(PermissionDenied) as caught:
        services.run_start(program=eng.program, year=YEAR, by=getattr(eng, who))
    assert caught.value.status_code == 403
    assert caught.value.field == "program"
    assert not EvaluationRun.objects.exists()


def test_a_national_evaluator_may_start_a_run(eng: Engine):
    _run, created = services.run_start(program=eng.program, year=YEAR, by=eng.evaluator)
    assert created


def test_a_run_for_every_programme_covers_those_that_reach_the_year(eng: Engine):
    later = pairing_services.program_create(by=None, code="later", name="后来的", model="development", start_year=2014)

    started = services.runs_start_all(year="2016", by=eng.coordinator)
    assert sorted((r.program_id, r.year, created) for r, created in started) == [
        (eng.program.pk, 2016, True),
        (later.pk, 2016, True),
    ]
    only_one = services.runs_start_all(year=2012, by=eng.coordinator)
    assert [(r.program_id, created) for r, created in only_one] == [(eng.program.pk, True)]
    again = services.runs_start_all(year=2016, by=eng.coordinator)
    assert {r.pk for r, _ in again} == {r.pk for r, _ in started}
    assert not any(c for _r, c in again)

    for year in (2009, "soon"):
        with pytest.raises(DomainError) as caught:
            services.runs_start_all(year=year, by=eng.coordinator)
        assert caught.value.field == "year"
    with pytest.raises(PermissionDenied):
        services.runs_start_all(year=2017, by=eng.provincial_coordinator)
    assert EvaluationRun.objects.count() == 3


# --- a whole run ---------------------------------------------------------------------------------------------


def test_a_run_scores_its_cohort_and_moves_accepted_projects_to_evaluated(
    eng: Engine, settings, django_capture_on_commit_callbacks
):
    settings.EVALUATION_CHUNK_SIZE = 1
    late_plan = project(eng.shufu, "approved", planned_start=D(YEAR + 1, 1, 1), planned_end=D(YEAR + 1, 6, 30))

    run = run_now(django_capture_on_commit_callbacks, program=eng.program, year=YEAR, by=eng.coordinator)

    assert run.status == RunStatus.SUCCEEDED
    assert not run.error
    cohort = {eng.accepted.pk, eng.building.pk, eng.jiashi_accepted.pk}  # not the draft, not next year's plan
    assert (run.done, run.total, run.percent) == (len(cohort) + 2, len(cohort) + 2, 100)
    assert run.started_at
    assert run.finished_at
    assert run.as_of == AS_OF
    chunks = list(run.chunks.order_by("index"))
    assert [c.kind for c in chunks] == [ChunkKind.PROJECTS] * 3 + [ChunkKind.FINALIZE]
    assert all(c.status == ChunkStatus.DONE and c.attempts == 1 for c in chunks)

    scores = {s.project_id: s for s in ProjectScore.objects.filter(run=run)}
    assert set(scores) == cohort
    # The project in construction has data on schedule and budget only (20 + 15 of 100): not enough to score.
    assert {pk for pk, s in scores.items() if s.score is not None} == {eng.accepted.pk, eng.jiashi_accepted.pk}
    assert (scores[eng.building.pk].status, scores[eng.building.pk].coverage) == ("insufficient_data", 35.0)
    assert all(s.status == "scored" and s.coverage >= 50 for s in scores.values() if s.score is not None)
    assert {pk for pk, s in scores.items() if s.is_final} == {eng.accepted.pk, eng.jiashi_accepted.pk}
    assert set(PairingScorecard.objects.filter(run=run).values_list("pairing_id", flat=True)) == {
        eng.shufu.pk,
        eng.jiashi.pk,
    }
    assert Ranking.objects.filter(run=run).count() == 2

    for p in (eng.accepted, eng.jiashi_accepted):
        p.refresh_from_db()
        assert p.state == "evaluated"
        (event,) = evaluate_events(p)
        assert (event.from_state, event.to_state, event.actor) == ("accepted", "evaluated", None)
        # The score as the single evaluate keeps it: a decimal to the cent.
        assert event.changes == {
            "score": {"old": None, "new": f"{Decimal(str(scores[p.pk].score)).quantize(Decimal('0.01'))}"},
            "evaluation_run": {"old": None, "new": run.pk},
        }
        assert event.comment == ""  # the run is named in the changes, shown in the reader's language
    for p, state in ((eng.building, "in_construction"), (eng.draft, "draft"), (late_plan, "approved")):
        p.refresh_from_db()
        assert p.state == state
        assert not evaluate_events(p)


def test_a_run_with_no_projects_still_scores_the_pairings(eng: Engine, django_capture_on_commit_callbacks):
    run = run_now(django_capture_on_commit_callbacks, program=eng.program, year=2012, by=eng.coordinator)
    assert run.status == RunStatus.SUCCEEDED
    assert (run.done, run.total) == (2, 2)
    assert not ProjectScore.objects.filter(run=run).exists()
    cards = PairingScorecard.objects.filter(run=run)
    assert cards.count() == 2
    assert all(c.project_count == 0 and c.measures["projects"] is None for c in cards)


def test_a_framework_without_project_indicators_scores_the_pairings_only(
    eng: Engine, django_capture_on_commit_callbacks
):
    only_pairings = [
        {"code": "trained", "name": "培训", "formula": "people_trained", "curve": "threshold",
         "thresholds": [[0, 50], [100, 100]], "weight": 100},
    ]  # fmt: skip
    services.framework_revise(program=eng.program, by=eng.coordinator, indicators=only_pairings, reason="Trainings")

    run = run_now(django_capture_on_commit_callbacks, program=eng.program, year=YEAR, by=eng.coordinator)

    assert run.status == RunStatus.SUCCEEDED, run.error
    scores = ProjectScore.objects.filter(run=run)
    assert scores.count() == 3
    assert all(s.score is None and s.measures == {} for s in scores)
    assert [(c.score, c.measures) for c in PairingScorecard.objects.filter(run=run)] == [(50.0, {"trained": 0.0})] * 2
    assert sorted(Ranking.objects.filter(run=run).values_list("rank", flat=True)) == [1, 1]
    eng.accepted.refresh_from_db()
    assert eng.accepted.state == "accepted"  # no final score, so not evaluated


# --- idempotency ---------------------------------------------------------------------------------------------


def test_a_chunk_executed_again_changes_nothing_and_counts_once(eng: Engine, settings):
    settings.EVALUATION_CHUNK_SIZE = 2
    run, chunks = planned(eng)
    assert run.status == RunStatus.RUNNING
    assert run.total == 3 + 2
    assert run.done == 0
    first, second = chunks
    assert (first.size, second.size) == (2, 1)

    assert services.chunk_execute(first.pk) is False  # another chunk is still to do
    once = snapshot(run)
    assert len(once) == 2
    run.refresh_from_db()
    assert run.done == 2

    assert services.chunk_execute(first.pk) is False  # done already: nothing happens
    assert snapshot(run) == once
    run.refresh_from_db()
    first.refresh_from_db()
    assert (run.done, first.attempts) == (2, 1)

    # As if its message came back after it had finished: the chunk runs once more in full.
    RunChunk.objects.filter(pk=first.pk).update(status=ChunkStatus.PENDING)
    assert services.chunk_execute(first.pk) is False
    assert snapshot(run) == once
    run.refresh_from_db()
    assert run.done == 2

    assert services.chunk_execute(second.pk) is True  # the last one: the caller queues the final step
    run.refresh_from_db()
    assert run.done == 3
    assert len(snapshot(run)) == 3


@pytest.mark.django_db(transaction=True)
def test_chunks_finishing_at_once_count_every_project(eng: Engine, settings, monkeypatch):
    settings.EVALUATION_CHUNK_SIZE = 1
    monkeypatch.setattr(services, "_enqueue", lambda send, what: None)
    run, chunks = planned(eng)
    assert len(chunks) == 3
    barrier = threading.Barrier(len(chunks))
    last: list[bool] = []
    errors: list[BaseException] = []

    def execute(chunk_id: int) -> None:
        try:
            barrier.wait(timeout=10)
            last.append(services.chunk_execute(chunk_id))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=execute, args=(c.pk,)) for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert not errors, errors
    run.refresh_from_db()
    assert run.done == 3
    assert ProjectScore.objects.filter(run=run).count() == 3
    assert True in last  # someone queues the final step (it runs once however often it is queued)


def test_the_final_step_waits_for_every_chunk_and_runs_once(eng: Engine):
    run, chunks = planned(eng)
    assert services.run_finalize(run.pk) is False  # a chunk is still to do
    assert not PairingScorecard.objects.filter(run=run).exists()
    for chunk in chunks:
        services.chunk_execute(chunk.pk)

    assert services.run_finalize(run.pk) is True
    run.refresh_from_db()
    cards = list(PairingScorecard.objects.filter(run=run).order_by("pk").values_list("pk", "score", "measures"))
    ranks = list(Ranking.objects.filter(run=run).order_by("pk").values_list("pk", "rank", "score"))
    events = HistoryEvent.objects.count()
    finished_at = run.finished_at

    assert services.run_finalize(run.pk) is False
    run.refresh_from_db()
    assert (run.status, run.done, run.total, run.finished_at) == (RunStatus.SUCCEEDED, 5, 5, finished_at)
    assert list(PairingScorecard.objects.filter(run=run).order_by("pk").values_list("pk", "score", "measures")) == cards
    assert list(Ranking.objects.filter(run=run).order_by("pk").values_list("pk", "rank", "score")) == ranks
    assert HistoryEvent.objects.count() == events
    assert len(evaluate_events(eng.accepted)) == 1


def test_a_chunk_of_a_run_that_is_over_does_nothing(eng: Engine):
    run, chunks = planned(eng)
    EvaluationRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED)
    assert services.chunk_execute(chunks[0].pk) is False
    assert not ProjectScore.objects.exists()
    chunks[0].refresh_from_db()
    assert (chunks[0].status, chunks[0].attempts) == (ChunkStatus.PENDING, 0)


# --- the reconciler ------------------------------------------------------------------------------------------


@pytest.fixture
def queued_tasks(monkeypatch) -> dict[str, list[int]]:
    """Each task's `delay` records its argument instead of running."""
    calls: dict[str, list[int]] = {"plan_run": [], "score_chunk": [], "finalize_run": []}
    for name, calls_of in calls.items():
        monkeypatch.setattr(getattr(tasks, name), "delay", calls_of.append)
    return calls


def test_the_reconciler_queues_again_a_chunk_past_its_deadline(eng: Engine, settings, queued_tasks):
    settings.EVALUATION_CHUNK_SIZE = 2
    _run, (stuck, waiting) = planned(eng)
    now = timezone.now()
    assert waiting.deadline > now  # planned a moment ago
    RunChunk.objects.filter(pk=stuck.pk).update(status=ChunkStatus.RUNNING, attempts=1, deadline=now)

    counts = services.runs_reconcile(now + dt.timedelta(seconds=1))

    assert counts == {"chunks": 1, "finalize": 0, "plans": 0}
    assert queued_tasks["score_chunk"] == [stuck.pk]  # not the chunk whose deadline is still ahead
    stuck.refresh_from_db()
    assert stuck.deadline > now + dt.timedelta(seconds=1)
    assert services.runs_reconcile(now + dt.timedelta(seconds=2))["chunks"] == 0  # not queued twice in a row
    # Past both deadlines, both are queued.
    services.runs_reconcile(stuck.deadline + dt.timedelta(seconds=1))
    assert sorted(queued_tasks["score_chunk"]) == sorted([stuck.pk, stuck.pk, waiting.pk])
    assert queued_tasks["finalize_run"] == []  # its chunks are not done


def test_a_chunk_past_its_attempts_fails_the_run_with_the_reason(eng: Engine, settings, queued_tasks):
    settings.EVALUATION_MAX_ATTEMPTS = 2
    run, (chunk,) = planned(eng)
    RunChunk.objects.filter(pk=chunk.pk).update(attempts=2, deadline=timezone.now() - dt.timedelta(seconds=1))

    services.runs_reconcile()

    assert queued_tasks["score_chunk"] == []
    run.refresh_from_db()
    chunk.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.finished_at is not None
    assert chunk.status == ChunkStatus.FAILED
    assert "Chunk 0" in run.error
    assert "2 attempts" in run.error
    assert services.run_start(program=eng.program, year=YEAR, by=eng.coordinator)[1]  # a new run may start


def test_the_reconciler_plans_a_run_never_planned_and_finalizes_a_run_whose_chunks_are_done(eng: Engine, queued_tasks):
    never, _ = services.run_start(program=eng.program, year=YEAR, by=eng.coordinator)
    done, chunks = services.run_start(program=eng.program, year=YEAR + 1, by=eng.coordinator)[0], None
    chunks = services.run_plan(done.pk)
    for chunk in chunks:
        services.chunk_execute(chunk.pk)

    counts = services.runs_reconcile(timezone.now() + services.chunk_timeout() + dt.timedelta(seconds=1))

    assert counts == {"chunks": 0, "finalize": 1, "plans": 1}
    assert queued_tasks == {"plan_run": [never.pk], "score_chunk": [], "finalize_run": [done.pk]}


def test_a_chunk_that_keeps_failing_is_retried_then_fails_the_run(eng: Engine, monkeypatch):
    run, (chunk,) = planned(eng)
    calls: list[int] = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("disk full")

    monkeypatch.setattr(scoring, "score_projects", broken)

    result = tasks.score_chunk.delay(chunk.pk)  # eager: the retries run at once, in this process

    assert result.get() is False
    assert len(calls) == tasks.MAX_RETRIES + 1
    chunk.refresh_from_db()
    run.refresh_from_db()
    assert (chunk.status, chunk.attempts) == (ChunkStatus.FAILED, tasks.MAX_RETRIES + 1)
    assert run.status == RunStatus.FAILED
    assert "Chunk 0" in run.error
    assert "RuntimeError: disk full" in run.error
    assert not ProjectScore.objects.filter(run=run).exists()


def test_a_chunk_stops_at_its_attempts_even_with_retries_left(eng: Engine, settings, monkeypatch):
    settings.EVALUATION_MAX_ATTEMPTS = 2
    run, (chunk,) = planned(eng)
    calls: list[int] = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("disk full")

    monkeypatch.setattr(scoring, "score_projects", broken)

    assert tasks.score_chunk.delay(chunk.pk).get() is False

    assert len(calls) == 2  # the third delivery finds the chunk out of attempts and fails the run instead
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "after 2 attempts" in run.error


def test_a_chunk_that_fails_once_is_retried_and_the_run_goes_on(eng: Engine, monkeypatch):
    run, (chunk,) = planned(eng)
    real = scoring.score_projects
    calls: list[int] = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("connection reset")
        return real(*args, **kwargs)

    monkeypatch.setattr(scoring, "score_projects", flaky)

    tasks.score_chunk.delay(chunk.pk)

    run.refresh_from_db()
    chunk.refresh_from_db()
    assert len(calls) == 2
    assert chunk.attempts == 2
    assert run.status == RunStatus.SUCCEEDED  # the last chunk queued the final step
    assert ProjectScore.objects.filter(run=run).count() == 3


def test_a_final_step_that_keeps_failing_fails_the_run_with_the_reason(eng: Engine, monkeypatch):
    run, chunks = planned(eng)
    for chunk in chunks:
        services.chunk_execute(chunk.pk)

    def broken(*args, **kwargs):
        raise ValueError("bad row")

    monkeypatch.setattr(scoring, "pairing_rows", broken)

    assert tasks.finalize_run.delay(run.pk).get() is False
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "ValueError: bad row" in run.error
    eng.accepted.refresh_from_db()
    assert eng.accepted.state == "accepted"  # nothing of the final step stayed
    assert not PairingScorecard.objects.filter(run=run).exists()


def test_a_final_step_whose_worker_dies_every_time_uses_up_its_attempts(eng: Engine, settings, monkeypatch):
    """A worker killed in the middle of the final step rolls its transaction back; the attempt it made still
    counts, so the reconciler does not queue the step forever."""
    settings.EVALUATION_MAX_ATTEMPTS = 2
    run, chunks = planned(eng)
    for chunk in chunks:
        services.chunk_execute(chunk.pk)

    class Killed(BaseException):
        """Stands for the worker's death: nothing after it in the step runs."""

    def die(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(scoring, "pairing_rows", die)
    for _attempt in range(2):
        with pytest.raises(Killed):
            services.run_finalize(run.pk)
    final = RunChunk.objects.get(run=run, kind="finalize")
    assert final.attempts == 2
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING

    assert services.run_finalize(run.pk) is False  # the third attempt is past the limit
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "2" in run.error
    assert not PairingScorecard.objects.filter(run=run).exists()


# --- across runs ---------------------------------------------------------------------------------------------


def test_a_rating_changes_the_next_runs_scores_and_the_ranking_follows_the_previous_run(
    eng: Engine, django_capture_on_commit_callbacks
):
    # Shufu's projects score between the project indicator's floor and target, so their change shows.
    Project.objects.filter(pk=eng.building.pk).update(planned_end=D(YEAR, 10, 31))
    first = run_now(django_capture_on_commit_callbacks, program=eng.program, year=YEAR, by=eng.coordinator)
    before = {s.project_id: s for s in ProjectScore.objects.filter(run=first)}
    assert before[eng.accepted.pk].measures["satisfaction"] is None
    assert first.compared_with is None
    assert all(r.previous_rank is None and r.trend == "new" for r in Ranking.objects.filter(run=first))

    services.satisfaction_rate(project=Project.objects.get(pk=eng.accepted.pk), by=eng.recipient, score=1)
    second = run_now(django_capture_on_commit_callbacks, program=eng.program, year=YEAR, by=eng.coordinator)

    after = {s.project_id: s for s in ProjectScore.objects.filter(run=second)}
    assert after[eng.accepted.pk].measures["satisfaction"] == 1.0
    assert after[eng.accepted.pk].score < before[eng.accepted.pk].score
    assert after[eng.jiashi_accepted.pk].score == before[eng.jiashi_accepted.pk].score
    cards = {(c.run_id, c.pairing_id): c.score for c in PairingScorecard.objects.all()}
    assert cards[second.pk, eng.shufu.pk] < cards[first.pk, eng.shufu.pk]
    assert cards[second.pk, eng.jiashi.pk] == cards[first.pk, eng.jiashi.pk]

    assert second.compared_with == first
    old = {r.organization_id: r for r in Ranking.objects.filter(run=first)}
    for r in Ranking.objects.filter(run=second):
        assert (r.previous_rank, r.previous_score) == (old[r.organization_id].rank, old[r.organization_id].score)
    # The earlier run keeps its results; the projects were evaluated once.
    assert ProjectScore.objects.filter(run=first).count() == 3
    assert len(evaluate_events(eng.accepted)) == 1


def test_a_new_years_run_is_compared_with_the_year_before(eng: Engine, django_capture_on_commit_callbacks):
    earlier = run_now(django_capture_on_commit_callbacks, program=eng.program, year=YEAR - 1, by=eng.coordinator)
    this = run_now(django_capture_on_commit_callbacks, program=eng.program, year=YEAR, by=eng.coordinator)
    assert this.compared_with == earlier


def test_the_nightly_run_evaluates_this_year_of_the_programmes_still_running(eng: Engine):
    this_year = timezone.localdate().year
    running = pairing_services.program_create(
        by=None, code="running", name="进行中", model="development", start_year=this_year - 2
    )
    until_later = pairing_services.program_create(
        by=None, code="later", name="到以后", model="development", start_year=this_year, end_year=this_year + 3
    )
    future = pairing_services.program_create(
        by=None, code="future", name="未开始", model="development", start_year=this_year + 1
    )

    ids = services.nightly_runs()

    runs = EvaluationRun.objects.filter(pk__in=ids)
    assert sorted(runs.values_list("program__code", "year")) == [("later", this_year), ("running", this_year)]
    assert all(r.requested_by is None and r.status == RunStatus.QUEUED for r in runs)
    assert not EvaluationRun.objects.filter(program__in=[eng.program, future]).exists()  # ended, not started
    assert services.nightly_runs() == ids
    assert EvaluationRun.objects.count() == 2
    assert {running.pk, until_later.pk} == set(runs.values_list("program_id", flat=True))


# --- the ranking ---------------------------------------------------------------------------------------------


def test_equal_scores_share_a_rank(eng: Engine, world, django_capture_on_commit_callbacks):
    # Jiashi's project made the same as Shufu's finished one; a third province's is worse.
    Project.objects.filter(pk=eng.building.pk).update(state="cancelled")
    Project.objects.filter(pk=eng.jiashi_accepted.pk).update(
        actual_end=eng.accepted.actual_end, expected_beneficiaries=1000, reached_beneficiaries=900, is_livelihood=True
    )
    zhejiang = OrganizationFactory(name="浙江省人民政府", name_en="Zhejiang")
    shache = RegionFactory(code="653125", name="莎车县", level=RegionLevel.COUNTY, parent=world.kashgar)
    third = pairing_services.pairing_create(
        by=None, program=eng.program, assisting_organization=zhejiang, recipient_region=shache, start_date=D(2010, 6, 1)
    )
    worse = project(third, "accepted", actual_start=D(YEAR, 3, 1), actual_end=D(YEAR + 1, 9, 1), is_livelihood=True)
    inspection(worse, D(YEAR + 1, 9, 5), kind="acceptance", passed=True)
    inspection(worse, D(YEAR, 9, 5), passed=False)

    run = run_now(django_capture_on_commit_callbacks, program=eng.program, year=YEAR, by=eng.coordinator)

    ranks = {r.organization_id: r for r in Ranking.objects.filter(run=run)}
    gd, js = ranks[world.guangdong_gov.pk], ranks[world.jiangsu_gov.pk]
    assert gd.score == js.score
    assert (gd.rank, js.rank, ranks[zhejiang.pk].rank) == (1, 1, 3)
    assert ranks[zhejiang.pk].score < gd.score
    assert gd.grade == js.grade


def test_a_child_pairing_is_scored_but_ranked_only_within_its_parents_organization(
    eng: Engine, world, django_capture_on_commit_callbacks
):
    town = RegionFactory(code="653121100", name="托克扎克镇", level=RegionLevel.TOWNSHIP, parent=world.shufu)
    child = pairing_services.pairing_create(
        by=None,
        program=eng.program,
        assisting_organization=world.shenzhen_gov,
        recipient_region=town,
        start_date=D(2012, 1, 1),
        parent=eng.shufu,
    )
    in_town = project(child, "accepted", actual_start=D(YEAR, 3, 1), actual_end=D(YEAR, 11, 1))
    inspection(in_town, D(YEAR, 11, 5), kind="acceptance", passed=False)

    run = run_now(django_capture_on_commit_callbacks, program=eng.program, year=YEAR, by=eng.coordinator)

    cards = {c.pairing_id: c for c in PairingScorecard.objects.filter(run=run)}
    assert set(cards) == {eng.shufu.pk, eng.jiashi.pk, child.pk}
    assert cards[child.pk].project_count == 1
    assert cards[child.pk].score is not None
    assert cards[eng.shufu.pk].project_count == 2  # the child's project is the child's
    assert cards[child.pk].organization_id == world.shenzhen_gov.pk
    assert run.total == 4 + 3

    ranks = {r.organization_id: r for r in Ranking.objects.filter(run=run)}
    assert set(ranks) == {world.guangdong_gov.pk, world.jiangsu_gov.pk}
    assert ranks[world.guangdong_gov.pk].pairing_count == 1
    assert ranks[world.guangdong_gov.pk].score == cards[eng.shufu.pk].score


def test_an_organization_with_two_pairings_is_ranked_by_their_mean(
    eng: Engine, world, django_capture_on_commit_callbacks
):
    other = Region.objects.create(code="653122", name="疏勒县", level=RegionLevel.COUNTY, parent=world.kashgar)
    second = pairing_services.pairing_create(
        by=None,
        program=eng.program,
        assisting_organization=world.guangdong_gov,
        recipient_region=other,
        start_date=D(2010, 6, 1),
    )
    project(second, "in_construction", actual_start=D(YEAR, 3, 1), approved_budget=Decimal("300000.00"))

    run = run_now(django_capture_on_commit_callbacks, program=eng.program, year=YEAR, by=eng.coordinator)

    cards = {c.pairing_id: c.score for c in PairingScorecard.objects.filter(run=run)}
    gd = Ranking.objects.get(run=run, organization=world.guangdong_gov)
    assert gd.pairing_count == 2
    assert gd.score == pytest.approx((cards[eng.shufu.pk] + cards[second.pk]) / 2)
    assert isinstance(Organization.objects.get(pk=gd.organization_id), Organization)
    assert Pairing.objects.filter(program=eng.program).count() == 3
