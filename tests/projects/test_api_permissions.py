"""Who may take which lifecycle action through `POST /api/v1/projects/{id}/transitions/`: every role × every
action × four situations, each an expected status. Callers authenticate with a real token.

Where each role sits:
- in scope: `national_coordinator`, `evaluator` and `observer` act for the national office (they see every
  project); `assisting_officer`, `approver` and `supervisor` for Guangdong; `recipient_officer` for Shufu county.
  The project is Guangdong → Shufu's ready school building (tests/conftest.py `draft`), taken to the
  state each case needs by the services themselves (by=None, so nobody in the matrix is its proposer).
- out of scope: the same role acting for Jiangsu, which has no business with Guangdong → Shufu.

Who may act (DESIGN.md, "Project lifecycle"): submit — assisting or recipient officer; approve, reject, return —
approver; start, complete — assisting officer; suspend, resume — assisting officer or supervisor; accept, reopen —
supervisor; evaluate — evaluator; cancel — national coordinator or approver. Observers never act.

The situations, and what each role gets:
- `ok`: the project is in a state the action leaves from and the body is complete → 200 for a role that may act
  (the project moves to the action's target and one history event names the caller); 403 for every other role.
- `guard`: the right state, but the guard fails (a draft that is not ready, a budget of 0, no comment, no actual
  start, no report at 100 %, no passed or failed acceptance inspection, no score) → 400 with the guard's code for a
  role that may act; 403 for every other role (roles are checked before the body is read).
- `wrong_state`: a cancelled project, which no action leaves → 409 for a role that may act; 403 for the others.
- `other_scope`: the `ok` project, the caller out of scope → 404 for every role, whatever its rights.

Everything but a 200 leaves the project and its history as they were.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import Role
from core.models import HistoryEvent
from projects import services
from projects.models import Project, State
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

D = dt.date
NC, AO, RO = Role.NATIONAL_COORDINATOR.value, Role.ASSISTING_OFFICER.value, Role.RECIPIENT_OFFICER.value
APPROVER, SUPERVISOR, EVALUATOR, OBSERVER = (
    Role.APPROVER.value,
    Role.SUPERVISOR.value,
    Role.EVALUATOR.value,
    Role.OBSERVER.value,
)

# role -> the organization (attribute of `world`) it acts for in scope
IN_SCOPE = {
    NC: "national_office",
    AO: "guangdong_gov",
    RO: "shufu_gov",
    APPROVER: "guangdong_gov",
    SUPERVISOR: "guangdong_gov",
    EVALUATOR: "national_office",
    OBSERVER: "national_office",
}
OUT_OF_SCOPE = "jiangsu_gov"

MAY_ACT: dict[str, set[str]] = {
    "submit": {AO, RO},
    "approve": {APPROVER},
    "reject": {APPROVER},
    "return": {APPROVER},
    "start": {AO},
    "suspend": {AO, SUPERVISOR},
    "resume": {AO, SUPERVISOR},
    "complete": {AO},
    "accept": {SUPERVISOR},
    "reopen": {SUPERVISOR},
    "evaluate": {EVALUATOR},
    "cancel": {NC, APPROVER},
}
TARGET = {
    "submit": State.PROPOSED,
    "approve": State.APPROVED,
    "reject": State.REJECTED,
    "return": State.DRAFT,
    "start": State.IN_CONSTRUCTION,
    "suspend": State.SUSPENDED,
    "resume": State.IN_CONSTRUCTION,
    "complete": State.COMPLETED,
    "accept": State.ACCEPTED,
    "reopen": State.IN_CONSTRUCTION,
    "evaluate": State.EVALUATED,
    "cancel": State.CANCELLED,
}

# How the ready draft is taken forward, step by step, by the services (by=None).
STEPS: dict[str, Callable[[Project], Any]] = {
    "submit": lambda p: services.project_submit(project=p, by=None),
    "approve": lambda p: services.project_approve(project=p, by=None),
    "start": lambda p: services.project_start(project=p, by=None, actual_start=D(2024, 3, 15)),
    "suspend": lambda p: services.project_suspend(project=p, by=None, comment="冬季停工"),
    "report_full": lambda p: services.progress_report_submit(
        by=None, project=p, period_end=D(2025, 6, 30), physical_progress=100, spend_to_date="11800000"
    ),
    "complete": lambda p: services.project_complete(project=p, by=None, actual_end=D(2025, 7, 15)),
    "inspect_passed": lambda p: services.inspection_record(
        by=None, project=p, date=D(2025, 7, 20), kind="acceptance", result="passed"
    ),
    "inspect_failed": lambda p: services.inspection_record(
        by=None, project=p, date=D(2025, 7, 20), kind="acceptance", result="failed", findings="屋面渗水"
    ),
    "accept": lambda p: services.project_accept(project=p, by=None),
    "cancel": lambda p: services.project_cancel(project=p, by=None, comment="资金另有安排"),
}
BUILT = ["submit", "approve", "start", "report_full", "complete"]

# action -> (steps to the `ok` state, the `ok` body, steps to the `guard` state, the `guard` body, guard's problem)
CASES: dict[str, tuple[list[str], dict[str, Any], list[str], dict[str, Any], tuple[str, str]]] = {
    "submit": ([], {}, ["unready"], {}, ("category_missing", "category")),
    "approve": (
        ["submit"],
        {"approved_budget": "11000000.00"},
        ["submit"],
        {"approved_budget": "0"},
        ("min_value", "approved_budget"),
    ),
    "reject": (["submit"], {"comment": "不在年度计划内"}, ["submit"], {}, ("comment_required", "comment")),
    "return": (["submit"], {"comment": "补充可行性研究"}, ["submit"], {}, ("comment_required", "comment")),
    "start": (
        ["submit", "approve"],
        {"actual_start": "2024-03-15"},
        ["submit", "approve"],
        {},
        ("actual_start_missing", "actual_start"),
    ),
    "suspend": (
        ["submit", "approve", "start"],
        {"comment": "冬季停工"},
        ["submit", "approve", "start"],
        {},
        ("comment_required", "comment"),
    ),
    "resume": (
        ["submit", "approve", "start", "suspend"],
        {"comment": "复工"},
        ["submit", "approve", "start", "suspend"],
        {},
        ("comment_required", "comment"),
    ),
    "complete": (
        ["submit", "approve", "start", "report_full"],
        {"actual_end": "2025-07-15"},
        ["submit", "approve", "start"],
        {},
        ("progress_not_full", "progress"),
    ),
    "accept": ([*BUILT, "inspect_passed"], {}, BUILT, {}, ("acceptance_not_passed", "inspection")),
    "reopen": ([*BUILT, "inspect_failed"], {"comment": "返工"}, BUILT, {}, ("no_failed_acceptance", "inspection")),
    "evaluate": (
        [*BUILT, "inspect_passed", "accept"],
        {"score": "88.5"},
        [*BUILT, "inspect_passed", "accept"],
        {},
        ("score_missing", "score"),
    ),
    "cancel": (["submit", "approve", "start"], {"comment": "资金另有安排"}, [], {}, ("comment_required", "comment")),
}
SITUATIONS = ["ok", "guard", "wrong_state", "other_scope"]


def expected_status(role: str, action: str, situation: str) -> int:
    if situation == "other_scope":
        return 404
    if role not in MAY_ACT[action]:
        return 403
    return {"ok": 200, "guard": 400, "wrong_state": 409}[situation]


MATRIX = [
    pytest.param(role, action, situation, expected_status(role, action, situation), id=f"{role}-{action}-{situation}")
    for role in IN_SCOPE
    for action in MAY_ACT
    for situation in SITUATIONS
]


def test_the_matrix_covers_every_role_and_every_action():
    assert set(IN_SCOPE) == set(Role.values)
    assert set(MAY_ACT) == set(services.ACTIONS) == set(CASES)


def project_for(world, pw, draft: Project, steps: list[str]) -> Project:
    if steps == ["unready"]:
        return services.project_create(by=None, pairing=pw.shufu, title="待完善")
    for step in steps:
        STEPS[step](draft)
    return Project.objects.get(pk=draft.pk)


def client_for(world, role: str, organization: str) -> tuple[APIClient, Any]:
    user = UserFactory(
        username=f"matrix-{role}-{organization}", organization=getattr(world, organization), roles=[role]
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user)[1]}")
    return client, user


def events(project: Project) -> list[tuple[str, Any]]:
    return list(HistoryEvent.objects.for_object(project).order_by("id").values_list("action", "actor_id"))


@pytest.mark.parametrize(("role", "action", "situation", "expected"), MATRIX)
def test_transition_matrix(world, pw, draft, role, action, situation, expected):
    ok_steps, ok_body, guard_steps, guard_body, problem = CASES[action]
    if situation == "guard":
        project, body = project_for(world, pw, draft, guard_steps), guard_body
    elif situation == "wrong_state":
        project, body = project_for(world, pw, draft, ["cancel"]), ok_body
    else:
        project, body = project_for(world, pw, draft, ok_steps), ok_body
    client, user = client_for(world, role, OUT_OF_SCOPE if situation == "other_scope" else IN_SCOPE[role])
    before_row = Project.objects.filter(pk=project.pk).values().get()
    before_events = events(project)

    response = client.post(f"/api/v1/projects/{project.pk}/transitions/", {"action": action, **body}, format="json")

    assert response.status_code == expected, response.json()
    after = Project.objects.get(pk=project.pk)
    if expected == 200:
        assert response.json()["state"] == after.state == TARGET[action]
        assert events(project) == [*before_events, (action, user.pk)]
        return
    assert Project.objects.filter(pk=project.pk).values().get() == before_row
    assert events(project) == before_events
    codes = [(e["code"], e["field"]) for e in response.json()["errors"]]
    if expected == 400:
        assert problem in codes
    else:
        assert codes == [
            {403: ("forbidden", "action"), 404: ("not_found", None), 409: ("state_conflict", "state")}[expected]
        ]


def test_a_guard_failure_names_every_blocker_not_only_the_first(world, pw):
    """The `guard` row of submit checks one code; the whole list, for the record."""
    project = services.project_create(by=None, pairing=pw.shufu, title="待完善")
    client, _ = client_for(world, AO, IN_SCOPE[AO])

    response = client.post(f"/api/v1/projects/{project.pk}/transitions/", {"action": "submit"}, format="json")

    assert response.status_code == 400
    assert [e["code"] for e in response.json()["errors"]] == [
        "category_missing",
        "sector_missing",
        "budget_missing",
        "planned_start_missing",
        "planned_end_missing",
        "location_missing",
    ]


@pytest.mark.parametrize("role", list(IN_SCOPE))
def test_allowed_actions_agree_with_the_matrix(world, pw, draft, role):
    """What `allowed_actions` promises each role on a project in each state is exactly what the `ok` column
    lets it do there."""
    client, _ = client_for(world, role, IN_SCOPE[role])
    states = {
        State.DRAFT: [],
        State.PROPOSED: ["submit"],
        State.APPROVED: ["approve"],
        State.IN_CONSTRUCTION: ["start"],
        State.SUSPENDED: ["suspend"],
    }
    for state, steps in states.items():
        project = project_for(world, pw, draft, steps)
        assert project.state == state
        shown = client.get(f"/api/v1/projects/{project.pk}/").json()["allowed_actions"]
        expected = [a for a in MAY_ACT if role in MAY_ACT[a] and state in services.ACTIONS[a].sources]
        assert shown == expected, state
