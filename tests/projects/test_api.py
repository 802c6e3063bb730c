"""/api/v1/projects/: the list and page, drafts created and PATCHed by state, transitions, history, and what is
recorded on a project (progress reports, inspections, rectifications, documents, milestones).

Three actors throughout (tests/conftest.py): `world.assisting` (alice, Guangdong) and `world.recipient` (bob,
Shufu county) both see the Guangdong → Shufu projects; `world.outsider` (charlie, Jiangsu) sees only Jiangsu →
Jiashi and gets 404 on every URL of a Guangdong → Shufu project. `approver` and `supervisor` act for Guangdong
(tests/conftest.py). Projects are taken to the state a test needs by the services themselves (by=None).
Refused writes are checked to leave the project, its records and its history as they were.
"""

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role, User
from core.models import HistoryEvent, RegionLevel
from pairings import services as pairing_services
from projects import services
from projects.models import (
    Document,
    Inspection,
    Milestone,
    ProgressReport,
    Project,
    Rectification,
    State,
)
from tests.conftest import api_as
from tests.factories import RegionFactory, UserFactory

pytestmark = pytest.mark.django_db

D = dt.date
PROJECTS = "/api/v1/projects/"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


def url(project: Project, tail: str = "") -> str:
    return f"{PROJECTS}{project.pk}/{tail}"


def errors(response) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in response.json()["errors"]]


def codes(response) -> list[str]:
    return [row["code"] for row in response.json()["results"]]


def reread(project: Project) -> Project:
    return Project.objects.get(pk=project.pk)


def history_actions(project: Project) -> list[str]:
    return list(HistoryEvent.objects.for_object(project).order_by("id").values_list("action", flat=True))


def stored_files(path: str = "") -> set[str]:
    """Every file the default storage holds (the in-memory storage of the test settings)."""
    dirs, files = default_storage.listdir(path)
    found = {f"{path}{name}" for name in files}
    for d in dirs:
        found |= stored_files(f"{path}{d}/")
    return found


@contextmanager
def nothing_written(*rows: Project) -> Iterator[None]:
    """The block leaves every project record, the history and the stored files as they were, and each of
    ROWS reads back exactly as it did."""
    counted = (Project, ProgressReport, Inspection, Rectification, Document, Milestone, HistoryEvent)

    def snapshot() -> tuple[dict[str, int], list[dict[str, Any]], set[str]]:
        counts = {m.__name__: m.objects.count() for m in counted}
        return counts, [Project.objects.filter(pk=r.pk).values().get() for r in rows], stored_files()

    before = snapshot()
    yield
    assert snapshot() == before


