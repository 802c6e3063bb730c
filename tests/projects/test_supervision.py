"""Construction and supervision records of projects/services.py — milestones, progress reports and their review,
inspections, rectifications — and what selectors.tasks_for puts in front of each official.

Actors as in test_services.py: `assisting` (alice, Guangdong), `recipient` (bob, Shufu), `approver` and
`supervisor` (Guangdong), `outsider` (charlie, Jiangsu). Jiangsu → Jiashi's projects are out of their scope."""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.utils import timezone

from accounts.models import Role, User
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from core.models import HistoryEvent
from projects import selectors, services
from projects.models import Inspection, Milestone, ProgressReport, Project, Rectification, State
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

D = dt.date
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@contextmanager
def nothing_written(*model_classes: type[models.Model], rows: tuple[models.Model, ...] = ()) -> Iterator[None]:
    """Counts of the given models and of HistoryEvent are the same after the block, and ROWS read back the same."""
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


def today() -> dt.date:
    return timezone.localdate()


def days_ago(n: int) -> dt.date:
    return today() - dt.timedelta(days=n)


def advance(project: Project, state: str, *, by: dict[str, User | None]) -> Project:
    """Take a draft to STATE (draft … completed) through the services; BY names who acts for each role."""
    order = [State.DRAFT, State.PROPOSED, State.APPROVED, State.IN_CONSTRUCTION, State.COMPLETED]
    for step in order[1 : order.index(state) + 1]:
        if step == State.PROPOSED:
            services.project_submit(project=project, by=by["assisting"])
        elif step == State.APPROVED:
            services.project_approve(project=project, by=by["approver"])
        elif step == State.IN_CONSTRUCTION:
            services.project_start(project=project, by=by["assisting"], actual_start=D(2024, 3, 15))
        else:
            services.progress_report_submit(
                by=by["assisting"], project=project, period_end=D(2025, 6, 30), physical_progress=100, spend_to_date=1
            )
            services.project_complete(project=project, by=by["assisting"], actual_end=D(2025, 7, 15))
    project.refresh_from_db()
    assert project.state == state
    return project


@pytest.fixture
def gd(world, approver, supervisor) -> dict[str, User | None]:
    return {"assisting": world.assisting, "approver": approver, "supervisor": supervisor}


@pytest.fixture
def building(draft, gd) -> Project:
    return advance(draft, State.IN_CONSTRUCTION, by=gd)


@pytest.fixture
def completed(draft, gd) -> Project:
    return advance(draft, State.COMPLETED, by=gd)


def another_project(world, pw, *, state: str = State.DRAFT, in_jiashi: bool = False, **values: Any) -> Project:
    """A second project, in Shufu or (out of the actors' scope) in Jiashi, made by the system (by=None)."""
    project = services.project_create(
        by=None,
        pairing=pw.jiashi if in_jiashi else pw.shufu,
        title=values.pop("title", "伽师县供水工程" if in_jiashi else "疏附县乡村道路"),
        category="infrastructure",
        sector="infrastructure",
        location=world.jiashi if in_jiashi else world.shufu,
        budget_requested=Decimal("5000000"),
        planned_start=D(2024, 4, 1),
        planned_end=D(2025, 10, 31),
        **values,
    )
    return advance(project, state, by={"assisting": None, "approver": None, "supervisor": None})


def pdf(name: str = "整改照片.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def report(
    project: Project, by: User | None, progress: int, period_end: dt.date, spend: Any = "1000"
) -> ProgressReport:
    return services.progress_report_submit(
        by=by, project=project, period_end=period_end, physical_progress=progress, spend_to_date=spend
    )


def failed_routine(project: Project, by: User | None, deadline: dt.date, date: dt.date | None = None) -> Rectification:
    inspection = services.inspection_record(
        by=by,
        project=project,
        date=date or min(deadline, today()) - dt.timedelta(days=30),
        kind="routine",
        result="failed",
        findings="脚手架未设防护网",
        rectifications=[{"finding": "加设防护网", "deadline": deadline}],
    )
    return inspection.rectifications.get()


