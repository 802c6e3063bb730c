"""The home per role and the one inbox: each of the eight demo users' home leads with what waits for them, each
count links to a list in "My tasks" holding exactly those items, and the home, "My tasks" and the navigation's
count are the same numbers (core.worklist), at a bounded number of queries."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.demo import USERS
from core.worklist import inbox, kinds_for, waiting_for, waiting_total
from evaluation.models import ExpertScore
from evaluation.work import projects_to_score
from projects import services
from tests.core.home_world import HomeWorld, _project, make_home_world, waiting_counts

pytestmark = pytest.mark.django_db

HOME = "/"
TASKS = "/projects/tasks/"
DEMO = [u.username for u in USERS]


@pytest.fixture
def hw(db) -> HomeWorld:
    return make_home_world()


def login(client, user) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user)


def home_counts(response) -> dict[str, int]:  # type: ignore[no-untyped-def]
    html = response.content.decode()
    return {k: int(n) for k, n in re.findall(r'class="[^"]*dk-stat"[^>]*data-kind="(\w+)" data-count="(\d+)"', html)}


@pytest.mark.parametrize("username", DEMO)
def test_the_home_leads_with_what_waits_and_each_count_links_to_exactly_those_items(client, hw, username):
    user = hw.users[username]
    login(client, user)

    response = client.get(HOME)

    assert response.status_code == 200
    panels = response.context["panels"]
    assert panels[0]["key"] == "waiting"  # before any figure
    expected = waiting_counts(user)
    assert home_counts(response) == expected
    if username == "observer":
        assert expected == {}
        assert 'id="waiting-none"' in response.content.decode()
    else:
        assert sum(expected.values()) > 0, "the world gives every working role something to do"
    html = response.content.decode()
    for kind in kinds_for(user):
        link = f'href="{TASKS}?kind={kind.key}"'
        assert (link in html) == (expected[kind.key] > 0)
        listed = client.get(TASKS, {"kind": kind.key})
        assert listed.status_code == 200
        rows = listed.context["rows"]
        assert len(rows) == expected[kind.key]
        assert {r.url for _, r in rows} == {kind.row(o).url for o in kind.items(user)}
        assert all(k.key == kind.key for k, _ in rows)


@pytest.mark.parametrize("username", DEMO)
def test_home_my_tasks_and_the_navigation_count_are_the_same_numbers(client, hw, username):
    user = hw.users[username]
    login(client, user)

    home = client.get(HOME)
    tasks = client.get(TASKS)

    in_tasks = {w.key: w.count for w in tasks.context["waiting"]}
    assert home_counts(home) == in_tasks
    # The whole inbox holds every waiting item (fewer than 50 of each here).
    assert len(tasks.context["rows"]) == sum(in_tasks.values())
    total = sum(in_tasks.values())
    badge = re.search(r'id="nav-tasks-count">(\d+)<', tasks.content.decode())
    if total:
        assert badge
        assert int(badge.group(1)) == total
        assert {i["key"]: i["badge"] for i in tasks.context["nav_items"]}["tasks"] == total
    else:
        assert badge is None
    assert waiting_total(user) == total


@pytest.mark.parametrize("username", [u for u in DEMO if u != "observer"])
def test_the_first_waiting_link_leads_to_the_expected_item(client, hw, username):
    user = hw.users[username]
    login(client, user)
    kind, title = hw.first[username]

    html = client.get(HOME).content.decode()
    first = re.search(r'class="text-decoration-none dk-waiting-link" href="([^"]+)"', html)

    assert first
    assert first.group(1) == f"{TASKS}?kind={kind}"
    listed = client.get(first.group(1)).content.decode()
    assert title in listed


def test_evaluation_work_is_in_the_inbox(client, hw):
    """The evaluator's expert scores and the recipient officer's projects to rate are "My tasks" too."""
    evaluator, recipient = hw.users["evaluator"], hw.users["recipient_officer"]
    login(client, evaluator)
    rows = client.get(TASKS).context["rows"]
    assert {k.key for k, _ in rows} == {"expert_scores", "runs_failed"}
    assert any("/assess/#expert-scores" in r.url for _, r in rows)
    # The ratings worklist's "awaiting your expert score" is the same set.
    ratings = client.get(reverse("evaluation:ratings"))
    assert {p.pk for p in ratings.context["to_score"]} == set(projects_to_score(evaluator).values_list("pk", flat=True))

    login(client, recipient)
    rows = client.get(TASKS).context["rows"]
    assert [k.key for k, _ in rows] == ["ratings"]
    assert "疏附县已验收卫生院" in rows[0][1].title


def test_an_item_done_leaves_the_counts(client, hw):
    evaluator = hw.users["evaluator"]
    before = waiting_counts(evaluator)["expert_scores"]
    project = projects_to_score(evaluator).first()
    assert project is not None
    ExpertScore.objects.create(project=project, evaluator=evaluator, indicator_code="quality", score=80, comment="好")

    assert waiting_counts(evaluator)["expert_scores"] == before - 1


def test_the_inbox_is_sorted_by_due_date_undated_last(hw):
    world, pw, assisting = hw.world, hw.pw, hw.users["assisting_officer"]
    building = services.project_create(
        by=assisting,
        pairing=pw.shufu,
        title="疏附县第二在建项目",
        category="infrastructure",
        sector="education",
        location=world.shufu,
        budget_requested=Decimal(1000),
        planned_start=dt.date(2024, 3, 1),
        planned_end=dt.date(2025, 8, 31),
    )
    today = timezone.localdate()
    services.project_submit(project=building, by=assisting)
    services.project_approve(project=building, by=hw.users["approver"])
    services.project_start(project=building, by=assisting, actual_start=dt.date(2024, 3, 15))
    services.inspection_record(
        by=hw.users["supervisor"],
        project=building,
        date=today - dt.timedelta(days=60),
        kind="routine",
        result="failed",
        findings="排水不畅",
        rectifications=[
            {"finding": "疏通排水沟", "deadline": today + dt.timedelta(days=5)},
            {"finding": "补做防水层", "deadline": today - dt.timedelta(days=30)},
        ],
    )

    rows = inbox(assisting)

    dues = [r.due for _, r in rows]
    dated = [d for d in dues if d is not None]
    assert dated == sorted(dated)
    assert len(dated) == 3
    assert dues[: len(dated)] == dated  # undated work (the draft) after every dated item
    assert [k.key for k, _ in rows][-1] == "drafts"
    assert waiting_counts(assisting) == {
        "rectifications_overdue": 2,
        "rectifications_due": 1,
        "rectifications_sent_back": 0,
        "drafts": 1,
    }


def test_an_unknown_kind_is_a_400_that_names_it(client, hw):
    login(client, hw.users["observer"])
    response = client.get(TASKS, {"kind": "proposals"})  # not the observer's work
    assert response.status_code == 400
    assert "proposals" in response.content.decode()
    login(client, hw.users["approver"])
    response = client.get(TASKS, {"kind": "<script>"})
    assert response.status_code == 400
    assert "&lt;script&gt;" in response.content.decode()
    assert client.get(TASKS, {"kind": "proposals", "page": "x"}).status_code == 200  # a bad page is the first


# --- queries ---------------------------------------------------------------------------------------------------


def _queries(client, url: str) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


#: The home's queries for the busiest role (measured: 19): session and user, roles and scope, the waiting counts
#: (one query) and the navigation's count (one), the notification bell, then the figures panels' (the money: the
#: mandates and the flows' rollup, one grouped query each).
HOME_QUERIES = 19


@pytest.mark.parametrize("username", DEMO)
def test_the_home_costs_a_bounded_number_of_queries_that_does_not_grow_with_the_work(client, hw, username):
    user = hw.users[username]
    login(client, user)
    client.get(HOME)
    few = _queries(client, HOME)
    tasks_few = _queries(client, TASKS)
    for i in range(5):
        p = _project(hw.pw, hw.world, f"疏附县新项目 {i}", by=hw.users["assisting_officer"])
        services.project_submit(project=p, by=hw.users["assisting_officer"])
    _project(hw.pw, hw.world, "外省草稿二", by=hw.users["outsider"], jiashi=True)

    assert _queries(client, HOME) == few
    assert _queries(client, TASKS) == tasks_few
    assert few <= HOME_QUERIES
    # "My tasks": session, user, roles, scope, the counts, one query per kind, the navigation's count.
    assert tasks_few <= 6 + len(kinds_for(user)) + 2


@pytest.mark.parametrize("username", DEMO)
def test_the_navigation_count_costs_one_query_once_the_roles_and_scope_are_known(hw, username):
    user = hw.users[username]
    waiting_total(user)  # the roles and the scope, which every page reads anyway, are now on the user

    with CaptureQueriesContext(connection) as ctx:
        waiting_total(user)

    assert len(ctx.captured_queries) == (1 if kinds_for(user) else 0)


def test_waiting_for_counts_every_kind_in_one_query(hw):
    coordinator = hw.users["national_coordinator"]
    waiting_for(coordinator)
    with CaptureQueriesContext(connection) as ctx:
        counts = waiting_for(coordinator)
    assert len(ctx.captured_queries) == 1
    assert len(counts) >= 3
