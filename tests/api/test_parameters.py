"""What a query string may say to the API, and what the schema says of it (core/api/filter_backend.py,
core/api/pagination.py, core/api/schema.py): a parameter the schema calls a number, a date, a choice or a boolean
is refused with a 400 naming it when it is empty, malformed or repeated — the HTML lists, which send empty fields
for "any", keep reading them as "any"."""

import pytest
from django.test import Client

from tests.conftest import api_as


def _problems(response) -> list[tuple[str, str | None]]:
    return [(problem["field"], problem["code"]) for problem in response.json()["errors"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("/api/v1/projects/?page_size=1.9", [("page_size", "max_decimal_places")]),
        ("/api/v1/projects/?page_size=", [("page_size", "blank")]),
        ("/api/v1/projects/?page=", [("page", "blank")]),
        ("/api/v1/projects/?category=", [("category", "blank")]),
        ("/api/v1/projects/?category=nonsense", [("category", "invalid_choice")]),
        ("/api/v1/fund-flows/?kind=", [("kind", "blank")]),
        ("/api/v1/fund-flows/?date_after=", [("date_after", "blank")]),
        ("/api/v1/organizations/?kind=", [("kind", "blank")]),
        ("/api/v1/organizations/?is_active=maybe", [("is_active", "invalid")]),
        ("/api/v1/organizations/?is_active=", [("is_active", "invalid")]),
        ("/api/v1/deployments/?pairing=", [("pairing", "blank")]),
        ("/api/v1/pairings/?parent=1&parent=2", [("parent", "invalid")]),
        ("/api/v1/regions/?level=", [("level", "blank")]),
        ("/api/v1/pairings/figures/?year=", [("year", "blank")]),
    ],
)
def test_a_refused_parameter_is_a_400_naming_it(world, query, expected):
    response = api_as(world.coordinator).get(query)
    assert response.status_code == 400, response.content
    assert _problems(response) == expected


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/projects/?search=",
        "/api/v1/projects/?state=draft&state=proposed",
        "/api/v1/organizations/?is_active=true",
        "/api/v1/organizations/?is_active=False",
        "/api/v1/projects/?ordering=",
    ],
)
def test_what_the_schema_allows_is_accepted(world, query):
    assert api_as(world.coordinator).get(query).status_code == 200


def test_the_html_list_still_reads_an_empty_field_as_any(world):
    client = Client()
    client.force_login(world.coordinator)
    assert client.get("/projects/?category=&sector=&year=").status_code == 200


def test_a_region_without_a_parent_is_null_as_documented(world):
    response = api_as(world.coordinator).get("/api/v1/regions/650000/")
    assert response.status_code == 200
    assert response.json()["parent"] is None


@pytest.fixture(scope="module")
def openapi() -> dict:
    return Client().get("/api/schema/?format=json").json()


def test_request_bodies_are_json_with_only_their_keys(openapi):
    body = openapi["paths"]["/api/v1/fund-flows/"]["post"]["requestBody"]["content"]
    assert list(body) == ["application/json"]
    component = openapi["components"]["schemas"]["FundFlowRequest"]
    assert component["additionalProperties"] is False
    # A positive amount: no sign, no empty string, not 0.
    assert component["properties"]["amount"]["pattern"].startswith("^(?:[1-9]")


def test_a_patch_that_must_carry_a_field_says_so(openapi):
    operation = openapi["paths"]["/api/v1/fiscal-revenues/{id}/"]["patch"]
    assert operation["requestBody"]["required"] is True
    assert openapi["components"]["schemas"]["PatchedFiscalRevenueCorrectRequest"]["required"] == ["amount"]
    assert "409" in openapi["paths"]["/api/v1/projects/{project_pk}/progress-reports/"]["post"]["responses"]
