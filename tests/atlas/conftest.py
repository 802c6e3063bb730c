"""The Xinjiang programme of `pw` with figures on the map: Guangdong → Shufu broken down to Shenzhen → a Shufu town
(the child's mandate allocated out of the parent's), Jiangsu → Jiashi without a mandate, a whole-prefecture
pairing (Zhejiang → Aksu prefecture), located projects and a finished evaluation run."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest

from core.models import RegionLevel
from pairings.models import Pairing
from tests.conftest import PairingWorld, World
from tests.factories import (
    AnnualMandateFactory,
    EvaluationRunFactory,
    FundFlowFactory,
    OrganizationFactory,
    PairingFactory,
    PairingScorecardFactory,
    ProjectFactory,
    RegionFactory,
)


@dataclass
class MapWorld:
    town_child: Pairing
    aksu: Pairing


@pytest.fixture
def mw(world: World, pw: PairingWorld) -> MapWorld:
    return make_map_world(world, pw)


def make_map_world(world: World, pw: PairingWorld) -> MapWorld:
    """The rows of `mw` (for the browser tests, which have their own fixtures)."""
    town = RegionFactory(code="653121100", name="托克扎克镇", level=RegionLevel.TOWNSHIP, parent=world.shufu)
    aksu_region = RegionFactory(
        code="652900", name="阿克苏地区", name_en="Aksu Prefecture", level=RegionLevel.PREFECTURE, parent=world.xinjiang
    )
    zhejiang = RegionFactory(code="330000", name="浙江省", name_en="Zhejiang", level=RegionLevel.PROVINCE)
    zj = OrganizationFactory(name="浙江省人民政府", name_en="Zhejiang", region=zhejiang)
    child = PairingFactory(
        program=pw.program,
        parent=pw.shufu,
        assisting_organization=world.shenzhen_gov,
        recipient_region=town,
        start_date=dt.date(2010, 6, 1),
    )
    aksu = PairingFactory(
        program=pw.program, assisting_organization=zj, recipient_region=aksu_region, start_date=dt.date(2010, 6, 1)
    )
    AnnualMandateFactory(pairing=pw.shufu, year=2015, funds_required=Decimal("10000000.00"))
    AnnualMandateFactory(pairing=child, year=2015, funds_required=Decimal("2000000.00"))
    AnnualMandateFactory(pairing=aksu, year=2015, funds_required=Decimal("4000000.00"))
    FundFlowFactory(pairing=pw.shufu, amount=Decimal("6000000.00"))
    FundFlowFactory(pairing=child, amount=Decimal("500000.00"))
    FundFlowFactory(pairing=pw.jiashi, amount=Decimal("1000000.00"))
    FundFlowFactory(pairing=aksu, amount=Decimal("5000000.00"))
    for i, state in enumerate(["draft", "approved", "in_construction", "accepted"]):
        ProjectFactory(
            pairing=pw.shufu,
            state=state,
            location=world.shufu,
            longitude=Decimal("75.86") + Decimal(i) / 100,
            latitude=Decimal("39.38"),
        )
    ProjectFactory(pairing=pw.jiashi, state="cancelled")
    run = EvaluationRunFactory(program=pw.program, year=2015)
    PairingScorecardFactory(run=run, pairing=pw.shufu, score=81.5)
    PairingScorecardFactory(run=run, pairing=child, score=64.0)
    PairingScorecardFactory(run=run, pairing=pw.jiashi, score=72.0)
    return MapWorld(town_child=child, aksu=aksu)
