"""The project lifecycle of projects/services.py, action by action: what each writes (the row re-read, the one
history event with its states and actor) and, for each guard, state, role and scope, which problems it names and
that it wrote nothing. Then creating, editing by state, revising the budget, and mail scheduled after commit.

Actors (tests/conftest.py): `assisting` (alice, Guangdong), `recipient` (bob, Shufu
county), `approver` and `supervisor` (Guangdong), `coordinator` (national office), `outsider` (charlie, Jiangsu).
The draft is Guangdong → Shufu's school building, created by alice. Amounts are synthetic."""

import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db import models, transaction
from django.utils import timezone

from accounts.models import Role, User
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from core.models import HistoryEvent, RegionLevel
from pairings import services as pairing_services
from projects import policy, services
from projects.models import Inspection, Project, Rectification, State
from tests.factories import RegionFactory, UserFactory

pytestmark = pytest.mark.django_db

D = dt.date
REQUESTED = Decimal("12000000.00")


@contextmanager
def nothing_written(*model_classes: type[models.Model], rows: tuple[models.Model, ...] = ()) -> Iterator[None]:
    """Counts of the given models and of HistoryEvent are the same after the block as before it, and each of
    ROWS reads back exactly as it did (a save would at least move `updated_at`)."""
    counted = (*model_classes, HistoryEvent)

    def snapshot() -> tuple[dict[str, int], list[dict[str, Any]]]:
        counts = {m.__name__: m.objects.count() for m in counted}
        return counts, [type(r).objects.filter(pk=r.pk).values().get() for r in rows]

    before = snapshot()
    yield
    assert snapshot() == before


def problems(exc_info) -> list[tuple[str, str | None]]:
    return [(p.code, p.field) for p in exc_info.value.problems]


def history(obj) -> list[HistoryEvent]:
    return list(HistoryEvent.objects.for_object(obj).order_by("id"))


def reread(project: Project) -> Project:
    return Project.objects.get(pk=project.pk)


def today() -> dt.date:
    return timezone.localdate()


@dataclass
class Cast:
    """Everyone who may have business with the draft, one per role, and the outsider who has none."""

    assisting: User
    recipient: User
    approver: User
    supervisor: User
    coordinator: User
    evaluator: User
    observer: User
    outsider: User


@pytest.fixture
def cast(world, approver, supervisor) -> Cast:
    return Cast(
        assisting=world.assisting,
        recipient=world.recipient,
        approver=approver,
        supervisor=supervisor,
        coordinator=world.coordinator,
        evaluator=UserFactory(username="evaluator1", organization=world.national_office, roles=[Role.EVALUATOR]),
        observer=UserFactory(username="observer1", organization=world.guangdong_gov, roles=[Role.OBSERVER]),
        outsider=world.outsider,
    )


# How the draft reaches each state through the services themselves.
STEPS: dict[str, Callable[[Project, Cast], Any]] = {
    "submit": lambda p, c: services.project_submit(project=p, by=c.assisting),
    "approve": lambda p, c: services.project_approve(project=p, by=c.approver),
    "reject": lambda p, c: services.project_reject(project=p, by=c.approver, comment="不在年度计划内"),
    "start": lambda p, c: services.project_start(project=p, by=c.assisting, actual_start=D(2024, 3, 15)),
    "suspend": lambda p, c: services.project_suspend(project=p, by=c.supervisor, comment="冬季停工"),
    "report_full": lambda p, c: services.progress_report_submit(
        by=c.assisting, project=p, period_end=D(2025, 6, 30), physical_progress=100, spend_to_date="11800000"
    ),
    "complete": lambda p, c: services.project_complete(project=p, by=c.assisting, actual_end=D(2025, 7, 15)),
    "inspect_passed": lambda p, c: services.inspection_record(
        by=c.supervisor, project=p, date=D(2025, 7, 20), kind="acceptance", result="passed"
    ),
    "accept": lambda p, c: services.project_accept(project=p, by=c.supervisor),
    "evaluate": lambda p, c: services.project_evaluate(project=p, by=None, score=Decimal("88.5")),
    "cancel": lambda p, c: services.project_cancel(project=p, by=c.coordinator, comment="资金另有安排"),
}
BUILT = ["submit", "approve", "start", "report_full", "complete"]
PATHS: dict[str, list[str]] = {
    State.DRAFT: [],
    State.PROPOSED: ["submit"],
    State.APPROVED: ["submit", "approve"],
    State.REJECTED: ["submit", "reject"],
    State.IN_CONSTRUCTION: ["submit", "approve", "start"],
    State.SUSPENDED: ["submit", "approve", "start", "suspend"],
    State.COMPLETED: BUILT,
    State.ACCEPTED: [*BUILT, "inspect_passed", "accept"],
    State.EVALUATED: [*BUILT, "inspect_passed", "accept", "evaluate"],
    State.CANCELLED: ["cancel"],
}


@pytest.fixture
def bring(draft, cast) -> Callable[[str], Project]:
    """bring(state): the draft, taken to STATE by the services, re-read."""

    def to(state: str) -> Project:
        for step in PATHS[state]:
            STEPS[step](draft, cast)
        project = reread(draft)
        assert project.state == state
        return project

    return to


# Each action called by someone who may take it, with the arguments its guard wants.
ACTOR = {
    "submit": "assisting",
    "approve": "approver",
    "reject": "approver",
    "return": "approver",
    "start": "assisting",
    "suspend": "assisting",
    "resume": "assisting",
    "complete": "assisting",
    "accept": "supervisor",
    "reopen": "supervisor",
    "evaluate": "evaluator",
    "cancel": "coordinator",
}
ARGS: dict[str, dict[str, Any]] = {
    "submit": {},
    "approve": {"approved_budget": Decimal("11000000")},
    "reject": {"comment": "不在年度计划内"},
    "return": {"comment": "补充可行性研究"},
    "start": {"actual_start": D(2024, 3, 15)},
    "suspend": {"comment": "冬季停工"},
    "resume": {"comment": "复工"},
    "complete": {},
    "accept": {},
    "reopen": {},
    "evaluate": {"score": Decimal("88.5")},
    "cancel": {"comment": "资金另有安排"},
}
SOURCES = {
    "submit": {State.DRAFT},
    "approve": {State.PROPOSED},
    "reject": {State.PROPOSED},
    "return": {State.PROPOSED},
    "start": {State.APPROVED},
    "suspend": {State.IN_CONSTRUCTION},
    "resume": {State.SUSPENDED},
    "complete": {State.IN_CONSTRUCTION},
    "accept": {State.COMPLETED},
    "reopen": {State.COMPLETED},
    "evaluate": {State.ACCEPTED},
    "cancel": {State.DRAFT, State.PROPOSED, State.APPROVED, State.IN_CONSTRUCTION, State.SUSPENDED},
}


