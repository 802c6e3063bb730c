"""Organizations searched by words in any order over the Chinese and English names: the API's `search` and the
directory page (which filters as the API does)."""

import pytest
from django.test import Client

from tests.conftest import api_as

pytestmark = pytest.mark.django_db


def _names(user, search: str) -> set[str]:
    response = api_as(user).get("/api/v1/organizations/", {"search": search})
    assert response.status_code == 200, response.content
    return {row["name"] for row in response.json()["results"]}


@pytest.mark.parametrize("search", ["广东 政府", "人民政府 广东省", "Guangdong", "guangdong 人民"])
def test_words_in_any_order_find_the_organization(world, search):
    assert _names(world.coordinator, search) == {"广东省人民政府"}


def test_every_word_must_match(world):
    assert _names(world.coordinator, "人民政府") == {
        "广东省人民政府",
        "深圳市人民政府",
        "江苏省人民政府",
        "疏附县人民政府",
    }
    assert _names(world.coordinator, "广东 江苏") == set()


@pytest.mark.parametrize("search", ["%", "_", "😀", "'", "x" * 200])
def test_odd_characters_find_nothing(world, search):
    assert _names(world.coordinator, search) == set()


@pytest.mark.parametrize("search", ["x" * 201, "a b c d e f g h i", "广东\x00"])
def test_too_long_or_too_many_words_is_a_400_naming_search(world, search):
    response = api_as(world.coordinator).get("/api/v1/organizations/", {"search": search})
    assert response.status_code == 400
    assert "search" in str(response.json())


def test_the_directory_searches_organizations_as_the_api(world):
    client = Client()
    client.force_login(world.coordinator)
    client.cookies["django_language"] = "zh-hans"
    html = client.get("/accounts/directory/", {"search": "政府 深圳"}).content.decode()
    assert "深圳市人民政府" in html
    assert "江苏省人民政府" not in html
    client.cookies["django_language"] = "en"
    html = client.get("/accounts/directory/", {"search": "alice guangdong"}).content.decode()
    assert ">alice</a>" in html
    assert ">bob</a>" not in html
