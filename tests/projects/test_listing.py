"""The fast list (projects/listing.py) says exactly what the serializer says of each project, in both languages."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from projects import services
from tests.conftest import api_as

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_each_list_row_equals_the_projects_own_representation(world, pw, draft, approver, language):
    services.project_submit(project=draft, by=world.assisting)
    services.project_approve(project=draft, by=approver, approved_budget="11000000")
    services.project_create(
        by=world.recipient,
        pairing=pw.shufu,
        title="有偿项目",
        category="reimbursable",
        sector="industry",
        location=world.shufu,
        latitude=Decimal("39.3856"),
        longitude=Decimal("75.8631"),
        budget_requested=Decimal("5000000"),
        funding_sources=[{"source": "loan", "amount": "3000000"}, {"source": "enterprise", "amount": "2000000"}],
        planned_start=dt.date(2024, 1, 1),
        planned_end=dt.date(2024, 12, 31),
        repayment_terms="十年，免息",
    )
    services.project_create(by=world.assisting, pairing=pw.shufu, title="空草稿")
    client = api_as(world.assisting)
    with translation.override(language):
        listed = client.get("/api/v1/projects/", HTTP_ACCEPT_LANGUAGE=language).json()["results"]
        assert len(listed) == 3
        for row in listed:
            own = client.get(f"/api/v1/projects/{row['id']}/", HTTP_ACCEPT_LANGUAGE=language).json()
            assert row == own
