"""`GET /api/v1/map/`: the areas' figures are the figures layer's, for the caller's pairings only."""

from decimal import Decimal

import pytest
from django.test import Client

from pairings import figures as pairing_figures
from pairings.models import Pairing
from projects import figures as project_figures
from tests.conftest import api_as
from tests.factories import AnnualMandateFactory, FundFlowFactory, PairingFactory, RegionFactory

pytestmark = pytest.mark.django_db


def _areas(response) -> dict[str, dict]:
    body = response.json()
    assert body["type"] == "FeatureCollection"
    return {f["properties"]["code"]: f for f in body["features"]}


def test_the_figures_are_the_figures_layers_for_the_xinjiang_programme(world, pw, mw):
    response = api_as(world.coordinator).get(f"/api/v1/map/?program={pw.program.code}&level=county&measure=fulfilment")
    assert response.status_code == 200, response.content
    areas = _areas(response)
    # Shufu holds Guangdong's pairing and its breakdown to a Shufu town; Aksu is a whole-prefecture pairing kept as
    # its own (prefecture) area on the county map.
    assert set(areas) == {"653121", "653129", "652900"}
    groups = {
        "653121": [pw.shufu.pk, mw.town_child.pk],
        "653129": [pw.jiashi.pk],
        "652900": [mw.aksu.pk],
    }
    for code, ids in groups.items():
        scope = Pairing.objects.filter(pk__in=ids)
        money = pairing_figures.money(scope)
        props = areas[code]["properties"]
        assert props["money"]["required"] == str(money.required)
        assert props["money"]["received"] == str(money.received)
        assert props["money"]["fulfilment"] == (None if money.fulfilment is None else str(money.fulfilment))
        assert props["value"] == (None if money.fulfilment is None else float(money.fulfilment))
        counts = project_figures.scope_stage_counts(scope)
        assert props["projects"]["total"] == counts.total
        assert props["projects"]["stages"] == counts.stages
        assert sorted(p["id"] for p in props["pairings"]) == sorted(ids)
    # The child's mandate is allocated out of its parent's: counted once (10 M), the flows of both added.
    shufu = areas["653121"]["properties"]
    assert shufu["money"]["required"] == "10000000.00"
    assert shufu["money"]["received"] == "6500000.00"
    assert shufu["money"]["fulfilment"] == "0.6500"
    assert shufu["score"] == 64.0  # the lowest of the pairings' latest scores
    assert areas["652900"]["properties"]["level"] == "prefecture"
    assert areas["653129"]["properties"]["value"] is None  # no mandate: no fulfilment
    assert areas["653121"]["geometry"]["type"] == "MultiPolygon"
    lon, lat = areas["653121"]["geometry"]["coordinates"][0][0][0]
    assert 74 < lon < 77
    assert 38 < lat < 41


def test_other_measures_and_levels(world, pw, mw):
    client = api_as(world.coordinator)
    received = _areas(client.get(f"/api/v1/map/?program={pw.program.code}&measure=received"))
    assert received["653121"]["properties"]["value"] == 6500000.0
    projects = _areas(client.get(f"/api/v1/map/?program={pw.program.id}&measure=projects&level=prefecture"))
    # Shufu and Jiashi both lie in Kashgar: one area with both their pairings, Aksu its own.
    assert set(projects) == {"653100", "652900"}
    assert projects["653100"]["properties"]["value"] == 5.0
    kashgar = Pairing.objects.filter(pk__in=[pw.shufu.pk, mw.town_child.pk, pw.jiashi.pk])
    assert projects["653100"]["properties"]["money"]["required"] == str(pairing_figures.money(kashgar).required)
    provinces = _areas(client.get(f"/api/v1/map/?program={pw.program.code}&measure=score&level=province"))
    assert set(provinces) == {"650000"}
    assert provinces["650000"]["properties"]["value"] == 64.0
    all_of_them = Pairing.objects.filter(program=pw.program)
    assert provinces["650000"]["properties"]["money"]["received"] == str(pairing_figures.money(all_of_them).received)


