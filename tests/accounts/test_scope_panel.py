"""The home's scope panel: who the user acts for and how far the scope reaches — every count the same as counting
each list on its own, in one query (`core.selectors.count_each`); a national scope is "all", not counted."""

import re

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts.models import Organization, User
from accounts.selectors import dashboard_scope_panel, organizations_in_scope, regions_in_scope
from core.models import Region
from core.selectors import count_each
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _panel(user: User) -> tuple[dict, int]:
    request = RequestFactory().get("/")
    request.user = user
    dashboard_scope_panel(request)  # the roles and the scope, which every page reads first, are now on the user
    with CaptureQueriesContext(connection) as ctx:
        panel = dashboard_scope_panel(request)
    return panel, len(ctx.captured_queries)


def test_a_regional_scope_is_counted_in_one_query_as_each_list_would_count(world):
    OrganizationFactory(name="停用的机构", is_active=False)
    UserFactory(username="gone", organization=world.shufu_gov, is_active=False)
    user = world.assisting  # Guangdong's government: Guangdong, Shenzhen and their organizations

    panel, queries = _panel(user)

    assert queries == 1
    assert panel["my_organizations"] == organizations_in_scope(user).count() == 2
    assert panel["my_regions"] == regions_in_scope(user).count() == 2
    assert panel["organization_total"] == Organization.objects.filter(is_active=True).count()
    assert panel["users_active"] == User.objects.filter(is_active=True).count()
    assert not panel["scope"].is_national


def test_a_national_scope_is_all_and_its_lists_are_not_counted(world, client):
    panel, queries = _panel(world.coordinator)

    assert queries == 1
    assert panel["scope"].is_national
    assert panel["my_organizations"] is None
    assert panel["my_regions"] is None
    assert panel["organization_total"] == Organization.objects.filter(is_active=True).count()

    client.force_login(world.coordinator)
    html = client.get("/").content.decode()
    assert re.search(rf'id="stat-organizations">\s*{panel["organization_total"]}\s*<', html)
    assert html.count(">All</div>") == 2  # organizations and regions in scope


def test_a_regional_page_shows_its_counts(world, client):
    client.force_login(world.assisting)
    html = client.get("/").content.decode()
    assert ">All</div>" not in html
    assert re.search(r'<div class="dk-stat-value">2</div>\s*<div class="dk-stat-label">Organizations in my scope', html)
    assert re.search(r'<div class="dk-stat-value">2</div>\s*<div class="dk-stat-label">Regions in my scope', html)


def test_count_each_counts_an_empty_queryset_without_asking_for_it(world):
    with CaptureQueriesContext(connection) as ctx:
        counts = count_each([Region.objects.none(), Region.objects.all(), Region.objects.filter(pk__in=[])])
    assert counts == [0, Region.objects.count(), 0]
    assert len(ctx.captured_queries) == 1
    assert count_each([]) == []
