"""Every number a query string gives the API is a whole number in range, or a 400 naming the parameter.

A fuzzer found integer filters answering 500 (an overflow) when given a huge number. The lists below are read from
the router, so a list or a number filter added later is covered without editing this file."""

import pytest
from django_filters import NumberFilter

from config.api_router import router
from core.api.bounds import BIGINT_MAX, SMALLINT_MAX
from core.api.filters import FilterSet, IntegerFilter
from tests.conftest import api_as

BAD_NUMBERS = {
    "huge": "9" * 40,
    "negative-huge": "-2.19e270",
    "not-a-number": "abc",
    "float": "1.5",
}


def _lists_with_filters() -> list[tuple[str, type[FilterSet]]]:
    """(URL, FilterSet) of every list at a fixed address (nested lists need a parent's id in the URL)."""
    return [
        (f"/api/v1/{prefix}/", viewset.filterset_class)
        for prefix, viewset, _basename in router.registry
        if "(?P<" not in prefix and getattr(viewset, "filterset_class", None) is not None
    ]


def _number_filters() -> list[tuple[str, str]]:
    return [
        (url, name)
        for url, filterset in _lists_with_filters()
        for name, filter_ in filterset.base_filters.items()
        if isinstance(filter_, NumberFilter)
    ]


def _field_errors(response) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for error in response.json()["errors"]:
        out.setdefault(error["field"], []).append(error["code"])
    return out


@pytest.mark.parametrize(
    ("url", "params", "named"),
    [
        ("/api/v1/pairings/", {"assisting_organization": "-2.19e270"}, "assisting_organization"),
        ("/api/v1/organizations/", {"parent": "-1.4e25"}, "parent"),
        ("/api/v1/deployments/", {"pairing": "-1.8e308", "page_size": "-13543"}, "pairing"),
        ("/api/v1/deployments/", {"page_size": "-13543"}, "page_size"),
        ("/api/v1/projects/", {"assisting_organization": "-2.19e270"}, "assisting_organization"),
        ("/api/v1/projects/", {"pairing": "-1.8e308", "page_size": "-13543"}, "pairing"),
        ("/api/v1/users/", {"organization": "-1.4e25"}, "organization"),
    ],
)
def test_the_query_strings_the_fuzzer_found_answer_400_naming_the_parameter(world, url, params, named):
    response = api_as(world.coordinator).get(url, params)
    assert response.status_code == 400, response.content
    assert named in _field_errors(response)


def test_every_list_with_filters_is_covered():
    urls = {url for url, _filterset in _lists_with_filters()}
    assert {"/api/v1/pairings/", "/api/v1/organizations/", "/api/v1/deployments/", "/api/v1/projects/"} <= urls
    assert "/api/v1/users/" in urls


@pytest.mark.parametrize(("url", "filterset"), _lists_with_filters())
def test_every_number_filter_is_a_bounded_whole_number(url, filterset):
    assert issubclass(filterset, FilterSet), f"{filterset.__name__} should derive from core.api.filters.FilterSet"
    for name, filter_ in filterset.base_filters.items():
        if isinstance(filter_, NumberFilter):
            assert isinstance(filter_, IntegerFilter), f"{url} ?{name}= is not an IntegerFilter"
            assert filter_.extra["min_value"] >= -BIGINT_MAX - 1, name
            assert filter_.extra["max_value"] <= BIGINT_MAX, name


@pytest.mark.parametrize(("url", "name"), _number_filters())
def test_a_number_filter_refuses_what_is_not_a_whole_number_in_range(world, url, name):
    client = api_as(world.coordinator)
    for value in BAD_NUMBERS.values():
        response = client.get(url, {name: value})
        assert response.status_code == 400, (value, response.content)
        assert name in _field_errors(response), value
    assert client.get(url, {name: "1"}).status_code == 200


@pytest.mark.parametrize("url", ["/api/v1/organizations/", "/api/v1/projects/", "/api/v1/evaluation/runs/"])
def test_page_must_be_a_whole_number_from_1(world, url):
    client = api_as(world.coordinator)
    for value in [*BAD_NUMBERS.values(), "0", "-1", "last"]:
        response = client.get(url, {"page": value})
        assert response.status_code == 400, (value, response.content)
        assert set(_field_errors(response)) == {"page"}, value


@pytest.mark.parametrize("url", ["/api/v1/organizations/", "/api/v1/projects/", "/api/v1/deployments/"])
def test_page_size_must_be_a_whole_number_from_1(world, url):
    client = api_as(world.coordinator)
    for value in ["-2.19e270", "abc", "1.5", "0", "-13543"]:
        response = client.get(url, {"page_size": value})
        assert response.status_code == 400, (value, response.content)
        assert set(_field_errors(response)) == {"page_size"}, value
    # A whole number above 200 counts as 200, however large.
    assert client.get(url, {"page_size": "9" * 40}).status_code == 200


@pytest.mark.parametrize("url", ["/api/v1/organizations/", "/api/v1/projects/"])
def test_a_page_past_the_last_is_still_a_404(world, url):
    assert api_as(world.coordinator).get(url, {"page": 2**31 - 1}).status_code == 404


def test_the_ranking_refuses_a_run_or_year_that_is_not_a_whole_number_in_range(world):
    client = api_as(world.coordinator)
    for value in BAD_NUMBERS.values():
        response = client.get("/api/v1/evaluation/rankings/", {"run": value})
        assert response.status_code == 400
        assert "run" in _field_errors(response)
        response = client.get("/api/v1/evaluation/rankings/", {"program": "xinjiang-2010", "year": value})
        assert response.status_code == 400
        assert "year" in _field_errors(response)


def test_the_schema_documents_the_ranges(world):
    schema = api_as(world.coordinator).get("/api/schema/", {"format": "json"}).json()
    parameters = {
        (path, parameter["name"]): parameter["schema"]
        for path, operations in schema["paths"].items()
        for parameter in operations.get("get", {}).get("parameters", [])
        if parameter["in"] == "query"
    }
    assert parameters["/api/v1/pairings/", "assisting_organization"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": BIGINT_MAX,
    }
    assert parameters["/api/v1/evaluation/runs/", "year"] == {"type": "integer", "minimum": 1, "maximum": SMALLINT_MAX}
    assert parameters["/api/v1/deployments/", "page"]["minimum"] == 1
    assert parameters["/api/v1/deployments/", "page_size"]["minimum"] == 1
    for url, name in _number_filters():
        assert {"minimum", "maximum"} <= set(parameters[url, name]), (url, name)
