"""Evaluation fixtures on the pairing world (tests/conftest.py `world`, `pw`).

`ev` is the Xinjiang programme's year 2015 with a handful of projects written straight to the database (fast;
the services that move them are tested in tests/projects/), and the users of the evaluation tests:

- Guangdong → Shufu: `shufu_accepted` (on time, a passed acceptance inspection, 900 of 1,000 beneficiaries),
  `shufu_building` (in construction, a failed routine inspection whose rectification closed on time) and
  `shufu_draft` (not scored);
- Jiangsu → Jiashi: `jiashi_accepted` (finished late, a passed acceptance inspection) and `jiashi_cancelled`
  (not scored).

No money moves in `ev`; `disbursed` adds the year's disbursements, each scored project paid its approved budget,
so that the shares of the year's disbursements fall where the compliance tests want them (all at county level;
to livelihood, Shufu 10 of 15 million, under the rule's 70 %, and Jiashi none).

Users, by what they may do and see:
- national (they see every pairing): `coordinator` (national coordinator: revises frameworks, starts runs),
  `evaluator` (starts runs, gives expert scores), `observer` (reads only);
- Guangdong: `assisting` (assisting officer), `local_evaluator` (evaluator; sees Guangdong → Shufu only),
  `provincial_coordinator` (holds the national-coordinator role but acts for a province: may not start runs
  or revise frameworks);
- Shufu county: `recipient` (recipient officer of Guangdong → Shufu);
- Jiashi county: `jiashi_recipient` (recipient officer; Guangdong → Shufu is out of their scope);
- Jiangsu: `outsider` (assisting officer of Jiangsu → Jiashi) and `jiangsu_observer`.

`run_eagerly` takes a run from start to its end in the test process (Celery is eager in tests).
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from itertools import count
from typing import Any

import pytest

from accounts.models import Organization, OrganizationKind, Role, User
from evaluation import services, tasks
from evaluation.models import EvaluationRun, IndicatorFramework
from pairings.models import FlowKind, FundFlow, Pairing, Program
from projects.models import Inspection, Project, Rectification
from tests.factories import OrganizationFactory, UserFactory

D = dt.date
YEAR = 2015
_codes = count(1)


@dataclass
class EvaluationWorld:
    program: Program
    year: int
    framework: IndicatorFramework
    shufu: Pairing
    jiashi: Pairing
    shufu_accepted: Project
    shufu_building: Project
    shufu_draft: Project
    jiashi_accepted: Project
    jiashi_cancelled: Project
    jiashi_gov: Organization
    coordinator: User
    evaluator: User
    observer: User
    assisting: User
    local_evaluator: User
    provincial_coordinator: User
    recipient: User
    jiashi_recipient: User
    outsider: User
    jiangsu_observer: User


def make_project(pairing: Pairing, state: str, **values: Any) -> Project:
    """A project written straight to the table in STATE (no history): the evaluation reads only the rows."""
    defaults: dict[str, Any] = {
        "title": f"Project {state}",
        "category": "infrastructure",
        "sector": "education",
        "location": pairing.recipient_region,
        "budget_requested": Decimal("1000000.00"),
        "approved_budget": Decimal("1000000.00") if state not in ("draft", "proposed") else None,
        "planned_start": D(YEAR, 3, 1),
        "planned_end": D(YEAR, 12, 31),
    }
    defaults.update(values)
    return Project.objects.create(code=f"EV-{next(_codes):06d}", pairing=pairing, state=state, **defaults)


def make_inspection(project: Project, on: dt.date, *, kind: str = "routine", passed: bool = True) -> Inspection:
    return Inspection.objects.create(
        project=project, date=on, kind=kind, result="passed" if passed else "failed", findings="" if passed else "x"
    )


@pytest.fixture
def ev(world, pw) -> EvaluationWorld:
    shufu_accepted = make_project(
        pw.shufu,
        "accepted",
        title="疏附县人民医院门诊楼",
        sector="health",
        approved_budget=Decimal("10000000.00"),
        budget_requested=Decimal("10000000.00"),
        actual_start=D(YEAR, 3, 10),
        actual_end=D(YEAR, 12, 20),
        expected_beneficiaries=1000,
        reached_beneficiaries=900,
        is_livelihood=True,
    )
    make_inspection(shufu_accepted, D(YEAR, 12, 22), kind="acceptance")
    shufu_building = make_project(
        pw.shufu,
        "in_construction",
        title="疏附县职业学校实训楼",
        approved_budget=Decimal("5000000.00"),
        budget_requested=Decimal("5000000.00"),
        planned_start=D(YEAR, 5, 1),
        planned_end=D(YEAR + 1, 6, 30),
        actual_start=D(YEAR, 5, 10),
    )
    failed = make_inspection(shufu_building, D(YEAR, 9, 1), passed=False)
    Rectification.objects.create(
        project=shufu_building, inspection=failed, finding="脚手架", deadline=D(YEAR, 10, 1), closed_on=D(YEAR, 9, 25)
    )
    shufu_draft = make_project(pw.shufu, "draft", title="疏附县草案")
    jiashi_accepted = make_project(
        pw.jiashi,
        "accepted",
        title="伽师县供水工程",
        sector="infrastructure",
        approved_budget=Decimal("8000000.00"),
        budget_requested=Decimal("8000000.00"),
        planned_start=D(YEAR, 4, 1),
        planned_end=D(YEAR, 11, 30),
        actual_start=D(YEAR, 4, 1),
        actual_end=D(YEAR + 1, 2, 28),
        expected_beneficiaries=5000,
        reached_beneficiaries=5000,
    )
    make_inspection(jiashi_accepted, D(YEAR + 1, 3, 5), kind="acceptance")
    jiashi_cancelled = make_project(pw.jiashi, "cancelled", title="伽师县撤销项目")

    jiashi_gov = OrganizationFactory(
        name="伽师县人民政府", name_en="Jiashi", kind=OrganizationKind.COUNTY_GOVERNMENT, region=world.jiashi
    )
    national, gd, js = world.national_office, world.guangdong_gov, world.jiangsu_gov
    return EvaluationWorld(
        program=pw.program,
        year=YEAR,
        framework=services.framework_current(pw.program),
        shufu=pw.shufu,
        jiashi=pw.jiashi,
        shufu_accepted=shufu_accepted,
        shufu_building=shufu_building,
        shufu_draft=shufu_draft,
        jiashi_accepted=jiashi_accepted,
        jiashi_cancelled=jiashi_cancelled,
        jiashi_gov=jiashi_gov,
        coordinator=world.coordinator,
        evaluator=UserFactory(username="eve", organization=national, roles=[Role.EVALUATOR]),
        observer=UserFactory(username="oscar", organization=national, roles=[Role.OBSERVER]),
        assisting=world.assisting,
        local_evaluator=UserFactory(username="gd-evaluator", organization=gd, roles=[Role.EVALUATOR]),
        provincial_coordinator=UserFactory(
            username="gd-coordinator", organization=gd, roles=[Role.NATIONAL_COORDINATOR]
        ),
        recipient=world.recipient,
        jiashi_recipient=UserFactory(username="jiashi-ro", organization=jiashi_gov, roles=[Role.RECIPIENT_OFFICER]),
        outsider=world.outsider,
        jiangsu_observer=UserFactory(username="js-observer", organization=js, roles=[Role.OBSERVER]),
    )


def disburse(
    pairing: Pairing, amount: Decimal | str, *, project: Project | None = None, on: dt.date | None = None
) -> FundFlow:
    """A disbursement on PAIRING (in the fixture's year unless ON says otherwise), linked to PROJECT if given."""
    return FundFlow.objects.create(
        pairing=pairing,
        project_id=project.pk if project is not None else None,
        kind=FlowKind.DISBURSEMENT,
        amount=Decimal(amount),
        date=on or D(YEAR, 6, 1),
        source="assisting_fiscal",
    )


@pytest.fixture
def disbursed(ev: EvaluationWorld) -> list[FundFlow]:
    return [
        disburse(p.pairing, p.approved_budget or 0, project=p)
        for p in (ev.shufu_accepted, ev.shufu_building, ev.jiashi_accepted)
    ]


def run_eagerly(program: Program, year: int, by: User | None = None) -> EvaluationRun:
    """Start a run and do all of its work here and now: planning, every chunk, the final step.

    `run_start` queues the plan once its transaction commits, which never happens inside a test's transaction;
    the plan is called directly instead, and queues the rest (eagerly)."""
    run, _created = services.run_start(program=program, year=year, by=by)
    tasks.plan_run(run.pk)
    run.refresh_from_db()
    return run