def act(action: str, project: Project, by: User | None, **overrides: Any) -> Project:
    return services.TRANSITIONS[action](project=project, by=by, **(ARGS[action] | overrides))


@contextmanager
def one_event(obj: models.Model) -> Iterator[list[HistoryEvent]]:
    """After the block, the yielded list holds the one history event the block wrote for OBJ (it must be one)."""
    before = {e.pk for e in history(obj)}
    written: list[HistoryEvent] = []
    yield written
    written.extend(e for e in history(obj) if e.pk not in before)
    assert len(written) == 1, written


# --- submit ----------------------------------------------------------------------------------------------


def test_assisting_officer_submits_a_ready_draft_and_is_recorded_as_proposer(cast, draft):
    with one_event(draft) as events:
        returned = services.project_submit(project=draft, by=cast.assisting, comment="请审批")

    stored = reread(draft)
    assert (stored.state, stored.proposed_by) == (State.PROPOSED, cast.assisting)
    assert returned.state == draft.state == State.PROPOSED
    [submitted] = events
    assert (submitted.action, submitted.from_state, submitted.to_state) == ("submit", "draft", "proposed")
    assert (submitted.actor, submitted.comment) == (cast.assisting, "请审批")


def test_recipient_officer_of_the_pairing_can_submit_too(cast, draft):
    with one_event(draft) as events:
        services.project_submit(project=draft, by=cast.recipient)

    stored = reread(draft)
    assert (stored.state, stored.proposed_by) == (State.PROPOSED, cast.recipient)
    [event] = events
    assert (event.action, event.actor, event.to_state) == ("submit", cast.recipient, "proposed")


def test_a_draft_that_is_not_ready_is_not_submitted_and_every_blocker_is_named_at_once(world, pw):
    bare = services.project_create(by=world.assisting, pairing=pw.shufu, title="牧民定居点")

    with nothing_written(Project, rows=(bare,)), pytest.raises(DomainError) as exc:
        services.project_submit(project=bare, by=world.assisting)

    assert problems(exc) == [
        ("category_missing", "category"),
        ("sector_missing", "sector"),
        ("budget_missing", "budget_requested"),
        ("planned_start_missing", "planned_start"),
        ("planned_end_missing", "planned_end"),
        ("location_missing", "location"),
    ]
    assert reread(bare).proposed_by is None


def test_a_draft_located_outside_the_recipient_region_is_not_submitted(world, draft):
    Project.objects.filter(pk=draft.pk).update(location=world.jiashi)  # as if the region tree had been redrawn

    with nothing_written(Project, rows=(draft,)), pytest.raises(DomainError) as exc:
        services.project_submit(project=draft, by=world.assisting)

    assert problems(exc) == [("location_outside", "location")]


# --- approve ---------------------------------------------------------------------------------------------


def test_approver_approves_with_the_requested_budget_by_default(cast, bring):
    proposed = bring(State.PROPOSED)

    with one_event(proposed) as events:
        services.project_approve(project=proposed, by=cast.approver)

    stored = reread(proposed)
    assert (stored.state, stored.approved_budget) == (State.APPROVED, REQUESTED)
    [event] = events
    assert (event.action, event.from_state, event.to_state, event.actor) == (
        "approve",
        "proposed",
        "approved",
        cast.approver,
    )
    assert event.changes == {"approved_budget": {"old": None, "new": "12000000.00"}}


def test_approver_may_approve_less_than_was_requested(cast, bring):
    proposed = bring(State.PROPOSED)

    services.project_approve(project=proposed, by=cast.approver, approved_budget="9500000")

    assert reread(proposed).approved_budget == Decimal("9500000.00")


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0", [("min_value", "approved_budget")]),
        ("-100", [("min_value", "approved_budget")]),
        ("a lot", [("invalid", "approved_budget")]),
        ("Infinity", [("min_value", "approved_budget")]),
    ],
)
def test_the_approved_budget_must_be_a_number_above_zero(cast, bring, amount, expected):
    proposed = bring(State.PROPOSED)

    with nothing_written(Project, rows=(proposed,)), pytest.raises(DomainError) as exc:
        services.project_approve(project=proposed, by=cast.approver, approved_budget=amount)

    assert problems(exc) == expected


def test_approving_more_than_was_requested_needs_a_reason(cast, bring):
    proposed = bring(State.PROPOSED)

    with nothing_written(Project, rows=(proposed,)), pytest.raises(DomainError) as exc:
        services.project_approve(project=proposed, by=cast.approver, approved_budget="13000000")

    assert problems(exc) == [("above_requested", "reason")]


def test_approving_more_than_was_requested_with_a_reason_passes_and_the_reason_is_recorded(cast, bring):
    proposed = bring(State.PROPOSED)

    with one_event(proposed) as events:
        services.project_approve(
            project=proposed, by=cast.approver, approved_budget="13000000", reason="建材价格上涨，追加预算"
        )

    stored = reread(proposed)
    assert (stored.state, stored.approved_budget) == (State.APPROVED, Decimal("13000000.00"))
    [event] = events
    assert (event.action, event.comment) == ("approve", "建材价格上涨，追加预算")
    assert event.changes == {"approved_budget": {"old": None, "new": "13000000.00"}}


def test_nobody_approves_a_project_they_proposed(world, draft):
    both = UserFactory(
        username="gd-both", organization=world.guangdong_gov, roles=[Role.ASSISTING_OFFICER, Role.APPROVER]
    )
    services.project_submit(project=draft, by=both)
    proposed = reread(draft)

    with nothing_written(Project, rows=(proposed,)), pytest.raises(PermissionDenied) as exc:
        services.project_approve(project=proposed, by=both)

    assert problems(exc) == [("separation_of_duties", "action")]
    assert "approve" not in policy.allowed_actions(both, proposed)


