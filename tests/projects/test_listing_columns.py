"""The fast list (projects/listing.py) and ProjectSerializer take their fields from one declaration
(projects/api/columns.py), and the parity check between them catches a field that reaches only one of the two."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from projects import listing, services
from projects.api.columns import COMPUTED, PROJECT_LIST_FIELDS, Name
from projects.api.serializers import ProjectSerializer
from tests.conftest import api_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def projects(world, pw, draft, approver) -> None:
    """An approved project, a reimbursable one with a location and funding sources, a bare draft."""
    services.project_submit(project=draft, by=world.assisting)
    services.project_approve(project=draft, by=approver, approved_budget="11000000")
    services.project_create(
        by=world.recipient,
        pairing=pw.shufu,
        title="有偿项目",
        category="reimbursable",
        location=world.shufu,
        latitude=Decimal("39.3856"),
        budget_requested=Decimal("5000000"),
        funding_sources=[{"source": "loan", "amount": "3000000"}],
        planned_start=dt.date(2024, 1, 1),
    )
    services.project_create(by=world.assisting, pairing=pw.shufu, title="空草稿")


def differences(user, language: str) -> list[tuple[int, set[str]]]:
    """The parity check: each list row against the project's own representation, as (id, fields that differ or
    are in one only); empty when the two agree."""
    client = api_as(user)
    found = []
    with translation.override(language):
        listed = client.get("/api/v1/projects/", HTTP_ACCEPT_LANGUAGE=language).json()["results"]
        assert listed
        for row in listed:
            own = client.get(f"/api/v1/projects/{row['id']}/", HTTP_ACCEPT_LANGUAGE=language).json()
            apart = {k for k in row.keys() | own.keys() if row.get(k, KeyError) != own.get(k, KeyError)}
            if apart or list(row) != list(own):
                found.append((row["id"], apart))
    return found


@pytest.fixture
def fresh_statements(monkeypatch):
    """Statements compiled for another layout are not reused."""
    monkeypatch.setattr(listing, "_STATEMENTS", {})


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_list_and_the_serializer_agree_field_by_field_and_in_order(world, projects, fresh_statements, language):
    assert differences(world.assisting, language) == []


def test_the_serializer_and_the_list_read_the_one_declaration():
    names = [name for name, _source in PROJECT_LIST_FIELDS]
    assert ProjectSerializer.Meta.fields == names
    assert list(listing.layout(PROJECT_LIST_FIELDS).template) == names


def test_a_field_left_out_of_the_fast_list_fails_the_parity_check(world, projects, fresh_statements, monkeypatch):
    fewer = tuple((name, source) for name, source in PROJECT_LIST_FIELDS if name != "implementing_agency")
    monkeypatch.setattr(listing, "_LAYOUT", listing.layout(fewer))

    found = differences(world.assisting, "zh-hans")

    assert found
    assert all(apart == {"implementing_agency"} for _id, apart in found)


def test_a_field_read_from_the_wrong_column_fails_the_parity_check(world, projects, fresh_statements, monkeypatch):
    swapped = tuple(
        (name, Name("pairing__assisting_organization__name") if name == "program_name" else source)
        for name, source in PROJECT_LIST_FIELDS
    )
    monkeypatch.setattr(listing, "_LAYOUT", listing.layout(swapped))

    assert {frozenset(apart) for _id, apart in differences(world.assisting, "zh-hans")} == {frozenset({"program_name"})}


def test_a_field_added_to_the_serializer_alone_fails_the_parity_check(world, projects, fresh_statements, monkeypatch):
    monkeypatch.setattr(ProjectSerializer.Meta, "fields", [*ProjectSerializer.Meta.fields, "created_by"])

    found = differences(world.assisting, "en")

    assert found
    assert all(apart == {"created_by"} for _id, apart in found)


def test_a_computed_field_without_its_code_or_a_json_field_without_its_reader_is_refused_at_once():
    with pytest.raises(ImproperlyConfigured, match="computed field 'score'"):
        listing.layout((*PROJECT_LIST_FIELDS, ("score", COMPUTED)))
    with pytest.raises(ImproperlyConfigured, match="JSON field 'sources'"):
        listing.layout((*PROJECT_LIST_FIELDS, ("sources", "funding_sources")))


def test_a_new_column_is_one_line_of_the_declaration(world, projects, fresh_statements, monkeypatch):
    """A column added to the declaration reaches the list and the serializer alike (here a model field neither
    shows today)."""
    more = (*PROJECT_LIST_FIELDS, ("created_by", "created_by_id"))
    monkeypatch.setattr(listing, "_LAYOUT", listing.layout(more))
    monkeypatch.setattr(ProjectSerializer.Meta, "fields", [name for name, _source in more])

    assert differences(world.assisting, "en") == []
