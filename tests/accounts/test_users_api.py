"""/api/v1/users/: the user directory. Everyone sees the users of their own organization subtree (national
users: all); only a national coordinator adds users, changes their organization and roles, and deactivates them."""

import pytest
from knox.models import AuthToken

from accounts.models import Role, RoleAssignment, User
from core.models import HistoryEvent
from tests.conftest import api_as
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/users/"
PASSWORD = "Lychee-Harbour-42"


def url(user: User) -> str:
    return f"{URL}{user.pk}/"


def usernames(response) -> list[str]:
    return [u["username"] for u in response.json()["results"]]


def errors(response) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in response.json()["errors"]]


def snapshot() -> tuple[int, int, int]:
    """What a refused write must leave untouched: users, role assignments, history."""
    return User.objects.count(), RoleAssignment.objects.count(), HistoryEvent.objects.count()


def roles_in_db(user: User) -> list[str]:
    return sorted(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))


def new_user(world, **overrides) -> dict:
    return {
        "username": "dora",
        "first_name": "Dora",
        "last_name": "Li",
        "email": "dora@example.org",
        "organization": world.shenzhen_gov.pk,
        "roles": [Role.OBSERVER, Role.ASSISTING_OFFICER],
        "preferred_language": "en",
        "password": PASSWORD,
        **overrides,
    }


# --- list ---------------------------------------------------------------------------------------------------


def test_the_coordinator_lists_every_user_in_username_order(world):
    response = api_as(world.coordinator).get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    assert usernames(response) == ["alice", "bob", "charlie", "coord"]


def test_a_listed_user_has_the_directory_fields_and_roles_as_a_sorted_list_of_codes(world):
    user = UserFactory(
        username="dora",
        first_name="Dora",
        last_name="Li",
        email="dora@example.org",
        organization=world.shenzhen_gov,
        roles=[Role.OBSERVER, Role.APPROVER, Role.ASSISTING_OFFICER],
    )

    response = api_as(world.coordinator).get(URL, {"search": "dora"})

    assert response.status_code == 200
    [row] = response.json()["results"]
    user.refresh_from_db()
    assert row == {
        "id": user.pk,
        "username": "dora",
        "first_name": "Dora",
        "last_name": "Li",
        "email": "dora@example.org",
        "organization": world.shenzhen_gov.pk,
        "roles": ["approver", "assisting_officer", "observer"],
        "preferred_language": "en",
        "is_active": True,
        "last_login": None,
        "date_joined": row["date_joined"],
    }
    assert row["date_joined"] is not None


def test_the_list_never_shows_a_password_or_its_hash(world):
    response = api_as(world.coordinator).get(URL)

    assert response.status_code == 200
    content = response.content.decode()
    for row in response.json()["results"]:
        assert "password" not in row
    for user in User.objects.all():
        assert user.password
        assert user.password not in content
    assert "md5$" not in content
    assert "pbkdf2" not in content


def test_the_guangdong_officer_sees_users_of_guangdong_and_shenzhen_only(world):
    UserFactory(username="shenzhen-sam", organization=world.shenzhen_gov, roles=[Role.ASSISTING_OFFICER])
    UserFactory(username="jiangsu-jin", organization=world.jiangsu_gov, roles=[Role.ASSISTING_OFFICER])
    UserFactory(username="shufu-sara", organization=world.shufu_gov, roles=[Role.RECIPIENT_OFFICER])

    response = api_as(world.assisting).get(URL)

    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert usernames(response) == ["alice", "shenzhen-sam"]


def test_the_shenzhen_officer_does_not_see_the_guangdong_users_above_them(world):
    sam = UserFactory(username="shenzhen-sam", organization=world.shenzhen_gov, roles=[Role.ASSISTING_OFFICER])

    response = api_as(sam).get(URL)

    assert usernames(response) == ["shenzhen-sam"]


def test_list_filters_by_organization(world):
    UserFactory(username="shenzhen-sam", organization=world.shenzhen_gov, roles=[Role.ASSISTING_OFFICER])

    response = api_as(world.coordinator).get(URL, {"organization": world.shenzhen_gov.pk})

    assert response.status_code == 200
    assert usernames(response) == ["shenzhen-sam"]


