"""A small world in which each of the eight demo users (accounts/demo.py: the same usernames and roles) has work
waiting, and the item their home's first "waiting" link should lead to."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.demo import USERS
from accounts.models import Organization, User
from evaluation.models import EvaluationRun, IndicatorFramework, RunStatus
from projects import services
from projects.models import Project
from tests.conftest import PairingWorld, World, make_pairing_world, make_world
from tests.factories import UserFactory

D = dt.date


@dataclass
class HomeWorld:
    world: World
    pw: PairingWorld
    users: dict[str, User]  # by demo username
    first: dict[str, tuple[str, str]]  # demo username -> (kind of the first waiting link, the item's title text)


def _project(pw: PairingWorld, world: World, title: str, *, by: User | None, jiashi: bool = False) -> Project:
    return services.project_create(
        by=by,
        pairing=pw.jiashi if jiashi else pw.shufu,
        title=title,
        category="infrastructure",
        sector="education",
        location=world.jiashi if jiashi else world.shufu,
        budget_requested=Decimal("8160000"),
        planned_start=D(2024, 3, 1),
        planned_end=D(2025, 8, 31),
        expected_beneficiaries=1200,
    )


def make_home_world() -> HomeWorld:
    world = make_world()
    pw = make_pairing_world(world)
    orgs: dict[str, Organization] = {
        "national": world.national_office,
        "guangdong": world.guangdong_gov,
        "shufu": world.shufu_gov,
        "jiangsu": world.jiangsu_gov,
    }
    users = {
        u.username: UserFactory(
            username=u.username,
            organization=orgs[u.org],
            roles=list(u.roles),
            last_name=u.last_name,
            first_name=u.first_name,
        )
        for u in USERS
    }
    assisting, approver, supervisor = users["assisting_officer"], users["approver"], users["supervisor"]
    today = timezone.localdate()

    # The assisting officer's draft; a proposal for the approver.
    _project(pw, world, "疏附县草稿学校", by=assisting)
    proposed = _project(pw, world, "疏附县待批幼儿园", by=assisting)
    services.project_submit(project=proposed, by=assisting)

    # A project in construction whose rectification is overdue: the assisting officer, the supervisor and the
    # national coordinator see it; the evaluator scores it.
    building = _project(pw, world, "疏附县在建水厂", by=assisting)
    services.project_submit(project=building, by=assisting)
    services.project_approve(project=building, by=approver)
    services.project_start(project=building, by=assisting, actual_start=D(2024, 3, 15))
    services.inspection_record(
        by=supervisor,
        project=building,
        date=today - dt.timedelta(days=40),
        kind="routine",
        result="failed",
        findings="脚手架未设防护网",
        rectifications=[{"finding": "加设防护网", "deadline": today - dt.timedelta(days=10)}],
    )
    services.progress_report_submit(
        by=assisting, project=building, period_end=D(2024, 9, 30), physical_progress=40, spend_to_date=1
    )

    # An accepted project the recipient officer has not rated yet.
    accepted = _project(pw, world, "疏附县已验收卫生院", by=assisting)
    services.project_submit(project=accepted, by=assisting)
    services.project_approve(project=accepted, by=approver)
    services.project_start(project=accepted, by=assisting, actual_start=D(2024, 3, 15))
    services.progress_report_submit(
        by=assisting, project=accepted, period_end=D(2025, 6, 30), physical_progress=100, spend_to_date=1
    )
    services.project_complete(project=accepted, by=assisting, actual_end=D(2025, 7, 15))
    services.inspection_record(
        by=supervisor, project=accepted, date=D(2025, 7, 20), kind="acceptance", result="passed", findings="合格"
    )
    services.project_accept(project=accepted, by=supervisor)

    # The outsider's own draft, in Jiangsu's pairing.
    _project(pw, world, "伽师县外省草稿", by=users["outsider"], jiashi=True)

    # A run that failed (nobody has run the year again since).
    EvaluationRun.objects.create(
        program=pw.program,
        year=2016,
        framework=IndicatorFramework.objects.filter(program=pw.program).order_by("-version").first(),
        status=RunStatus.FAILED,
        error="数据库连接中断",
    )

    first: dict[str, tuple[str, str]] = {
        "national_coordinator": ("rectifications_overdue", "疏附县在建水厂"),
        "assisting_officer": ("rectifications_overdue", "疏附县在建水厂"),
        "recipient_officer": ("ratings", "疏附县已验收卫生院"),
        "approver": ("proposals", "疏附县待批幼儿园"),
        "supervisor": ("rectifications_overdue", "疏附县在建水厂"),
        "evaluator": ("expert_scores", "疏附县"),
        "outsider": ("drafts", "伽师县外省草稿"),
    }
    return HomeWorld(world=world, pw=pw, users=users, first=first)


def waiting_counts(user: Any) -> dict[str, int]:
    from core.worklist import waiting_for

    return {w.key: w.count for w in waiting_for(user)}
