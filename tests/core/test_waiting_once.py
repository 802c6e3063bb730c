"""What waits for a user is counted once per request: the home's first panel (or "My tasks") and the navigation's
count on the same page read one query's numbers (core.worklist.waiting_for_request), and a new request counts
again — a count never outlives its page."""

import re

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from core.worklist import kinds_for, waiting_for, waiting_for_request, waiting_total_for_request
from projects import services
from tests.core.home_world import HomeWorld, _project, make_home_world

pytestmark = pytest.mark.django_db

HOME = "/"
TASKS = "/projects/tasks/"


@pytest.fixture
def hw(db) -> HomeWorld:
    return make_home_world()


def _waiting_queries(client, url: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """How many of the request's queries count the waiting work (`_count_all`'s statement), and the page."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return sum(" AS waiting_0)" in q["sql"] for q in ctx.captured_queries), response.content.decode()


def _nav_count(html: str) -> int | None:
    found = re.search(r'id="nav-tasks-count">(\d+)<', html)
    return int(found.group(1)) if found else None


@pytest.mark.parametrize("url", [HOME, TASKS])
@pytest.mark.parametrize("username", ["national_coordinator", "supervisor", "assisting_officer"])
def test_the_page_and_the_navigation_count_the_waiting_work_in_one_query(client, hw, username, url):
    user = hw.users[username]
    assert kinds_for(user), "a role with work"
    client.force_login(user)
    client.get(url)

    queries, html = _waiting_queries(client, url)

    assert queries == 1  # was 2: the page's panel or inbox, and the navigation's count
    assert _nav_count(html) == sum(w.count for w in waiting_for(user))


def test_a_new_request_counts_again(client, hw):
    """The numbers live on the request: work that arrives between two pages shows on the second."""
    officer, approver = hw.users["assisting_officer"], hw.users["approver"]
    client.force_login(approver)
    before = _nav_count(client.get(HOME).content.decode())
    p = _project(hw.pw, hw.world, "疏附县新项目 一", by=officer)
    services.project_submit(project=p, by=officer)  # a proposal for the approver

    queries, html = _waiting_queries(client, HOME)

    assert queries == 1
    assert before is not None
    assert _nav_count(html) == before + 1


def test_the_numbers_are_kept_for_the_user_they_were_counted_for(hw):
    request = RequestFactory().get(HOME)
    request.user = hw.users["national_coordinator"]
    first = waiting_for_request(request)
    with CaptureQueriesContext(connection) as ctx:
        assert waiting_for_request(request) is first
        assert waiting_total_for_request(request) == sum(w.count for w in first)
    assert ctx.captured_queries == []

    request.user = hw.users["supervisor"]  # another user on the same request (signing in): counted again
    with CaptureQueriesContext(connection) as ctx:
        other = waiting_for_request(request)
    assert len(ctx.captured_queries) >= 1
    assert [w.key for w in other] == [k.key for k in kinds_for(hw.users["supervisor"])]