def test_list_filters_by_role_without_repeating_users_that_hold_several_roles(world):
    UserFactory(username="dora", organization=world.guangdong_gov, roles=[Role.OBSERVER, Role.ASSISTING_OFFICER])

    observers = api_as(world.coordinator).get(URL, {"role": "observer"})
    assisting = api_as(world.coordinator).get(URL, {"role": "assisting_officer"})

    assert observers.status_code == assisting.status_code == 200
    assert usernames(observers) == ["dora"]
    assert usernames(assisting) == ["alice", "charlie", "dora"]
    assert assisting.json()["count"] == 3


def test_list_filter_with_an_unknown_role_is_400_naming_role(world):
    response = api_as(world.coordinator).get(URL, {"role": "pope"})

    assert response.status_code == 400
    assert errors(response) == [("invalid_choice", "role")]


def test_list_filters_by_is_active(world):
    User.objects.filter(pk=world.outsider.pk).update(is_active=False)

    inactive = api_as(world.coordinator).get(URL, {"is_active": "false"})
    active = api_as(world.coordinator).get(URL, {"is_active": "true"})

    assert usernames(inactive) == ["charlie"]
    assert usernames(active) == ["alice", "bob", "coord"]


def test_list_searches_username_and_names_ignoring_case(world):
    UserFactory(username="dora", first_name="Dorothea", last_name="王", organization=world.guangdong_gov)
    client = api_as(world.coordinator)

    assert usernames(client.get(URL, {"search": "ALI"})) == ["alice"]
    assert usernames(client.get(URL, {"search": "dorOTH"})) == ["dora"]
    assert usernames(client.get(URL, {"search": "王"})) == ["dora"]
    assert usernames(client.get(URL, {"search": "nobody"})) == []


def test_search_stays_within_the_callers_scope(world):
    response = api_as(world.assisting).get(URL, {"search": "charlie"})

    assert response.status_code == 200
    assert usernames(response) == []


@pytest.mark.parametrize("rows", [3, 30])
def test_list_query_count_does_not_grow_with_rows(world, django_assert_max_num_queries, rows):
    for i in range(rows):
        UserFactory(
            username=f"extra{i:02d}",
            organization=world.shenzhen_gov,
            roles=[Role.ASSISTING_OFFICER, Role.OBSERVER],
        )
    client = api_as(world.coordinator)

    # Count, the page with organizations joined, the roles prefetched; nothing per row.
    with django_assert_max_num_queries(3):
        response = client.get(URL, {"page_size": 200})

    assert response.status_code == 200
    assert response.json()["count"] == 4 + rows
    assert all(len(u["roles"]) == 2 for u in response.json()["results"] if u["username"].startswith("extra"))


# --- retrieve -----------------------------------------------------------------------------------------------


def test_a_user_in_the_callers_subtree_can_be_looked_up(world):
    sam = UserFactory(username="shenzhen-sam", organization=world.shenzhen_gov, roles=[Role.ASSISTING_OFFICER])

    response = api_as(world.assisting).get(url(sam))

    assert response.status_code == 200
    assert response.json()["username"] == "shenzhen-sam"
    assert response.json()["roles"] == ["assisting_officer"]


def test_another_organizations_user_is_404_for_a_non_national_caller(world):
    response = api_as(world.assisting).get(url(world.recipient))

    assert response.status_code == 404
    assert errors(response) == [("not_found", None)]


def test_the_coordinator_looks_up_any_user(world):
    response = api_as(world.coordinator).get(url(world.recipient))

    assert response.status_code == 200
    assert response.json()["organization"] == world.shufu_gov.pk


def test_anonymous_callers_get_401(api, world):
    assert api.get(URL).status_code == 401
    response = api.post(URL, new_user(world), format="json")
    assert response.status_code == 401
    assert errors(response) == [("not_authenticated", None)]
    assert not User.objects.filter(username="dora").exists()


# --- create -------------------------------------------------------------------------------------------------