# --- milestones ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["assisting", "recipient"])
def test_an_officer_adds_a_milestone_and_it_is_recorded(world, draft, who):
    actor = getattr(world, who)

    milestone = services.milestone_add(by=actor, project=draft, title=" 主体结构封顶 ", due_date=D(2024, 12, 31))

    stored = Milestone.objects.get(pk=milestone.pk)
    assert (stored.project, stored.title, stored.due_date, stored.done_on) == (
        draft,
        "主体结构封顶",
        D(2024, 12, 31),
        None,
    )
    event = history(draft)[-1]
    assert (event.action, event.actor) == ("milestone_added", actor)
    assert event.changes == {"title": {"old": None, "new": "主体结构封顶"}}


def test_a_milestone_needs_a_title(world, draft):
    with nothing_written(Milestone), pytest.raises(DomainError) as exc:
        services.milestone_add(by=world.assisting, project=draft, title="  ", due_date=D(2024, 12, 31))

    assert problems(exc) == [("required", "title")]


def test_only_officers_add_milestones(draft, approver, supervisor):
    for actor in (approver, supervisor):
        with nothing_written(Milestone), pytest.raises(PermissionDenied):
            services.milestone_add(by=actor, project=draft, title="封顶", due_date=D(2024, 12, 31))


def test_an_outsider_cannot_add_a_milestone(world, draft):
    with nothing_written(Milestone), pytest.raises(NotFound):
        services.milestone_add(by=world.outsider, project=draft, title="封顶", due_date=D(2024, 12, 31))


# --- progress reports ------------------------------------------------------------------------------------


def test_assisting_officer_reports_progress_during_construction(world, building):
    made = report(building, world.assisting, 35, D(2024, 9, 30), spend="4200000.5")

    stored = ProgressReport.objects.get(pk=made.pk)
    assert (stored.project, stored.physical_progress, stored.spend_to_date) == (building, 35, Decimal("4200000.50"))
    assert (stored.reported_by, stored.review_status, stored.reviewed_by) == (world.assisting, "pending", None)
    event = history(building)[-1]
    assert (event.action, event.actor) == ("progress_reported", world.assisting)
    assert event.changes == {
        "physical_progress": {"old": None, "new": 35},
        "spend_to_date": {"old": None, "new": "4200000.50"},
    }


def test_progress_is_reported_while_construction_is_suspended(world, building, supervisor):
    services.project_suspend(project=building, by=supervisor, comment="冬季停工")

    made = report(building, world.assisting, 40, D(2024, 12, 31))

    assert ProgressReport.objects.get(pk=made.pk).physical_progress == 40


@pytest.mark.parametrize("state", [State.DRAFT, State.PROPOSED, State.APPROVED, State.COMPLETED])
def test_progress_is_not_reported_outside_construction(world, draft, gd, state):
    project = advance(draft, state, by=gd)

    with nothing_written(ProgressReport), pytest.raises(Conflict) as exc:
        report(project, world.assisting, 50, D(2025, 7, 31))

    assert problems(exc) == [("state_conflict", "state")]


@pytest.mark.parametrize("progress", [-1, 101, "half", None])
def test_progress_is_a_percentage_from_0_to_100(world, building, progress):
    with nothing_written(ProgressReport), pytest.raises(DomainError) as exc:
        report(building, world.assisting, progress, D(2024, 9, 30))

    assert problems(exc) == [("invalid_progress", "physical_progress")]


@pytest.mark.parametrize("progress", [0, 100])
def test_progress_may_be_0_or_100(world, building, progress):
    made = report(building, world.assisting, progress, D(2024, 9, 30))

    assert ProgressReport.objects.get(pk=made.pk).physical_progress == progress


def test_progress_does_not_go_backwards(world, building):
    report(building, world.assisting, 60, D(2024, 9, 30))
    report(building, world.assisting, 60, D(2024, 10, 31))  # standing still is fine

    with nothing_written(ProgressReport), pytest.raises(DomainError) as exc:
        report(building, world.assisting, 45, D(2024, 11, 30))

    assert problems(exc) == [("progress_backwards", "physical_progress")]