def test_an_official_sees_only_their_pairings(world, pw, mw):
    outsider = _areas(api_as(world.outsider).get(f"/api/v1/map/?program={pw.program.code}"))
    assert set(outsider) == {"653129"}
    assert [p["id"] for p in outsider["653129"]["properties"]["pairings"]] == [pw.jiashi.pk]
    recipient = _areas(api_as(world.recipient).get(f"/api/v1/map/?program={pw.program.code}"))
    assert set(recipient) == {"653121"}
    assert recipient["653121"]["properties"]["score"] in (64.0, 81.5)
    assisting = _areas(api_as(world.assisting).get(f"/api/v1/map/?program={pw.program.code}&measure=received"))
    assert set(assisting) == {"653121"}
    assert assisting["653121"]["properties"]["money"]["received"] == "6500000.00"


def test_a_caller_without_credentials_is_refused(pw):
    response = Client().get(f"/api/v1/map/?program={pw.program.code}")
    assert response.status_code in (401, 403)
    assert response.json()["errors"]


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ("", "program", "required"),
        ("program=", "program", "blank"),
        ("program=nonesuch", "program", "does_not_exist"),
        ("program=99999999999999999999", "program", "does_not_exist"),
        ("program={code}&level=township", "level", "invalid_choice"),
        ("program={code}&level=", "level", "blank"),
        ("program={code}&measure=budget", "measure", "invalid_choice"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(world, pw, query, field, code):
    response = api_as(world.coordinator).get("/api/v1/map/?" + query.format(code=pw.program.code))
    assert response.status_code == 400, response.content
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [(field, code)]


def test_a_programme_the_caller_may_not_see_is_unknown_to_them(world, pw):
    # Programmes are seen by everyone signed in; the map of one without the caller's pairings is empty, not an error.
    response = api_as(world.outsider).get(f"/api/v1/map/?program={pw.program.code}&level=county")
    assert response.status_code == 200
    assert [f["properties"]["code"] for f in response.json()["features"]] == ["653129"]


def test_the_query_count_does_not_grow_with_the_areas(world, pw, mw, django_assert_max_num_queries):
    client = api_as(world.coordinator)
    url = f"/api/v1/map/?program={pw.program.code}&level=county&measure=score"
    with django_assert_max_num_queries(12) as before:
        client.get(url)
    kashgar = world.kashgar
    for i in range(6):  # Kashgar's counties 653122–653127, on the boundary data
        county = RegionFactory(code=f"65312{2 + i}", name=f"县{i}", level="county", parent=kashgar)
        pairing = PairingFactory(program=pw.program, recipient_region=county)
        AnnualMandateFactory(pairing=pairing, year=2015, funds_required=Decimal("100.00"))
        FundFlowFactory(pairing=pairing, amount=Decimal("50.00"))
    with django_assert_max_num_queries(len(before.captured_queries)):
        response = client.get(url)
    assert len(response.json()["features"]) == 9


def test_the_schema_documents_the_map(openapi):
    operation = openapi["paths"]["/api/v1/map/"]["get"]
    names = {p["name"]: p for p in operation["parameters"]}
    assert names["program"]["required"] is True
    schemas = openapi["components"]["schemas"]

    def enum(schema: dict) -> list:
        return schemas[schema["$ref"].rsplit("/", 1)[1]]["enum"] if "$ref" in schema else schema["enum"]

    assert enum(names["level"]["schema"]) == ["province", "prefecture", "county"]
    assert set(enum(names["measure"]["schema"])) == {"fulfilment", "received", "projects", "score"}
    body = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/Map")
    feature = openapi["components"]["schemas"]["AreaFeature"]
    assert set(feature["properties"]) == {"type", "id", "geometry", "properties"}


@pytest.fixture(scope="module")
def openapi() -> dict:
    return Client().get("/api/schema/?format=json").json()