# --- actions that need a comment -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "state", "target"),
    [
        ("reject", State.PROPOSED, State.REJECTED),
        ("return", State.PROPOSED, State.DRAFT),
        ("suspend", State.IN_CONSTRUCTION, State.SUSPENDED),
        ("resume", State.SUSPENDED, State.IN_CONSTRUCTION),
        ("cancel", State.APPROVED, State.CANCELLED),
    ],
)
def test_an_action_that_needs_a_comment_is_recorded_with_it(cast, bring, action, state, target):
    project = bring(state)
    actor = getattr(cast, ACTOR[action])

    with one_event(project) as events:
        act(action, project, actor, comment="  理由写在这里  ")

    stored = reread(project)
    assert stored.state == target
    [event] = events
    assert (event.action, event.from_state, event.to_state) == (action, state, target)
    assert (event.actor, event.comment) == (actor, "理由写在这里")


@pytest.mark.parametrize(
    ("action", "state"),
    [
        ("reject", State.PROPOSED),
        ("return", State.PROPOSED),
        ("suspend", State.IN_CONSTRUCTION),
        ("resume", State.SUSPENDED),
        ("cancel", State.DRAFT),
    ],
)
def test_an_action_that_needs_a_comment_is_refused_without_one(cast, bring, action, state):
    project = bring(state)

    for blank in ("", "   \n"):
        with nothing_written(Project, rows=(project,)), pytest.raises(DomainError) as exc:
            act(action, project, getattr(cast, ACTOR[action]), comment=blank)
        assert problems(exc) == [("comment_required", "comment")]


def test_a_supervisor_may_suspend_and_resume_construction(cast, bring):
    building = bring(State.IN_CONSTRUCTION)

    services.project_suspend(project=building, by=cast.supervisor, comment="安全隐患整改")
    assert reread(building).state == State.SUSPENDED
    services.project_resume(project=building, by=cast.supervisor, comment="整改完毕")

    assert reread(building).state == State.IN_CONSTRUCTION
    suspended, resumed = history(building)[-2:]
    assert (suspended.action, suspended.actor, suspended.to_state) == ("suspend", cast.supervisor, "suspended")
    assert (resumed.action, resumed.actor, resumed.to_state) == ("resume", cast.supervisor, "in_construction")


def test_a_returned_proposal_is_a_draft_again_and_can_be_resubmitted(cast, bring):
    proposed = bring(State.PROPOSED)
    services.project_return(project=proposed, by=cast.approver, comment="补充可行性研究")
    assert reread(proposed).state == State.DRAFT

    services.project_submit(project=proposed, by=cast.recipient)

    stored = reread(proposed)
    assert (stored.state, stored.proposed_by) == (State.PROPOSED, cast.recipient)


# --- start, complete -------------------------------------------------------------------------------------


def test_assisting_officer_starts_construction_on_the_actual_start_date(cast, bring):
    approved = bring(State.APPROVED)

    with one_event(approved) as events:
        services.project_start(project=approved, by=cast.assisting, actual_start=D(2024, 3, 15))

    stored = reread(approved)
    assert (stored.state, stored.actual_start) == (State.IN_CONSTRUCTION, D(2024, 3, 15))
    [event] = events
    assert (event.action, event.from_state, event.to_state, event.actor) == (
        "start",
        "approved",
        "in_construction",
        cast.assisting,
    )
    assert event.changes == {"actual_start": {"old": None, "new": "2024-03-15"}}


def test_construction_may_start_today(cast, bring):
    approved = bring(State.APPROVED)

    services.project_start(project=approved, by=cast.assisting, actual_start=today())

    assert reread(approved).actual_start == today()


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (None, [("actual_start_missing", "actual_start")]),
        ("tomorrow", [("actual_start_future", "actual_start")]),
    ],
)
def test_construction_does_not_start_without_an_actual_start_in_the_past(cast, bring, when, expected):
    approved = bring(State.APPROVED)
    actual_start = today() + dt.timedelta(days=1) if when == "tomorrow" else None

    with nothing_written(Project, rows=(approved,)), pytest.raises(DomainError) as exc:
        services.project_start(project=approved, by=cast.assisting, actual_start=actual_start)

    assert problems(exc) == expected


def test_assisting_officer_completes_once_progress_is_reported_at_100_percent(cast, bring):
    building = bring(State.IN_CONSTRUCTION)
    STEPS["report_full"](building, cast)

    with one_event(building) as events:
        services.project_complete(project=building, by=cast.assisting, actual_end=D(2025, 7, 15))

    stored = reread(building)
    assert (stored.state, stored.actual_end) == (State.COMPLETED, D(2025, 7, 15))
    [event] = events
    assert (event.action, event.from_state, event.to_state, event.actor) == (
        "complete",
        "in_construction",
        "completed",
        cast.assisting,
    )
    assert event.changes == {"actual_end": {"old": None, "new": "2025-07-15"}}


def test_completion_without_a_full_progress_report_is_refused(cast, bring):
    building = bring(State.IN_CONSTRUCTION)
    with nothing_written(Project, rows=(building,)), pytest.raises(DomainError) as exc:
        services.project_complete(project=building, by=cast.assisting)
    assert problems(exc) == [("progress_not_full", "progress")]

    services.progress_report_submit(
        by=cast.assisting, project=building, period_end=D(2025, 3, 31), physical_progress=60, spend_to_date="7000000"
    )
    with nothing_written(Project, rows=(building,)), pytest.raises(DomainError) as exc:
        services.project_complete(project=building, by=cast.assisting)
    assert problems(exc) == [("progress_not_full", "progress")]


def test_completion_does_not_rest_on_a_report_the_approver_returned(cast, bring):
    building = bring(State.IN_CONSTRUCTION)
    full = services.progress_report_submit(
        by=cast.assisting, project=building, period_end=D(2025, 6, 30), physical_progress=100, spend_to_date="1"
    )
    services.progress_report_review(by=cast.approver, report=full, accept=False, comment="尚未竣工")

    with nothing_written(Project, rows=(building,)), pytest.raises(DomainError) as exc:
        services.project_complete(project=building, by=cast.assisting)

    assert problems(exc) == [("progress_not_full", "progress")]


