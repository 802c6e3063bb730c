"""Odd input answered with a 400 (or 404) that names what was wrong, never a 500: Unicode digits, NUL bytes,
years no programme can have. Each test is a reproducer from issue 11."""

import pytest

from tests.conftest import api_as

pytestmark = pytest.mark.django_db

LISTS_WITH_PROGRAM = [
    "/api/v1/pairings/",
    "/api/v1/projects/",
    "/api/v1/evaluation/frameworks/",
    "/api/v1/evaluation/runs/",
    "/api/v1/evaluation/project-scores/",
    "/api/v1/evaluation/scorecards/",
    "/api/v1/evaluation/rankings/",
]


def test_a_unicode_digit_as_a_programme_is_not_found(world, pw):
    response = api_as(world.coordinator).get("/api/v1/programs/%C2%B9/")
    assert response.status_code == 404


@pytest.mark.parametrize("path", LISTS_WITH_PROGRAM)
def test_a_unicode_digit_as_the_program_filter_is_not_a_server_error(world, pw, path):
    response = api_as(world.coordinator).get(path + "?program=%C2%B9")
    assert response.status_code in (200, 400), response.content


def test_a_nul_byte_in_the_recipient_region_of_a_new_pairing_is_a_400_naming_the_field(world, pw):
    response = api_as(world.coordinator).post(
        "/api/v1/pairings/",
        {
            "program": pw.program.pk,
            "assisting_organization": world.guangdong_gov.pk,
            "recipient_region": "65\x003129",
            "start_date": "2020-01-01",
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "recipient_region" in [e["field"] for e in response.json()["errors"]]


def test_a_nul_byte_in_the_location_of_a_new_project_is_a_400_naming_the_field(world, pw):
    response = api_as(world.assisting).post(
        "/api/v1/projects/",
        {"pairing": pw.shufu.pk, "title": "x", "location": "\x00", "category": "education"},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "location" in [e["field"] for e in response.json()["errors"]]


DETAILS = [
    "/api/v1/regions/{}/",
    "/api/v1/organizations/{}/",
    "/api/v1/users/{}/",
    "/api/v1/programs/{}/",
    "/api/v1/pairings/{}/",
    "/api/v1/pairings/1/mandates/{}/",
    "/api/v1/fiscal-revenues/{}/",
    "/api/v1/fund-flows/{}/",
    "/api/v1/projects/{}/",
    "/api/v1/projects/{}/history/",
    "/api/v1/evaluation/runs/{}/",
    "/api/v1/evaluation/frameworks/{}/",
]


@pytest.mark.parametrize("value", ["%C2%B9", "%00", "1%00", "99999999999999999999999", "%EF%BC%91"])
@pytest.mark.parametrize("path", DETAILS)
def test_an_odd_id_in_a_path_is_not_found(world, pw, path, value):
    response = api_as(world.coordinator).get(path.format(value))
    assert response.status_code == 404, (path, value, response.content[:300])


QUERIES = [
    "/api/v1/organizations/?region={}",
    "/api/v1/organizations/?search={}",
    "/api/v1/users/?search={}",
    "/api/v1/regions/?code={}",
    "/api/v1/regions/?parent={}",
    "/api/v1/regions/?search={}",
    "/api/v1/pairings/?program={}",
    "/api/v1/pairings/?recipient_region={}",
    "/api/v1/projects/?region={}",
    "/api/v1/projects/?search={}",
    "/api/v1/projects/?program={}",
    "/api/v1/evaluation/project-scores/?indicator={}",
    "/api/v1/evaluation/rankings/?program={}",
]


@pytest.mark.parametrize("value", ["%00", "a%00b", "%C2%B9", "%EF%BC%91"])
@pytest.mark.parametrize("query", QUERIES)
def test_an_odd_value_in_a_query_is_refused_or_matches_nothing(world, pw, query, value):
    response = api_as(world.coordinator).get(query.format(value))
    assert response.status_code in (200, 400), (query, value, response.content[:300])
    if response.status_code == 200:
        assert response.json()["count"] == 0


# --- programme years ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"start_year": 0}, [("min_value", "start_year")]),
        ({"start_year": 20100}, [("max_value", "start_year")]),
        ({"start_year": 2020, "end_year": 2019}, [("dates_out_of_order", "end_year")]),
        ({"start_year": 2020, "end_year": 0}, [("min_value", "end_year")]),
    ],
    ids=["year-0", "absurd", "end-before-start", "end-0"],
)
def test_a_programme_with_years_out_of_range_is_a_400_naming_the_year(world, body, expected):
    response = api_as(world.coordinator).post(
        "/api/v1/programs/", {"code": "odd-years", "name": "年份", "model": "development", **body}, format="json"
    )

    assert response.status_code == 400
    assert [(e["code"], e["field"]) for e in response.json()["errors"]] == expected


def test_changing_a_programme_to_year_0_is_a_400(world, pw):
    response = api_as(world.coordinator).patch(f"/api/v1/programs/{pw.program.pk}/", {"start_year": 0}, format="json")

    assert response.status_code == 400
    assert [(e["code"], e["field"]) for e in response.json()["errors"]] == [("min_value", "start_year")]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, None, [("invalid_year", "start_year")]),
        (1800, 3000, [("invalid_year", "start_year"), ("invalid_year", "end_year")]),
        (2020, 2019, [("dates_out_of_order", "end_year")]),
    ],
)
def test_the_service_holds_the_rule_for_every_caller(world, pw, start, end, expected):
    from core.errors import DomainError
    from pairings import services

    with pytest.raises(DomainError) as refused:
        services.program_create(by=None, code="odd", name="x", model="development", start_year=start, end_year=end)
    with pytest.raises(DomainError) as refused_change:
        services.program_update(by=None, program=pw.program, start_year=start, end_year=end)

    assert [(p.code, p.field) for p in refused.value.problems] == expected
    assert [(p.code, p.field) for p in refused_change.value.problems] == expected


PAGES = [
    "/pairings/?program={}",
    "/pairings/?recipient_region={}",
    "/projects/?program={}",
    "/projects/?region={}",
    "/projects/?search={}",
    "/regions/?search={}",
    "/regions/?code={}",
    "/evaluation/rankings/?program={}&year=2020",
    "/evaluation/rankings/?program=1&year={}",
    "/evaluation/runs/?program={}",
    "/evaluation/runs/compare/?a={}&b=1",
    "/evaluation/frameworks/?program={}",
    "/fiscal-revenues/?organization={}",
    "/accounts/directory/?search={}",
    "/pairings/new/?program={}",
    "/projects/new/?pairing={}",
]


@pytest.mark.parametrize("value", ["%00", "%C2%B9", "99999999999999999999999"])
@pytest.mark.parametrize("page", PAGES)
def test_an_odd_value_on_a_page_is_never_a_server_error(client, world, pw, page, value):
    client.force_login(world.coordinator)
    response = client.get(page.format(value))
    assert response.status_code in (200, 400, 404), (page, value, response.status_code)
