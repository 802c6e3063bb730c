"""What waits for a user is counted once per request: the home's first panel (or "My tasks") and the navigation's
count on the same page read one query's numbers (core.worklist.waiting_for_request), and a new request counts
again — a count never outlives its page."""

import datetime as dt
import re
from unittest import mock

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import RoleAssignment
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


# --- the statement compiled once per user and day (core.worklist._compiled) -----------------------------------


def _signed_in(user):  # type: ignore[no-untyped-def]
    """USER as a page's request reads them (accounts.auth: with their roles and `state_key`)."""
    from accounts.auth import UserBackend

    loaded = UserBackend().get_user(user.pk)
    assert loaded is not None
    assert loaded.state_key is not None
    return loaded


def _counts(user) -> dict[str, int]:  # type: ignore[no-untyped-def]
    request = RequestFactory().get(HOME)
    request.user = user
    return {w.key: w.count for w in waiting_for_request(request)}


def test_a_page_compiles_its_users_statement_once_and_still_asks_the_database(client, hw):
    from core import worklist

    client.force_login(hw.users["approver"])
    client.get("/projects/")
    compiled = []
    real = worklist.count_parts

    def spy(querysets, **kwargs):  # type: ignore[no-untyped-def]
        compiled.extend(querysets)
        return real(querysets, **kwargs)

    with mock.patch.object(worklist, "count_parts", spy):
        before = _nav_count(client.get("/projects/").content.decode())
        p = _project(hw.pw, hw.world, "疏附县新项目 二", by=hw.users["assisting_officer"])
        services.project_submit(project=p, by=hw.users["assisting_officer"])
        queries, html = _waiting_queries(client, "/projects/")

    assert compiled == []  # nothing built or compiled on the later pages
    assert queries == 1  # but counted on each
    assert before is not None
    assert _nav_count(html) == before + 1


def test_a_change_of_roles_or_organization_compiles_again(hw):
    supervisor = hw.users["supervisor"]
    assert _counts(_signed_in(supervisor)) == {w.key: w.count for w in waiting_for(supervisor)}

    RoleAssignment.objects.create(user=supervisor, role="approver")
    with_approving = _counts(_signed_in(supervisor))
    assert with_approving["proposals"] == 1
    assert with_approving == {w.key: w.count for w in waiting_for(_signed_in(supervisor))}

    supervisor.organization = hw.world.jiangsu_gov  # Jiangsu's scope: none of Shufu's work
    supervisor.save(update_fields=["organization"])
    assert _counts(_signed_in(supervisor))["proposals"] == 0
    assert _counts(_signed_in(supervisor))["rectifications_overdue"] == 0


def test_the_next_day_compiles_again(hw):
    """Due and overdue are relative to the day: a statement compiled yesterday is not used today."""
    supervisor = _signed_in(hw.users["supervisor"])
    today = timezone.localdate()
    assert _counts(supervisor)["rectifications_overdue"] == 1
    with mock.patch("django.utils.timezone.localdate", return_value=today - dt.timedelta(days=20)):
        earlier = _counts(_signed_in(hw.users["supervisor"]))
    assert earlier["rectifications_overdue"] == 0
    assert earlier["rectifications_due"] == 1
    assert _counts(_signed_in(hw.users["supervisor"]))["rectifications_overdue"] == 1