def test_completion_cannot_end_before_construction_started(cast, bring):
    building = bring(State.IN_CONSTRUCTION)
    STEPS["report_full"](building, cast)

    with nothing_written(Project, rows=(building,)), pytest.raises(DomainError) as exc:
        services.project_complete(project=building, by=cast.assisting, actual_end=D(2024, 1, 1))

    assert problems(exc) == [("actual_end_before_start", "actual_end")]


# --- accept, reopen --------------------------------------------------------------------------------------


def acceptance(project: Project, by: User, result: str, date: dt.date, **kw: Any) -> Inspection:
    findings = kw.pop("findings", "" if result == "passed" else "外墙开裂")
    return services.inspection_record(
        by=by, project=project, date=date, kind="acceptance", result=result, findings=findings, **kw
    )


def test_supervisor_accepts_a_completed_project_after_a_passed_acceptance_inspection(cast, bring):
    completed = bring(State.COMPLETED)
    acceptance(completed, cast.supervisor, "passed", D(2025, 7, 20))

    with one_event(completed) as events:
        services.project_accept(project=completed, by=cast.supervisor, comment="验收合格")

    stored = reread(completed)
    assert stored.state == State.ACCEPTED
    [event] = events
    assert (event.action, event.from_state, event.to_state, event.actor, event.comment) == (
        "accept",
        "completed",
        "accepted",
        cast.supervisor,
        "验收合格",
    )


def test_acceptance_is_refused_without_any_acceptance_inspection(cast, bring):
    completed = bring(State.COMPLETED)

    with nothing_written(Project, rows=(completed,)), pytest.raises(DomainError) as exc:
        services.project_accept(project=completed, by=cast.supervisor)

    assert problems(exc) == [("acceptance_not_passed", "inspection")]


def test_acceptance_follows_the_latest_acceptance_inspection_not_an_earlier_pass(cast, bring):
    completed = bring(State.COMPLETED)
    acceptance(completed, cast.supervisor, "passed", D(2025, 7, 20))
    acceptance(completed, cast.supervisor, "failed", D(2025, 8, 1))

    with nothing_written(Project, rows=(completed,)), pytest.raises(DomainError) as exc:
        services.project_accept(project=completed, by=cast.supervisor)

    assert problems(exc) == [("acceptance_not_passed", "inspection")]


def test_acceptance_waits_for_every_open_rectification_to_be_closed(cast, bring):
    completed = bring(State.COMPLETED)
    acceptance(
        completed,
        cast.supervisor,
        "passed",
        D(2025, 7, 20),
        findings="消防通道标识缺失",
        rectifications=[{"finding": "补设消防通道标识", "deadline": D(2025, 8, 20)}],
    )

    with nothing_written(Project, rows=(completed,)), pytest.raises(DomainError) as exc:
        services.project_accept(project=completed, by=cast.supervisor)
    assert problems(exc) == [("open_rectifications", "rectifications")]

    services.rectification_close(
        by=cast.supervisor, rectification=Rectification.objects.get(project=completed), note="已补设并复查"
    )
    services.project_accept(project=completed, by=cast.supervisor)
    assert reread(completed).state == State.ACCEPTED


def test_a_failed_acceptance_with_open_rectifications_names_both_blockers(cast, bring):
    completed = bring(State.COMPLETED)
    acceptance(
        completed,
        cast.supervisor,
        "failed",
        D(2025, 7, 20),
        rectifications=[{"finding": "外墙开裂修补", "deadline": D(2025, 9, 1)}],
    )

    with nothing_written(Project, rows=(completed,)), pytest.raises(DomainError) as exc:
        services.project_accept(project=completed, by=cast.supervisor)

    assert problems(exc) == [("acceptance_not_passed", "inspection"), ("open_rectifications", "rectifications")]


def test_supervisor_reopens_construction_after_a_failed_acceptance_inspection(cast, bring):
    completed = bring(State.COMPLETED)
    acceptance(completed, cast.supervisor, "failed", D(2025, 7, 20))

    with one_event(completed) as events:
        services.project_reopen(project=completed, by=cast.supervisor, comment="返工")

    stored = reread(completed)
    assert (stored.state, stored.actual_end) == (State.IN_CONSTRUCTION, None)
    [event] = events
    assert (event.action, event.from_state, event.to_state, event.actor) == (
        "reopen",
        "completed",
        "in_construction",
        cast.supervisor,
    )
    assert event.changes == {"actual_end": {"old": "2025-07-15", "new": None}}


@pytest.mark.parametrize("inspected", [None, "passed"])
def test_reopening_needs_a_failed_acceptance_inspection(cast, bring, inspected):
    completed = bring(State.COMPLETED)
    if inspected:
        acceptance(completed, cast.supervisor, inspected, D(2025, 7, 20))

    with nothing_written(Project, rows=(completed,)), pytest.raises(DomainError) as exc:
        services.project_reopen(project=completed, by=cast.supervisor)

    assert problems(exc) == [("no_failed_acceptance", "inspection")]


# --- evaluate --------------------------------------------------------------------------------------------


def test_an_evaluation_run_marks_an_accepted_project_evaluated_with_its_score(bring):
    accepted = bring(State.ACCEPTED)

    with one_event(accepted) as events:
        services.project_evaluate(project=accepted, by=None, score=Decimal("91.25"))

    stored = reread(accepted)
    assert stored.state == State.EVALUATED
    [event] = events
    assert (event.action, event.from_state, event.to_state, event.actor) == ("evaluate", "accepted", "evaluated", None)
    assert event.changes == {"score": {"old": None, "new": "91.25"}}


def test_an_evaluator_marks_an_accepted_project_evaluated(cast, bring):
    accepted = bring(State.ACCEPTED)

    with one_event(accepted) as events:
        services.project_evaluate(project=accepted, by=cast.evaluator, score=Decimal("77"))

    stored = reread(accepted)
    assert stored.state == State.EVALUATED
    assert events[0].actor == cast.evaluator


