"""Pages by key (projects/keyset.py): the API's `cursor` and the HTML list's first/previous/next/last walk the
list in exactly the order of the pages by number, both ways, for every ordering and filter, within the caller's
scope; a cursor the list did not write is a 400 naming `cursor` (the page: its first page and a message)."""

import base64
import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from projects import keyset, services
from projects import views as project_views
from projects.models import Project
from projects.selectors import projects_visible_to
from tests.conftest import api_as

pytestmark = pytest.mark.django_db

URL = "/api/v1/projects/"


@pytest.fixture
def many(world, pw) -> list[Project]:
    """23 projects in two pairings with ties in every sorted column and some without a budget or a start."""
    now = timezone.now().replace(microsecond=0)
    made = []
    for i in range(23):
        pairing = pw.shufu if i % 3 else pw.jiashi
        title = f"{'疏附' if pairing == pw.shufu else '伽师'}项目{i % 5}"
        p = services.project_create(by=None, pairing=pairing, title=title)
        Project.objects.filter(pk=p.pk).update(
            budget_requested=None if i % 4 == 0 else Decimal(100_000 * (i % 6)),
            approved_budget=Decimal(50_000 * (i % 3)) if i % 7 == 0 else None,
            planned_start=None if i % 5 == 0 else dt.date(2020 + i % 4, 1, 1),
            state=("draft", "proposed", "approved")[i % 3],
            created_at=now - dt.timedelta(days=i // 2),  # pairs created at the same moment
        )
        made.append(p)
    return made


def by_number(client, params: dict) -> list[dict]:
    """The whole list by page number (one page of 200), as the reference order and rows."""
    body = client.get(URL, {**params, "page_size": 200}).json()
    return body["results"]


def walk(client, params: dict, start: str, link: str, size: int = 4) -> tuple[list[dict], list[dict]]:
    """Every page from START following LINK (`next` or `previous`); the rows in list order and the bodies."""
    bodies = []
    body = client.get(URL, {**params, "cursor": start, "page_size": size}).json()
    while True:
        bodies.append(body)
        assert len(body["results"]) <= size
        if not body[link]:
            break
        body = client.get(body[link]).json()
    pages = bodies if link == "next" else bodies[::-1]
    return [row for b in pages for row in b["results"]], bodies


ORDERINGS = ["", "-created_at", "planned_start", "-planned_start", "-budget_requested", "budget_requested,title"]
ORDERINGS += ["state,-created_at", "code", "-title"]
FILTERS = [{}, {"state": "draft,approved"}, {"search": "疏附"}]


@pytest.mark.parametrize("ordering", ORDERINGS)
@pytest.mark.parametrize("filters", FILTERS, ids=["unfiltered", "state", "search"])
def test_a_cursor_walk_both_ways_lists_what_the_pages_by_number_list(world, many, ordering, filters):
    client = api_as(world.coordinator)
    params = {**filters, **({"ordering": ordering} if ordering else {})}
    expected = by_number(client, params)
    assert expected
    forward, bodies = walk(client, params, "first", "next")
    assert forward == expected  # the same rows, field for field, in the same order
    assert {b["count"] for b in bodies} == {len(expected)}
    assert bodies[0]["previous"] is None
    assert bodies[-1]["next"] is None
    backward, bodies = walk(client, params, "last", "previous")
    assert backward == expected
    assert bodies[0]["next"] is None
    assert bodies[-1]["previous"] is None


def test_the_first_and_last_pages_are_the_ends_of_the_list(world, many):
    client = api_as(world.coordinator)
    expected = [r["id"] for r in by_number(client, {"ordering": "-planned_start"})]
    last = client.get(URL, {"cursor": "last", "page_size": 5, "ordering": "-planned_start"}).json()
    assert [r["id"] for r in last["results"]] == expected[-5:]
    assert last["next"] is None
    assert last["count"] == len(expected) == 23
    assert last["first"].endswith("cursor=first&ordering=-planned_start&page_size=5")
    first = client.get(last["first"]).json()
    assert [r["id"] for r in first["results"]] == expected[:5]
    assert client.get(first["last"]).json() == last
    # The previous of the second page is the first page again.
    second = client.get(first["next"]).json()
    assert client.get(second["previous"]).json()["results"] == first["results"]


def test_an_unfiltered_total_is_the_scopes_and_a_filtered_one_is_counted(world, many):
    client = api_as(world.assisting)
    visible = projects_visible_to(world.assisting)
    assert client.get(URL, {"cursor": "first"}).json()["count"] == visible.count()
    drafts = client.get(URL, {"cursor": "first", "state": "draft"}).json()
    assert drafts["count"] == visible.filter(state="draft").count() == len(drafts["results"])
    nothing = client.get(URL, {"cursor": "first", "search": "没有这样的项目"}).json()
    assert (nothing["count"], nothing["results"], nothing["next"], nothing["previous"]) == (0, [], None, None)


def test_a_scoped_walk_never_shows_another_scopes_project(world, pw, many):
    for user in (world.assisting, world.outsider):
        client = api_as(user)
        rows, _bodies = walk(client, {"ordering": "-budget_requested"}, "first", "next", size=3)
        assert [r["id"] for r in rows] == [r["id"] for r in by_number(client, {"ordering": "-budget_requested"})]
        assert {r["id"] for r in rows} == set(projects_visible_to(user).values_list("pk", flat=True))
    # A cursor taken from a wider scope's walk gives the narrower caller only their own rows after it.
    wide = api_as(world.coordinator).get(URL, {"cursor": "first", "page_size": 2}).json()
    narrow = api_as(world.outsider).get(wide["next"]).json()
    assert {r["pairing"] for r in narrow["results"]} == {pw.jiashi.pk}


def _cursor(body) -> str:
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")


STAMP = "2026-01-01T00:00:00+00:00"
MALFORMED = {
    "empty": "",
    "garbage": "not a cursor",
    "bad base64": "%%%",
    "base64 of no JSON": base64.urlsafe_b64encode(b"\xff\xfe{").decode(),
    "JSON not a list": _cursor({"k": 1}),
    "too few parts": _cursor(["-created_at,-id", "n"]),
    "too many parts": _cursor(["-created_at,-id", "n", [STAMP, 1], 1]),
    "other ordering": _cursor(["code,id", "n", ["XIN-000001", 1]]),
    "unknown direction": _cursor(["-created_at,-id", "x", [STAMP, 1]]),
    "values not a list": _cursor(["-created_at,-id", "n", STAMP]),
    "too few values": _cursor(["-created_at,-id", "n", [STAMP]]),
    "id a string": _cursor(["-created_at,-id", "n", [STAMP, "1"]]),
    "id a float": _cursor(["-created_at,-id", "n", [STAMP, 1.5]]),
    "id a boolean": _cursor(["-created_at,-id", "n", [STAMP, True]]),
    "id too large": _cursor(["-created_at,-id", "n", [STAMP, 2**63]]),
    "id empty": _cursor(["-created_at,-id", "n", [STAMP, None]]),
    "stamp not a date": _cursor(["-created_at,-id", "n", ["yesterday", 1]]),
    "stamp without a zone": _cursor(["-created_at,-id", "n", ["2026-01-01T00:00:00", 1]]),
    "stamp empty (never empty)": _cursor(["-created_at,-id", "n", [None, 1]]),
    "too long": "A" * (keyset.MAX_CURSOR_LENGTH + 1),
    "not ASCII": "游标",
}
# Of the code's ordering (`ordering=code`).
MALFORMED_BY_CODE = {
    "a NUL in a string": _cursor(["code,id", "n", ["XIN\x00", 1]]),
    "a number for a string": _cursor(["code,id", "n", [12, 1]]),
    "a string longer than the column": _cursor(["code,id", "n", ["X" * 25, 1]]),
    "JSON nested past the parser's depth": _cursor(["code,id", "n", json.loads("[" * 50 + "]" * 50)]),
}
CASES = [(raw, {}) for raw in MALFORMED.values()] + [(raw, {"ordering": "code"}) for raw in MALFORMED_BY_CODE.values()]


@pytest.mark.parametrize(("raw", "ordering"), CASES, ids=[*MALFORMED, *MALFORMED_BY_CODE])
def test_a_cursor_the_list_did_not_write_is_a_400_naming_cursor(world, many, raw, ordering):
    response = api_as(world.coordinator).get(URL, {"cursor": raw, **ordering})
    assert response.status_code == 400, response.content
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("cursor", "invalid_cursor")]


