"""Scope (accounts/selectors.py): which organizations, regions and users an official acts for or sees."""

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.models import Organization, OrganizationKind, Role, User
from accounts.selectors import (
    organizations_in_scope,
    organizations_visible_to,
    regions_in_scope,
    scope_for,
    scope_summary,
    users_visible_to,
)
from core.models import Region
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def region_codes(user) -> set[str]:
    return set(regions_in_scope(user).values_list("code", flat=True))


def org_names(user) -> set[str]:
    return set(organizations_in_scope(user).values_list("name_en", flat=True))


def usernames(user) -> set[str]:
    return set(users_visible_to(user).values_list("username", flat=True))


@pytest.fixture
def kashgar_official(world) -> User:
    return UserFactory(username="dilnur", organization=world.kashgar_gov, roles=[Role.RECIPIENT_OFFICER])


@pytest.fixture
def shenzhen_official(world) -> User:
    return UserFactory(username="shen", organization=world.shenzhen_gov, roles=[Role.ASSISTING_OFFICER])


def test_the_national_office_sees_everything(world, kashgar_official, shenzhen_official):
    scope = scope_for(world.coordinator)

    assert scope.is_national
    assert not scope.is_empty
    assert regions_in_scope(world.coordinator).count() == Region.objects.count() == 7
    assert organizations_in_scope(world.coordinator).count() == Organization.objects.count()
    assert usernames(world.coordinator) == set(User.objects.values_list("username", flat=True))


def test_an_assisting_province_sees_itself_and_its_cities_but_not_another_province(world, shenzhen_official):
    user = world.assisting  # Guangdong

    scope = scope_for(user)
    assert (scope.is_national, scope.organization) == (False, world.guangdong_gov)
    assert org_names(user) == {"Guangdong", "Shenzhen"}
    assert region_codes(user) == {"440000", "440300"}
    assert usernames(user) == {"alice", "shen"}
    assert world.jiangsu_gov not in organizations_in_scope(user)
    assert world.jiangsu not in regions_in_scope(user)
    assert world.outsider not in users_visible_to(user)


def test_a_city_under_an_assisting_province_does_not_see_the_province(world, shenzhen_official):
    assert org_names(shenzhen_official) == {"Shenzhen"}
    assert region_codes(shenzhen_official) == {"440300"}
    assert usernames(shenzhen_official) == {"shen"}


def test_a_recipient_county_government_sees_its_own_region_subtree_only(world):
    user = world.recipient  # Shufu county

    assert region_codes(user) == {"653121"}
    assert world.jiashi not in regions_in_scope(user)
    assert world.kashgar not in regions_in_scope(user)
    assert org_names(user) == {"Shufu"}
    assert usernames(user) == {"bob"}


def test_a_prefecture_government_sees_its_counties(world, kashgar_official):
    assert region_codes(kashgar_official) == {"653100", "653121", "653129"}
    assert world.xinjiang not in regions_in_scope(kashgar_official)
    assert world.guangdong not in regions_in_scope(kashgar_official)


def test_an_organization_without_a_region_acts_in_no_region_but_for_itself(world):
    enterprise = OrganizationFactory(name="某中央企业", name_en="Enterprise", kind=OrganizationKind.CENTRAL_ENTERPRISE)
    user = UserFactory(username="erin", organization=enterprise, roles=[Role.ASSISTING_OFFICER])

    assert region_codes(user) == set()
    assert org_names(user) == {"Enterprise"}
    assert scope_summary(user) == {"national": False, "organizations": 1, "region": None, "regions": 0}


def test_a_user_with_no_organization_sees_nothing(world):
    user = UserFactory(username="nobody", organization=None)

    scope = scope_for(user)
    assert scope.is_empty
    assert not regions_in_scope(user).exists()
    assert not organizations_in_scope(user).exists()
    assert not users_visible_to(user).exists()


def test_a_superuser_without_an_organization_is_national(world):
    root = UserFactory(username="root", organization=None, is_superuser=True, is_staff=True)

    scope = scope_for(root)
    assert scope.is_national
    assert scope.organization is None
    assert regions_in_scope(root).count() == 7
    assert organizations_in_scope(root).count() == Organization.objects.count()
    assert "charlie" in usernames(root)


def test_an_anonymous_visitor_has_an_empty_scope(world):
    anonymous = AnonymousUser()

    assert scope_for(anonymous).is_empty
    assert not regions_in_scope(anonymous).exists()
    assert not organizations_in_scope(anonymous).exists()


def test_an_inactive_organization_gives_its_officials_an_empty_scope(world, shenzhen_official):
    Organization.objects.filter(pk=world.guangdong_gov.pk).update(is_active=False)
    user = User.objects.get(pk=world.assisting.pk)

    assert scope_for(user).is_empty
    assert not regions_in_scope(user).exists()
    assert not organizations_in_scope(user).exists()
    assert not users_visible_to(user).exists()
    # The city under it is still active and keeps its own scope.
    assert region_codes(User.objects.get(pk=shenzhen_official.pk)) == {"440300"}


def test_only_the_national_office_sees_inactive_organizations_in_the_directory(world):
    Organization.objects.filter(pk=world.jiangsu_gov.pk).update(is_active=False)

    assert world.jiangsu_gov in organizations_visible_to(world.coordinator)
    assert world.jiangsu_gov not in organizations_visible_to(world.assisting)
    assert world.guangdong_gov in organizations_visible_to(world.recipient)  # the directory is not secret


def test_scope_summary_reports_the_reach_for_me(world):
    assert scope_summary(world.coordinator) == {
        "national": True,
        "organizations": None,
        "region": None,
        "regions": None,
    }
    assert scope_summary(world.assisting) == {"national": False, "organizations": 2, "region": "440000", "regions": 2}
    assert scope_summary(world.recipient) == {"national": False, "organizations": 1, "region": "653121", "regions": 1}