@pytest.mark.parametrize("by", [None, "evaluator"])
def test_evaluation_needs_a_score(cast, bring, by):
    accepted = bring(State.ACCEPTED)

    with nothing_written(Project, rows=(accepted,)), pytest.raises(DomainError) as exc:
        services.project_evaluate(project=accepted, by=getattr(cast, by) if by else None, score=None)

    assert problems(exc) == [("score_missing", "score")]


def test_the_bulk_evaluate_takes_the_same_step_as_the_single_one(
    bring, django_capture_on_commit_callbacks, monkeypatch
):
    """An evaluation run's bulk evaluate writes what project_evaluate writes (state, history, the score as a
    decimal) and queues the same notification after commit; a project no longer accepted is left alone."""
    from projects import tasks

    accepted = bring(State.ACCEPTED)
    queued: list[tuple[list[int], str]] = []
    monkeypatch.setattr(
        tasks.notify_transitions, "delay", lambda ids, action, events=None: queued.append((list(ids), action))
    )

    with one_event(accepted) as events, django_capture_on_commit_callbacks(execute=True):
        moved = services.project_evaluate_many(scores={accepted.pk: 91.254, 987654321: 50.0}, comment=" run 7 ")

    assert moved == [accepted.pk]
    assert reread(accepted).state == State.EVALUATED
    [event] = events
    assert (event.action, event.from_state, event.to_state, event.actor, event.comment) == (
        "evaluate",
        "accepted",
        "evaluated",
        None,
        "run 7",
    )
    assert event.changes == {"score": {"old": None, "new": "91.25"}}
    assert queued == [([accepted.pk], "evaluate")]
    # Run again: the project is evaluated now, so nothing moves and nothing is written.
    assert services.project_evaluate_many(scores={accepted.pk: 91.25}) == []


