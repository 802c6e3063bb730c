"""The pairing list searched and sorted: `?search=` (words in any order over the recipient region, the assisting
party and the programme, in Chinese, English or pinyin) and `ordering` (names, status, start, and the money the
list shows) in the API; the same search box and sortable column headers on the page, in both languages."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from core.models import RegionLevel
from pairings import services
from pairings.selectors import PAIRING_ORDERINGS
from tests.conftest import api_as
from tests.factories import AnnualMandateFactory, FundFlowFactory, RegionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def money(world, pw):
    """Shufu: 1 000 000 required, 800 000 received (80 %); Jiashi: 1 000 000 required, 300 000 received (30 %); a
    third pairing, Shenzhen → Shache (in Kashgar too), with nothing required."""
    AnnualMandateFactory(pairing=pw.shufu, year=2015, funds_required=Decimal("1000000.00"))
    AnnualMandateFactory(pairing=pw.jiashi, year=2015, funds_required=Decimal("1000000.00"))
    FundFlowFactory(pairing=pw.shufu, amount=Decimal("800000.00"))
    FundFlowFactory(pairing=pw.jiashi, amount=Decimal("300000.00"))
    shache = services.pairing_create(
        by=None,
        program=pw.program,
        assisting_organization=world.shenzhen_gov,
        recipient_region=RegionFactory(
            code="653125", name="莎车县", name_en="Shache County", level=RegionLevel.COUNTY, parent=world.kashgar
        ),
        start_date=dt.date(2012, 1, 1),
    )
    return {"shufu": pw.shufu, "jiashi": pw.jiashi, "shache": shache}


def _ids(user, **params) -> list[int]:
    response = api_as(user).get("/api/v1/pairings/", params)
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.parametrize(
    "search", ["广东 疏附", "疏附 广东", "Shufu Guangdong", "shufu", "SFX", "sfx 援疆", "653121", "广东省人民政府"]
)
def test_words_in_any_order_find_the_pairing(world, money, search):
    assert _ids(world.coordinator, search=search) == [money["shufu"].pk]


def test_a_region_finds_the_pairings_within_it_and_a_programme_all_of_its_own(world, money):
    assert set(_ids(world.coordinator, search="喀什")) == {p.pk for p in money.values()}
    assert set(_ids(world.coordinator, search="Xinjiang paired")) == {p.pk for p in money.values()}
    assert _ids(world.coordinator, search="江苏 疏附") == []
    assert _ids(world.outsider, search="疏附") == []  # not in the outsider's scope


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("fulfilment", ["jiashi", "shufu", "shache"]),  # none required: last both ways
        ("-fulfilment", ["shufu", "jiashi", "shache"]),
        ("received", ["shache", "jiashi", "shufu"]),
        ("-funds_required,received", ["jiashi", "shufu", "shache"]),
        ("recipient_region", ["jiashi", "shufu", "shache"]),  # 伽师县, 疏附县, 莎车县 (by code point)
    ],
)
def test_the_api_orders_by_the_figures_the_list_shows(world, money, ordering, expected):
    assert _ids(world.coordinator, ordering=ordering) == [money[name].pk for name in expected]


def test_english_names_order_in_english(world, money):
    client = api_as(world.coordinator)
    response = client.get("/api/v1/pairings/", {"ordering": "assisting_organization"}, HTTP_ACCEPT_LANGUAGE="en")
    assert [r["assisting_organization_name"] for r in response.json()["results"]] == [
        "Guangdong",
        "Jiangsu",
        "Shenzhen",
    ]


@pytest.mark.parametrize("ordering", ["nonsense", "fulfilment,-x", "id;drop", "-", "assisting_organization__name"])
def test_an_unknown_ordering_is_a_400_naming_ordering(world, money, ordering):
    response = api_as(world.coordinator).get("/api/v1/pairings/", {"ordering": ordering})
    assert response.status_code == 400
    body = str(response.json())
    assert "ordering" in body
    assert "fulfilment" in body


@pytest.mark.parametrize("search", ["x" * 201, "a b c d e f g h i", "疏附\x00"])
def test_a_search_too_long_or_of_too_many_words_is_a_400_naming_search(world, money, search):
    response = api_as(world.coordinator).get("/api/v1/pairings/", {"search": search})
    assert response.status_code == 400
    assert "search" in str(response.json())


@pytest.mark.parametrize("search", ["%", "_", "'; --", "😀", "x" * 200])
def test_odd_characters_find_nothing(world, money, search):
    assert _ids(world.coordinator, search=search) == []


def test_the_orderings_are_the_apis_schema(world):
    schema = Client().get("/api/schema/", {"format": "json"})
    if schema.status_code != 200:
        pytest.skip("the schema is served elsewhere")
    operation = schema.json()["paths"]["/api/v1/pairings/"]["get"]
    ordering = next(p for p in operation["parameters"] if p["name"] == "ordering")
    assert all(name in ordering["schema"]["pattern"] for name in PAIRING_ORDERINGS)
    search = next(p for p in operation["parameters"] if p["name"] == "search")
    assert "any order" in search["description"]


@pytest.mark.parametrize(
    ("language", "header", "search_label"),
    [("zh-hans", "完成率", "地区、支援机构或援助计划"), ("en", "Fulfilment", "Region, party or programme")],
)
def test_the_page_sorts_by_its_headers_and_searches(world, money, language, header, search_label):
    client = Client()
    client.force_login(world.coordinator)
    client.cookies["django_language"] = language
    html = client.get("/pairings/").content.decode()
    assert f'placeholder="{search_label}"' in html
    assert f'sort=fulfilment">{header}</a>' in html
    html = client.get("/pairings/", {"sort": "-fulfilment"}).content.decode()
    order = [html.index(f'/pairings/{money[name].pk}/"') for name in ("shufu", "jiashi", "shache")]
    assert order == sorted(order)
    assert f'sort=fulfilment">{header} ▼</a>' in html
    assert '<input type="hidden" name="sort" value="-fulfilment">' in html
    html = client.get("/pairings/", {"search": "疏附 广东", "sort": "fulfilment"}).content.decode()
    assert f'/pairings/{money["shufu"].pk}/"' in html
    assert f'/pairings/{money["jiashi"].pk}/"' not in html
    assert client.get("/pairings/", {"sort": "nonsense"}).status_code == 200  # an unknown sort: the default order
    assert client.get("/pairings/", {"search": "x" * 201}).status_code == 400
