"""The HTML lists read their query strings as the API does: the same FilterSet per list (the same names, the same
rows), and a value that does not pass — out of range, not a number, a NUL, a digit only Unicode calls one, an
unknown choice or code, a page that is not there — is a 400 that shows the list page and names the parameter,
never a 500 and never a filter silently left out. Pages: `page` past the last is a 400 too (not the nearest page).
"""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.test import Client

from accounts.models import Role
from evaluation.models import EvaluationRun, IndicatorFramework, RunStatus
from pairings import services as pairing_services
from pairings.models import FiscalRevenue
from projects import services as project_services
from tests.conftest import api_as
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# Each HTML list with the number (and date) parameters it reads: filters of its FilterSet, and its pages.
NUMBERS: dict[str, list[str]] = {
    "/regions/": ["page"],
    "/accounts/directory/": ["organization", "parent"],
    "/pairings/": ["assisting_organization", "parent", "page"],
    "/fiscal-revenues/": ["organization", "year", "page"],
    # Pages by key, not number (projects/keyset.py): a cursor it cannot read shows the first page and says so.
    "/projects/": ["pairing", "year", "assisting_organization"],
    "/evaluation/runs/": ["year", "page"],
    "/evaluation/ratings/": ["page", "spage"],
    "/evaluation/rankings/": ["year", "run"],
}
# As they travel in a query string: far out of range both ways, beyond a float, a NUL, a superscript one, a word,
# a fraction, zero.
BAD_NUMBERS = ["-2.19e270", "1e400", "%00", "%C2%B9", "abc", "2.5", "0"]

# A marker of each list page, to tell the page itself from an error page.
MARKERS = {
    "/regions/": "Regions",
    "/accounts/directory/": 'id="users-table"',
    "/pairings/": 'id="pairings-table"',
    "/fiscal-revenues/": 'id="revenues-table"',
    "/projects/": 'id="projects-table"',
    "/evaluation/runs/": 'id="run-filters"',
    "/evaluation/ratings/": 'id="ratings-filters"',
    "/evaluation/rankings/": 'id="ranking-filters"',
}


@pytest.fixture
def everyone(world):
    """A national coordinator who also rates and scores: every list page shows them everything it has."""
    return UserFactory(
        username="all",
        organization=world.national_office,
        roles=[Role.NATIONAL_COORDINATOR, Role.EVALUATOR, Role.RECIPIENT_OFFICER],
    )


# Pages that refuse parameters but show no table with an empty row.
NOT_TABLES = {"/evaluation/rankings/"}


def page_as(user, url: str):
    client = Client()
    client.force_login(user)
    return client.get(url)


def assert_refused(response, path: str, param: str) -> None:
    html = response.content.decode()
    assert response.status_code == 400, (path, param, response.status_code)
    assert 'id="filter-errors"' in html
    assert f'data-parameter="{param}"' in html
    assert MARKERS[path] in html  # the list page, with its form, not an error page
    if path not in NOT_TABLES:
        # The list was not read, so it does not say that nothing matched.
        assert "Correct the parameters named above to see the list." in html
        assert " match" not in html


@pytest.mark.parametrize("value", BAD_NUMBERS)
@pytest.mark.parametrize(("path", "param"), [(path, param) for path, params in NUMBERS.items() for param in params])
def test_a_number_out_of_range_or_not_a_number_is_a_400_naming_it(world, pw, everyone, path, param, value):
    assert_refused(page_as(everyone, f"{path}?{param}={value}"), path, param)


@pytest.mark.parametrize(
    ("path", "query", "param"),
    [
        ("/projects/", "state=no-such-state", "state"),
        ("/projects/", "region=999999", "region"),
        ("/projects/", "search=%00", "search"),
        ("/projects/", "program=%00", "program"),
        ("/pairings/", "recipient_region=999999", "recipient_region"),
        ("/pairings/", "status=sleeping", "status"),
        ("/regions/", "level=galaxy", "level"),
        ("/regions/", "parent=999999", "parent"),
        ("/accounts/directory/", "role=king", "role"),
        ("/evaluation/runs/", "status=lost", "status"),
    ],
)
def test_an_unknown_choice_or_code_is_a_400_naming_it_not_an_ignored_filter(world, pw, everyone, path, query, param):
    assert_refused(page_as(everyone, f"{path}?{query}"), path, param)


@pytest.mark.parametrize("path", ["/pairings/", "/regions/", "/fiscal-revenues/", "/evaluation/runs/"])
def test_a_page_past_the_last_is_a_400_naming_page(world, pw, everyone, path):
    response = page_as(everyone, f"{path}?page=999")

    assert_refused(response, path, "page")
    assert "There is no page 999" in response.content.decode()


def test_the_refusal_is_said_in_chinese_too(world, pw, everyone):
    everyone.preferred_language = "zh-hans"
    everyone.save(update_fields=["preferred_language"])

    response = page_as(everyone, "/projects/?year=99999")

    html = response.content.decode()
    assert response.status_code == 400
    assert "无法按要求显示列表" in html
    assert "请更正上面列出的参数后再查看列表。" in html
    assert 'data-parameter="year"' in html


def test_a_refused_value_lists_nothing_and_keeps_what_was_typed(world, pw, everyone):
    project_services.project_create(by=None, pairing=pw.shufu, title="疏附县项目")

    response = page_as(everyone, "/projects/?year=1e400&sector=education")

    assert list(response.context["page"]) == []
    html = response.content.decode()
    assert 'value="1e400"' in html
    assert "is-invalid" in html
    assert '<option value="education" selected>' in html


# --- the same rows as the API's filter of the same name -------------------------------------------------------