def test_the_single_evaluate_queues_its_notification_through_the_same_task(
    bring, django_capture_on_commit_callbacks, monkeypatch
):
    from projects import tasks

    accepted = bring(State.ACCEPTED)
    queued: list[tuple[list[int], str]] = []
    monkeypatch.setattr(
        tasks.notify_transitions, "delay", lambda ids, action, events=None: queued.append((list(ids), action))
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.project_evaluate(project=accepted, by=None, score=91.254)
    assert queued == [([accepted.pk], "evaluate")]
    assert HistoryEvent.objects.for_object(accepted).filter(action="evaluate").get().changes["score"]["new"] == "91.25"


# --- cancel ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", sorted(SOURCES["cancel"]))
@pytest.mark.parametrize("who", ["coordinator", "approver"])
def test_a_project_is_cancelled_from_every_state_that_allows_it(cast, bring, state, who):
    project = bring(state)

    with one_event(project) as events:
        services.project_cancel(project=project, by=getattr(cast, who), comment="资金另有安排")

    stored = reread(project)
    assert stored.state == State.CANCELLED
    [event] = events
    assert (event.action, event.from_state, event.to_state, event.actor, event.comment) == (
        "cancel",
        state,
        "cancelled",
        getattr(cast, who),
        "资金另有安排",
    )


@pytest.mark.parametrize("state", [State.COMPLETED, State.ACCEPTED, State.EVALUATED, State.REJECTED, State.CANCELLED])
def test_a_project_past_construction_or_closed_cannot_be_cancelled(cast, bring, state):
    project = bring(state)

    with nothing_written(Project, rows=(project,)), pytest.raises(Conflict) as exc:
        services.project_cancel(project=project, by=cast.coordinator, comment="撤销")

    assert exc.value.status_code == 409
    assert problems(exc) == [("state_conflict", "state")]


def test_a_national_coordinator_role_held_outside_the_central_office_does_not_cancel(world, bring):
    gd_coordinator = UserFactory(
        username="gd-coord", organization=world.guangdong_gov, roles=[Role.NATIONAL_COORDINATOR]
    )
    proposed = bring(State.PROPOSED)

    with nothing_written(Project, rows=(proposed,)), pytest.raises(PermissionDenied) as exc:
        services.project_cancel(project=proposed, by=gd_coordinator, comment="撤销")

    assert problems(exc) == [("forbidden", "action")]


# --- state, role and scope, for every action -------------------------------------------------------------


@pytest.mark.parametrize("state", list(State))
def test_every_action_from_a_state_it_does_not_leave_is_a_conflict_and_writes_nothing(cast, bring, state):
    project = bring(state)
    refused = [a for a in services.TRANSITIONS if state not in SOURCES[a]]
    assert refused  # every state has some

    for action in refused:
        with nothing_written(Project, rows=(project,)), pytest.raises(Conflict) as exc:
            act(action, project, getattr(cast, ACTOR[action]))
        assert problems(exc) == [("state_conflict", "state")], action


def test_an_official_acting_on_a_page_read_before_someone_else_acted_gets_a_conflict(world, cast, bring):
    proposed = bring(State.PROPOSED)
    second_approver = UserFactory(username="approver2", organization=world.guangdong_gov, roles=[Role.APPROVER])
    seen_earlier = reread(proposed)
    services.project_reject(project=proposed, by=cast.approver, comment="不在年度计划内")

    with nothing_written(Project, rows=(proposed,)), pytest.raises(Conflict) as exc:
        services.project_approve(project=seen_earlier, by=second_approver)

    assert problems(exc) == [("state_conflict", "state")]
    assert reread(proposed).state == State.REJECTED


# Who may take each action (DESIGN.md's lifecycle table); everyone else in scope is refused.
WHO_MAY = {
    "submit": {"assisting", "recipient"},
    "approve": {"approver"},
    "reject": {"approver"},
    "return": {"approver"},
    "start": {"assisting"},
    "suspend": {"assisting", "supervisor"},
    "resume": {"assisting", "supervisor"},
    "complete": {"assisting"},
    "accept": {"supervisor"},
    "reopen": {"supervisor"},
    "evaluate": {"evaluator"},
    "cancel": {"coordinator", "approver"},
}
EVERYONE = ["assisting", "recipient", "approver", "supervisor", "coordinator", "evaluator", "observer"]
NOT_ALLOWED = [
    (action, sorted(SOURCES[action])[0], [who for who in EVERYONE if who not in WHO_MAY[action]])
    for action in services.TRANSITIONS
]


@pytest.mark.parametrize(("action", "state", "who"), NOT_ALLOWED, ids=[row[0] for row in NOT_ALLOWED])
def test_every_action_by_a_role_not_allowed_to_take_it_is_forbidden_and_writes_nothing(cast, bring, action, state, who):
    project = bring(state)
    if action == "complete":
        STEPS["report_full"](project, cast)
    if action in ("accept", "reopen"):
        acceptance(project, cast.supervisor, "passed" if action == "accept" else "failed", D(2025, 7, 20))

    for name in who:
        with nothing_written(Project, rows=(project,)), pytest.raises(PermissionDenied) as exc:
            act(action, project, getattr(cast, name))
        assert problems(exc) == [("forbidden", "action")], name


@pytest.mark.parametrize("action", list(services.TRANSITIONS))
def test_every_action_by_an_outsider_is_not_found_and_writes_nothing(cast, bring, action):
    project = bring(sorted(SOURCES[action])[0])
    # The outsider is given every role: scope, not role, is what hides the project.
    outsider = UserFactory(username="charlie-all", organization=cast.outsider.organization, roles=list(Role))

    for who in (cast.outsider, outsider):
        with nothing_written(Project, rows=(project,)), pytest.raises(NotFound) as exc:
            act(action, project, who)
        assert problems(exc) == [("not_found", None)]


# What each actor may do in each state (the lifecycle table, read from DESIGN.md rather than from the code).
EXPECTED_ACTIONS: dict[str, dict[str, set[str]]] = {
    State.DRAFT: {"assisting": {"submit"}, "recipient": {"submit"}, "approver": {"cancel"}, "coordinator": {"cancel"}},
    State.PROPOSED: {"approver": {"approve", "reject", "return", "cancel"}, "coordinator": {"cancel"}},
    State.APPROVED: {"assisting": {"start"}, "approver": {"cancel"}, "coordinator": {"cancel"}},
    State.REJECTED: {},
    State.IN_CONSTRUCTION: {
        "assisting": {"suspend", "complete"},
        "supervisor": {"suspend"},
        "approver": {"cancel"},
        "coordinator": {"cancel"},
    },
    State.SUSPENDED: {
        "assisting": {"resume"},
        "supervisor": {"resume"},
        "approver": {"cancel"},
        "coordinator": {"cancel"},
    },
    State.COMPLETED: {"supervisor": {"accept", "reopen"}},
    State.ACCEPTED: {"evaluator": {"evaluate"}},
    State.EVALUATED: {},
    State.CANCELLED: {},
}


@pytest.mark.parametrize("state", list(State))
def test_allowed_actions_are_what_the_lifecycle_table_gives_each_role_in_each_state(cast, bring, state):
    project = bring(state)

    got = {who: set(policy.allowed_actions(getattr(cast, who), project)) for who in EVERYONE}

    assert got == {who: EXPECTED_ACTIONS[state].get(who, set()) for who in EVERYONE}


def test_allowed_actions_leave_approve_out_for_the_proposer_only(world, draft, cast):
    both = UserFactory(
        username="gd-both", organization=world.guangdong_gov, roles=[Role.ASSISTING_OFFICER, Role.APPROVER]
    )
    assert set(policy.allowed_actions(both, draft)) == {"submit", "cancel"}
    services.project_submit(project=draft, by=both)
    proposed = reread(draft)

    assert set(policy.allowed_actions(both, proposed)) == {"reject", "return", "cancel"}
    assert set(policy.allowed_actions(cast.approver, proposed)) == {"approve", "reject", "return", "cancel"}


# --- project_create --------------------------------------------------------------------------------------


def test_a_new_project_gets_a_readable_unique_code_and_its_creation_is_recorded(world, pw, draft):
    second = services.project_create(by=world.recipient, pairing=pw.shufu, title="疏附县人民医院门诊楼")

    assert re.fullmatch(r"XIN-\d{6}", draft.code)
    assert (draft.code, second.code) == (f"XIN-{draft.pk:06d}", f"XIN-{second.pk:06d}")
    assert draft.code != second.code
    stored = reread(second)
    assert (stored.state, stored.created_by, stored.code) == (State.DRAFT, world.recipient, second.code)
    [event] = history(stored)
    assert (event.action, event.actor, event.from_state, event.to_state) == ("created", world.recipient, "", "draft")
    assert event.changes["title"] == {"old": None, "new": "疏附县人民医院门诊楼"}


def test_a_project_cannot_be_created_in_a_pairing_out_of_scope(world, pw):
    with nothing_written(Project), pytest.raises(DomainError) as exc:
        services.project_create(by=world.outsider, pairing=pw.shufu, title="越界项目")

    assert problems(exc) == [("does_not_exist", "pairing")]


def test_a_project_cannot_be_created_in_an_ended_pairing(world, pw):
    pairing_services.pairing_end(by=None, pairing=pw.shufu, end_date=D(2020, 12, 31), comment="规划期结束")

    with nothing_written(Project), pytest.raises(DomainError) as exc:
        services.project_create(by=world.assisting, pairing=pw.shufu, title="规划期外项目")

    assert problems(exc) == [("pairing_ended", "pairing")]


@pytest.mark.parametrize("where", ["jiashi", "kashgar", "guangdong"])
def test_a_project_cannot_be_located_outside_the_recipient_region(world, pw, where):
    with nothing_written(Project), pytest.raises(DomainError) as exc:
        services.project_create(by=world.assisting, pairing=pw.shufu, title="项目", location=getattr(world, where))

    assert problems(exc) == [("location_outside", "location")]


def test_a_project_may_be_located_in_a_township_of_the_recipient_region(world, pw):
    town = RegionFactory(
        code="653121100", name="托克扎克镇", name_en="Tokzak", level=RegionLevel.TOWNSHIP, parent=world.shufu
    )

    project = services.project_create(by=world.assisting, pairing=pw.shufu, title="镇卫生院", location=town)

    assert reread(project).location == town


@pytest.mark.parametrize("field", ["state", "code", "approved_budget", "proposed_by", "no_such_field"])
def test_a_field_that_is_not_descriptive_cannot_be_set_at_creation(world, pw, field):
    with nothing_written(Project), pytest.raises(DomainError) as exc:
        services.project_create(by=world.assisting, pairing=pw.shufu, title="项目", **{field: "x"})

    assert problems(exc) == [("unknown_field", None)]


def test_every_problem_of_a_new_project_is_reported_at_once(world, pw):
    with nothing_written(Project), pytest.raises(DomainError) as exc:
        services.project_create(
            by=world.assisting,
            pairing=pw.shufu,
            title="  ",
            category="grant",
            sector="space",
            budget_requested="-1",
            planned_start=D(2025, 1, 1),
            planned_end=D(2024, 1, 1),
            location=world.jiashi,
            funding_sources=[{"source": "assisting_fiscal", "amount": "5"}, {"source": "lottery", "amount": "1"}],
        )

    assert problems(exc) == [
        ("required", "title"),
        ("invalid_choice", "category"),
        ("invalid_choice", "sector"),
        ("min_value", "budget_requested"),
        ("planned_dates_out_of_order", "planned_end"),
        ("location_outside", "location"),
        ("invalid", "funding_sources.1"),
    ]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"title": "长" * 201}, [("max_length", "title")]),
        ({"expected_beneficiaries": -1}, [("min_value", "expected_beneficiaries")]),
        ({"latitude": Decimal("1000")}, [("max_whole_digits", "latitude")]),
        ({"is_livelihood": None}, [("invalid", "is_livelihood")]),
    ],
)
def test_a_value_the_database_would_refuse_is_named_on_its_field_at_creation(world, pw, values, expected):
    values = {"title": "项目"} | values

    with nothing_written(Project), pytest.raises(DomainError) as exc:
        services.project_create(by=world.assisting, pairing=pw.shufu, **values)

    assert problems(exc) == expected


