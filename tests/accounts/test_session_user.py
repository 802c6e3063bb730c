"""accounts.auth.UserBackend: a signed-in page's user, organization, region and roles from one statement (the token's,
keyed by the user's id), equal to what the ORM loads."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.auth import UserBackend
from accounts.models import Organization, Role, User
from core.models import Region
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_the_backend_is_the_one_sessions_name():
    assert settings.AUTHENTICATION_BACKENDS[-1] == "accounts.auth.UserBackend"
    assert "django.contrib.auth.backends.ModelBackend" not in settings.AUTHENTICATION_BACKENDS
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"


def test_the_user_comes_with_organization_region_and_roles_in_one_query(world):
    user = UserFactory(username="officer", organization=world.shufu_gov, roles=[Role.SUPERVISOR, Role.APPROVER])

    with CaptureQueriesContext(connection) as queries:
        found = UserBackend().get_user(user.pk)
        assert found is not None
        organization, region, roles = found.organization, found.organization.region, found.roles
    assert len(queries) == (1 if connection.vendor == "postgresql" else 2)  # SQLite: the roles on first use

    assert type(found) is User
    assert fields(found) == fields(User.objects.get(pk=user.pk))
    assert fields(organization) == fields(Organization.objects.get(pk=world.shufu_gov.pk))
    assert fields(region) == fields(Region.objects.get(pk=world.shufu.pk))
    assert roles == {Role.SUPERVISOR, Role.APPROVER}
    assert not found._state.adding
    assert found._state.db == "default"


def test_no_user_an_inactive_one_or_one_without_organization(world):
    assert UserBackend().get_user(987654321) is None
    inactive = UserFactory(username="gone", organization=world.shufu_gov, is_active=False)
    assert UserBackend().get_user(inactive.pk) is None
    root = UserFactory(username="root", organization=None, is_superuser=True)
    found = UserBackend().get_user(root.pk)
    assert found is not None
    assert found.organization is None
    assert found.roles == frozenset()


def test_a_signed_in_request_reads_its_user_in_one_statement(client, world):
    user = UserFactory(username="reader", organization=world.shufu_gov, roles=[Role.OBSERVER])
    client.force_login(user)
    request = RequestFactory().get("/")
    from importlib import import_module

    request.session = import_module(settings.SESSION_ENGINE).SessionStore(client.session.session_key)
    assert request.session["_auth_user_id"] == str(user.pk)  # the session read (one statement of its own)
    with CaptureQueriesContext(connection) as queries:
        found = get_user(request)
        assert found.organization.region_id == world.shufu.pk
        assert found.roles == {Role.OBSERVER}
    assert len(queries) == (1 if connection.vendor == "postgresql" else 2)
    assert found.pk == user.pk


def test_a_changed_password_still_ends_the_session(client, world):
    user = UserFactory(username="changer", organization=world.shufu_gov, roles=[Role.OBSERVER])
    client.force_login(user)
    assert client.get(reverse("core:dashboard")).status_code == 200
    user.set_password("a-new-long-passphrase-2026")
    user.save()
    response = client.get(reverse("core:dashboard"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
