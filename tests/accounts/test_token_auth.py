"""accounts.auth: the token, its user, organization, region and roles from one statement written once, as real model
instances equal to what the ORM loads."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken
from rest_framework import exceptions

from accounts.auth import TokenAuthentication
from accounts.models import Organization, OrganizationKind, Role, User
from core.models import Region
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def authenticate(token: str):
    return TokenAuthentication().authenticate_credentials(token.encode())


def test_the_caller_comes_as_real_instances_equal_to_the_orms_in_one_query(world):
    user = UserFactory(
        username="multi", organization=world.shufu_gov, roles=[Role.SUPERVISOR, Role.APPROVER], email="m@example.org"
    )
    instance, token = AuthToken.objects.create(user)

    with CaptureQueriesContext(connection) as queries:
        caller, auth = authenticate(token)
        organization, region = caller.organization, caller.organization.region
        roles = caller.roles
    assert len(queries) == (1 if connection.vendor == "postgresql" else 2)  # SQLite: the roles on first use

    assert type(caller) is User
    assert type(auth) is AuthToken
    assert fields(caller) == fields(User.objects.get(pk=user.pk))
    assert fields(organization) == fields(Organization.objects.get(pk=world.shufu_gov.pk))
    assert fields(region) == fields(Region.objects.get(pk=world.shufu.pk))
    assert fields(auth) == fields(AuthToken.objects.get(pk=instance.pk))
    assert auth.user is caller
    assert roles == {Role.SUPERVISOR, Role.APPROVER}
    assert not caller._state.adding
    assert caller._state.db == "default"


def test_a_caller_without_organization_or_region(world):
    root = UserFactory(username="root", organization=None, is_superuser=True)
    office = OrganizationFactory(name="无地区机构", kind=OrganizationKind.CENTRAL_OFFICE, region=None)
    clerk = UserFactory(username="clerk", organization=office)

    caller, _ = authenticate(AuthToken.objects.create(root)[1])
    assert caller.organization is None
    assert caller.roles == frozenset()

    caller, _ = authenticate(AuthToken.objects.create(clerk)[1])
    assert caller.organization == office
    assert caller.organization.region is None


def test_the_caller_can_be_saved_and_the_token_deleted(world):
    _, token = AuthToken.objects.create(world.assisting)
    caller, auth = authenticate(token)

    caller.preferred_language = "zh-hans"
    caller.save(update_fields=["preferred_language"])
    auth.delete()

    assert User.objects.get(pk=world.assisting.pk).preferred_language == "zh-hans"
    assert not AuthToken.objects.filter(user=world.assisting).exists()


@pytest.mark.parametrize("case", ["expired", "wrong secret", "inactive", "not utf-8"])
def test_refused(world, case):
    _, token = AuthToken.objects.create(world.assisting, expiry=timedelta(seconds=-1) if case == "expired" else None)
    if case == "inactive":
        User.objects.filter(pk=world.assisting.pk).update(is_active=False)
    raw = token.encode()
    if case == "wrong secret":
        raw = raw[:-4] + (b"0000" if not raw.endswith(b"0000") else b"1111")
    if case == "not utf-8":
        raw = raw[:8] + b"\xff\xfe"
    with pytest.raises(exceptions.AuthenticationFailed):
        TokenAuthentication().authenticate_credentials(raw)


def test_the_right_token_among_several_of_the_same_user(world):
    AuthToken.objects.create(world.assisting)
    second_instance, second = AuthToken.objects.create(world.assisting)

    _, auth = authenticate(second)

    assert auth.pk == second_instance.pk