@pytest.mark.parametrize("who", ["approver", "supervisor", "evaluator", "observer"])
def test_only_officers_of_the_pairing_create_projects(cast, pw, who):
    with nothing_written(Project), pytest.raises(PermissionDenied) as exc:
        services.project_create(by=getattr(cast, who), pairing=pw.shufu, title="项目")

    assert problems(exc) == [("forbidden", None)]


# --- project_update: what may change in each state -------------------------------------------------------

# A valid new value for every field some state lets a PATCH change ("location" is a township of Shufu, made
# in the test).
NEW_VALUES: dict[str, Any] = {
    "location": None,
    "title": "疏附县第二中学教学楼（二期）",
    "category": "collaborative",
    "sector": "health",
    "execution_mode": "funds_transfer",
    "latitude": Decimal("39.380000"),
    "longitude": Decimal("75.860000"),
    "is_livelihood": False,
    "is_self_sustaining": True,
    "budget_requested": Decimal("12500000.00"),
    "funding_sources": [{"source": "assisting_fiscal", "amount": "12500000"}],
    "planned_start": D(2024, 4, 1),
    "planned_end": D(2025, 12, 31),
    "expected_beneficiaries": 2600,
    "reached_beneficiaries": 2300,
    "implementing_agency": "疏附县教育局",
    "description": "四层教学楼，含实验室",
    "repayment_terms": "十年，免息",
}
EDITABLE_BY_STATE: dict[str, set[str]] = {  # DESIGN-level expectation, written out rather than read from the code
    State.DRAFT: set(NEW_VALUES) - {"reached_beneficiaries"},
    State.PROPOSED: set(),
    State.APPROVED: {"planned_start", "planned_end", "implementing_agency", "description", "latitude", "longitude"},
    State.IN_CONSTRUCTION: {"planned_end", "implementing_agency", "description", "reached_beneficiaries"},
    State.SUSPENDED: {"planned_end", "implementing_agency", "description"},
    State.COMPLETED: {"reached_beneficiaries", "description"},
    State.ACCEPTED: {"reached_beneficiaries"},
    State.EVALUATED: set(),
    State.REJECTED: set(),
    State.CANCELLED: set(),
}


@pytest.mark.parametrize("state", list(State))
def test_each_state_lets_exactly_its_fields_change_and_refuses_the_others_by_name(world, cast, bring, state):
    town = RegionFactory(code="653121100", name="托克扎克镇", level=RegionLevel.TOWNSHIP, parent=world.shufu)
    new_values = NEW_VALUES | {"location": town}
    project = bring(state)
    allowed = EDITABLE_BY_STATE[state]
    refused = [*sorted(set(new_values) - allowed), "approved_budget", "state", "code", "pairing"]

    with nothing_written(Project, rows=(project,)), pytest.raises(DomainError) as exc:
        services.project_update(by=cast.assisting, project=project, **{f: new_values.get(f, "x") for f in refused})
    assert problems(exc) == [("not_editable", f) for f in sorted(refused)]

    for field in sorted(allowed):
        with one_event(project) as events:
            services.project_update(by=cast.assisting, project=project, **{field: new_values[field]})
        assert getattr(reread(project), field) == new_values[field], field
        [event] = events
        assert (event.action, event.actor, set(event.changes)) == ("updated", cast.assisting, {field})
    assert reread(project).state == state


def test_an_edit_records_old_and_new_values_of_what_changed_only(cast, draft):
    services.project_update(
        by=cast.recipient, project=draft, title="疏附县第二中学教学楼", budget_requested=Decimal("12600000.00")
    )

    stored = reread(draft)
    assert stored.budget_requested == Decimal("12600000.00")
    event = history(stored)[-1]
    assert (event.action, event.actor) == ("updated", cast.recipient)
    assert event.changes == {"budget_requested": {"old": "12000000.00", "new": "12600000.00"}}


def test_an_edit_that_changes_nothing_records_nothing(cast, draft):
    with nothing_written(Project):
        services.project_update(by=cast.assisting, project=draft, title=draft.title)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"title": " "}, [("required", "title")]),
        ({"planned_end": D(2024, 1, 1)}, [("planned_dates_out_of_order", "planned_end")]),
        ({"location": "jiashi"}, [("location_outside", "location")]),
        ({"sector": "space"}, [("invalid_choice", "sector")]),
        ({"budget_requested": "lots"}, [("invalid", "budget_requested")]),
    ],
)
def test_an_edit_with_a_bad_value_is_refused_on_that_field(world, cast, draft, values, expected):
    values = {k: getattr(world, v) if k == "location" else v for k, v in values.items()}

    with nothing_written(Project, rows=(draft,)), pytest.raises(DomainError) as exc:
        services.project_update(by=cast.assisting, project=draft, **values)

    assert problems(exc) == expected


