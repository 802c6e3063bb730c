"""Pairing fixtures on top of the `world` of tests/conftest.py: the Xinjiang programme with its rule,
Guangdong → Shufu (the assisting and recipient actors' pairing), and Jiangsu → Jiashi (the outsider's)."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest

from pairings import services
from pairings.models import FundingRule, Pairing, Program


@dataclass
class PairingWorld:
    program: Program
    rule: FundingRule
    shufu: Pairing
    jiashi: Pairing


@pytest.fixture
def pw(world) -> PairingWorld:
    program = services.program_create(
        by=None,
        code="xinjiang-2010",
        name="对口援疆",
        name_en="Xinjiang paired assistance",
        model="development",
        start_year=2011,
        end_year=2020,
    )
    rule = services.funding_rule_set(
        by=None,
        program=program,
        basis="fiscal_revenue",
        rate=Decimal("0.005"),
        escalation=Decimal("0.08"),
        escalation_years=4,
        min_county_share=Decimal("0.8"),
        min_livelihood_share=Decimal("0.7"),
    )
    shufu = services.pairing_create(
        by=None,
        program=program,
        assisting_organization=world.guangdong_gov,
        recipient_region=world.shufu,
        start_date=dt.date(2010, 6, 1),
    )
    jiashi = services.pairing_create(
        by=None,
        program=program,
        assisting_organization=world.jiangsu_gov,
        recipient_region=world.jiashi,
        start_date=dt.date(2010, 6, 1),
    )
    return PairingWorld(program=program, rule=rule, shufu=shufu, jiashi=jiashi)
