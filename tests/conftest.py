"""Fixtures for the whole suite: a small region tree and the three actors of most tests
(an official of the assisting side, one of the recipient side, and an outsider)."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.models import Organization, OrganizationKind, Role, User
from core.models import Region, RegionLevel
from pairings import services as pairing_services
from pairings.models import FundingRule, Pairing, Program
from projects import services as project_services
from projects.models import Project
from tests.factories import OrganizationFactory, RegionFactory, UserFactory


@dataclass
class World:
    xinjiang: Region
    kashgar: Region
    shufu: Region
    jiashi: Region
    guangdong: Region
    shenzhen: Region
    jiangsu: Region
    national_office: Organization
    guangdong_gov: Organization
    shenzhen_gov: Organization
    jiangsu_gov: Organization
    shufu_gov: Organization
    kashgar_gov: Organization
    coordinator: User
    assisting: User
    recipient: User
    outsider: User


def make_world() -> World:
    """The region tree, the organizations and the actors of `world` (for fixtures of a wider scope)."""
    xinjiang = RegionFactory(code="650000", name="新疆维吾尔自治区", name_en="Xinjiang", level=RegionLevel.PROVINCE)
    kashgar = RegionFactory(
        code="653100", name="喀什地区", name_en="Kashgar Prefecture", level=RegionLevel.PREFECTURE, parent=xinjiang
    )
    shufu = RegionFactory(
        code="653121", name="疏附县", name_en="Shufu County", level=RegionLevel.COUNTY, parent=kashgar
    )
    jiashi = RegionFactory(
        code="653129", name="伽师县", name_en="Jiashi County", level=RegionLevel.COUNTY, parent=kashgar
    )
    guangdong = RegionFactory(code="440000", name="广东省", name_en="Guangdong", level=RegionLevel.PROVINCE)
    shenzhen = RegionFactory(
        code="440300", name="深圳市", name_en="Shenzhen", level=RegionLevel.PREFECTURE, parent=guangdong
    )
    jiangsu = RegionFactory(code="320000", name="江苏省", name_en="Jiangsu", level=RegionLevel.PROVINCE)

    national = OrganizationFactory(
        name="国家协调办公室", name_en="National office", kind=OrganizationKind.CENTRAL_OFFICE
    )
    gd = OrganizationFactory(name="广东省人民政府", name_en="Guangdong", region=guangdong)
    sz = OrganizationFactory(
        name="深圳市人民政府",
        name_en="Shenzhen",
        kind=OrganizationKind.MUNICIPAL_GOVERNMENT,
        region=shenzhen,
        parent=gd,
    )
    js = OrganizationFactory(name="江苏省人民政府", name_en="Jiangsu", region=jiangsu)
    kg = OrganizationFactory(
        name="喀什地区行政公署", name_en="Kashgar", kind=OrganizationKind.MUNICIPAL_GOVERNMENT, region=kashgar
    )
    sf = OrganizationFactory(
        name="疏附县人民政府", name_en="Shufu", kind=OrganizationKind.COUNTY_GOVERNMENT, region=shufu
    )

    return World(
        xinjiang=xinjiang,
        kashgar=kashgar,
        shufu=shufu,
        jiashi=jiashi,
        guangdong=guangdong,
        shenzhen=shenzhen,
        jiangsu=jiangsu,
        national_office=national,
        guangdong_gov=gd,
        shenzhen_gov=sz,
        jiangsu_gov=js,
        shufu_gov=sf,
        kashgar_gov=kg,
        coordinator=UserFactory(username="coord", organization=national, roles=[Role.NATIONAL_COORDINATOR]),
        assisting=UserFactory(username="alice", organization=gd, roles=[Role.ASSISTING_OFFICER]),
        recipient=UserFactory(username="bob", organization=sf, roles=[Role.RECIPIENT_OFFICER]),
        outsider=UserFactory(username="charlie", organization=js, roles=[Role.ASSISTING_OFFICER]),
    )


@pytest.fixture
def world(db) -> World:
    return make_world()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def api_as(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# Pairings: the Xinjiang programme with its rule, Guangdong → Shufu (the assisting and recipient actors'
# pairing) and Jiangsu → Jiashi (the outsider's).


@dataclass
class PairingWorld:
    program: Program
    rule: FundingRule
    shufu: Pairing
    jiashi: Pairing


def make_pairing_world(world: World) -> PairingWorld:
    """The programme, its rule and the two pairings of `pw` (for fixtures of a wider scope)."""
    program = pairing_services.program_create(
        by=None,
        code="xinjiang-2010",
        name="对口援疆",
        name_en="Xinjiang paired assistance",
        model="development",
        start_year=2011,
        end_year=2020,
    )
    rule = pairing_services.funding_rule_set(
        by=None,
        program=program,
        basis="fiscal_revenue",
        rate=Decimal("0.005"),
        escalation=Decimal("0.08"),
        escalation_years=4,
        min_county_share=Decimal("0.8"),
        min_livelihood_share=Decimal("0.7"),
    )
    shufu = pairing_services.pairing_create(
        by=None,
        program=program,
        assisting_organization=world.guangdong_gov,
        recipient_region=world.shufu,
        start_date=dt.date(2010, 6, 1),
    )
    jiashi = pairing_services.pairing_create(
        by=None,
        program=program,
        assisting_organization=world.jiangsu_gov,
        recipient_region=world.jiashi,
        start_date=dt.date(2010, 6, 1),
    )
    return PairingWorld(program=program, rule=rule, shufu=shufu, jiashi=jiashi)


@pytest.fixture
def pw(world) -> PairingWorld:
    return make_pairing_world(world)


# Projects: the approver and supervisor who act for Guangdong, and a draft in Guangdong → Shufu that passes the
# readiness check (the projects, exchange and accounts tests share them).


@pytest.fixture
def approver(world):
    return UserFactory(username="approver1", organization=world.guangdong_gov, roles=[Role.APPROVER])


@pytest.fixture
def supervisor(world):
    return UserFactory(username="supervisor1", organization=world.guangdong_gov, roles=[Role.SUPERVISOR])


@pytest.fixture
def draft(world, pw) -> Project:
    """A draft that passes the readiness check."""
    return project_services.project_create(
        by=world.assisting,
        pairing=pw.shufu,
        title="疏附县第二中学教学楼",
        category="infrastructure",
        sector="education",
        location=world.shufu,
        budget_requested=Decimal("12000000.00"),
        planned_start=dt.date(2024, 3, 1),
        planned_end=dt.date(2025, 8, 31),
        expected_beneficiaries=2400,
        is_livelihood=True,
    )
