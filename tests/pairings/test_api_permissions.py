"""Who may do what on the pairings API: every role (and nobody) against each endpoint and method.

Where each role sits, and why:
- `national_coordinator` acts for the national office: the role counts only there (a coordinator elsewhere is
  refused by the services).
- `assisting_officer`, `recipient_officer`, `approver` and `supervisor` act for Guangdong, so that every one of them
  has the Guangdong → Shufu pairing in scope and the matrix shows what the *role* allows, scope held constant.
- `evaluator` and `observer` act for the national office: they see everything, which shows that national reach
  alone grants no write.
- One more actor, a recipient officer of Shufu county (`recipient_officer@shufu`), checks that the recipient side
  proper has the same rights as the role anywhere else.

Every write that succeeds leaves its row and a history event; every refusal leaves all tables as they were.
"""

import datetime as dt
from decimal import Decimal

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import Role
from core.models import HistoryEvent, RegionLevel
from pairings import services
from pairings.models import (
    AnnualMandate,
    Deployment,
    FiscalRevenue,
    FundFlow,
    FundingRule,
    Pairing,
    Program,
    Training,
)
from tests.factories import RegionFactory, UserFactory

pytestmark = pytest.mark.django_db

ANONYMOUS = "anonymous"
SHUFU_RECIPIENT = "recipient_officer@shufu"

# actor -> (role, organization attribute of `world`)
ACTORS = {
    Role.NATIONAL_COORDINATOR.value: (Role.NATIONAL_COORDINATOR, "national_office"),
    Role.ASSISTING_OFFICER.value: (Role.ASSISTING_OFFICER, "guangdong_gov"),
    Role.RECIPIENT_OFFICER.value: (Role.RECIPIENT_OFFICER, "guangdong_gov"),
    Role.APPROVER.value: (Role.APPROVER, "guangdong_gov"),
    Role.SUPERVISOR.value: (Role.SUPERVISOR, "guangdong_gov"),
    Role.EVALUATOR.value: (Role.EVALUATOR, "national_office"),
    Role.OBSERVER.value: (Role.OBSERVER, "national_office"),
    SHUFU_RECIPIENT: (Role.RECIPIENT_OFFICER, "shufu_gov"),
}

NC, AO, RO = Role.NATIONAL_COORDINATOR.value, Role.ASSISTING_OFFICER.value, Role.RECIPIENT_OFFICER.value
EVERYONE = frozenset(ACTORS)
COORDINATOR = frozenset({NC})
ASSISTING_SIDE = frozenset({NC, AO})
EITHER_SIDE = frozenset({NC, AO, RO, SHUFU_RECIPIENT})


def child_pairing_body(s) -> dict:
    return {
        "program": s.pw.program.pk,
        "assisting_organization": s.world.shenzhen_gov.pk,
        "recipient_region": s.township.code,
        "parent": s.pw.shufu.pk,
        "start_date": "2011-01-01",
    }


def flow_body(kind: str):
    def body(s) -> dict:
        return {
            "pairing": s.pw.shufu.pk,
            "kind": kind,
            "amount": "1000.00",
            "date": "2012-03-01",
            "source": "assisting_fiscal",
        }

    return body