def test_a_returned_report_does_not_hold_later_reports_to_its_figure(world, building, approver):
    typo = report(building, world.assisting, 100, D(2024, 9, 30))
    services.progress_report_review(by=approver, report=typo, accept=False, comment="应为 10%")

    corrected = report(building, world.assisting, 10, D(2024, 9, 30))

    assert ProgressReport.objects.get(pk=corrected.pk).physical_progress == 10
    assert selectors.latest_progress(building) == corrected


@pytest.mark.parametrize(
    ("spend", "expected"),
    [
        ("-0.01", [("min_value", "spend_to_date")]),
        ("", [("required", "spend_to_date")]),
        ("a lot", [("invalid", "spend_to_date")]),
    ],
)
def test_spend_to_date_is_an_amount_not_below_zero(world, building, spend, expected):
    with nothing_written(ProgressReport), pytest.raises(DomainError) as exc:
        report(building, world.assisting, 10, D(2024, 9, 30), spend=spend)

    assert problems(exc) == expected


def test_nothing_spent_yet_is_a_valid_spend(world, building):
    made = report(building, world.assisting, 5, D(2024, 4, 30), spend="0")

    assert ProgressReport.objects.get(pk=made.pk).spend_to_date == Decimal("0.00")


def test_every_problem_of_a_progress_report_is_named_at_once(world, building):
    with nothing_written(ProgressReport), pytest.raises(DomainError) as exc:
        report(building, world.assisting, 120, D(2024, 1, 31), spend="-5")

    assert problems(exc) == [
        ("invalid_progress", "physical_progress"),
        ("min_value", "spend_to_date"),
        ("before_start", "period_end"),
    ]


@pytest.mark.parametrize("who", ["recipient", "approver", "supervisor"])
def test_only_assisting_officers_report_progress(world, building, approver, supervisor, who):
    actor = {"recipient": world.recipient, "approver": approver, "supervisor": supervisor}[who]

    with nothing_written(ProgressReport), pytest.raises(PermissionDenied):
        report(building, actor, 50, D(2024, 9, 30))


def test_an_outsider_cannot_report_progress(world, building):
    with nothing_written(ProgressReport), pytest.raises(NotFound):
        report(building, world.outsider, 50, D(2024, 9, 30))


def test_an_approver_accepts_a_progress_report(world, building, approver):
    made = report(building, world.assisting, 50, D(2024, 9, 30))

    services.progress_report_review(by=approver, report=made, accept=True, comment="属实")

    stored = ProgressReport.objects.get(pk=made.pk)
    assert (stored.review_status, stored.reviewed_by, stored.review_comment) == ("accepted", approver, "属实")
    assert stored.reviewed_at is not None
    event = history(building)[-1]
    assert (event.action, event.actor, event.comment) == ("report_reviewed", approver, "属实")
    assert event.changes == {"review_status": {"old": "pending", "new": "accepted"}}


def test_an_approver_returns_a_progress_report_with_a_comment(world, building, approver):
    made = report(building, world.assisting, 50, D(2024, 9, 30))

    services.progress_report_review(by=approver, report=made, accept=False, comment="附现场照片")

    stored = ProgressReport.objects.get(pk=made.pk)
    assert (stored.review_status, stored.reviewed_by, stored.review_comment) == ("returned", approver, "附现场照片")
    assert history(building)[-1].changes == {"review_status": {"old": "pending", "new": "returned"}}


def test_a_report_is_not_returned_without_a_comment(world, building, approver):
    made = report(building, world.assisting, 50, D(2024, 9, 30))

    with nothing_written(rows=(made,)), pytest.raises(DomainError) as exc:
        services.progress_report_review(by=approver, report=made, accept=False, comment=" ")

    assert problems(exc) == [("comment_required", "comment")]


