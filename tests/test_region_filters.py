"""The region filters of the project and pairing lists take a region as the picker does — its code, or a name one
current region has — in the API and on the pages alike (`core.selectors.region_by_code_or_name`), and refuse an
unknown or ambiguous name on the parameter."""

import pytest
from django.test import Client

from tests.conftest import api_as
from tests.factories import ProjectFactory, RegionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two(world, pw):
    return (
        ProjectFactory(pairing=pw.shufu, code="XJ-2019-0101", title="疏附县幼儿园", location=world.shufu),
        ProjectFactory(pairing=pw.jiashi, code="XJ-2019-0102", title="伽师县幼儿园", location=world.jiashi),
    )


def _codes(user, url: str, params: dict) -> set[str]:
    response = api_as(user).get(url, params)
    assert response.status_code == 200, response.content
    return {row["code"] for row in response.json()["results"]}


@pytest.mark.parametrize("region", ["653121", "疏附县", "Shufu County", "shufu county"])
def test_the_project_list_takes_the_region_by_code_or_name(world, two, region):
    assert _codes(world.coordinator, "/api/v1/projects/", {"region": region}) == {"XJ-2019-0101"}


@pytest.mark.parametrize("region", ["653129", "伽师县", "Jiashi County"])
def test_the_pairing_list_takes_the_recipient_region_by_code_or_name(world, pw, region):
    response = api_as(world.coordinator).get("/api/v1/pairings/", {"recipient_region": region})
    assert response.status_code == 200, response.content
    assert [row["id"] for row in response.json()["results"]] == [pw.jiashi.pk]


def test_an_unknown_or_ambiguous_name_is_refused_on_its_parameter(world, two):
    # A second 疏附县 elsewhere (made up for the test: two regions of one name, as there are two 朝阳区).
    RegionFactory(code="999121", name="疏附县", name_en="Shufu County", level="county", parent=world.xinjiang)
    response = api_as(world.coordinator).get("/api/v1/projects/", {"region": "疏附县"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["code"], error["field"]) == ("ambiguous_region", "region")
    assert "653121" in error["message"]
    assert "999121" in error["message"]
    response = api_as(world.coordinator).get("/api/v1/pairings/", {"recipient_region": "无此地"})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["code"], error["field"]) == ("unknown_region", "recipient_region")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_list_pages_offer_the_region_picker_and_filter_by_name(world, two, language):
    client = Client()
    client.force_login(world.coordinator)
    client.cookies["django_language"] = language
    response = client.get("/projects/", {"region": "疏附县"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "XJ-2019-0101" in html
    assert "XJ-2019-0102" not in html
    assert 'list="filter-region-options"' in html
    assert "/regions/options/" in html
    response = client.get("/pairings/", {"recipient_region": "Jiashi County"})
    assert response.status_code == 200
    assert 'list="filter-recipient_region-options"' in response.content.decode()
    refused = client.get("/projects/", {"region": "无此地"})
    assert refused.status_code == 400
    assert "无此地" in refused.content.decode()
