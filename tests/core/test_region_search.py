"""Finding a region by pinyin: the full pinyin (any case, with or without spaces) or its initials, as the region
picker and `?search=` on regions do; the pinyin keys kept on every write (save, bulk load, migration)."""

import pytest
from django.test import Client

from core.models import Region, RegionLevel
from core.region_names import search_keys
from core.selectors import region_search
from tests.conftest import api_as
from tests.factories import RegionFactory

pytestmark = pytest.mark.django_db

SHUFU = '<option value="653121">疏附县 · Shufu County (653121)</option>'


@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("疏附县", ("shufuxian", "sfx")),
        ("长沙市", ("changshashi", "css")),  # the place-name reading of 长
        ("长子县", ("zhangzixian", "zzx")),  # a whole-part fix
        ("绿春县", ("lvchunxian", "lcx")),  # ü typed as v
        ("西安市", ("xianshi", "xas")),
    ],
)
def test_the_search_keys_of_a_name(name, keys):
    assert search_keys(name) == keys


@pytest.mark.parametrize("typed", ["shufu", "SHUFU", "ShuFu", "Shu Fu", "shu fu xian", "shufuxian", "sfx", "SFX", "sf"])
def test_the_picker_offers_shufu_for_its_pinyin_and_initials(world, typed):
    client = Client()
    client.force_login(world.assisting)
    html = client.get("/regions/options/", {"field": "location", "location": typed}).content.decode()
    assert SHUFU in html


def test_initials_and_pinyin_match_from_the_start_only(world):
    assert not region_search(Region.objects.all(), "fx").filter(code="653121").exists()
    assert not region_search(Region.objects.all(), "fuxian").filter(code="653121").exists()


def test_words_in_any_order_over_names_and_codes(world):
    found = lambda text: set(region_search(Region.objects.all(), text).values_list("code", flat=True))  # noqa: E731
    assert found("County Shufu") == {"653121"}
    assert found("县 6531") == {"653121", "653129"}
    assert found("疏附 伽师") == set()
    assert found("  ") == set(Region.objects.values_list("code", flat=True))


def test_the_keys_follow_the_name_on_save(world):
    region = RegionFactory(
        code="653122", name="疏勒县", name_en="Shule County", level=RegionLevel.COUNTY, parent=world.kashgar
    )
    assert (region.name_pinyin, region.name_initials) == ("shulexian", "slx")
    region.name = "莎车县"
    region.save(update_fields=["name"])
    region.refresh_from_db()
    assert (region.name_pinyin, region.name_initials) == ("shachexian", "scx")


def test_the_regions_api_searches_by_words_and_pinyin(world):
    client = api_as(world.assisting)
    for text in ("sfx", "shu fu", "Shufu County", "县 疏附", "6531 shufu"):
        response = client.get("/api/v1/regions/", {"search": text})
        assert response.status_code == 200
        assert [r["code"] for r in response.json()["results"]] == ["653121"], text
    for text in ("x" * 201, "a b c d e f g h i"):
        response = client.get("/api/v1/regions/", {"search": text})
        assert response.status_code == 400
        assert "search" in response.json()["errors"][0].get("field", "") or "search" in str(response.json())
    for text in ("%", "_", "😀", "'", "x" * 200):
        response = client.get("/api/v1/regions/", {"search": text})
        assert response.status_code == 200
        assert response.json()["count"] == 0


def test_the_region_browser_searches_as_the_api(world):
    client = Client()
    client.force_login(world.assisting)
    html = client.get("/regions/", {"search": "sfx"}).content.decode()
    assert "653121" in html
    assert "653129" not in html