@pytest.mark.parametrize("first", [True, False])
def test_a_report_cannot_be_reviewed_twice(world, building, approver, first):
    made = report(building, world.assisting, 50, D(2024, 9, 30))
    services.progress_report_review(by=approver, report=made, accept=first, comment="已审")
    reviewed = ProgressReport.objects.get(pk=made.pk)

    for accept in (True, False):
        with nothing_written(rows=(reviewed,)), pytest.raises(Conflict) as exc:
            services.progress_report_review(by=approver, report=made, accept=accept, comment="再审")
        assert problems(exc) == [("already_reviewed", "review_status")]


def test_only_an_approver_reviews_progress_reports(world, building, supervisor):
    made = report(building, world.assisting, 50, D(2024, 9, 30))

    for actor in (world.assisting, world.recipient, supervisor):
        with nothing_written(rows=(made,)), pytest.raises(PermissionDenied):
            services.progress_report_review(by=actor, report=made, accept=True)


def test_an_approver_out_of_scope_cannot_review(world, building):
    made = report(building, world.assisting, 50, D(2024, 9, 30))
    js_approver = UserFactory(username="js-approver", organization=world.jiangsu_gov, roles=[Role.APPROVER])

    with nothing_written(rows=(made,)), pytest.raises(NotFound):
        services.progress_report_review(by=js_approver, report=made, accept=True)


# --- inspections -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [State.APPROVED, State.IN_CONSTRUCTION, State.COMPLETED])
def test_a_supervisor_records_a_routine_inspection_of_a_project_being_built(draft, gd, supervisor, state):
    project = advance(draft, state, by=gd)

    inspection = services.inspection_record(
        by=supervisor, project=project, date=days_ago(3), kind="routine", result="passed", findings=" 文明施工 "
    )

    stored = Inspection.objects.get(pk=inspection.pk)
    assert (stored.project, stored.kind, stored.result) == (project, "routine", "passed")
    assert (stored.date, stored.findings, stored.inspector) == (days_ago(3), "文明施工", supervisor)
    event = history(project)[-1]
    assert (event.action, event.actor, event.comment) == ("inspected", supervisor, "文明施工")
    assert event.changes == {
        "inspection_kind": {"old": None, "new": "routine"},
        "result": {"old": None, "new": "passed"},
        "rectifications": {"old": None, "new": 0},
    }


@pytest.mark.parametrize("state", [State.DRAFT, State.PROPOSED])
def test_a_routine_inspection_is_refused_before_approval(draft, gd, supervisor, state):
    project = advance(draft, state, by=gd)

    with nothing_written(Inspection), pytest.raises(DomainError) as exc:
        services.inspection_record(by=supervisor, project=project, date=days_ago(1), kind="routine", result="passed")

    assert problems(exc) == [("not_in_construction", "kind")]


def test_an_acceptance_inspection_is_recorded_for_a_completed_project(completed, supervisor):
    inspection = services.inspection_record(
        by=supervisor, project=completed, date=days_ago(1), kind="acceptance", result="passed"
    )

    assert Inspection.objects.get(pk=inspection.pk).kind == "acceptance"
    assert selectors.latest_acceptance(completed) == inspection


@pytest.mark.parametrize("state", [State.APPROVED, State.IN_CONSTRUCTION])
def test_an_acceptance_inspection_waits_for_completion(draft, gd, supervisor, state):
    project = advance(draft, state, by=gd)

    with nothing_written(Inspection), pytest.raises(DomainError) as exc:
        services.inspection_record(by=supervisor, project=project, date=days_ago(1), kind="acceptance", result="passed")

    assert problems(exc) == [("not_completed", "kind")]


def test_a_failed_inspection_needs_its_findings(building, supervisor):
    with nothing_written(Inspection, Rectification), pytest.raises(DomainError) as exc:
        services.inspection_record(
            by=supervisor, project=building, date=days_ago(1), kind="routine", result="failed", findings="  "
        )

    assert problems(exc) == [("findings_required", "findings")]