def upload(name: str = "photo.png", content: bytes = PNG, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


# --- taking a project to a state through the services -------------------------------------------------------

STEPS: dict[str, Callable[[Project], Any]] = {
    "submit": lambda p: services.project_submit(project=p, by=None),
    "approve": lambda p: services.project_approve(project=p, by=None),
    "start": lambda p: services.project_start(project=p, by=None, actual_start=D(2024, 3, 15)),
    "report_full": lambda p: services.progress_report_submit(
        by=None, project=p, period_end=D(2025, 6, 30), physical_progress=100, spend_to_date="11800000"
    ),
    "complete": lambda p: services.project_complete(project=p, by=None, actual_end=D(2025, 7, 15)),
    "inspect_passed": lambda p: services.inspection_record(
        by=None, project=p, date=D(2025, 7, 20), kind="acceptance", result="passed"
    ),
    "accept": lambda p: services.project_accept(project=p, by=None),
}
BUILT = ["submit", "approve", "start", "report_full", "complete"]
PATHS = {
    State.DRAFT: [],
    State.PROPOSED: ["submit"],
    State.APPROVED: ["submit", "approve"],
    State.IN_CONSTRUCTION: ["submit", "approve", "start"],
    State.COMPLETED: BUILT,
    State.ACCEPTED: [*BUILT, "inspect_passed", "accept"],
}


def bring(project: Project, state: str) -> Project:
    for step in PATHS[state]:
        STEPS[step](project)
    project = reread(project)
    assert project.state == state
    return project


@pytest.fixture
def evaluator(world) -> User:
    return UserFactory(username="evaluator1", organization=world.national_office, roles=[Role.EVALUATOR])


@pytest.fixture
def township(world):
    return RegionFactory(
        code="653121100", name="托克扎克镇", name_en="Tokzak", level=RegionLevel.TOWNSHIP, parent=world.shufu
    )


@pytest.fixture
def recorded(draft) -> dict[str, Any]:
    """The draft, completed, with something in every nested list: a milestone, a progress report waiting for
    review, a failed acceptance inspection with its open rectification, and a document."""
    project = bring(draft, State.COMPLETED)
    milestone = services.milestone_add(by=None, project=project, title="主体封顶", due_date=D(2024, 12, 31))
    inspection = services.inspection_record(
        by=None,
        project=project,
        date=D(2025, 7, 20),
        kind="acceptance",
        result="failed",
        findings="消防通道堵塞",
        rectifications=[{"finding": "清理消防通道", "deadline": D(2025, 8, 20)}],
    )
    document = services.document_upload(by=None, project=project, upload=upload(), kind="photo", title="现场")
    return {
        "project": project,
        "report": ProgressReport.objects.get(project=project),
        "milestone": milestone,
        "inspection": inspection,
        "rectification": inspection.rectifications.get(),
        "document": document,
    }


READY = {
    "title": "疏附县第三小学食堂",
    "category": "non_reimbursable",
    "sector": "education",
    "execution_mode": "turnkey",
    "location": "653121",
    "budget_requested": "3600000.00",
    "planned_start": "2024-04-01",
    "planned_end": "2024-12-31",
    "expected_beneficiaries": 900,
    "is_livelihood": True,
}


# --- the walk: from a draft to an accepted project, through the API only ------------------------------------


def test_a_project_walks_from_draft_to_accepted_through_the_api(world, pw, approver, supervisor):
    officer, approving, supervising = api_as(world.assisting), api_as(approver), api_as(supervisor)

    # The assisting officer creates a draft and submits it.
    created = officer.post(PROJECTS, {"pairing": pw.shufu.pk, **READY}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    project = Project.objects.get(pk=body["id"])
    assert (body["state"], body["allowed_actions"], body["code"]) == ("draft", ["submit"], project.code)
    assert project.created_by == world.assisting

    submitted = officer.post(url(project, "transitions/"), {"action": "submit"}, format="json")
    assert submitted.status_code == 200, submitted.json()
    assert (submitted.json()["state"], submitted.json()["allowed_actions"]) == ("proposed", [])
    assert reread(project).proposed_by == world.assisting

    # An approver who did not propose it approves a little less than was asked.
    assert api_as(approver).get(url(project)).json()["allowed_actions"] == ["approve", "reject", "return", "cancel"]
    approved = approving.post(
        url(project, "transitions/"),
        {"action": "approve", "approved_budget": "3500000.00", "comment": "压缩设备购置"},
        format="json",
    )
    assert approved.status_code == 200, approved.json()
    assert (approved.json()["state"], approved.json()["approved_budget"]) == ("approved", "3500000.00")
    assert approved.json()["allowed_actions"] == ["cancel"]

    # The officer starts, reports 100 % and completes.
    started = officer.post(
        url(project, "transitions/"), {"action": "start", "actual_start": "2024-04-08"}, format="json"
    )
    assert started.status_code == 200, started.json()
    assert (started.json()["state"], started.json()["actual_start"]) == ("in_construction", "2024-04-08")
    assert started.json()["allowed_actions"] == ["suspend", "complete"]

    report = officer.post(
        url(project, "progress-reports/"),
        {"period_end": "2024-12-20", "physical_progress": 100, "spend_to_date": "3480000.00", "narrative": "竣工"},
        format="json",
    )
    assert report.status_code == 201, report.json()
    assert (report.json()["physical_progress"], report.json()["review_status"]) == (100, "pending")
    assert report.json()["reported_by"] == "alice"

    completed = officer.post(
        url(project, "transitions/"), {"action": "complete", "actual_end": "2024-12-25"}, format="json"
    )
    assert completed.status_code == 200, completed.json()
    assert (completed.json()["state"], completed.json()["actual_end"]) == ("completed", "2024-12-25")

    # The supervisor fails the acceptance inspection with a rectification ...
    failed = supervising.post(
        url(project, "inspections/"),
        {
            "date": "2025-01-10",
            "kind": "acceptance",
            "result": "failed",
            "findings": "厨房排烟不达标",
            "rectifications": [{"finding": "更换排烟管道", "deadline": "2025-02-28"}],
        },
        format="json",
    )
    assert failed.status_code == 201, failed.json()
    [rectification] = failed.json()["rectifications"]
    assert (rectification["finding"], rectification["deadline"], rectification["is_open"]) == (
        "更换排烟管道",
        "2025-02-28",
        True,
    )
    assert supervising.get(url(project)).json()["allowed_actions"] == ["accept", "reopen"]

    # ... closes it with evidence uploaded as a document ...
    evidence = supervising.post(
        url(project, "documents/"),
        {"file": upload("exhaust.png"), "kind": "evidence", "title": "新排烟管道"},
        format="multipart",
    )
    assert evidence.status_code == 201, evidence.json()
    assert (evidence.json()["kind"], evidence.json()["content_type"], evidence.json()["size"]) == (
        "evidence",
        "image/png",
        len(PNG),
    )
    closed = supervising.post(
        url(project, f"rectifications/{rectification['id']}/close/"),
        {"note": "已更换并复测", "evidence": evidence.json()["id"], "closed_on": "2025-02-20"},
        format="json",
    )
    assert closed.status_code == 200, closed.json()
    assert (closed.json()["is_open"], closed.json()["closed_on"], closed.json()["evidence"]) == (
        False,
        "2025-02-20",
        evidence.json()["id"],
    )

    # ... records a passed one and accepts.
    passed = supervising.post(
        url(project, "inspections/"), {"date": "2025-03-01", "kind": "acceptance", "result": "passed"}, format="json"
    )
    assert passed.status_code == 201, passed.json()
    accepted = supervising.post(
        url(project, "transitions/"), {"action": "accept", "comment": "验收合格"}, format="json"
    )
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["state"] == "accepted"
    assert accepted.json()["iati_activity_status"] == 4
    assert reread(project).state == State.ACCEPTED

    # The history lists every step, oldest first, with who took it.
    history = officer.get(url(project, "history/"))
    assert history.status_code == 200
    steps = [(e["action"], e["from_state"], e["to_state"], e["actor"]) for e in history.json()["results"]]
    assert steps == [
        ("created", "", "draft", "alice"),
        ("submit", "draft", "proposed", "alice"),
        ("approve", "proposed", "approved", "approver1"),
        ("start", "approved", "in_construction", "alice"),
        ("progress_reported", "", "", "alice"),
        ("complete", "in_construction", "completed", "alice"),
        ("inspected", "", "", "supervisor1"),
        ("document_added", "", "", "supervisor1"),
        ("rectification_closed", "", "", "supervisor1"),
        ("inspected", "", "", "supervisor1"),
        ("accept", "completed", "accepted", "supervisor1"),
    ]
    events = history.json()["results"]
    assert events[2]["comment"] == "压缩设备购置"
    assert events[2]["changes"] == {"approved_budget": {"old": None, "new": "3500000.00"}}
    assert events[3]["changes"] == {"actual_start": {"old": None, "new": "2024-04-08"}}
    assert events[-1]["comment"] == "验收合格"
    assert set(events[0]) == {
        "id",
        "action",
        "action_label",
        "from_state",
        "to_state",
        "actor",
        "at",
        "comment",
        "changes",
    }


# --- what a project shows -----------------------------------------------------------------------------------


def test_a_project_carries_the_contract_fields_and_display_names(world, pw, draft):
    response = api_as(world.recipient).get(url(draft), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": draft.pk,
        "code": draft.code,
        "title": "疏附县第二中学教学楼",
        "pairing": pw.shufu.pk,
        "pairing_label": "Guangdong → Shufu County",
        "program": pw.program.pk,
        "program_code": "xinjiang-2010",
        "program_name": "Xinjiang paired assistance",
        "assisting_organization": world.guangdong_gov.pk,
        "assisting_organization_name": "Guangdong",
        "recipient_region": "653121",
        "recipient_region_name": "Shufu County",
        "category": "infrastructure",
        "sector": "education",
        "execution_mode": "turnkey",
        "location": "653121",
        "location_name": "Shufu County",
        "latitude": None,
        "longitude": None,
        "is_livelihood": True,
        "is_self_sustaining": False,
        "budget_requested": "12000000.00",
        "approved_budget": None,
        "funding_sources": [],
        "planned_start": "2024-03-01",
        "planned_end": "2025-08-31",
        "actual_start": None,
        "actual_end": None,
        "expected_beneficiaries": 2400,
        "reached_beneficiaries": None,
        "implementing_agency": "",
        "description": "",
        "repayment_terms": "",
        "state": "draft",
        "allowed_actions": ["submit"],
        "proposed_by": None,
        "iati_finance_type": 110,
        "iati_activity_status": 1,
        "is_synthetic": False,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }


def test_names_follow_the_language_of_the_request(world, draft):
    client = api_as(world.assisting)

    english = client.get(url(draft), HTTP_ACCEPT_LANGUAGE="en").json()
    chinese = client.get(url(draft), HTTP_ACCEPT_LANGUAGE="zh-hans").json()

    assert (english["recipient_region_name"], chinese["recipient_region_name"]) == ("Shufu County", "疏附县")
    assert (english["program_name"], chinese["program_name"]) == ("Xinjiang paired assistance", "对口援疆")


def test_allowed_actions_are_the_callers_own(world, draft, approver, supervisor):
    proposed = bring(draft, State.PROPOSED)

    def actions(user: User) -> list[str]:
        return api_as(user).get(url(proposed)).json()["allowed_actions"]

    assert actions(world.assisting) == []
    assert actions(world.recipient) == []
    assert actions(approver) == ["approve", "reject", "return", "cancel"]
    assert actions(supervisor) == []
    assert actions(world.coordinator) == ["cancel"]


# --- three actors on every endpoint -------------------------------------------------------------------------

READS: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
    ("project", lambda r: url(r["project"])),
    ("history", lambda r: url(r["project"], "history/")),
    ("progress-reports", lambda r: url(r["project"], "progress-reports/")),
    ("progress-report", lambda r: url(r["project"], f"progress-reports/{r['report'].pk}/")),
    ("inspections", lambda r: url(r["project"], "inspections/")),
    ("inspection", lambda r: url(r["project"], f"inspections/{r['inspection'].pk}/")),
    ("rectifications", lambda r: url(r["project"], "rectifications/")),
    ("rectification", lambda r: url(r["project"], f"rectifications/{r['rectification'].pk}/")),
    ("documents", lambda r: url(r["project"], "documents/")),
    ("document", lambda r: url(r["project"], f"documents/{r['document'].pk}/")),
    ("document-download", lambda r: url(r["project"], f"documents/{r['document'].pk}/download/")),
    ("milestones", lambda r: url(r["project"], "milestones/")),
    ("milestone", lambda r: url(r["project"], f"milestones/{r['milestone'].pk}/")),
]


@pytest.mark.parametrize(("name", "path"), READS, ids=[name for name, _ in READS])
@pytest.mark.parametrize(("actor", "expected"), [("assisting", 200), ("recipient", 200), ("outsider", 404)])
def test_both_sides_read_every_project_url_and_the_outsider_gets_404(world, recorded, name, path, actor, expected):
    response = api_as(getattr(world, actor)).get(path(recorded))

    assert response.status_code == expected
    if expected == 404:
        assert errors(response) == [("not_found", None)]
    elif name == "document-download":
        assert b"".join(response.streaming_content) == PNG
    elif name.endswith("s") or name == "history":
        assert response.json()["count"] >= 1
    else:
        assert response.json()["id"]


def test_the_list_shows_each_side_its_own_projects_only(world, pw, draft):
    jiashi = services.project_create(by=None, pairing=pw.jiashi, title="伽师县供水")

    for actor, expected in [("assisting", [draft.code]), ("recipient", [draft.code]), ("outsider", [jiashi.code])]:
        response = api_as(getattr(world, actor)).get(PROJECTS)
        assert response.status_code == 200
        assert codes(response) == expected, actor
    assert sorted(codes(api_as(world.coordinator).get(PROJECTS))) == sorted([draft.code, jiashi.code])


WRITES: list[tuple[str, str, Callable[[dict[str, Any]], str], dict[str, Any] | None]] = [
    ("patch", "patch", lambda r: url(r["project"]), {"description": "x"}),
    ("transition", "post", lambda r: url(r["project"], "transitions/"), {"action": "accept"}),
    (
        "progress-report",
        "post",
        lambda r: url(r["project"], "progress-reports/"),
        {"period_end": "2025-07-01", "physical_progress": 100, "spend_to_date": "1"},
    ),
    ("review", "post", lambda r: url(r["project"], f"progress-reports/{r['report'].pk}/review/"), {"accept": True}),
    (
        "inspection",
        "post",
        lambda r: url(r["project"], "inspections/"),
        {"date": "2025-07-21", "kind": "acceptance", "result": "passed"},
    ),
    ("close", "post", lambda r: url(r["project"], f"rectifications/{r['rectification'].pk}/close/"), {"note": "x"}),
    ("milestone", "post", lambda r: url(r["project"], "milestones/"), {"title": "x", "due_date": "2025-01-01"}),
    ("document", "post", lambda r: url(r["project"], "documents/"), None),
]


@pytest.mark.parametrize(("name", "method", "path", "body"), WRITES, ids=[w[0] for w in WRITES])
def test_the_outsider_gets_404_on_every_write_and_nothing_changes(world, recorded, name, method, path, body):
    # The outsider holds every role that writes, so that only scope stands between them and the project.
    for role in Role:
        world.outsider.role_assignments.get_or_create(role=role)
    outsider = User.objects.get(pk=world.outsider.pk)
    client = api_as(outsider)

    with nothing_written(recorded["project"]):
        if body is None:
            response = client.post(path(recorded), {"file": upload(), "kind": "photo"}, format="multipart")
        else:
            response = getattr(client, method)(path(recorded), body, format="json")

    assert response.status_code == 404
    assert errors(response) == [("not_found", None)]


@pytest.mark.parametrize(
    ("method", "tail"),
    [("get", ""), ("get", "history/"), ("get", "progress-reports/"), ("get", "documents/"), ("post", "transitions/")],
)
def test_a_project_that_does_not_exist_is_404_like_one_out_of_scope(world, draft, method, tail):
    response = getattr(api_as(world.coordinator), method)(
        f"{PROJECTS}{draft.pk + 1000}/{tail}", {"action": "cancel"} if method == "post" else None, format="json"
    )

    assert response.status_code == 404
    assert errors(response) == [("not_found", None)]


def test_a_nested_record_of_another_project_is_404(world, pw, recorded):
    other = services.project_create(by=None, pairing=pw.shufu, title="另一个项目")
    report = recorded["report"]

    response = api_as(world.assisting).get(url(other, f"progress-reports/{report.pk}/"))

    assert response.status_code == 404


@pytest.mark.parametrize("method", ["put", "delete"])
def test_projects_are_not_replaced_or_deleted(world, draft, method):
    with nothing_written(draft):
        response = getattr(api_as(world.coordinator), method)(url(draft), {"title": "x"}, format="json")

    assert response.status_code == 405
    assert errors(response) == [("method_not_allowed", None)]


def test_anonymous_callers_are_refused(draft):
    from rest_framework.test import APIClient

    response = APIClient().get(url(draft))

    assert response.status_code == 401


# --- creating -----------------------------------------------------------------------------------------------


def test_an_assisting_officer_creates_a_draft(world, pw):
    body = {
        "pairing": pw.shufu.pk,
        **READY,
        "funding_sources": [
            {"source": "assisting_fiscal", "amount": "3000000"},
            {"source": "recipient_matching", "amount": "600000.5"},
        ],
        "latitude": "39.378900",
        "longitude": "75.861200",
    }

    response = api_as(world.assisting).post(PROJECTS, body, format="json")

    assert response.status_code == 201, response.json()
    project = Project.objects.get(pk=response.json()["id"])
    assert (project.title, project.state, project.location, project.budget_requested) == (
        "疏附县第三小学食堂",
        State.DRAFT,
        world.shufu,
        Decimal("3600000.00"),
    )
    assert project.funding_sources == [
        {"source": "assisting_fiscal", "amount": "3000000.00"},
        {"source": "recipient_matching", "amount": "600000.50"},
    ]
    assert response.json()["funding_sources"] == project.funding_sources
    assert response.json()["latitude"] == "39.378900"
    assert history_actions(project) == ["created"]


def test_a_recipient_officer_creates_a_draft_too(world, pw):
    response = api_as(world.recipient).post(PROJECTS, {"pairing": pw.shufu.pk, "title": "村卫生室"}, format="json")

    assert response.status_code == 201, response.json()
    assert Project.objects.get(pk=response.json()["id"]).created_by == world.recipient


def test_a_project_cannot_be_created_in_a_pairing_out_of_scope(world, pw):
    with nothing_written():
        response = api_as(world.outsider).post(PROJECTS, {"pairing": pw.shufu.pk, "title": "越界"}, format="json")

    assert response.status_code == 400
    assert errors(response) == [("does_not_exist", "pairing")]


def test_a_role_that_may_not_create_is_refused_before_the_body_is_read(world, supervisor):
    with nothing_written():
        response = api_as(supervisor).post(PROJECTS, {"pairing": "nonsense", "colour": "red"}, format="json")

    assert response.status_code == 403
    assert errors(response) == [("forbidden", None)]


def test_creating_names_every_malformed_field(world, pw):
    body = {
        "pairing": pw.shufu.pk,
        "title": "",
        "category": "gift",
        "location": "999999",
        "budget_requested": "lots",
        "planned_start": "spring",
        "funding_sources": [{"source": "lottery", "amount": "1"}],
        "state": "approved",
        "colour": "red",
    }

    with nothing_written():
        response = api_as(world.assisting).post(PROJECTS, body, format="json")

    assert response.status_code == 400
    assert sorted(errors(response)) == [("read_only", "state"), ("unknown_field", "colour")]

    del body["state"], body["colour"]
    response = api_as(world.assisting).post(PROJECTS, body, format="json")
    assert sorted(errors(response)) == [
        ("blank", "title"),
        ("does_not_exist", "location"),
        ("invalid", "budget_requested"),
        ("invalid", "planned_start"),
        ("invalid_choice", "category"),
        ("invalid_choice", "funding_sources.0.source"),
    ]


def test_the_service_checks_what_the_shape_cannot(world, pw):
    body = {"pairing": pw.shufu.pk, "title": "越界选址", "location": "653129", "budget_requested": "-5"}

    with nothing_written():
        response = api_as(world.assisting).post(PROJECTS, body, format="json")

    assert response.status_code == 400
    assert sorted(errors(response)) == [("location_outside", "location"), ("min_value", "budget_requested")]


# --- editing by state ---------------------------------------------------------------------------------------


def test_a_draft_is_edited_by_patch(world, draft):
    response = api_as(world.recipient).patch(
        url(draft), {"title": "疏附县第二中学教学楼（二期）", "budget_requested": "12500000.00"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["title"] == "疏附县第二中学教学楼（二期）"
    project = reread(draft)
    assert (project.title, project.budget_requested) == ("疏附县第二中学教学楼（二期）", Decimal("12500000.00"))
    event = HistoryEvent.objects.for_object(draft).filter(action="updated").get()
    assert event.actor == world.recipient
    assert event.changes["budget_requested"] == {"old": "12000000.00", "new": "12500000.00"}


EDITS = [
    # (state, accepted edit, refused fields)
    (State.DRAFT, {"repayment_terms": "五年"}, ["reached_beneficiaries"]),
    (State.PROPOSED, None, ["title", "description"]),
    (State.APPROVED, {"planned_end": "2025-12-31", "description": "增加围墙"}, ["title", "budget_requested"]),
    (State.IN_CONSTRUCTION, {"reached_beneficiaries": 1200}, ["planned_start", "location"]),
    (State.COMPLETED, {"reached_beneficiaries": 2300}, ["planned_end", "implementing_agency"]),
    (State.ACCEPTED, {"reached_beneficiaries": 2400}, ["description"]),
]


@pytest.mark.parametrize(("state", "edit", "refused"), EDITS, ids=[e[0] for e in EDITS])
def test_which_fields_a_patch_may_change_depends_on_the_state(world, draft, state, edit, refused):
    project = bring(draft, state)
    client = api_as(world.assisting)

    with nothing_written(project):
        response = client.patch(url(project), dict.fromkeys(refused, "2025-01-01"), format="json")
    assert response.status_code == 400
    assert errors(response) == [("not_editable", name) for name in sorted(refused)]

    if edit is not None:
        response = client.patch(url(project), edit, format="json")
        assert response.status_code == 200, response.json()
        assert {k: response.json()[k] for k in edit} == edit
        assert history_actions(project)[-1] == "updated"


def test_a_patch_names_unknown_and_fixed_fields_together(world, draft):
    with nothing_written(draft):
        response = api_as(world.assisting).patch(
            url(draft), {"colour": "red", "state": "approved", "approved_budget": "1", "code": "X"}, format="json"
        )

    assert response.status_code == 400
    assert errors(response) == [
        ("not_editable", "approved_budget"),
        ("not_editable", "code"),
        ("unknown_field", "colour"),
        ("not_editable", "state"),
    ]


def test_a_patch_with_a_malformed_value_names_it(world, draft):
    with nothing_written(draft):
        response = api_as(world.assisting).patch(
            url(draft), {"planned_start": "soon", "expected_beneficiaries": -1}, format="json"
        )

    assert response.status_code == 400
    assert sorted(errors(response)) == [("invalid", "planned_start"), ("min_value", "expected_beneficiaries")]


def test_a_patch_that_puts_the_dates_out_of_order_is_refused(world, draft):
    with nothing_written(draft):
        response = api_as(world.assisting).patch(url(draft), {"planned_end": "2020-01-01"}, format="json")

    assert response.status_code == 400
    assert errors(response) == [("planned_dates_out_of_order", "planned_end")]


def test_a_role_that_may_not_edit_is_refused_before_the_body_is_read(world, draft, supervisor):
    with nothing_written(draft):
        response = api_as(supervisor).patch(url(draft), {"colour": "red", "title": ""}, format="json")

    assert response.status_code == 403
    assert errors(response) == [("forbidden", None)]


# --- transitions: the contract's status codes ---------------------------------------------------------------


def test_submitting_an_unready_draft_names_every_blocker_at_once(world, pw):
    draft = services.project_create(by=None, pairing=pw.shufu, title="待完善", category="reimbursable")

    with nothing_written(draft):
        response = api_as(world.assisting).post(url(draft, "transitions/"), {"action": "submit"}, format="json")

    assert response.status_code == 400
    assert errors(response) == [
        ("sector_missing", "sector"),
        ("budget_missing", "budget_requested"),
        ("planned_start_missing", "planned_start"),
        ("planned_end_missing", "planned_end"),
        ("location_missing", "location"),
        ("repayment_terms_missing", "repayment_terms"),
    ]
    assert all(e["message"] for e in response.json()["errors"])


def test_the_proposer_cannot_approve_their_own_project(world, pw):
    both = UserFactory(username="dual", organization=world.guangdong_gov, roles=[Role.ASSISTING_OFFICER, Role.APPROVER])
    client = api_as(both)
    project = Project.objects.get(
        pk=client.post(PROJECTS, {"pairing": pw.shufu.pk, **READY}, format="json").json()["id"]
    )
    assert client.post(url(project, "transitions/"), {"action": "submit"}, format="json").status_code == 200
    assert "approve" not in client.get(url(project)).json()["allowed_actions"]

    with nothing_written(project):
        response = client.post(url(project, "transitions/"), {"action": "approve"}, format="json")

    assert response.status_code == 403
    assert errors(response) == [("separation_of_duties", "action")]


def test_a_role_that_may_not_act_gets_403_before_the_body_is_read(world, draft):
    project = bring(draft, State.PROPOSED)

    with nothing_written(project):
        response = api_as(world.recipient).post(
            url(project, "transitions/"), {"action": "approve", "approved_budget": "lots", "x": 1}, format="json"
        )

    assert response.status_code == 403
    assert errors(response) == [("forbidden", "action")]


def test_a_transition_from_the_wrong_state_is_a_conflict(world, draft, approver):
    with nothing_written(draft):
        response = api_as(approver).post(url(draft, "transitions/"), {"action": "approve"}, format="json")

    assert response.status_code == 409
    assert errors(response) == [("state_conflict", "state")]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, [("required", "action")]),
        ({"action": "publish"}, [("invalid_choice", "action")]),
        ({"action": ["submit"]}, [("invalid_choice", "action")]),
        ({"action": "submit", "approved_budget": "1"}, [("not_applicable", "approved_budget")]),
        ({"action": "submit", "colour": "red"}, [("unknown_field", "colour")]),
    ],
)
def test_a_malformed_transition_is_a_400_naming_the_field(world, draft, body, expected):
    with nothing_written(draft):
        response = api_as(world.assisting).post(url(draft, "transitions/"), body, format="json")

    assert response.status_code == 400
    assert errors(response) == expected