@pytest.mark.parametrize(
    ("ordering", "values"),
    [
        ("-budget_requested,-id", ["12.345", 1]),
        ("-budget_requested,-id", ["1" * 17, 1]),
        ("planned_start,id", ["2021-02-30", 1]),
    ],
    ids=["three places", "too many digits", "no such day"],
)
def test_a_cursor_value_out_of_its_columns_range_is_a_400(world, many, ordering, values):
    raw = _cursor([ordering, "n", values])
    response = api_as(world.coordinator).get(URL, {"cursor": raw, "ordering": ordering.rsplit(",", 1)[0]})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"


def test_a_cursor_of_another_ordering_is_refused(world, many):
    client = api_as(world.coordinator)
    cursor = client.get(URL, {"cursor": "first", "page_size": 2, "ordering": "code"}).json()["next"]
    raw = cursor.split("cursor=")[1].split("&")[0]
    response = client.get(URL, {"cursor": raw, "ordering": "-code"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"


def test_page_and_cursor_together_is_a_400_naming_cursor(world, many):
    response = api_as(world.coordinator).get(URL, {"cursor": "first", "page": 1})
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("cursor", "page_and_cursor")]


def test_the_pages_by_number_are_as_they_were(world, many):
    body = api_as(world.coordinator).get(URL, {"page": 2, "page_size": 5}).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 23
    assert len(body["results"]) == 5


def test_a_page_by_cursor_costs_two_queries_unfiltered_and_one_filtered(world, many, django_assert_num_queries):
    client = api_as(world.coordinator)
    deep = client.get(URL, {"cursor": "first", "page_size": 4}).json()["next"]
    with django_assert_num_queries(2):  # the page's statement, the scope's total (its figures)
        assert client.get(deep).status_code == 200
    with django_assert_num_queries(2):
        assert client.get(URL, {"cursor": "last", "page_size": 4}).status_code == 200
    with django_assert_num_queries(1):  # the page with its count
        assert client.get(URL, {"cursor": "last", "page_size": 4, "state": "draft"}).status_code == 200


def test_the_schema_documents_the_cursor(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"][URL]["get"]
    cursor = next(p for p in operation["parameters"] if p["name"] == "cursor")
    assert "last" in cursor["description"]
    assert "page" in cursor["description"]
    listing = operation["responses"]["200"]["content"]["application/json"]["schema"]
    ref = listing["$ref"].rsplit("/", 1)[1]
    assert {"first", "last"} <= set(schema["components"]["schemas"][ref]["properties"])


# --- the HTML list --------------------------------------------------------------------------------------------


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(project_views, "PROJECTS_PER_PAGE", 4)


def html_walk(client, query: str, start: str, link: str) -> list[str]:
    pages = []
    response = client.get(f"/projects/{start}{query}")
    while True:
        assert response.status_code == 200
        page = response.context["page"]
        pages.append([p.code for p in page])
        if not getattr(page, link):
            break
        response = client.get(f"/projects/{getattr(page, link)}")
    return [c for p in (pages if link == "next" else pages[::-1]) for c in p]


@pytest.mark.parametrize("sort", ["", "sort=start", "sort=-start", "sort=-budget", "sort=budget", "sort=title"])
@pytest.mark.parametrize("filters", ["", "state=draft", "search=疏附"])
def test_the_html_list_walks_both_ways_in_the_order_it_sorts(client, world, many, monkeypatch, sort, filters):
    client.force_login(world.coordinator)
    query = "&".join(q for q in (filters, sort) if q)
    whole = [p.code for p in client.get(f"/projects/?{query}").context["page"]]  # 50 to a page: all of them
    monkeypatch.setattr(project_views, "PROJECTS_PER_PAGE", 4)
    assert html_walk(client, query, "?", "next") == whole
    assert html_walk(client, f"&{query}" if query else "", "?cursor=last", "previous") == whole
    assert client.get(f"/projects/?{query}").context["page"].total == len(whole)


def test_the_html_links_keep_the_filters_and_the_sort(client, world, pw, many, small_pages):
    client.force_login(world.coordinator)
    response = client.get(f"/projects/?program={pw.program.code}&search=疏附&sort=-start")
    page = response.context["page"]
    assert page.first is None
    assert page.previous is None
    for link in (page.next, page.last):
        assert f"program={pw.program.code}" in link
        assert "search=%E7%96%8F%E9%99%84" in link
        assert "sort=-start" in link
    html = response.content.decode()
    assert 'rel="next"' in html
    assert 'rel="last"' in html
    assert 'rel="prev"' not in html
    second = client.get(f"/projects/{page.next}")
    assert "cursor" not in second.context["page"].first
    assert "sort=-start" in second.context["page"].first
    # The column headers start again from the first page of the new sort, the filters kept.
    assert "cursor=" not in second.content.decode().split('id="projects-table"')[1].split("</thead>")[0]


def test_a_bad_cursor_in_the_page_shows_the_first_page_and_says_so(client, world, many, small_pages):
    client.force_login(world.coordinator)
    first = [p.code for p in client.get("/projects/?sort=code").context["page"]]
    other = client.get("/projects/?sort=-code").context["page"].next.split("cursor=")[1].split("&")[0]
    for raw in ("nonsense", other, "%00", "A" * 5000):
        response = client.get(f"/projects/?sort=code&cursor={raw}")
        assert response.status_code == 200
        assert [p.code for p in response.context["page"]] == first
        assert 'id="cursor-problem"' in response.content.decode()


def test_the_html_total_is_the_scopes_or_counted_when_filtered(client, world, many, small_pages):
    client.force_login(world.assisting)
    visible = projects_visible_to(world.assisting)
    page = client.get("/projects/").context["page"]
    assert page.total == visible.count()
    assert client.get("/projects/?state=approved").context["page"].total == visible.filter(state="approved").count()
    html = client.get("/projects/?state=approved").content.decode()
    assert f'data-total="{visible.filter(state="approved").count()}"' in html


def test_an_html_page_by_cursor_costs_what_the_first_page_costs(
    client, world, many, small_pages, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(world.coordinator)
    with CaptureQueriesContext(connection) as first:
        deep = client.get("/projects/").context["page"].next
    # The page's rows and its total (the scope's figures, or the filtered count) beside what every page reads
    # (the session, the user, the menu): the same however deep, filtered or not.
    for url in (f"/projects/{deep}", "/projects/?cursor=last", "/projects/?cursor=last&state=draft"):
        with django_assert_num_queries(len(first.captured_queries)):
            assert client.get(url).status_code == 200


def test_the_html_list_is_scoped_across_pages(client, world, pw, many, small_pages):
    client.force_login(world.outsider)
    codes = html_walk(client, "", "?", "next")
    assert sorted(codes) == sorted(projects_visible_to(world.outsider).values_list("code", flat=True))
    assert set(Project.objects.filter(code__in=codes).values_list("pairing", flat=True)) == {pw.jiashi.pk}