def test_a_failed_inspection_opens_its_rectifications_with_their_deadlines(building, supervisor):
    inspection = services.inspection_record(
        by=supervisor,
        project=building,
        date=D(2024, 6, 1),
        kind="routine",
        result="failed",
        findings="钢筋保护层不足；消防通道堵塞",
        rectifications=[
            {"finding": "钢筋保护层返工", "deadline": D(2024, 7, 1)},
            {"finding": "清理消防通道", "deadline": D(2024, 6, 1)},  # the same day is not before it
        ],
    )

    rows = Rectification.objects.filter(project=building).order_by("deadline")
    assert [(r.inspection, r.finding, r.deadline, r.closed_on, r.created_by) for r in rows] == [
        (inspection, "清理消防通道", D(2024, 6, 1), None, supervisor),
        (inspection, "钢筋保护层返工", D(2024, 7, 1), None, supervisor),
    ]
    assert history(building)[-1].changes["rectifications"] == {"old": None, "new": 2}


def test_a_rectification_deadline_cannot_be_before_the_inspection(building, supervisor):
    with nothing_written(Inspection, Rectification), pytest.raises(DomainError) as exc:
        services.inspection_record(
            by=supervisor,
            project=building,
            date=D(2024, 6, 1),
            kind="routine",
            result="failed",
            findings="钢筋保护层不足",
            rectifications=[
                {"finding": "返工", "deadline": D(2024, 7, 1)},
                {"finding": "复查", "deadline": D(2024, 5, 31)},
                {"finding": " ", "deadline": "next month"},
            ],
        )

    assert problems(exc) == [
        ("deadline_before_inspection", "rectifications.1.deadline"),
        ("required", "rectifications.2.finding"),
        ("required", "rectifications.2.deadline"),
    ]


def test_an_inspection_cannot_be_dated_in_the_future(building, supervisor):
    with nothing_written(Inspection), pytest.raises(DomainError) as exc:
        services.inspection_record(
            by=supervisor, project=building, date=today() + dt.timedelta(days=1), kind="routine", result="passed"
        )

    assert problems(exc) == [("future", "date")]


def test_an_inspection_of_an_unknown_kind_or_result_is_refused(building, supervisor):
    with nothing_written(Inspection), pytest.raises(DomainError) as exc:
        services.inspection_record(by=supervisor, project=building, date=days_ago(1), kind="surprise", result="ok")

    assert problems(exc) == [("invalid_choice", "kind"), ("invalid_choice", "result")]


def test_only_a_supervisor_records_inspections(world, building, approver):
    for actor in (world.assisting, world.recipient, approver, world.coordinator):
        with nothing_written(Inspection), pytest.raises(PermissionDenied):
            services.inspection_record(by=actor, project=building, date=days_ago(1), kind="routine", result="passed")


def test_a_supervisor_out_of_scope_cannot_inspect(world, building):
    js_supervisor = UserFactory(username="js-supervisor", organization=world.jiangsu_gov, roles=[Role.SUPERVISOR])

    with nothing_written(Inspection), pytest.raises(NotFound):
        services.inspection_record(
            by=js_supervisor, project=building, date=days_ago(1), kind="routine", result="passed"
        )


# --- rectifications --------------------------------------------------------------------------------------


def test_a_supervisor_closes_a_rectification_with_a_note_and_evidence_of_the_same_project(world, building, supervisor):
    rect = failed_routine(building, supervisor, deadline=days_ago(5))
    evidence = services.document_upload(by=world.assisting, project=building, upload=pdf(), kind="evidence")

    services.rectification_close(
        by=supervisor, rectification=rect, closed_on=days_ago(2), note=" 已加设防护网 ", evidence=evidence
    )

    stored = Rectification.objects.get(pk=rect.pk)
    assert (stored.closed_on, stored.closure_note, stored.evidence, stored.closed_by) == (
        days_ago(2),
        "已加设防护网",
        evidence,
        supervisor,
    )
    assert (stored.is_open, stored.is_overdue) == (False, False)
    event = history(building)[-1]
    assert (event.action, event.actor, event.comment) == ("rectification_closed", supervisor, "已加设防护网")


