"""Locked accounts: django-axes locks a username after repeated failed sign-ins; a national coordinator sees the
locked accounts and unlocks one (service, API and page), and the unlock is in the user's history."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.cache import cache

from accounts import services
from accounts.selectors import is_locked, locked_users
from core.errors import DomainError, PermissionDenied
from core.models import HistoryEvent
from tests.conftest import api_as

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login/"
PASSWORD = settings.DUIKOU_DEMO_PASSWORD


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def lock(api, username: str) -> None:
    """Fail to sign in as USERNAME until axes locks the account, as a guesser would."""
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api.post(LOGIN, {"username": username, "password": "wrong"}, format="json")
    response = api.post(LOGIN, {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "account_locked"


def errors(response) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in response.json()["errors"]]


# --- service and selector --------------------------------------------------------------------------------------


def test_an_account_is_locked_after_the_limit_and_listed_until_unlocked(api, world):
    assert not is_locked(world.assisting)
    lock(api, "alice")

    assert is_locked(world.assisting)
    [locked] = locked_users()
    # The attempt with the right password, refused while locked, counts as one more failure.
    assert (locked, locked.failures) == (world.assisting, settings.AXES_FAILURE_LIMIT + 1)
    assert locked.locked_until > locked.last_failure

    services.user_unlock(user=world.assisting, by=world.coordinator, comment="called the help desk")

    assert not is_locked(world.assisting)
    assert list(locked_users()) == []
    assert api.post(LOGIN, {"username": "alice", "password": PASSWORD}, format="json").status_code == 200
    event = HistoryEvent.objects.for_object(world.assisting).get(action="unlocked")
    assert (event.actor, event.comment, event.changes) == (
        world.coordinator,
        "called the help desk",
        {"locked": {"old": True, "new": False}},
    )


def test_failures_below_the_limit_or_of_a_name_nobody_has_lock_no_listed_account(api, world):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        api.post(LOGIN, {"username": "alice", "password": "wrong"}, format="json")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api.post(LOGIN, {"username": "nobody", "password": "wrong"}, format="json")

    assert list(locked_users()) == []
    assert AccessAttempt.objects.filter(username="nobody").exists()


def test_unlocking_an_account_that_is_not_locked_is_refused_and_records_nothing(world):
    with pytest.raises(DomainError) as refused:
        services.user_unlock(user=world.assisting, by=world.coordinator)

    assert refused.value.code == "not_locked"
    assert not HistoryEvent.objects.for_object(world.assisting).filter(action="unlocked").exists()


def test_only_a_national_coordinator_unlocks(api, world):
    lock(api, "bob")

    with pytest.raises(PermissionDenied):
        services.user_unlock(user=world.recipient, by=world.assisting)

    assert is_locked(world.recipient)


# --- API ---------------------------------------------------------------------------------------------------


def test_the_coordinator_lists_and_unlocks_through_the_api(api, world):
    lock(api, "alice")
    client = api_as(world.coordinator)

    listed = client.get("/api/v1/users/locked/")
    assert listed.status_code == 200
    [row] = listed.json()
    assert (row["id"], row["username"]) == (world.assisting.pk, "alice")
    assert row["failures"] > settings.AXES_FAILURE_LIMIT
    assert row["organization_name"] == world.guangdong_gov.display_name
    assert row["locked_until"]

    response = client.post(f"/api/v1/users/{world.assisting.pk}/unlock/", {"comment": "checked"}, format="json")

    assert response.status_code == 200
    assert response.json()["username"] == "alice"
    assert client.get("/api/v1/users/locked/").json() == []
    assert HistoryEvent.objects.for_object(world.assisting).filter(action="unlocked", actor=world.coordinator).exists()


@pytest.mark.parametrize("actor", ["assisting", "recipient", "outsider"])
def test_others_are_refused_with_403(api, world, actor):
    lock(api, "alice")
    client = api_as(getattr(world, actor))

    listed = client.get("/api/v1/users/locked/")
    unlock = client.post(f"/api/v1/users/{world.assisting.pk}/unlock/", format="json")

    assert (listed.status_code, unlock.status_code) == (403, 403)
    assert errors(unlock) == [("forbidden", None)]
    assert is_locked(world.assisting)


def test_an_unknown_user_is_404_and_one_not_locked_is_400(world):
    client = api_as(world.coordinator)

    unknown = client.post("/api/v1/users/999999/unlock/", format="json")
    not_locked = client.post(f"/api/v1/users/{world.assisting.pk}/unlock/", format="json")
    unknown_field = client.post(f"/api/v1/users/{world.assisting.pk}/unlock/", {"reason": "x"}, format="json")

    assert unknown.status_code == 404
    assert (not_locked.status_code, errors(not_locked)) == (400, [("not_locked", None)])
    assert (unknown_field.status_code, errors(unknown_field)) == (400, [("unknown_field", "reason")])


def test_the_schema_documents_both_operations(world):
    schema = api_as(world.coordinator).get("/api/schema/", {"format": "json"}).json()

    assert "get" in schema["paths"]["/api/v1/users/locked/"]
    unlock = schema["paths"]["/api/v1/users/{id}/unlock/"]["post"]
    assert {"200", "400", "403", "404"} <= set(unlock["responses"])


# --- pages -------------------------------------------------------------------------------------------------


def test_the_directory_links_the_locked_accounts_for_the_coordinator_only(client, api, world):
    lock(api, "alice")
    client.force_login(world.coordinator)

    directory = client.get("/accounts/directory/")
    page = client.get("/accounts/directory/locked/")

    assert 'id="locked-accounts"' in directory.content.decode()
    assert page.status_code == 200
    assert 'data-username="alice"' in page.content.decode()
    # (Not alice herself: a sign-in of hers would reset her failures.)
    client.force_login(world.outsider)
    assert client.get("/accounts/directory/locked/").status_code == 403
    assert client.post(f"/accounts/directory/users/{world.assisting.pk}/unlock/").status_code == 403
    assert is_locked(world.assisting)


def test_the_coordinator_unlocks_on_the_page(client, api, world):
    lock(api, "alice")
    client.force_login(world.coordinator)

    response = client.post(
        f"/accounts/directory/users/{world.assisting.pk}/unlock/", headers={"Accept-Language": "en"}, follow=True
    )

    assert response.redirect_chain[-1][0] == "/accounts/directory/locked/"
    assert "User “alice” unlocked: they can sign in again." in response.content.decode()
    assert not is_locked(world.assisting)
    assert 'data-username="alice"' not in response.content.decode()


def test_the_lockout_message_names_who_can_unlock(api, world):
    lock(api, "alice")

    response = api.post(LOGIN, {"username": "alice", "password": PASSWORD}, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert "ask a national coordinator to unlock it" in response.json()["errors"][0]["message"]