def test_approving_above_the_request_needs_a_reason(world, draft, approver):
    project = bring(draft, State.PROPOSED)
    client = api_as(approver)

    with nothing_written(project):
        refused = client.post(
            url(project, "transitions/"), {"action": "approve", "approved_budget": "13000000"}, format="json"
        )
    approved = client.post(
        url(project, "transitions/"),
        {"action": "approve", "approved_budget": "13000000", "reason": "钢材涨价"},
        format="json",
    )

    assert refused.status_code == 400
    assert errors(refused) == [("above_requested", "reason")]
    assert approved.status_code == 200
    assert approved.json()["approved_budget"] == "13000000.00"
    assert HistoryEvent.objects.for_object(project).get(action="approve").comment == "钢材涨价"


@pytest.mark.parametrize("action", ["reject", "return", "cancel"])
def test_an_action_that_needs_a_comment_is_refused_without_one(world, draft, approver, action):
    project = bring(draft, State.PROPOSED)

    with nothing_written(project):
        response = api_as(approver).post(url(project, "transitions/"), {"action": action}, format="json")

    assert response.status_code == 400
    assert errors(response) == [("comment_required", "comment")]


def test_an_evaluator_marks_an_accepted_project_evaluated_with_its_score(world, draft, evaluator):
    project = bring(draft, State.ACCEPTED)
    client = api_as(evaluator)

    with nothing_written(project):
        missing = client.post(url(project, "transitions/"), {"action": "evaluate"}, format="json")
    out_of_range = client.post(url(project, "transitions/"), {"action": "evaluate", "score": "101"}, format="json")
    response = client.post(url(project, "transitions/"), {"action": "evaluate", "score": "88.5"}, format="json")

    assert (missing.status_code, errors(missing)) == (400, [("score_missing", "score")])
    assert (out_of_range.status_code, errors(out_of_range)) == (400, [("max_value", "score")])
    assert response.status_code == 200
    assert response.json()["state"] == "evaluated"
    event = HistoryEvent.objects.for_object(project).get(action="evaluate")
    assert (event.actor, event.changes) == (evaluator, {"score": {"old": None, "new": "88.50"}})


