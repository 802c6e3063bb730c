"""Fixtures and helpers of the engine tests (frameworks, ratings, runs, the reference agreement). Import them
explicitly: `from tests.evaluation.conftest_engine import eng, run_now, ...`.

`eng` is the Xinjiang programme (2011–2020, tests/conftest.py `pw`) in year 2015 with projects written straight
to the table (the services that move projects are tested in tests/projects/):

- Guangdong → Shufu: `accepted` (on time, a passed acceptance inspection), `building` (in construction) and
  `draft` (not scored);
- Jiangsu → Jiashi: `jiashi_accepted` (late, a passed acceptance inspection);

and the users: `coordinator` and `evaluator` (national), `provincial_coordinator` (the coordinator's role, but
acting for Guangdong), `local_evaluator` (evaluator for Guangdong), `assisting` (Guangdong's officer),
`recipient` (Shufu's recipient officer), `jiashi_recipient` (Jiashi's).
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from itertools import count
from typing import Any

import pytest

from accounts.models import OrganizationKind, Role, User
from evaluation import services
from evaluation.models import EvaluationRun
from pairings.models import Pairing, Program
from projects.models import Inspection, Project
from tests.factories import OrganizationFactory, UserFactory

D = dt.date
YEAR = 2015
AS_OF = D(2016, 6, 30)
_codes = count(1)


@dataclass
class Engine:
    program: Program
    year: int
    shufu: Pairing
    jiashi: Pairing
    accepted: Project
    building: Project
    draft: Project
    jiashi_accepted: Project
    coordinator: User
    evaluator: User
    provincial_coordinator: User
    local_evaluator: User
    assisting: User
    recipient: User
    jiashi_recipient: User


def project(pairing: Pairing, state: str, **values: Any) -> Project:
    """A project in STATE written straight to the table (no history): a run reads only the rows."""
    fields: dict[str, Any] = {
        "title": f"Engine test project ({state})",
        "category": "infrastructure",
        "sector": "education",
        "location": pairing.recipient_region,
        "budget_requested": Decimal("1000000.00"),
        "approved_budget": None if state in ("draft", "proposed") else Decimal("1000000.00"),
        "planned_start": D(YEAR, 3, 1),
        "planned_end": D(YEAR, 12, 31),
    }
    fields.update(values)
    return Project.objects.create(code=f"EN-{next(_codes):06d}", pairing=pairing, state=state, **fields)


def inspection(on_project: Project, on: dt.date, *, kind: str = "routine", passed: bool = True) -> Inspection:
    return Inspection.objects.create(
        project=on_project, date=on, kind=kind, result="passed" if passed else "failed", findings="" if passed else "x"
    )


@pytest.fixture
def eng(world, pw) -> Engine:
    accepted = project(
        pw.shufu,
        "accepted",
        title="疏附县人民医院门诊楼",
        actual_start=D(YEAR, 3, 1),
        actual_end=D(YEAR, 12, 1),
        expected_beneficiaries=1000,
        reached_beneficiaries=900,
        is_livelihood=True,
    )
    inspection(accepted, D(YEAR, 12, 10), kind="acceptance")
    building = project(
        pw.shufu,
        "in_construction",
        title="疏附县职业学校实训楼",
        actual_start=D(YEAR, 4, 1),
        planned_end=D(2016, 12, 31),
    )
    draft = project(pw.shufu, "draft", title="疏附县草案")
    jiashi_accepted = project(
        pw.jiashi,
        "accepted",
        title="伽师县供水工程",
        actual_start=D(YEAR, 3, 1),
        actual_end=D(2016, 3, 1),
        expected_beneficiaries=500,
        reached_beneficiaries=500,
    )
    inspection(jiashi_accepted, D(2016, 3, 5), kind="acceptance")
    jiashi_gov = OrganizationFactory(
        name="伽师县人民政府", name_en="Jiashi", kind=OrganizationKind.COUNTY_GOVERNMENT, region=world.jiashi
    )
    national, gd = world.national_office, world.guangdong_gov
    return Engine(
        program=pw.program,
        year=YEAR,
        shufu=pw.shufu,
        jiashi=pw.jiashi,
        accepted=accepted,
        building=building,
        draft=draft,
        jiashi_accepted=jiashi_accepted,
        coordinator=world.coordinator,
        evaluator=UserFactory(username="eng-evaluator", organization=national, roles=[Role.EVALUATOR]),
        provincial_coordinator=UserFactory(
            username="eng-gd-coordinator", organization=gd, roles=[Role.NATIONAL_COORDINATOR]
        ),
        local_evaluator=UserFactory(username="eng-gd-evaluator", organization=gd, roles=[Role.EVALUATOR]),
        assisting=world.assisting,
        recipient=world.recipient,
        jiashi_recipient=UserFactory(username="eng-jiashi-ro", organization=jiashi_gov, roles=[Role.RECIPIENT_OFFICER]),
    )


def run_now(
    capture: Callable[..., Any], *, program: Program, year: int, by: User | None, as_of: dt.date = AS_OF
) -> EvaluationRun:
    """Start a run the way the API does and let its queued work happen here and now: the on-commit callbacks of
    `run_start` are executed (CAPTURE is pytest-django's `django_capture_on_commit_callbacks`), and Celery is
    eager in tests, so planning, every chunk and the final step run before this returns."""
    with capture(execute=True):
        run, created = services.run_start(program=program, year=year, by=by, as_of=as_of)
    assert created
    run.refresh_from_db()
    return run
