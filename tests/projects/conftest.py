"""Project fixtures on the pairing world: a ready draft in Guangdong → Shufu, proposed by the assisting officer,
and the approver and supervisor who act for Guangdong."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import Role
from projects import services
from projects.models import Project
from tests.factories import UserFactory


@pytest.fixture
def approver(world):
    return UserFactory(username="approver1", organization=world.guangdong_gov, roles=[Role.APPROVER])


@pytest.fixture
def supervisor(world):
    return UserFactory(username="supervisor1", organization=world.guangdong_gov, roles=[Role.SUPERVISOR])


@pytest.fixture
def draft(world, pw) -> Project:
    """A draft that passes the readiness check."""
    return services.project_create(
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