def test_starting_in_the_future_is_refused(world, draft):
    project = bring(draft, State.APPROVED)
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()

    with nothing_written(project):
        response = api_as(world.assisting).post(
            url(project, "transitions/"), {"action": "start", "actual_start": tomorrow}, format="json"
        )

    assert response.status_code == 400
    assert errors(response) == [("actual_start_future", "actual_start")]


# --- progress reports ---------------------------------------------------------------------------------------


def test_progress_is_reported_while_building_and_reviewed_by_an_approver(world, draft, approver):
    project = bring(draft, State.IN_CONSTRUCTION)
    posted = api_as(world.assisting).post(
        url(project, "progress-reports/"),
        {"period_end": "2024-06-30", "physical_progress": 40, "spend_to_date": "4000000"},
        format="json",
    )
    assert posted.status_code == 201, posted.json()
    rid = posted.json()["id"]

    with nothing_written(project):
        no_comment = api_as(approver).post(
            url(project, f"progress-reports/{rid}/review/"), {"accept": False}, format="json"
        )
    returned = api_as(approver).post(
        url(project, f"progress-reports/{rid}/review/"), {"accept": False, "comment": "请附照片"}, format="json"
    )
    again = api_as(approver).post(url(project, f"progress-reports/{rid}/review/"), {"accept": True}, format="json")

    assert (no_comment.status_code, errors(no_comment)) == (400, [("comment_required", "comment")])
    assert returned.status_code == 200
    assert (returned.json()["review_status"], returned.json()["reviewed_by"], returned.json()["review_comment"]) == (
        "returned",
        "approver1",
        "请附照片",
    )
    assert (again.status_code, errors(again)) == (409, [("already_reviewed", "review_status")])
    listed = api_as(world.recipient).get(url(project, "progress-reports/")).json()
    assert [(r["id"], r["physical_progress"]) for r in listed["results"]] == [(rid, 40)]


