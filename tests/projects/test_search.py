"""`?search=` on the project list: words in any order, each matching the code, the title, or a place or party (the
location, the pairing's recipient region, assisting party or programme), in Chinese, English or pinyin; the same
search on the page and in the API; odd input refused or answered empty, never a 500; the trigram index on
PostgreSQL."""

import pytest
from django.db import connection
from django.test import Client

from projects.models import Project
from projects.selectors import project_search
from tests.conftest import api_as
from tests.factories import ProjectFactory, RegionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def found(world, pw):
    """Three projects in Guangdong → Shufu (two kindergartens, one located in a township of Shufu) and one
    kindergarten in Jiangsu → Jiashi."""
    township = RegionFactory(
        code="653121100", name="托克扎克镇", name_en="Tokzak Town", level="township", parent=world.shufu
    )
    return {
        "kg": ProjectFactory(pairing=pw.shufu, code="XJ-2019-0001", title="双语幼儿园新建工程", location=world.shufu),
        "kg_town": ProjectFactory(pairing=pw.shufu, code="XJ-2019-0002", title="乡镇幼儿园", location=township),
        "road": ProjectFactory(pairing=pw.shufu, code="XJ-2019-0003", title="农村公路", location=world.shufu),
        "jiashi": ProjectFactory(pairing=pw.jiashi, code="XJ-2020-0004", title="伽师县幼儿园", location=world.jiashi),
    }


def _codes(user, search: str) -> set[str]:
    response = api_as(user).get("/api/v1/projects/", {"search": search})
    assert response.status_code == 200, response.content
    return {row["code"] for row in response.json()["results"]}


@pytest.mark.parametrize(
    "search",
    [
        "疏附 幼儿园",
        "幼儿园 疏附",
        "幼儿园  疏附县",
        "Shufu 幼儿园",
        "shufu 幼儿园",
        "sfx 幼儿园",
        "幼儿园 653121",
        "广东 幼儿园",
    ],
)
def test_words_in_any_order_find_the_shufu_kindergartens(world, found, search):
    assert _codes(world.coordinator, search) == {"XJ-2019-0001", "XJ-2019-0002"}


def test_a_place_reaches_the_regions_within_it_and_a_party_or_programme_its_projects(world, found):
    assert _codes(world.coordinator, "喀什 幼儿园") == {"XJ-2019-0001", "XJ-2019-0002", "XJ-2020-0004"}
    assert _codes(world.coordinator, "Kashgar kindergarten") == set()  # English titles are not invented
    assert _codes(world.coordinator, "Jiangsu 幼儿园") == {"XJ-2020-0004"}
    assert _codes(world.coordinator, "援疆 公路") == {"XJ-2019-0003"}
    assert _codes(world.coordinator, "xj-2019 公路") == {"XJ-2019-0003"}
    assert _codes(world.coordinator, "2019-0002") == {"XJ-2019-0002"}
    assert _codes(world.coordinator, "疏附 伽师") == set()  # every word must match


def test_the_search_stays_within_the_callers_scope(world, found):
    assert _codes(world.outsider, "幼儿园") == {"XJ-2020-0004"}
    assert _codes(world.assisting, "幼儿园") == {"XJ-2019-0001", "XJ-2019-0002"}


def test_the_page_searches_as_the_api_does(world, found):
    client = Client()
    client.force_login(world.coordinator)
    html = client.get("/projects/", {"search": "幼儿园 疏附"}).content.decode()
    assert "XJ-2019-0001" in html
    assert "XJ-2019-0002" in html
    assert "XJ-2019-0003" not in html
    assert "XJ-2020-0004" not in html


def test_one_selector_reads_for_both(world, found):
    rows = project_search(Project.objects.all(), " 疏附\t幼儿园 ")
    assert {p.code for p in rows} == {"XJ-2019-0001", "XJ-2019-0002"}
    assert project_search(Project.objects.all(), "   ").count() == 4


@pytest.mark.parametrize("search", ["%", "_", "'", '"', "\\", "%%幼儿园", "(", "[a-z]*", "😀", "١٢٣", "x" * 200])
def test_odd_characters_answer_an_empty_or_plain_result(world, found, search):
    response = api_as(world.coordinator).get("/api/v1/projects/", {"search": search})
    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize("search", ["x" * 201, " ".join("abcdefghi"), "幼儿园\x00"])
def test_too_long_too_many_words_or_a_nul_is_a_400_naming_search(world, found, search, settings):
    response = api_as(world.coordinator).get("/api/v1/projects/", {"search": search})
    assert response.status_code == 400
    assert "search" in str(response.json())
    client = Client()
    client.force_login(world.coordinator)
    page = client.get("/projects/", {"search": search})
    assert page.status_code == 400


def test_an_unknown_ordering_is_a_400_naming_ordering(world, found):
    response = api_as(world.coordinator).get("/api/v1/projects/", {"ordering": "nonsense", "search": "幼儿园"})
    assert response.status_code == 400
    assert "ordering" in str(response.json())
    ok = api_as(world.coordinator).get("/api/v1/projects/", {"ordering": "-code", "search": "幼儿园 疏附"})
    assert [r["code"] for r in ok.json()["results"]] == ["XJ-2019-0002", "XJ-2019-0001"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram index is PostgreSQL's")
def test_the_title_search_uses_the_trigram_index(world, found):
    for n in range(300):
        ProjectFactory(pairing=found["road"].pairing, title=f"道路{n}")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE projects_project")
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: ask whether the index *can* serve
        # The count the list takes of the matches (the page then reads the newest of them).
        sql, params = project_search(Project.objects.order_by(), "幼儿园").values("pk").query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "projects_project_title_trgm" in plan, plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram index is PostgreSQL's")
def test_the_trigram_indexes_exist(world):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE %s", ["%_trgm"])
        names = {row[0] for row in cursor.fetchall()}
    assert {
        "projects_project_title_trgm",
        "projects_project_code_trgm",
        "core_region_name_trgm",
        "core_region_name_en_trgm",
        "accounts_organization_name_trgm",
        "accounts_organization_name_en_trgm",
    } <= names


def test_a_place_added_after_a_search_is_found_at_once(world, found):
    assert _codes(world.coordinator, "莎车 幼儿园") == set()  # the lookup of 莎车 is now kept
    shache = RegionFactory(code="653125", name="莎车县", name_en="Shache County", level="county", parent=world.kashgar)
    ProjectFactory(pairing=found["jiashi"].pairing, code="XJ-2021-0005", title="第二幼儿园", location=shache)
    assert _codes(world.coordinator, "莎车 幼儿园") == {"XJ-2021-0005"}
    assert _codes(world.coordinator, "scx 幼儿园") == {"XJ-2021-0005"}