# (name, method, url, body, actors that succeed, status on success). Everyone else signed in gets 403;
# anonymous callers 401.
ENDPOINTS = [
    ("programs-list", "get", lambda s: "/api/v1/programs/", None, EVERYONE, 200),
    ("pairings-list", "get", lambda s: "/api/v1/pairings/", None, EVERYONE, 200),
    ("pairing-detail", "get", lambda s: f"/api/v1/pairings/{s.pw.shufu.pk}/", None, EVERYONE, 200),
    ("mandates-list", "get", lambda s: f"/api/v1/pairings/{s.pw.shufu.pk}/mandates/", None, EVERYONE, 200),
    ("fiscal-revenues-list", "get", lambda s: "/api/v1/fiscal-revenues/", None, EVERYONE, 200),
    ("fund-flows-list", "get", lambda s: "/api/v1/fund-flows/", None, EVERYONE, 200),
    ("deployments-list", "get", lambda s: "/api/v1/deployments/", None, EVERYONE, 200),
    ("trainings-list", "get", lambda s: "/api/v1/trainings/", None, EVERYONE, 200),
    (
        "programs-create",
        "post",
        lambda s: "/api/v1/programs/",
        lambda s: {"code": "tibet-1994", "name": "对口援藏", "model": "border_governance", "start_year": 1994},
        COORDINATOR,
        201,
    ),
    (
        "program-rules-create",
        "post",
        lambda s: "/api/v1/programs/xinjiang-2010/rules/",
        lambda s: {"basis": "fiscal_revenue", "rate": "0.006"},
        COORDINATOR,
        201,
    ),
    ("pairings-create-child", "post", lambda s: "/api/v1/pairings/", child_pairing_body, ASSISTING_SIDE, 201),
    (
        "pairing-update",
        "patch",
        lambda s: f"/api/v1/pairings/{s.pw.shufu.pk}/",
        lambda s: {"note": "矩阵"},
        COORDINATOR,
        200,
    ),
    (
        "pairing-end",
        "post",
        lambda s: f"/api/v1/pairings/{s.pw.shufu.pk}/end/",
        lambda s: {"end_date": "2020-12-31", "comment": "矩阵"},
        COORDINATOR,
        200,
    ),
    (
        "mandates-compute",
        "post",
        lambda s: f"/api/v1/pairings/{s.pw.shufu.pk}/mandates/",
        lambda s: {"year": 2012},
        ASSISTING_SIDE,
        201,
    ),
    (
        "mandates-set-by-hand",
        "post",
        lambda s: f"/api/v1/pairings/{s.pw.shufu.pk}/mandates/",
        lambda s: {"year": 2012, "funds_required": "1000.00", "reason": "矩阵"},
        COORDINATOR,
        201,
    ),
    (
        "fiscal-revenues-create",
        "post",
        lambda s: "/api/v1/fiscal-revenues/",
        lambda s: {"organization": s.world.guangdong_gov.pk, "year": 2011, "amount": "1.00"},
        ASSISTING_SIDE,
        201,
    ),
    (
        "fiscal-revenue-correct",
        "patch",
        lambda s: f"/api/v1/fiscal-revenues/{s.revenue.pk}/",
        lambda s: {"amount": "2.00", "reason": "矩阵"},
        ASSISTING_SIDE,
        200,
    ),
    ("fund-flows-create-pledge", "post", lambda s: "/api/v1/fund-flows/", flow_body("pledge"), ASSISTING_SIDE, 201),
    (
        "fund-flows-create-expenditure",
        "post",
        lambda s: "/api/v1/fund-flows/",
        flow_body("expenditure"),
        EITHER_SIDE,
        201,
    ),
    (
        "deployments-create",
        "post",
        lambda s: "/api/v1/deployments/",
        lambda s: {"pairing": s.pw.shufu.pk, "kind": "teacher", "headcount": 3, "start_date": "2012-09-01"},
        EITHER_SIDE,
        201,
    ),
    (
        "trainings-create",
        "post",
        lambda s: "/api/v1/trainings/",
        lambda s: {
            "pairing": s.pw.shufu.pk,
            "topic": "矩阵",
            "people_trained": 3,
            "days": "1",
            "start_date": "2012-07-01",
        },
        EITHER_SIDE,
        201,
    ),
]


def expected_status(actor: str, allowed: frozenset[str], success: int) -> int:
    if actor == ANONYMOUS:
        return 401
    return success if actor in allowed else 403


MATRIX = [
    pytest.param(actor, method, url, body, expected_status(actor, allowed, success), id=f"{actor}-{name}")
    for actor in [*ACTORS, ANONYMOUS]
    for name, method, url, body, allowed, success in ENDPOINTS
]


class Setting:
    def __init__(self, world, pw):
        self.world = world
        self.pw = pw
        self.township = RegionFactory(
            code="653121100", name="托克扎克镇", level=RegionLevel.TOWNSHIP, parent=world.shufu
        )
        self.revenue = services.fiscal_revenue_record(
            by=None, organization=world.guangdong_gov, year=2010, amount=Decimal("123456789012.34")
        )
        services.fund_flow_record(
            by=None,
            pairing=pw.shufu,
            kind="disbursement",
            amount=Decimal("10.00"),
            date=dt.date(2012, 1, 1),
            source="assisting_fiscal",
        )
        services.mandate_compute(by=None, pairing=pw.shufu, year=2013)
        services.deployment_record(by=None, pairing=pw.shufu, kind="cadre", headcount=2, start_date=dt.date(2011, 1, 1))
        services.training_record(
            by=None, pairing=pw.shufu, topic="双语", people_trained=9, days=Decimal(2), start_date=dt.date(2011, 7, 1)
        )


def snapshot() -> dict[str, int]:
    models = [Program, FundingRule, Pairing, FiscalRevenue, AnnualMandate, FundFlow, Deployment, Training, HistoryEvent]
    return {m.__name__: m.objects.count() for m in models}


def client_for(world, actor: str) -> APIClient:
    client = APIClient()
    if actor != ANONYMOUS:
        role, organization = ACTORS[actor]
        user = UserFactory(username=f"matrix-{actor}", organization=getattr(world, organization), roles=[role])
        client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user)[1]}")
    return client


def test_the_matrix_covers_every_role():
    assert {role for role, _ in ACTORS.values()} == set(Role)


@pytest.mark.parametrize(("actor", "method", "url", "body", "expected"), MATRIX)
def test_permission_matrix(world, pw, actor, method, url, body, expected):
    setting = Setting(world, pw)
    client = client_for(world, actor)
    before = snapshot()

    response = getattr(client, method)(url(setting), body(setting) if body else None, format="json")

    assert response.status_code == expected, response.json()
    after = snapshot()
    if method == "get" or expected >= 400:
        assert after == before
    else:
        assert after["HistoryEvent"] > before["HistoryEvent"]
    if expected == 403:
        assert [e["code"] for e in response.json()["errors"]] == ["forbidden"]
    if expected == 401:
        assert [e["code"] for e in response.json()["errors"]] == ["not_authenticated"]
    if method == "get" and expected == 200 and "results" in response.json():
        # Everyone in the matrix has the Shufu pairing in scope.
        assert response.json()["count"] >= 1