def test_progress_cannot_be_reported_outside_construction(world, draft):
    with nothing_written(draft):
        response = api_as(world.assisting).post(
            url(draft, "progress-reports/"),
            {"period_end": "2024-06-30", "physical_progress": 10, "spend_to_date": "1"},
            format="json",
        )

    assert response.status_code == 409
    assert errors(response) == [("state_conflict", "state")]


def test_progress_report_problems_are_named_at_once(world, draft):
    project = bring(draft, State.IN_CONSTRUCTION)

    with nothing_written(project):
        response = api_as(world.assisting).post(
            url(project, "progress-reports/"),
            {"period_end": "2024-01-01", "physical_progress": 140, "spend_to_date": "-1"},
            format="json",
        )

    assert response.status_code == 400
    assert sorted(errors(response)) == [
        ("before_start", "period_end"),
        ("invalid_progress", "physical_progress"),
        ("min_value", "spend_to_date"),
    ]


@pytest.mark.parametrize(
    ("actor", "path", "body"),
    [
        ("recipient", "progress-reports/", {"period_end": "x"}),
        ("assisting", "review/", {"accept": "maybe"}),
        ("assisting", "inspections/", {"kind": "x"}),
        ("assisting", "close/", {}),
        ("supervisor", "milestones/", {"title": ""}),
    ],
)
def test_a_role_that_may_not_record_is_refused_before_the_body_is_read(world, recorded, supervisor, actor, path, body):
    project = recorded["project"]
    if path == "review/":
        path = f"progress-reports/{recorded['report'].pk}/review/"
    elif path == "close/":
        path = f"rectifications/{recorded['rectification'].pk}/close/"
    user = supervisor if actor == "supervisor" else getattr(world, actor)

    with nothing_written(project):
        response = api_as(user).post(url(project, path), body, format="json")

    assert response.status_code == 403
    assert errors(response) == [("forbidden", None)]