def test_the_coordinator_creates_a_user_with_roles_and_a_working_password(world):
    response = api_as(world.coordinator).post(URL, new_user(world), format="json")

    assert response.status_code == 201
    user = User.objects.get(username="dora")
    assert response.json() == {
        "id": user.pk,
        "username": "dora",
        "first_name": "Dora",
        "last_name": "Li",
        "email": "dora@example.org",
        "organization": world.shenzhen_gov.pk,
        "roles": ["assisting_officer", "observer"],
        "preferred_language": "en",
        "is_active": True,
        "last_login": None,
        "date_joined": response.json()["date_joined"],
    }
    assert user.organization == world.shenzhen_gov
    assert user.is_active
    assert user.check_password(PASSWORD)
    assert not user.check_password("wrong")
    assert roles_in_db(user) == ["assisting_officer", "observer"]
    event = HistoryEvent.objects.for_object(user).get()
    assert event.action == "created"
    assert event.actor == world.coordinator
    assert event.changes == {
        "organization": {"old": None, "new": {"id": world.shenzhen_gov.pk, "label": str(world.shenzhen_gov)}},
        "roles": {"old": None, "new": ["assisting_officer", "observer"]},
    }


def test_a_created_user_gets_the_default_language_when_none_is_given(world):
    data = new_user(world)
    del data["preferred_language"], data["first_name"], data["last_name"], data["email"]

    response = api_as(world.coordinator).post(URL, data, format="json")

    assert response.status_code == 201
    user = User.objects.get(username="dora")
    assert user.preferred_language == "zh-hans"
    assert (user.first_name, user.last_name, user.email) == ("", "", "")


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.NATIONAL_COORDINATOR])
def test_only_a_national_coordinator_may_create_users(world, role):
    user = UserFactory(username=f"u-{role}", organization=world.guangdong_gov, roles=[role])
    before = snapshot()

    response = api_as(user).post(URL, new_user(world), format="json")

    assert response.status_code == 403
    assert errors(response) == [("forbidden", None)]
    assert not User.objects.filter(username="dora").exists()
    assert snapshot() == before


def test_the_coordinator_role_outside_the_central_office_does_not_create_users(world):
    provincial = UserFactory(organization=world.guangdong_gov, roles=[Role.NATIONAL_COORDINATOR])
    before = snapshot()

    response = api_as(provincial).post(URL, new_user(world), format="json")

    assert response.status_code == 403
    assert errors(response) == [("forbidden", None)]
    assert snapshot() == before


def test_the_right_is_checked_before_the_body(world):
    # An invalid body from a caller without the right is still 403, not 400.
    response = api_as(world.assisting).post(URL, {"colour": "red"}, format="json")

    assert response.status_code == 403
    assert errors(response) == [("forbidden", None)]


@pytest.mark.parametrize("username", ["alice", "ALICE", "Alice", " alice "])
def test_a_taken_username_in_any_letter_case_is_400_duplicate(world, username):
    before = snapshot()

    response = api_as(world.coordinator).post(URL, new_user(world, username=username), format="json")

    assert response.status_code == 400
    assert errors(response) == [("duplicate", "username")]
    assert User.objects.filter(username__iexact="alice").count() == 1
    assert snapshot() == before
    world.assisting.refresh_from_db()
    assert world.assisting.organization == world.guangdong_gov
    assert roles_in_db(world.assisting) == ["assisting_officer"]


def test_a_missing_password_is_400_on_password(world):
    data = new_user(world)
    del data["password"]
    before = snapshot()

    response = api_as(world.coordinator).post(URL, data, format="json")

    assert response.status_code == 400
    assert errors(response) == [("required", "password")]
    assert snapshot() == before


def test_a_blank_password_is_400_on_password(world):
    before = snapshot()

    response = api_as(world.coordinator).post(URL, new_user(world, password=""), format="json")

    assert response.status_code == 400
    assert errors(response) == [("blank", "password")]
    assert snapshot() == before


def test_a_weak_password_is_400_on_password_with_every_reason(world):
    before = snapshot()

    response = api_as(world.coordinator).post(URL, new_user(world, password="123"), format="json")

    assert response.status_code == 400
    found = errors(response)
    # Too short, too common, entirely numeric: each validator speaks, all on the password.
    assert len(found) == 3
    assert set(found) == {("invalid_password", "password")}
    assert snapshot() == before