@pytest.fixture
def spread(world, pw):
    """Projects in both pairings and in a third, of another programme, whose recipient region (Kashgar) holds the
    first's (Shufu), one of them located in Shufu; fiscal revenues; runs of two years."""
    other = pairing_services.program_create(
        by=None, code="kashgar-2011", name="喀什援建", name_en="Kashgar", model="development", start_year=2011
    )
    kashgar = pairing_services.pairing_create(
        by=None,
        program=other,
        assisting_organization=world.shenzhen_gov,
        recipient_region=world.kashgar,
        start_date=dt.date(2011, 1, 1),
    )
    made = {
        "shufu": project_services.project_create(
            by=None, pairing=pw.shufu, title="疏附县学校", sector="education", planned_start=dt.date(2021, 3, 1)
        ),
        "jiashi": project_services.project_create(
            by=None, pairing=pw.jiashi, title="伽师县医院", sector="health", planned_start=dt.date(2022, 3, 1)
        ),
        "kashgar_in_shufu": project_services.project_create(
            by=None, pairing=kashgar, title="喀什地区在疏附的项目", location=world.shufu
        ),
        "kashgar": project_services.project_create(by=None, pairing=kashgar, title="喀什地区项目"),
    }
    for org, year, amount in [
        (world.guangdong_gov, 2010, "1"),
        (world.guangdong_gov, 2011, "2"),
        (world.jiangsu_gov, 2010, "3"),
    ]:
        FiscalRevenue.objects.create(organization=org, year=year, amount=Decimal(amount))
    framework = IndicatorFramework.objects.filter(program=pw.program).first()
    for year, status in [(2014, RunStatus.SUCCEEDED), (2015, RunStatus.FAILED)]:
        EvaluationRun.objects.create(program=pw.program, year=year, framework=framework, status=status)
    return made


def html_ids(user, path: str, query: str, rows=lambda context: context["page"]) -> set[int]:
    response = page_as(user, f"{path}?{query}")
    assert response.status_code == 200, response.content.decode()[:500]
    return {row.pk for row in rows(response.context)}


def api_ids(user, path: str, query: str) -> set[int]:
    response = api_as(user).get(f"/api/v1/{path}?{query}&page_size=200")
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


def test_the_project_list_filters_a_region_as_the_api_does_by_location_or_recipient_region(world, spread, everyone):
    ids = html_ids(everyone, "/projects/", f"region={world.shufu.code}")

    assert ids == {spread["shufu"].pk, spread["kashgar_in_shufu"].pk}
    assert ids == api_ids(everyone, "projects/", f"region={world.shufu.code}")


@pytest.mark.parametrize(
    "query",
    [
        "",
        "region=653100",
        "region=653129",
        "program=xinjiang-2010",
        "program=nope",
        "state=draft",
        "state=draft,proposed",
        "sector=education",
        "year=2021",
        "year=1999",
        "search=县",
        "assisting_organization={world.shenzhen_gov.pk}",
        "pairing={pw.jiashi.pk}",
    ],
)
def test_the_project_list_selects_what_the_api_selects(world, pw, spread, everyone, query):
    query = query.format(world=world, pw=pw)
    assert html_ids(everyone, "/projects/", query) == api_ids(everyone, "projects/", query)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "program=xinjiang-2010",
        "assisting_organization={world.guangdong_gov.pk}",
        "recipient_region=653100",
        "recipient_region={world.shufu.code}",
        "status=active",
        "contracting_mode=diagonal",
    ],
)
def test_the_pairing_list_selects_what_the_api_selects(world, pw, spread, everyone, query):
    query = query.format(world=world)
    # The page's rows are plain values (pairings/views.py): each names its pairing by `pk`.
    rows = lambda context: [SimpleNamespace(pk=row["pk"]) for row in context["rows"]]  # noqa: E731
    assert html_ids(everyone, "/pairings/", query, rows) == api_ids(everyone, "pairings/", query)


@pytest.mark.parametrize("query", ["", "organization={world.guangdong_gov.pk}", "year=2010"])
def test_the_revenue_list_selects_what_the_api_selects(world, spread, everyone, query):
    query = query.format(world=world)
    assert html_ids(everyone, "/fiscal-revenues/", query) == api_ids(everyone, "fiscal-revenues/", query)


@pytest.mark.parametrize("query", ["", "level=county", "parent=653100", "search=疏附", "search=6531"])
def test_the_region_list_selects_what_the_api_selects(world, everyone, query):
    assert html_ids(everyone, "/regions/", query) == api_ids(everyone, "regions/", query)


@pytest.mark.parametrize("query", ["", "year=2014", "status=failed", "program=xinjiang-2010", "program=nope"])
def test_the_run_list_selects_what_the_api_selects(world, spread, everyone, query):
    assert html_ids(everyone, "/evaluation/runs/", query) == api_ids(everyone, "evaluation/runs/", query)


@pytest.mark.parametrize("query", ["", "search=Shufu", "search=alice", "role=assisting_officer", "is_active=true"])
def test_the_directory_selects_the_users_and_organizations_the_api_selects(world, everyone, query):
    assert html_ids(everyone, "/accounts/directory/", query, lambda c: c["users"]) == api_ids(everyone, "users/", query)
    org_query = query if query.startswith("search") else ""
    assert html_ids(everyone, "/accounts/directory/", org_query, lambda c: c["organizations"]) == api_ids(
        everyone, "organizations/", org_query
    )


def test_filters_the_form_does_not_offer_are_kept_when_it_is_sent(world, pw, everyone):
    html = page_as(everyone, f"/projects/?pairing={pw.shufu.pk}&sort=title").content.decode()

    assert f'<input type="hidden" name="pairing" value="{pw.shufu.pk}">' in html
    assert '<input type="hidden" name="sort" value="title">' in html