def test_a_negative_count_of_beneficiaries_reached_is_refused_on_its_field(cast, bring):
    building = bring(State.IN_CONSTRUCTION)

    with nothing_written(Project, rows=(building,)), pytest.raises(DomainError) as exc:
        services.project_update(by=cast.assisting, project=building, reached_beneficiaries=-5)

    assert problems(exc) == [("min_value", "reached_beneficiaries")]


@pytest.mark.parametrize("who", ["approver", "supervisor", "evaluator", "observer"])
def test_only_officers_edit_a_project(cast, draft, who):
    with nothing_written(Project, rows=(draft,)), pytest.raises(PermissionDenied) as exc:
        services.project_update(by=getattr(cast, who), project=draft, title="改名")

    assert problems(exc) == [("forbidden", None)]


def test_an_outsider_cannot_edit_a_project_they_do_not_see(cast, draft):
    with nothing_written(Project, rows=(draft,)), pytest.raises(NotFound):
        services.project_update(by=cast.outsider, project=draft, title="改名")


# --- project_revise_budget -------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [State.APPROVED, State.IN_CONSTRUCTION, State.SUSPENDED])
def test_an_approver_revises_an_approved_budget_with_a_reason_and_both_amounts_are_recorded(cast, bring, state):
    project = bring(state)

    services.project_revise_budget(by=cast.approver, project=project, approved_budget="12800000", reason="地基加固")

    stored = reread(project)
    assert (stored.approved_budget, stored.state) == (Decimal("12800000.00"), state)
    event = history(stored)[-1]
    assert (event.action, event.actor, event.comment) == ("budget_revised", cast.approver, "地基加固")
    assert event.changes == {"approved_budget": {"old": "12000000.00", "new": "12800000.00"}}


@pytest.mark.parametrize("state", [State.DRAFT, State.PROPOSED, State.REJECTED, State.COMPLETED, State.CANCELLED])
def test_a_budget_is_revised_only_between_approval_and_completion(cast, bring, state):
    project = bring(state)

    with nothing_written(Project, rows=(project,)), pytest.raises(Conflict) as exc:
        services.project_revise_budget(by=cast.approver, project=project, approved_budget="1", reason="调整")

    assert problems(exc) == [("state_conflict", "state")]


@pytest.mark.parametrize("who", ["assisting", "recipient", "supervisor", "coordinator"])
def test_only_an_approver_revises_an_approved_budget(cast, bring, who):
    approved = bring(State.APPROVED)

    with nothing_written(Project, rows=(approved,)), pytest.raises(PermissionDenied) as exc:
        services.project_revise_budget(by=getattr(cast, who), project=approved, approved_budget="1", reason="调整")

    assert problems(exc) == [("forbidden", None)]


def test_a_budget_revision_needs_a_reason_and_an_amount_above_zero(cast, bring):
    approved = bring(State.APPROVED)

    with nothing_written(Project, rows=(approved,)), pytest.raises(DomainError) as exc:
        services.project_revise_budget(by=cast.approver, project=approved, approved_budget="0", reason=" ")

    assert problems(exc) == [("min_value", "approved_budget"), ("reason_required", "reason")]


def test_an_outsider_cannot_revise_a_budget(cast, bring):
    approved = bring(State.APPROVED)
    outsider_approver = UserFactory(
        username="js-approver", organization=cast.outsider.organization, roles=[Role.APPROVER]
    )

    with nothing_written(Project, rows=(approved,)), pytest.raises(NotFound):
        services.project_revise_budget(by=outsider_approver, project=approved, approved_budget="1", reason="调整")


# --- side effects after commit ---------------------------------------------------------------------------


def test_submitting_mails_the_approver_once_the_change_is_committed(
    cast, draft, django_capture_on_commit_callbacks, mailoutbox
):
    User.objects.filter(pk=cast.approver.pk).update(email="approver1@gd.example.cn")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.project_submit(project=draft, by=cast.assisting)
        assert mailoutbox == []  # not before the commit

    assert len(callbacks) == 1
    [mail] = mailoutbox
    assert mail.to == ["approver1@gd.example.cn"]
    assert draft.code in mail.subject


def test_nothing_is_mailed_when_the_transaction_around_a_transition_rolls_back(
    cast, draft, django_capture_on_commit_callbacks, mailoutbox
):
    User.objects.filter(pk=cast.approver.pk).update(email="approver1@gd.example.cn")

    with (  # noqa: PT012 — the service call and the caller's failure after it are the one thing under test
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.project_submit(project=draft, by=cast.assisting)
        raise RuntimeError("the caller fails after the service returned")

    assert (callbacks, mailoutbox) == ([], [])
    assert reread(draft).state == State.DRAFT
    assert [e.action for e in history(draft)] == ["created"]


def test_a_refused_transition_schedules_nothing(cast, bring, django_capture_on_commit_callbacks, mailoutbox):
    proposed = bring(State.PROPOSED)
    User.objects.filter(pk=cast.assisting.pk).update(email="alice@gd.example.cn")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(DomainError):
        services.project_approve(project=proposed, by=cast.approver, approved_budget="0")

    assert (callbacks, mailoutbox) == ([], [])


def test_approval_mails_the_assisting_officers_who_start_construction(
    cast, bring, django_capture_on_commit_callbacks, mailoutbox
):
    proposed = bring(State.PROPOSED)
    User.objects.filter(pk=cast.assisting.pk).update(email="alice@gd.example.cn")
    User.objects.filter(pk=cast.outsider.pk).update(email="charlie@js.example.cn")

    with django_capture_on_commit_callbacks(execute=True):
        services.project_approve(project=proposed, by=cast.approver)

    assert [m.to for m in mailoutbox] == [["alice@gd.example.cn"]]
