"""Counts read on one statement: the bell's unread count rides with the navigation's waiting work on every page
(core.worklist.page_count), the home's panels' counts with them too (core.dashboard.Panel.counts), and a fragment
that never shows the menu does not count the waiting work at all (the menu's entries are made when first read)."""

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts import services as account_services
from accounts.models import Organization, User
from core.worklist import count_with_waiting, waiting_for, waiting_for_request
from pairings.models import Pairing

pytestmark = pytest.mark.django_db


def _statements(client, url: str) -> tuple[list[str], str]:  # type: ignore[no-untyped-def]
    client.get(url)  # warm: session, user, roles and scope
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return [q["sql"] for q in ctx.captured_queries], response.content.decode()


def test_the_home_counts_its_panels_the_bell_and_the_work_in_one_statement(client, world):
    account_services.notify([world.coordinator], "export_ready", {"name": "a.xlsx"}, "/exchange/exports/")
    client.force_login(world.coordinator)

    statements, html = _statements(client, "/")

    waiting = [s for s in statements if " AS waiting_0)" in s]
    assert len(waiting) == 1
    assert "accounts_notification" in waiting[0]
    assert "pairings_pairing" in waiting[0]
    assert "accounts_organization" in waiting[0]
    assert not [s for s in statements if "accounts_notification" in s and s is not waiting[0]]
    assert 'id="bell-count">1<' in html
    assert f'id="stat-organizations">{Organization.objects.filter(is_active=True).count()}<' in html
    assert 'id="stat-users">' + str(User.objects.filter(is_active=True).count()) in html
    assert f'<span class="fs-6 text-body-secondary"> / {Pairing.objects.count()}</span>' in html


def test_counts_asked_once_the_work_is_counted_are_counted_on_their_own(world):
    request = RequestFactory().get("/")
    request.user = world.coordinator
    first = waiting_for_request(request)
    with CaptureQueriesContext(connection) as ctx:
        counts = count_with_waiting(request, [Organization.objects.all(), User.objects.none()])
    assert counts == [Organization.objects.count(), 0]
    assert len(ctx.captured_queries) == 1
    assert waiting_for_request(request) is first
    assert [(w.key, w.count) for w in first] == [(w.key, w.count) for w in waiting_for(world.coordinator)]


def test_a_fragment_that_shows_no_menu_does_not_count_the_work(client, world):
    client.force_login(world.coordinator)

    statements, html = _statements(client, "/regions/options/?field=q&q=疏附")

    assert "<option" in html
    assert not [s for s in statements if " AS waiting_0)" in s]