def test_a_rectification_closed_without_a_date_is_closed_today(building, supervisor):
    rect = failed_routine(building, supervisor, deadline=days_ago(5))

    services.rectification_close(by=supervisor, rectification=rect, note="已整改")

    assert Rectification.objects.get(pk=rect.pk).closed_on == today()


def test_closing_a_rectification_needs_a_note(building, supervisor):
    rect = failed_routine(building, supervisor, deadline=days_ago(5))

    with nothing_written(rows=(rect,)), pytest.raises(DomainError) as exc:
        services.rectification_close(by=supervisor, rectification=rect, note="  ")

    assert problems(exc) == [("required", "closure_note")]


def test_evidence_from_another_project_is_refused(world, pw, building, supervisor):
    rect = failed_routine(building, supervisor, deadline=days_ago(5))
    elsewhere = another_project(world, pw)
    foreign = services.document_upload(by=world.assisting, project=elsewhere, upload=pdf(), kind="evidence")

    with nothing_written(rows=(rect,)), pytest.raises(DomainError) as exc:
        services.rectification_close(by=supervisor, rectification=rect, note="已整改", evidence=foreign)

    assert problems(exc) == [("invalid_evidence", "evidence")]


def test_a_rectification_cannot_be_closed_twice(building, supervisor):
    rect = failed_routine(building, supervisor, deadline=days_ago(5))
    services.rectification_close(by=supervisor, rectification=rect, note="已整改")
    closed = Rectification.objects.get(pk=rect.pk)

    with nothing_written(rows=(closed,)), pytest.raises(Conflict) as exc:
        services.rectification_close(by=supervisor, rectification=rect, note="再次关闭")

    assert problems(exc) == [("already_closed", "closed_on")]


def test_only_a_supervisor_closes_rectifications(world, building, supervisor, approver):
    rect = failed_routine(building, supervisor, deadline=days_ago(5))

    for actor in (world.assisting, world.recipient, approver):
        with nothing_written(rows=(rect,)), pytest.raises(PermissionDenied):
            services.rectification_close(by=actor, rectification=rect, note="已整改")


def test_a_supervisor_out_of_scope_cannot_close_a_rectification(world, building, supervisor):
    rect = failed_routine(building, supervisor, deadline=days_ago(5))
    js_supervisor = UserFactory(username="js-supervisor", organization=world.jiangsu_gov, roles=[Role.SUPERVISOR])

    with nothing_written(rows=(rect,)), pytest.raises(NotFound):
        services.rectification_close(by=js_supervisor, rectification=rect, note="已整改")


def test_a_rectification_is_overdue_only_while_open_past_its_deadline(building, supervisor):
    past = failed_routine(building, supervisor, deadline=days_ago(1))
    due_today = failed_routine(building, supervisor, deadline=today())
    ahead = failed_routine(building, supervisor, deadline=today() + dt.timedelta(days=30))

    assert [(r.is_open, r.is_overdue) for r in (past, due_today, ahead)] == [
        (True, True),
        (True, False),
        (True, False),
    ]
    services.rectification_close(by=supervisor, rectification=past, note="已整改")
    assert Rectification.objects.get(pk=past.pk).is_overdue is False


# --- what waits for whom ---------------------------------------------------------------------------------


def test_an_approver_is_shown_proposals_and_pending_reports_in_scope_only(world, pw, draft, gd, approver):
    proposed = advance(draft, State.PROPOSED, by=gd)
    both = UserFactory(
        username="gd-both", organization=world.guangdong_gov, roles=[Role.ASSISTING_OFFICER, Role.APPROVER]
    )
    own = another_project(world, pw, title="审批人自己提交的项目")
    services.project_submit(project=own, by=both)
    building = another_project(world, pw, state=State.IN_CONSTRUCTION)
    pending = report(building, world.assisting, 30, D(2024, 9, 30))
    reviewed = report(building, world.assisting, 40, D(2024, 10, 31))
    services.progress_report_review(by=approver, report=reviewed, accept=True)
    jiashi_proposed = another_project(world, pw, state=State.PROPOSED, in_jiashi=True)
    jiashi_building = another_project(world, pw, state=State.IN_CONSTRUCTION, in_jiashi=True)
    report(jiashi_building, None, 30, D(2024, 9, 30))

    tasks = selectors.tasks_for(approver)

    assert set(tasks) == {"proposals", "reports"}
    assert list(tasks["proposals"]) == [proposed, own]
    assert list(tasks["reports"]) == [pending]
    # Nobody is asked to decide on their own proposal.
    assert list(selectors.tasks_for(both)["proposals"]) == [proposed]
    assert jiashi_proposed not in tasks["proposals"]