def test_a_password_like_the_username_is_refused(world):
    before = snapshot()

    response = api_as(world.coordinator).post(
        URL, new_user(world, username="dorothea.li", password="dorothea.li"), format="json"
    )

    assert response.status_code == 400
    assert ("invalid_password", "password") in errors(response)
    assert snapshot() == before


def test_an_unknown_role_is_400_naming_its_place_in_roles(world):
    before = snapshot()

    response = api_as(world.coordinator).post(URL, new_user(world, roles=["observer", "pope"]), format="json")

    assert response.status_code == 400
    # The list field reports the index of the bad item.
    assert errors(response) == [("invalid_choice", "roles.1")]
    assert "pope" in response.json()["errors"][0]["message"]
    assert snapshot() == before


def test_empty_roles_are_400_on_roles(world):
    before = snapshot()

    response = api_as(world.coordinator).post(URL, new_user(world, roles=[]), format="json")

    assert response.status_code == 400
    assert errors(response) == [("empty", "roles")]
    assert snapshot() == before


def test_missing_roles_are_400_on_roles(world):
    data = new_user(world)
    del data["roles"]
    before = snapshot()

    response = api_as(world.coordinator).post(URL, data, format="json")

    assert response.status_code == 400
    assert errors(response) == [("required", "roles")]
    assert snapshot() == before


def test_roles_as_a_single_string_are_400_on_roles(world):
    before = snapshot()

    response = api_as(world.coordinator).post(URL, new_user(world, roles="observer"), format="json")

    assert response.status_code == 400
    assert errors(response) == [("not_a_list", "roles")]
    assert snapshot() == before


def test_a_role_given_twice_is_assigned_once(world):
    response = api_as(world.coordinator).post(URL, new_user(world, roles=["observer", "observer"]), format="json")

    assert response.status_code == 201
    assert response.json()["roles"] == ["observer"]
    assert roles_in_db(User.objects.get(username="dora")) == ["observer"]


def test_an_unknown_organization_is_400_on_organization(world):
    before = snapshot()

    response = api_as(world.coordinator).post(URL, new_user(world, organization=999999), format="json")

    assert response.status_code == 400
    assert errors(response) == [("does_not_exist", "organization")]
    assert snapshot() == before


def test_an_inactive_organization_is_refused_like_an_unknown_one(world):
    closed = OrganizationFactory(name="已撤销机构")
    closed.is_active = False
    closed.save(update_fields=["is_active"])
    before = snapshot()

    response = api_as(world.coordinator).post(URL, new_user(world, organization=closed.pk), format="json")

    assert response.status_code == 400
    assert errors(response) == [("does_not_exist", "organization")]
    assert snapshot() == before


def test_a_missing_organization_is_400_on_organization(world):
    data = new_user(world)
    del data["organization"]
    before = snapshot()

    response = api_as(world.coordinator).post(URL, data, format="json")

    assert response.status_code == 400
    assert errors(response) == [("required", "organization")]
    assert snapshot() == before


def test_an_invalid_username_is_400_on_username(world):
    before = snapshot()

    response = api_as(world.coordinator).post(URL, new_user(world, username="dora li!"), format="json")

    assert response.status_code == 400
    assert [field for _, field in errors(response)] == ["username"]
    assert snapshot() == before


def test_unknown_and_read_only_fields_are_refused_on_create(world):
    before = snapshot()

    response = api_as(world.coordinator).post(
        URL, new_user(world, colour="red", is_superuser=True, last_login=None), format="json"
    )

    assert response.status_code == 400
    assert sorted(errors(response)) == [
        ("unknown_field", "colour"),
        ("unknown_field", "is_superuser"),
    ]
    # last_login is a read-only field the serializer knows, so it is dropped, not refused.
    assert snapshot() == before


def test_creating_an_inactive_user_is_refused_rather_than_silently_ignored(world):
    before = snapshot()

    response = api_as(world.coordinator).post(URL, new_user(world, is_active=False), format="json")

    assert response.status_code == 400
    assert errors(response) == [("invalid", "is_active")]
    assert snapshot() == before


def test_creating_a_user_that_is_active_is_accepted(world):
    response = api_as(world.coordinator).post(URL, new_user(world, is_active=True), format="json")

    assert response.status_code == 201
    assert User.objects.get(username="dora").is_active


