"""The fast list (projects/listing.py) says exactly what the serializer says of each project, in both languages."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import translation

from projects import listing, services
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


# --- the page statement kept between requests (PostgreSQL) ----------------------------------------------------


@pytest.fixture
def spread(world, pw) -> None:
    """Projects in both pairings (Guangdong → Shufu, Jiangsu → Jiashi), proposed by different people."""
    for i in range(3):
        services.project_create(
            by=world.assisting, pairing=pw.shufu, title=f"疏附{i}", budget_requested=Decimal(100 * (3 - i))
        )
        services.project_create(by=world.outsider, pairing=pw.jiashi, title=f"伽师{i}")
    services.project_create(by=world.recipient, pairing=pw.shufu, title="受援方草稿")


ORDERINGS = [{}, {"ordering": "code"}, {"ordering": "-budget_requested,title"}]


def test_a_kept_statement_lists_what_a_fresh_one_lists_for_every_caller(world, spread):
    """The statement is kept by the caller's scope and the ordering: callers of different scopes get their own."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("statements are kept on PostgreSQL only")
    callers = [world.coordinator, world.assisting, world.recipient, world.outsider]

    def listing_of(user, params) -> dict:
        return api_as(user).get("/api/v1/projects/", {"page_size": 2, "page": 2, **params}).json()

    fresh = {}
    for user in callers:
        for params in ORDERINGS:
            listing._STATEMENTS.clear()
            fresh[user.pk, str(params)] = listing_of(user, params)
    assert fresh[world.coordinator.pk, "{}"]["count"] == 7
    assert fresh[world.outsider.pk, "{}"]["count"] == 3
    assert {len(d["results"]) for d in fresh.values()} == {1, 2}

    listing._STATEMENTS.clear()
    for user in reversed(callers):  # another order: each caller finds the statements the others left
        for params in reversed(ORDERINGS):
            assert listing_of(user, params) == fresh[user.pk, str(params)]
    # The national coordinator's scope, the assisting side's, the recipient side's, the outsider's: 4 × 3.
    assert len(listing._STATEMENTS) == 12


def test_a_bad_ordering_is_still_a_400_before_a_bad_page_and_the_kept_statements_are_bounded(
    world, spread, monkeypatch
):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("statements are kept on PostgreSQL only")
    client = api_as(world.coordinator)
    listing._STATEMENTS.clear()

    assert client.get("/api/v1/projects/", {"ordering": "secret", "page": 0}).status_code == 400
    assert client.get("/api/v1/projects/", {"page": 0}).status_code == 400
    assert client.get("/api/v1/projects/").status_code == 200
    key, counted = next(iter(listing._STATEMENTS))
    # Unfiltered: the total is the scope's rollup total, so the kept statement counts nothing.
    assert counted is False
    assert listing.is_compiled(key, counted=False)
    assert client.get("/api/v1/projects/").json()["count"] == 7
    assert client.get("/api/v1/projects/", {"page": 0}).status_code == 400  # kept now: still a 400
    assert client.get("/api/v1/projects/", {"page": 9}).status_code == 404
    assert client.get("/api/v1/projects/", {"ordering": "secret", "page": 0}).status_code == 400

    monkeypatch.setattr(listing, "_STATEMENTS_MAX", 2)
    for ordering in ("code", "title", "state", "-code"):
        assert client.get("/api/v1/projects/", {"ordering": ordering}).status_code == 200
    assert len(listing._STATEMENTS) <= 2

    # A statement dropped between `is_compiled` and `page` (another thread's request filled the cache): the
    # queryset is built then.
    from projects.selectors import project_list_rows

    built = []

    def build():
        built.append(1)
        return project_list_rows(world.coordinator).order_by("-created_at", "-id")

    assert listing.page(build, 1, 2, world.coordinator, key=("test",))[1] == 7
    assert listing.page(build, 1, 2, world.coordinator, key=("test",))[1] == 7
    listing._STATEMENTS.clear()
    assert listing.page(build, 1, 2, world.coordinator, key=("test",))[1] == 7
    assert len(built) == 2


@pytest.mark.parametrize(
    "stored", ["3000000.00", "3000000", "1.5", "0.00", "0", "01.00", "12.345", "1e3", 2000000, 1.25, "-0.00"]
)
def test_a_funding_amount_reads_as_the_serializer_shows_it(stored):
    from rest_framework import serializers

    field = serializers.DecimalField(max_digits=18, decimal_places=2)
    assert listing._sources(f'[{{"source": "loan", "amount": {json.dumps(stored)}}}]') == [
        {"source": "loan", "amount": field.to_representation(stored)}
    ]