def test_a_supervisor_is_shown_projects_awaiting_acceptance_and_overdue_rectifications_in_scope_only(
    world, pw, completed, supervisor
):
    inspected = another_project(world, pw, state=State.COMPLETED)
    services.inspection_record(by=supervisor, project=inspected, date=days_ago(1), kind="acceptance", result="passed")
    building = another_project(world, pw, state=State.IN_CONSTRUCTION)
    overdue = failed_routine(building, supervisor, deadline=days_ago(3))
    failed_routine(building, supervisor, deadline=today() + dt.timedelta(days=10))
    closed = failed_routine(building, supervisor, deadline=days_ago(4))
    services.rectification_close(by=supervisor, rectification=closed, note="已整改")
    another_project(world, pw, state=State.COMPLETED, in_jiashi=True)
    jiashi_building = another_project(world, pw, state=State.IN_CONSTRUCTION, in_jiashi=True)
    failed_routine(jiashi_building, None, deadline=days_ago(3))

    tasks = selectors.tasks_for(supervisor)

    assert set(tasks) == {"acceptance_due", "overdue"}
    # Both wait for the supervisor: one for its acceptance inspection, the other (passed) to be accepted.
    due = {p: p.passed for p in tasks["acceptance_due"]}
    assert due == {completed: False, inspected: True}
    assert list(tasks["overdue"]) == [overdue]


def test_an_assisting_officer_is_shown_their_drafts_building_projects_and_overdue_rectifications(
    world, pw, draft, supervisor
):
    bobs_draft = services.project_create(by=world.recipient, pairing=pw.shufu, title="鲍勃的草稿")
    building = another_project(world, pw, state=State.IN_CONSTRUCTION)
    overdue = failed_routine(building, supervisor, deadline=days_ago(3))
    another_project(world, pw, state=State.APPROVED)
    services.project_create(by=world.outsider, pairing=pw.jiashi, title="查理的草稿")
    jiashi_building = another_project(world, pw, state=State.IN_CONSTRUCTION, in_jiashi=True)
    failed_routine(jiashi_building, None, deadline=days_ago(3))

    tasks = selectors.tasks_for(world.assisting)

    assert set(tasks) == {"overdue", "drafts", "in_construction"}
    assert list(tasks["drafts"]) == [draft]
    assert list(tasks["in_construction"]) == [building]
    assert list(tasks["overdue"]) == [overdue]
    assert list(selectors.tasks_for(world.recipient)["drafts"]) == [bobs_draft]


def test_an_official_with_no_working_role_is_shown_nothing(world):
    observer = UserFactory(username="observer1", organization=world.guangdong_gov, roles=[Role.OBSERVER])

    assert selectors.tasks_for(observer) == {}


def test_nothing_out_of_scope_reaches_the_outsider(world, pw, draft, gd, supervisor):
    building = advance(draft, State.IN_CONSTRUCTION, by=gd)
    report(building, world.assisting, 30, D(2024, 9, 30))
    failed_routine(building, supervisor, deadline=days_ago(3))
    services.project_create(by=world.assisting, pairing=pw.shufu, title="另一个草稿")
    js_everything = UserFactory(username="js-all", organization=world.jiangsu_gov, roles=list(Role))

    tasks = selectors.tasks_for(js_everything)

    assert tasks
    assert all(not list(items) for items in tasks.values())