# --- update -------------------------------------------------------------------------------------------------


def test_the_coordinator_changes_a_users_roles(world):
    response = api_as(world.coordinator).patch(url(world.assisting), {"roles": ["observer", "approver"]}, format="json")

    assert response.status_code == 200
    assert response.json()["roles"] == ["approver", "observer"]
    assert roles_in_db(world.assisting) == ["approver", "observer"]
    event = HistoryEvent.objects.for_object(world.assisting).get()
    assert event.action == "roles_changed"
    assert event.actor == world.coordinator
    assert event.changes == {"roles": {"old": ["assisting_officer"], "new": ["approver", "observer"]}}


def test_setting_the_same_roles_again_records_nothing(world):
    response = api_as(world.coordinator).patch(url(world.assisting), {"roles": ["assisting_officer"]}, format="json")

    assert response.status_code == 200
    assert response.json()["roles"] == ["assisting_officer"]
    assert roles_in_db(world.assisting) == ["assisting_officer"]
    assert not HistoryEvent.objects.for_object(world.assisting).exists()


def test_the_coordinator_moves_a_user_to_another_organization(world):
    response = api_as(world.coordinator).patch(
        url(world.assisting), {"organization": world.shenzhen_gov.pk}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["organization"] == world.shenzhen_gov.pk
    assert response.json()["roles"] == ["assisting_officer"]
    world.assisting.refresh_from_db()
    assert world.assisting.organization == world.shenzhen_gov
    assert roles_in_db(world.assisting) == ["assisting_officer"]
    event = HistoryEvent.objects.for_object(world.assisting).get()
    assert event.action == "updated"
    assert event.actor == world.coordinator
    assert set(event.changes) == {"organization"}
    assert event.changes["organization"]["old"]["id"] == world.guangdong_gov.pk
    assert event.changes["organization"]["new"]["id"] == world.shenzhen_gov.pk


def test_the_coordinator_changes_a_users_name_and_language(world):
    response = api_as(world.coordinator).patch(
        url(world.assisting), {"first_name": "Alice", "preferred_language": "zh-hans"}, format="json"
    )

    assert response.status_code == 200
    world.assisting.refresh_from_db()
    assert world.assisting.first_name == "Alice"
    assert world.assisting.preferred_language == "zh-hans"
    assert world.assisting.organization == world.guangdong_gov
    event = HistoryEvent.objects.for_object(world.assisting).get()
    assert event.action == "updated"
    assert event.changes == {
        "first_name": {"old": "", "new": "Alice"},
        "preferred_language": {"old": "en", "new": "zh-hans"},
    }


def test_the_coordinator_deactivates_a_user_and_their_tokens_are_revoked(world):
    AuthToken.objects.create(world.assisting)
    AuthToken.objects.create(world.assisting)
    AuthToken.objects.create(world.outsider)

    response = api_as(world.coordinator).patch(url(world.assisting), {"is_active": False}, format="json")

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    world.assisting.refresh_from_db()
    assert world.assisting.is_active is False
    assert not AuthToken.objects.filter(user=world.assisting).exists()
    assert AuthToken.objects.filter(user=world.outsider).count() == 1
    event = HistoryEvent.objects.for_object(world.assisting).get()
    assert event.action == "deactivated"
    assert event.actor == world.coordinator
    assert event.changes == {"is_active": {"old": True, "new": False}}


def test_a_revoked_token_no_longer_signs_in(world, api):
    _, token = AuthToken.objects.create(world.assisting)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get(URL).status_code == 200

    api_as(world.coordinator).patch(url(world.assisting), {"is_active": False}, format="json")

    response = api.get(URL)
    assert response.status_code == 401


def test_the_coordinator_reactivates_a_user(world):
    User.objects.filter(pk=world.outsider.pk).update(is_active=False)

    response = api_as(world.coordinator).patch(url(world.outsider), {"is_active": True}, format="json")

    assert response.status_code == 200
    assert response.json()["is_active"] is True
    world.outsider.refresh_from_db()
    assert world.outsider.is_active is True
    event = HistoryEvent.objects.for_object(world.outsider).get()
    assert event.action == "activated"
    assert event.actor == world.coordinator
    assert event.changes == {"is_active": {"old": False, "new": True}}


def test_deactivating_an_inactive_user_records_nothing(world):
    User.objects.filter(pk=world.outsider.pk).update(is_active=False)

    response = api_as(world.coordinator).patch(url(world.outsider), {"is_active": False}, format="json")

    assert response.status_code == 200
    assert not HistoryEvent.objects.for_object(world.outsider).exists()


def test_roles_and_organization_change_together_each_with_its_history(world):
    response = api_as(world.coordinator).patch(
        url(world.assisting), {"roles": ["observer"], "organization": world.jiangsu_gov.pk}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["roles"] == ["observer"]
    assert response.json()["organization"] == world.jiangsu_gov.pk
    world.assisting.refresh_from_db()
    assert world.assisting.organization == world.jiangsu_gov
    assert roles_in_db(world.assisting) == ["observer"]
    actions = sorted(HistoryEvent.objects.for_object(world.assisting).values_list("action", flat=True))
    assert actions == ["roles_changed", "updated"]


def test_valid_roles_with_an_invalid_organization_change_nothing(world):
    before = snapshot()

    response = api_as(world.coordinator).patch(
        url(world.assisting), {"roles": ["observer"], "organization": 999999}, format="json"
    )

    assert response.status_code == 400
    assert errors(response) == [("does_not_exist", "organization")]
    world.assisting.refresh_from_db()
    assert world.assisting.organization == world.guangdong_gov
    assert roles_in_db(world.assisting) == ["assisting_officer"]
    assert not HistoryEvent.objects.for_object(world.assisting).exists()
    assert snapshot() == before


def test_an_unknown_role_on_update_changes_nothing(world):
    before = snapshot()

    response = api_as(world.coordinator).patch(
        url(world.assisting), {"roles": ["pope"], "first_name": "Alice"}, format="json"
    )

    assert response.status_code == 400
    assert errors(response) == [("invalid_choice", "roles.0")]
    world.assisting.refresh_from_db()
    assert world.assisting.first_name == ""
    assert roles_in_db(world.assisting) == ["assisting_officer"]
    assert snapshot() == before


def test_empty_roles_on_update_are_400_and_change_nothing(world):
    before = snapshot()

    response = api_as(world.coordinator).patch(url(world.assisting), {"roles": []}, format="json")

    assert response.status_code == 400
    assert errors(response) == [("empty", "roles")]
    assert roles_in_db(world.assisting) == ["assisting_officer"]
    assert snapshot() == before


def test_the_coordinator_cannot_deactivate_themselves(world):
    AuthToken.objects.create(world.coordinator)
    before = snapshot()

    response = api_as(world.coordinator).patch(url(world.coordinator), {"is_active": False}, format="json")

    assert response.status_code == 400
    assert errors(response) == [("self_deactivation", "is_active")]
    world.coordinator.refresh_from_db()
    assert world.coordinator.is_active is True
    assert AuthToken.objects.filter(user=world.coordinator).count() == 1
    assert snapshot() == before


def test_a_refused_self_deactivation_undoes_the_rest_of_the_same_request(world):
    before = snapshot()

    response = api_as(world.coordinator).patch(
        url(world.coordinator),
        {"first_name": "Guo", "roles": ["national_coordinator", "observer"], "is_active": False},
        format="json",
    )

    assert response.status_code == 400
    assert errors(response) == [("self_deactivation", "is_active")]
    world.coordinator.refresh_from_db()
    assert world.coordinator.is_active is True
    assert world.coordinator.first_name == ""
    assert roles_in_db(world.coordinator) == ["national_coordinator"]
    assert snapshot() == before


def test_a_username_cannot_be_changed(world):
    before = snapshot()

    response = api_as(world.coordinator).patch(url(world.assisting), {"username": "alicia"}, format="json")

    assert response.status_code == 400
    assert errors(response) == [("read_only", "username")]
    world.assisting.refresh_from_db()
    assert world.assisting.username == "alice"
    assert snapshot() == before


def test_a_username_cannot_be_changed_even_in_letter_case(world):
    response = api_as(world.coordinator).patch(url(world.assisting), {"username": "Alice"}, format="json")

    assert response.status_code == 400
    assert errors(response) == [("read_only", "username")]
    world.assisting.refresh_from_db()
    assert world.assisting.username == "alice"


def test_sending_the_unchanged_username_is_accepted(world):
    response = api_as(world.coordinator).patch(
        url(world.assisting), {"username": "alice", "first_name": "Alice"}, format="json"
    )

    assert response.status_code == 200
    world.assisting.refresh_from_db()
    assert world.assisting.first_name == "Alice"


def test_a_password_cannot_be_set_through_an_update(world):
    old_hash = User.objects.get(pk=world.assisting.pk).password
    before = snapshot()

    response = api_as(world.coordinator).patch(url(world.assisting), {"password": PASSWORD}, format="json")

    assert response.status_code == 400
    assert errors(response) == [("read_only", "password")]
    world.assisting.refresh_from_db()
    assert world.assisting.password == old_hash
    assert not world.assisting.check_password(PASSWORD)
    assert snapshot() == before


def test_unknown_fields_are_refused_on_update(world):
    before = snapshot()

    response = api_as(world.coordinator).patch(
        url(world.assisting), {"is_superuser": True, "first_name": "Alice"}, format="json"
    )

    assert response.status_code == 400
    assert errors(response) == [("unknown_field", "is_superuser")]
    world.assisting.refresh_from_db()
    assert world.assisting.is_superuser is False
    assert world.assisting.first_name == ""
    assert snapshot() == before


def test_put_is_405_in_the_error_format(world):
    before = snapshot()

    response = api_as(world.coordinator).put(url(world.assisting), new_user(world), format="json")

    assert response.status_code == 405
    assert errors(response) == [("method_not_allowed", None)]
    assert snapshot() == before


def test_delete_is_405_in_the_error_format(world):
    response = api_as(world.coordinator).delete(url(world.assisting))

    assert response.status_code == 405
    assert errors(response) == [("method_not_allowed", None)]
    assert User.objects.filter(pk=world.assisting.pk).exists()


def test_a_non_coordinator_patching_a_user_they_can_see_is_403(world):
    sam = UserFactory(username="shenzhen-sam", organization=world.shenzhen_gov, roles=[Role.ASSISTING_OFFICER])
    assert api_as(world.assisting).get(url(sam)).status_code == 200
    before = snapshot()

    response = api_as(world.assisting).patch(url(sam), {"roles": ["national_coordinator"]}, format="json")

    assert response.status_code == 403
    assert errors(response) == [("forbidden", None)]
    assert roles_in_db(sam) == ["assisting_officer"]
    assert snapshot() == before


def test_a_non_coordinator_cannot_deactivate_anyone(world):
    sam = UserFactory(username="shenzhen-sam", organization=world.shenzhen_gov, roles=[Role.ASSISTING_OFFICER])
    AuthToken.objects.create(sam)

    response = api_as(world.assisting).patch(url(sam), {"is_active": False}, format="json")

    assert response.status_code == 403
    sam.refresh_from_db()
    assert sam.is_active is True
    assert AuthToken.objects.filter(user=sam).exists()


def test_a_non_coordinator_gets_the_same_403_for_invisible_and_missing_users(world):
    # The right is checked before the lookup, so a non-coordinator gets 403 for every id: a user outside
    # their scope and an id that does not exist answer alike, so the 403 tells them nothing about existence.
    client = api_as(world.assisting)
    before = snapshot()

    invisible = client.patch(url(world.recipient), {"first_name": "X"}, format="json")
    missing = client.patch(f"{URL}999999/", {"first_name": "X"}, format="json")

    assert invisible.status_code == missing.status_code == 403
    assert errors(invisible) == errors(missing) == [("forbidden", None)]
    assert invisible.json() == missing.json()
    world.recipient.refresh_from_db()
    assert world.recipient.first_name == ""
    assert snapshot() == before


def test_the_coordinator_patching_an_unknown_user_gets_404(world):
    response = api_as(world.coordinator).patch(f"{URL}999999/", {"first_name": "X"}, format="json")

    assert response.status_code == 404
    assert errors(response) == [("not_found", None)]