# --- inspections and rectifications -------------------------------------------------------------------------


def test_an_inspection_names_every_problem_of_its_rectifications(world, draft, supervisor):
    project = bring(draft, State.COMPLETED)

    with nothing_written(project):
        response = api_as(supervisor).post(
            url(project, "inspections/"),
            {
                "date": "2025-07-20",
                "kind": "acceptance",
                "result": "failed",
                "rectifications": [{"finding": "x", "deadline": "2025-07-01"}, {"finding": "y", "deadline": "later"}],
            },
            format="json",
        )

    assert response.status_code == 400
    assert errors(response) == [("invalid", "rectifications.1.deadline")]

    with nothing_written(project):
        response = api_as(supervisor).post(
            url(project, "inspections/"),
            {
                "date": "2025-07-20",
                "kind": "acceptance",
                "result": "failed",
                "rectifications": [{"finding": "x", "deadline": "2025-07-01"}],
            },
            format="json",
        )
    assert sorted(errors(response)) == [
        ("deadline_before_inspection", "rectifications.0.deadline"),
        ("findings_required", "findings"),
    ]


def test_an_acceptance_inspection_is_only_for_a_completed_project(world, draft, supervisor):
    project = bring(draft, State.IN_CONSTRUCTION)

    response = api_as(supervisor).post(
        url(project, "inspections/"), {"date": "2025-07-20", "kind": "acceptance", "result": "passed"}, format="json"
    )

    assert response.status_code == 400
    assert errors(response) == [("not_completed", "kind")]


def test_rectifications_show_whether_they_are_overdue(world, recorded, supervisor):
    project = recorded["project"]
    future = timezone.localdate() + dt.timedelta(days=30)
    services.inspection_record(
        by=None,
        project=project,
        date=timezone.localdate(),
        kind="acceptance",
        result="failed",
        findings="门窗",
        rectifications=[{"finding": "更换门窗", "deadline": future}],
    )

    response = api_as(world.recipient).get(url(project, "rectifications/"))

    rows = [(r["finding"], r["is_open"], r["is_overdue"]) for r in response.json()["results"]]
    assert rows == [("清理消防通道", True, True), ("更换门窗", True, False)]

    closed = api_as(supervisor).post(
        url(project, f"rectifications/{recorded['rectification'].pk}/close/"), {"note": "已清理"}, format="json"
    )
    assert closed.status_code == 200
    assert (closed.json()["is_open"], closed.json()["is_overdue"], closed.json()["closed_by"]) == (
        False,
        False,
        "supervisor1",
    )
    assert closed.json()["closed_on"] == timezone.localdate().isoformat()
    again = api_as(supervisor).post(
        url(project, f"rectifications/{recorded['rectification'].pk}/close/"), {"note": "再次"}, format="json"
    )
    assert (again.status_code, errors(again)) == (409, [("already_closed", "closed_on")])


def test_evidence_must_be_a_document_of_the_same_project(world, pw, recorded, supervisor):
    other = services.project_create(by=None, pairing=pw.shufu, title="另一个项目")
    foreign = services.document_upload(by=None, project=other, upload=upload(), kind="photo")
    project = recorded["project"]

    with nothing_written(project):
        response = api_as(supervisor).post(
            url(project, f"rectifications/{recorded['rectification'].pk}/close/"),
            {"note": "已清理", "evidence": foreign.pk},
            format="json",
        )
        blank = api_as(supervisor).post(
            url(project, f"rectifications/{recorded['rectification'].pk}/close/"), {"note": "  "}, format="json"
        )

    assert (response.status_code, errors(response)) == (400, [("does_not_exist", "evidence")])
    assert (blank.status_code, errors(blank)) == (400, [("blank", "note")])


def test_accepting_names_the_failed_inspection_and_the_open_rectification(world, recorded, supervisor):
    project = recorded["project"]

    with nothing_written(project):
        response = api_as(supervisor).post(url(project, "transitions/"), {"action": "accept"}, format="json")

    assert response.status_code == 400
    assert errors(response) == [
        ("acceptance_not_passed", "inspection"),
        ("open_rectifications", "rectifications"),
    ]


# --- documents ----------------------------------------------------------------------------------------------


def test_a_document_is_uploaded_listed_and_downloaded(world, draft):
    before = stored_files()
    response = api_as(world.recipient).post(
        url(draft, "documents/"), {"file": upload("site.png"), "kind": "photo", "title": "选址"}, format="multipart"
    )

    assert response.status_code == 201, response.json()
    document = Document.objects.get(pk=response.json()["id"])
    assert (document.title, document.kind, document.uploaded_by, document.size) == (
        "选址",
        "photo",
        world.recipient,
        len(PNG),
    )
    assert stored_files() - before == {document.file.name}
    assert response.json()["file_name"] == "site.png"
    assert response.json()["download"].endswith(url(draft, f"documents/{document.pk}/download/"))
    listed = api_as(world.assisting).get(url(draft, "documents/")).json()
    assert [d["id"] for d in listed["results"]] == [document.pk]
    downloaded = api_as(world.assisting).get(url(draft, f"documents/{document.pk}/download/"))
    assert downloaded.status_code == 200
    assert b"".join(downloaded.streaming_content) == PNG


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        pytest.param(lambda: upload("big.png"), "too_large", id="too-big"),
        pytest.param(
            lambda: upload("setup.exe", b"MZ\x90\x00" * 16, "application/octet-stream"), "forbidden_type", id="exe"
        ),
        pytest.param(lambda: upload("fake.png", b"GIF89a" + bytes(32)), "type_mismatch", id="png-that-is-not"),
        pytest.param(lambda: upload("report.pdf", PNG[:16], "application/pdf"), "type_mismatch", id="pdf-that-is-png"),
    ],
)
def test_a_refused_upload_names_the_file_and_stores_nothing(world, draft, monkeypatch, file, expected):
    monkeypatch.setattr(services, "MAX_UPLOAD_BYTES", len(PNG) - 1)

    with nothing_written(draft):
        response = api_as(world.assisting).post(
            url(draft, "documents/"), {"file": file(), "kind": "report", "title": "x"}, format="multipart"
        )

    assert response.status_code == 400
    assert errors(response) == [(expected, "file")]
    assert not Document.objects.exists()


def test_an_upload_needs_a_file_and_a_known_kind(world, draft):
    with nothing_written(draft):
        response = api_as(world.assisting).post(url(draft, "documents/"), {"kind": "selfie"}, format="multipart")

    assert response.status_code == 400
    assert sorted(errors(response)) == [("invalid_choice", "kind"), ("required", "file")]


# --- milestones ---------------------------------------------------------------------------------------------


def test_milestones_are_added_and_listed_by_due_date(world, draft):
    client = api_as(world.assisting)

    late = client.post(url(draft, "milestones/"), {"title": "竣工验收", "due_date": "2025-08-31"}, format="json")
    early = client.post(url(draft, "milestones/"), {"title": "开工", "due_date": "2024-03-01"}, format="json")
    blank = client.post(url(draft, "milestones/"), {"title": "", "due_date": "2024-03-01"}, format="json")

    assert (late.status_code, early.status_code) == (201, 201)
    assert (blank.status_code, errors(blank)) == (400, [("blank", "title")])
    listed = api_as(world.recipient).get(url(draft, "milestones/")).json()["results"]
    assert [(m["title"], m["due_date"], m["done_on"]) for m in listed] == [
        ("开工", "2024-03-01", None),
        ("竣工验收", "2025-08-31", None),
    ]
    assert history_actions(draft).count("milestone_added") == 2


# --- filters and ordering -----------------------------------------------------------------------------------


@pytest.fixture
def many(world, pw, township) -> dict[str, Project]:
    """Projects across two programmes, three pairings, several states, sectors and years."""
    tibet = pairing_services.program_create(
        by=None, code="tibet-1994", name="对口援藏", model="border_governance", start_year=1994
    )
    tibet_pairing = pairing_services.pairing_create(
        by=None,
        program=tibet,
        assisting_organization=world.guangdong_gov,
        recipient_region=world.jiashi,
        start_date=D(1994, 7, 1),
    )

    def make(pairing, title, **values) -> Project:
        return services.project_create(by=None, pairing=pairing, title=title, **values)

    school = make(
        pw.shufu,
        "疏附县第二中学",
        category="infrastructure",
        sector="education",
        location=world.shufu,
        budget_requested=Decimal("500"),
        planned_start=D(2013, 3, 1),
        planned_end=D(2014, 3, 1),
    )
    clinic = make(
        pw.shufu,
        "托克扎克镇卫生院",
        category="non_reimbursable",
        sector="health",
        location=township,
        budget_requested=Decimal("300"),
        planned_start=D(2014, 3, 1),
        planned_end=D(2015, 3, 1),
    )
    unplaced = make(pw.shufu, "职业技能培训", sector="employment", budget_requested=Decimal("100"))
    water = make(pw.jiashi, "伽师县供水工程", sector="infrastructure", location=world.jiashi)
    herding = make(tibet_pairing, "伽师县畜牧合作社", category="collaborative", sector="agriculture")
    bring(school, State.PROPOSED)
    bring(clinic, State.APPROVED)
    return {"school": school, "clinic": clinic, "unplaced": unplaced, "water": water, "herding": herding}


FILTERS = [
    ({"program": "xinjiang-2010"}, ["school", "clinic", "unplaced", "water"]),
    ({"program": "tibet-1994"}, ["herding"]),
    ({"program": "nowhere"}, []),
    ({"state": "proposed"}, ["school"]),
    ({"state": "proposed,approved"}, ["school", "clinic"]),
    ({"state": ["draft", "approved"]}, ["clinic", "unplaced", "water", "herding"]),
    ({"category": "infrastructure"}, ["school"]),
    ({"sector": "health"}, ["clinic"]),
    ({"region": "653100"}, ["school", "clinic", "unplaced", "water", "herding"]),
    ({"region": "653121"}, ["school", "clinic", "unplaced"]),  # located there, or no location but received there
    ({"region": "653121100"}, ["clinic"]),  # located within the township
    ({"region": "653129"}, ["water", "herding"]),
    ({"year": 2014}, ["clinic"]),
    ({"search": "伽师县"}, ["water", "herding"]),
    ({"search": "tib"}, ["herding"]),  # the code's prefix
    ({"sector": "education", "state": "proposed"}, ["school"]),
]


@pytest.mark.parametrize(("params", "expected"), FILTERS, ids=[str(f[0]) for f in FILTERS])
def test_the_list_filters(world, many, params, expected):
    response = api_as(world.coordinator).get(PROJECTS, params)

    assert response.status_code == 200, response.json()
    assert sorted(codes(response)) == sorted(many[name].code for name in expected)


def test_the_list_filters_by_programme_id_pairing_and_assisting_organization(world, pw, many):
    client = api_as(world.coordinator)

    def names(params) -> set[str]:
        found = set(codes(client.get(PROJECTS, params)))
        return {name for name, p in many.items() if p.code in found}

    assert names({"program": pw.program.pk}) == {"school", "clinic", "unplaced", "water"}
    assert names({"pairing": pw.jiashi.pk}) == {"water"}
    assert names({"assisting_organization": world.guangdong_gov.pk}) == {"school", "clinic", "unplaced", "herding"}
    assert names({"assisting_organization": world.jiangsu_gov.pk}) == {"water"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"state": "drafted"}, [("invalid_choice", "state")]),
        ({"state": "draft,drafted"}, [("invalid_choice", "state")]),
        ({"category": "gift"}, [("invalid_choice", "category")]),
        ({"region": "999999"}, [("unknown_region", "region")]),
        ({"year": "99999"}, [("max_value", "year")]),
        ({"pairing": "x"}, [("invalid", "pairing")]),
        ({"ordering": "secret"}, [("invalid_choice", "ordering")]),
    ],
)
def test_a_malformed_filter_is_a_400_naming_it(world, many, params, expected):
    response = api_as(world.coordinator).get(PROJECTS, params)

    assert response.status_code == 400
    assert errors(response) == expected


def test_the_list_orders_by_the_listed_fields(world, many):
    client = api_as(world.coordinator)

    def order(ordering: str) -> list[str]:
        found = codes(client.get(PROJECTS, {"ordering": ordering}))
        return [next(n for n, p in many.items() if p.code == code) for code in found]

    assert order("code") == sorted(many, key=lambda n: many[n].code)
    # Projects without the value come last either way.
    assert order("-budget_requested") == ["school", "clinic", "unplaced", "herding", "water"]
    assert order("budget_requested") == ["unplaced", "clinic", "school", "water", "herding"]
    assert order("planned_start")[:2] == ["school", "clinic"]
    assert order("title") == order("-title")[::-1]
    assert order("state,code") == ["clinic", "herding", "unplaced", "water", "school"]
    assert order("-created_at") == ["herding", "water", "unplaced", "clinic", "school"]
    assert codes(client.get(PROJECTS)) == codes(client.get(PROJECTS, {"ordering": "-created_at"}))


def test_the_list_is_paginated(world, many):
    response = api_as(world.coordinator).get(PROJECTS, {"page_size": 2, "ordering": "code"})

    body = response.json()
    assert (body["count"], len(body["results"]), body["previous"]) == (5, 2, None)
    assert "page=2" in body["next"]


# --- query counts -------------------------------------------------------------------------------------------


def add_projects(pw, n: int, proposer: User) -> None:
    """N projects in Guangdong → Shufu in every state (some proposed by PROPOSER), written in bulk."""
    states = list(State)
    start = Project.objects.count()
    Project.objects.bulk_create(
        Project(
            code=f"BULK-{start + i:06d}",
            title=f"项目 {start + i}",
            pairing=pw.shufu,
            state=states[i % len(states)],
            proposed_by=proposer if i % 3 == 0 else None,
            budget_requested=Decimal(1000 + i),
        )
        for i in range(n)
    )


@pytest.mark.parametrize("actor", ["coordinator", "assisting", "recipient", "approver"])
def test_the_list_costs_at_most_four_queries_at_any_page_size(
    world, pw, approver, django_assert_max_num_queries, actor
):
    user = approver if actor == "approver" else getattr(world, actor)
    add_projects(pw, 5, world.assisting)
    counted: dict[int, int] = {}

    for page_size in (1, 50, 200):
        if page_size == 200:
            add_projects(pw, 250, world.assisting)
        # A fresh user each time, as authentication delivers one: organization, region and roles not yet loaded.
        client = api_as(User.objects.get(pk=user.pk))
        with django_assert_max_num_queries(4), CaptureQueriesContext(connection) as queries:
            response = client.get(PROJECTS, {"page_size": page_size})
        assert response.status_code == 200
        assert len(response.json()["results"]) == min(page_size, response.json()["count"])
        counted[page_size] = len(queries.captured_queries)

    # The caller's organization with its region, the caller's roles (unless no row on the page has an action
    # to offer anyone), the scope's total from the projects' rollup (unfiltered: no COUNT of every project), and
    # the page (one statement on PostgreSQL).
    assert max(counted.values()) == 4, counted


def test_with_a_real_token_the_list_still_costs_the_same_at_any_page_size(world, pw, django_assert_max_num_queries):
    """With a real token: the token with its user, organization, region and roles (one query, accounts.auth),
    the scope's total from the projects' rollup, and the page (one statement): three, whatever the page size."""
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(world.assisting)[1]}")
    add_projects(pw, 250, world.assisting)
    counted = {}
    for page_size in (1, 50, 200):
        with django_assert_max_num_queries(4), CaptureQueriesContext(connection) as queries:
            response = client.get(PROJECTS, {"page_size": page_size})
        assert len(response.json()["results"]) == page_size
        counted[page_size] = len(queries.captured_queries)

    assert max(counted.values()) == 3, counted


def test_the_list_does_not_query_more_with_more_rows(world, pw, django_assert_max_num_queries):
    client = api_as(world.assisting)
    add_projects(pw, 3, world.assisting)
    client.get(PROJECTS)

    with CaptureQueriesContext(connection) as few:
        client.get(PROJECTS, {"page_size": 200})
    add_projects(pw, 150, world.assisting)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(PROJECTS, {"page_size": 200})

    assert len(response.json()["results"]) == 153


def test_the_nested_lists_do_not_query_more_with_more_rows(world, recorded, django_assert_max_num_queries):
    project = recorded["project"]
    client = api_as(world.assisting)
    tails = ["history/", "progress-reports/", "inspections/", "rectifications/", "documents/", "milestones/"]
    for tail in tails:
        client.get(url(project, tail))
    few = {}
    for tail in tails:
        with CaptureQueriesContext(connection) as queries:
            client.get(url(project, tail))
        few[tail] = len(queries.captured_queries)

    for i in range(4):
        services.milestone_add(by=None, project=project, title=f"节点{i}", due_date=D(2025, 1, 1 + i))
        services.inspection_record(
            by=None,
            project=project,
            date=D(2025, 7, 21),
            kind="acceptance",
            result="failed",
            findings="问题",
            rectifications=[{"finding": f"整改{i}", "deadline": D(2025, 9, 1)}],
        )
        services.document_upload(by=None, project=project, upload=upload(), kind="photo")
    for tail in tails:
        with django_assert_max_num_queries(few[tail]):
            response = client.get(url(project, tail))
        assert response.status_code == 200
