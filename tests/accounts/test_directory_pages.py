"""The accounts pages: sign in, language, profile, password, and the national coordinator's directory."""

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from knox.models import AuthToken

from accounts.models import Organization, Role, User
from core.models import HistoryEvent
from tests.factories import OrganizationFactory, UserFactory


def recorded(obj: object) -> str:
    """An object's label as history records it: in the site's language, whoever acts."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(obj)


pytestmark = pytest.mark.django_db

PASSWORD = settings.DUIKOU_DEMO_PASSWORD
STRONG = "Kashgar-Orchard-2031"
LANGUAGE_COOKIE = settings.LANGUAGE_COOKIE_NAME


@pytest.fixture
def browser() -> Client:
    """An anonymous browser that prefers English (pages assert English text)."""
    return Client(headers={"Accept-Language": "en"})


@pytest.fixture
def as_coordinator(world) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(world.coordinator)
    return client


def signed_in(user: User) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def template_names(response) -> list[str]:
    return [t.name for t in response.templates]


def user_payload(world, **overrides) -> dict:
    data = {
        "username": "dilnur",
        "first_name": "Dilnur",
        "last_name": "Ablimit",
        "email": "dilnur@example.org",
        "organization": world.shufu_gov.pk,
        "roles": [Role.RECIPIENT_OFFICER, Role.OBSERVER],
        "preferred_language": "zh-hans",
        "password": STRONG,
    }
    data.update(overrides)
    return data


# The directory ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["assisting", "recipient", "outsider"])
def test_directory_is_forbidden_to_anyone_but_the_coordinator(world, who):
    response = signed_in(getattr(world, who)).get("/accounts/directory/")

    assert response.status_code == 403
    assert "403.html" in template_names(response)


def test_an_observer_of_the_central_office_cannot_open_the_directory(world):
    observer = UserFactory(organization=world.national_office, roles=[Role.OBSERVER])

    assert signed_in(observer).get("/accounts/directory/").status_code == 403


def test_directory_lists_users_with_roles_and_organizations(as_coordinator, world):
    response = as_coordinator.get("/accounts/directory/")

    assert response.status_code == 200
    assert [u.username for u in response.context["users"]] == ["alice", "bob", "charlie", "coord"]
    assert {o.name for o in response.context["organizations"]} == set(
        Organization.objects.values_list("name", flat=True)
    )
    html = response.content.decode()
    assert 'id="users-table"' in html
    assert 'id="organizations-table"' in html
    for text in ("alice", "charlie", "Assisting officer", "Recipient officer", "Jiangsu", "Shufu", "653121"):
        assert text in html


def test_directory_search_narrows_users_and_organizations(as_coordinator, world):
    response = as_coordinator.get("/accounts/directory/", {"search": "Shufu"})

    assert [u.username for u in response.context["users"]] == ["bob"]
    assert [o.name for o in response.context["organizations"]] == ["疏附县人民政府"]


def test_directory_query_count_does_not_grow_with_users(as_coordinator, world):
    def queries_for_the_directory() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = as_coordinator.get("/accounts/directory/")
        assert response.status_code == 200
        return len(ctx.captured_queries)

    few = queries_for_the_directory()
    for i in range(30):
        UserFactory(username=f"extra{i:02d}", organization=world.kashgar_gov, roles=[Role.OBSERVER, Role.EVALUATOR])
        OrganizationFactory(parent=world.kashgar_gov)
    many = queries_for_the_directory()

    assert many == few


# Organizations through the form ------------------------------------------------------------------------------


def test_coordinator_adds_an_organization_through_the_form(as_coordinator, world):
    response = as_coordinator.post(
        "/accounts/directory/organizations/new/",
        {
            "name": "喀什市人民政府",
            "name_en": "Kashgar City",
            "kind": "county_government",
            "region": "653100",
            "parent": world.kashgar_gov.pk,
        },
    )

    assert response.status_code == 302
    assert response.url == "/accounts/directory/#organizations"
    org = Organization.objects.get(name="喀什市人民政府")
    assert (org.name_en, org.kind, org.region, org.parent) == (
        "Kashgar City",
        "county_government",
        world.kashgar,
        world.kashgar_gov,
    )
    assert org.path == f"{world.kashgar_gov.path}{org.pk}/"
    event = HistoryEvent.objects.for_object(org).get()
    assert (event.action, event.actor) == ("created", world.coordinator)
    assert messages_of(response) == ["Organization “喀什市人民政府” added."]


def test_a_bad_region_code_is_shown_on_the_region_field_and_keeps_what_was_typed(as_coordinator, world):
    response = as_coordinator.post(
        "/accounts/directory/organizations/new/",
        {"name": "某某县人民政府", "name_en": "Somewhere", "kind": "county_government", "region": "999999"},
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == {"region": ["No region has the code or name 999999."]}
    html = response.content.decode()
    assert 'id="id_region_errors"' in html
    assert 'value="某某县人民政府"' in html
    assert 'value="999999"' in html
    assert not Organization.objects.filter(name="某某县人民政府").exists()


def test_a_duplicate_organization_name_is_shown_on_the_name_field(as_coordinator, world):
    response = as_coordinator.post(
        "/accounts/directory/organizations/new/", {"name": "江苏省人民政府", "kind": "agency"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"name": ["An organization with this name already exists."]}
    assert Organization.objects.filter(name="江苏省人民政府").count() == 1


def test_coordinator_edits_an_organization_and_history_records_the_change(as_coordinator, world):
    response = as_coordinator.post(
        f"/accounts/directory/organizations/{world.jiangsu_gov.pk}/",
        {
            "name": "江苏省人民政府",
            "name_en": "Jiangsu Province",
            "kind": "provincial_government",
            "region": "320000",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    world.jiangsu_gov.refresh_from_db()
    assert world.jiangsu_gov.name_en == "Jiangsu Province"
    event = HistoryEvent.objects.for_object(world.jiangsu_gov).get()
    assert event.action == "updated"
    assert event.changes == {"name_en": {"old": "Jiangsu", "new": "Jiangsu Province"}}


def test_a_non_coordinator_cannot_add_an_organization_through_the_form(world):
    response = signed_in(world.assisting).post(
        "/accounts/directory/organizations/new/", {"name": "新机构", "kind": "agency"}
    )

    assert response.status_code == 403
    assert not Organization.objects.filter(name="新机构").exists()


# Users through the form ------------------------------------------------------------------------------------


def test_coordinator_adds_a_user_with_roles_and_history(as_coordinator, world):
    response = as_coordinator.post("/accounts/directory/users/new/", user_payload(world))

    assert response.status_code == 302
    assert response.url == "/accounts/directory/"
    user = User.objects.get(username="dilnur")
    assert user.organization == world.shufu_gov
    assert user.roles == {"recipient_officer", "observer"}
    assert (user.first_name, user.last_name, user.email) == ("Dilnur", "Ablimit", "dilnur@example.org")
    assert user.preferred_language == "zh-hans"
    assert user.is_active
    assert user.check_password(STRONG)
    event = HistoryEvent.objects.for_object(user).get()
    assert (event.action, event.actor) == ("created", world.coordinator)
    assert event.changes == {
        "organization": {"old": None, "new": {"id": world.shufu_gov.pk, "label": recorded(world.shufu_gov)}},
        "roles": {"old": None, "new": ["observer", "recipient_officer"]},
    }
    assert messages_of(response) == ["User “dilnur” added."]


@pytest.mark.parametrize("username", ["alice", "ALICE", "Alice"])
def test_a_taken_username_in_any_letter_case_is_refused_on_username(as_coordinator, world, username):
    users_before = User.objects.count()

    response = as_coordinator.post("/accounts/directory/users/new/", user_payload(world, username=username))

    assert response.status_code == 200
    assert response.context["form"].errors == {"username": ["A user with this username already exists."]}
    assert User.objects.count() == users_before
    assert not HistoryEvent.objects.filter(action="created").exists()
    world.assisting.refresh_from_db()
    assert world.assisting.organization == world.guangdong_gov


@pytest.mark.parametrize("password", ["123", "password", "dilnur12"])
def test_a_weak_password_is_refused_on_password(as_coordinator, world, password):
    response = as_coordinator.post("/accounts/directory/users/new/", user_payload(world, password=password))

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["password"]
    assert errors["password"]
    assert not User.objects.filter(username="dilnur").exists()


def test_a_user_without_roles_is_refused_on_roles(as_coordinator, world):
    response = as_coordinator.post("/accounts/directory/users/new/", user_payload(world, roles=[]))

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["roles"]
    assert not User.objects.filter(username="dilnur").exists()


def test_an_invalid_username_is_refused_on_username(as_coordinator, world):
    response = as_coordinator.post("/accounts/directory/users/new/", user_payload(world, username="bad name!"))

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["username"]
    assert not User.objects.filter(username="bad name!").exists()


def test_editing_a_user_changes_roles_and_records_old_and_new(as_coordinator, world):
    response = as_coordinator.post(
        f"/accounts/directory/users/{world.recipient.pk}/",
        {
            "first_name": "",
            "last_name": "",
            "email": "",
            "organization": world.shufu_gov.pk,
            "roles": [Role.SUPERVISOR, Role.RECIPIENT_OFFICER],
            "preferred_language": "en",
        },
    )

    assert response.status_code == 302
    bob = User.objects.get(pk=world.recipient.pk)
    assert bob.roles == {"recipient_officer", "supervisor"}
    event = HistoryEvent.objects.for_object(bob).get(action="roles_changed")
    assert event.actor == world.coordinator
    assert event.changes == {"roles": {"old": ["recipient_officer"], "new": ["recipient_officer", "supervisor"]}}
    # Nothing else changed, so no 'updated' event.
    assert not HistoryEvent.objects.for_object(bob).filter(action="updated").exists()


def test_editing_a_user_moves_them_to_another_organization(as_coordinator, world):
    response = as_coordinator.post(
        f"/accounts/directory/users/{world.recipient.pk}/",
        {
            "first_name": "Bob",
            "last_name": "",
            "email": "",
            "organization": world.kashgar_gov.pk,
            "roles": [Role.RECIPIENT_OFFICER],
            "preferred_language": "en",
        },
    )

    assert response.status_code == 302
    bob = User.objects.get(pk=world.recipient.pk)
    assert (bob.organization, bob.first_name) == (world.kashgar_gov, "Bob")
    event = HistoryEvent.objects.for_object(bob).get()
    assert event.action == "updated"
    assert event.changes == {
        "organization": {
            "old": {"id": world.shufu_gov.pk, "label": recorded(world.shufu_gov)},
            "new": {"id": world.kashgar_gov.pk, "label": recorded(world.kashgar_gov)},
        },
        "first_name": {"old": "", "new": "Bob"},
    }


def test_the_edit_page_shows_the_users_current_roles_and_history(as_coordinator, world):
    response = as_coordinator.get(f"/accounts/directory/users/{world.assisting.pk}/")

    assert response.status_code == 200
    assert response.context["form"].initial["roles"] == ["assisting_officer"]
    assert response.context["edited"] == world.assisting


def test_deactivating_a_user_revokes_tokens_and_records_history(as_coordinator, world):
    AuthToken.objects.create(world.assisting)
    AuthToken.objects.create(world.assisting)

    response = as_coordinator.post(f"/accounts/directory/users/{world.assisting.pk}/active/", {"active": "0"})

    assert response.status_code == 302
    alice = User.objects.get(pk=world.assisting.pk)
    assert alice.is_active is False
    assert not AuthToken.objects.filter(user=alice).exists()
    event = HistoryEvent.objects.for_object(alice).get()
    assert (event.action, event.actor) == ("deactivated", world.coordinator)
    assert event.changes == {"is_active": {"old": True, "new": False}}
    assert messages_of(response) == ["User “alice” deactivated; their API tokens were revoked."]


def test_a_deactivated_user_is_signed_out_of_the_browser(as_coordinator, world):
    alice = signed_in(world.assisting)
    assert alice.get("/accounts/profile/").status_code == 200

    as_coordinator.post(f"/accounts/directory/users/{world.assisting.pk}/active/", {"active": "0"})

    response = alice.get("/accounts/profile/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_a_coordinator_cannot_deactivate_themselves(as_coordinator, world):
    response = as_coordinator.post(f"/accounts/directory/users/{world.coordinator.pk}/active/", {"active": "0"})

    assert response.status_code == 302
    assert User.objects.get(pk=world.coordinator.pk).is_active is True
    assert messages_of(response) == ["You cannot deactivate yourself."]
    assert not HistoryEvent.objects.for_object(world.coordinator).exists()


def test_reactivating_a_user_restores_them_and_records_history(as_coordinator, world):
    as_coordinator.post(f"/accounts/directory/users/{world.assisting.pk}/active/", {"active": "0"})

    response = as_coordinator.post(f"/accounts/directory/users/{world.assisting.pk}/active/", {"active": "1"})

    assert response.status_code == 302
    assert User.objects.get(pk=world.assisting.pk).is_active is True
    actions = list(
        HistoryEvent.objects.for_object(world.assisting).order_by("at", "id").values_list("action", flat=True)
    )
    assert actions == ["deactivated", "activated"]


def test_deactivation_needs_a_post(as_coordinator, world):
    response = as_coordinator.get(f"/accounts/directory/users/{world.assisting.pk}/active/")

    assert response.status_code == 405
    assert User.objects.get(pk=world.assisting.pk).is_active is True


def test_a_non_coordinator_cannot_deactivate_anyone(world):
    response = signed_in(world.outsider).post(
        f"/accounts/directory/users/{world.assisting.pk}/active/", {"active": "0"}
    )

    assert response.status_code == 403
    assert User.objects.get(pk=world.assisting.pk).is_active is True
    assert not HistoryEvent.objects.exists()


# Signing in ------------------------------------------------------------------------------------------------------


def test_login_page_with_a_wrong_password_shows_the_message_and_stays(browser, world):
    response = browser.post("/accounts/login/", {"username": "alice", "password": "wrong"})

    assert response.status_code == 200
    assert "The username or password is not correct. Both are case-sensitive." in response.content.decode()
    assert "_auth_user_id" not in browser.session


def test_after_five_failures_the_sixth_attempt_shows_the_locked_page(browser, world):
    for i in range(settings.AXES_FAILURE_LIMIT - 1):
        assert browser.post("/accounts/login/", {"username": "alice", "password": f"wrong-{i}"}).status_code == 200
    # The failure that reaches the limit already answers with the lockout.
    assert browser.post("/accounts/login/", {"username": "alice", "password": "wrong-4"}).status_code == 403

    response = browser.post("/accounts/login/", {"username": "alice", "password": PASSWORD})

    assert response.status_code == 403
    assert "accounts/locked.html" in template_names(response)
    assert "This account is locked after too many failed sign-in attempts." in response.content.decode()
    assert "_auth_user_id" not in browser.session


def test_successful_login_sets_the_language_cookie_to_the_users_preference(world):
    UserFactory(username="gulnar", organization=world.kashgar_gov, roles=[Role.OBSERVER], preferred_language="zh-hans")
    client = Client()

    response = client.post("/accounts/login/", {"username": "gulnar", "password": PASSWORD})

    assert response.status_code == 302
    assert response.url == "/"
    assert response.cookies[LANGUAGE_COOKIE].value == "zh-hans"
    assert client.session["_auth_user_id"] == str(User.objects.get(username="gulnar").pk)


def test_login_keeps_a_language_the_browser_already_chose(world):
    client = Client()
    client.cookies[LANGUAGE_COOKIE] = "zh-hans"

    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})

    assert response.status_code == 302
    assert LANGUAGE_COOKIE not in response.cookies


def test_login_follows_a_safe_next(browser, world):
    response = browser.post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD, "next": "/accounts/profile/"}
    )

    assert response.status_code == 302
    assert response.url == "/accounts/profile/"


def test_login_ignores_an_unsafe_next(browser, world):
    response = browser.post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD, "next": "http://evil.example/"}
    )

    assert response.status_code == 302
    assert response.url == "/"


def test_login_records_the_sign_in_time(browser, world):
    browser.post("/accounts/login/", {"username": "alice", "password": PASSWORD})

    assert User.objects.get(pk=world.assisting.pk).last_login is not None


def test_a_deactivated_user_cannot_sign_in(browser, world):
    User.objects.filter(pk=world.assisting.pk).update(is_active=False)

    response = browser.post("/accounts/login/", {"username": "alice", "password": PASSWORD})

    assert response.status_code == 200
    assert "_auth_user_id" not in browser.session


def test_logout_signs_out_on_post(world):
    client = signed_in(world.assisting)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response.url == "/accounts/login/"
    assert "_auth_user_id" not in client.session


def test_logout_by_get_is_not_allowed(world):
    client = signed_in(world.assisting)

    assert client.get("/accounts/logout/").status_code == 405
    assert "_auth_user_id" in client.session


# Language --------------------------------------------------------------------------------------------------------


def test_language_switch_sets_the_cookie_and_remembers_the_choice(world):
    client = signed_in(world.assisting)
    assert world.assisting.preferred_language == "en"

    response = client.post("/accounts/language/", {"language": "zh-hans", "next": "/accounts/profile/"})

    assert response.status_code == 302
    assert response.url == "/accounts/profile/"
    assert response.cookies[LANGUAGE_COOKIE].value == "zh-hans"
    assert User.objects.get(pk=world.assisting.pk).preferred_language == "zh-hans"


def test_language_switch_for_an_anonymous_browser_sets_only_the_cookie(browser, world):
    response = browser.post("/accounts/language/", {"language": "en", "next": "/accounts/login/"})

    assert response.status_code == 302
    assert response.cookies[LANGUAGE_COOKIE].value == "en"


def test_language_switch_with_an_unknown_language_falls_back_to_the_default(world):
    client = signed_in(world.assisting)

    response = client.post("/accounts/language/", {"language": "fr"})

    assert response.cookies[LANGUAGE_COOKIE].value == settings.LANGUAGE_CODE
    assert User.objects.get(pk=world.assisting.pk).preferred_language == settings.LANGUAGE_CODE


def test_language_switch_ignores_an_unsafe_next(world):
    response = signed_in(world.assisting).post(
        "/accounts/language/", {"language": "en", "next": "http://evil.example/"}
    )

    assert response.status_code == 302
    assert response.url == "/"


def test_language_switch_needs_a_post(world):
    assert signed_in(world.assisting).get("/accounts/language/").status_code == 405


def test_the_chosen_language_renders_the_pages(world):
    client = signed_in(world.assisting)

    client.post("/accounts/language/", {"language": "en"})
    response = client.get("/accounts/profile/")

    assert response.headers["Content-Language"] == "en"
    assert '<html lang="en">' in response.content.decode()


# Profile, password, errors ---------------------------------------------------------------------------------------


def test_profile_shows_the_users_organization_and_roles(world):
    user = UserFactory(username="zara", organization=world.shenzhen_gov, roles=[Role.APPROVER, Role.EVALUATOR])

    response = signed_in(user).get("/accounts/profile/")

    assert response.status_code == 200
    assert response.context["roles"] == ["Approver", "Evaluator"]
    html = response.content.decode()
    assert "zara" in html
    assert "Shenzhen" in html
    assert "Approver" in html
    assert "Evaluator" in html


def test_profile_lists_the_users_api_tokens(world):
    instance, _ = AuthToken.objects.create(world.assisting)

    response = signed_in(world.assisting).get("/accounts/profile/")

    assert list(response.context["tokens"]) == [instance]
    assert instance.token_key in response.content.decode()


def test_profile_requires_login(browser, world):
    response = browser.get("/accounts/profile/")

    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/accounts/profile/"


def test_password_change_page_changes_the_password_and_keeps_the_session(world):
    client = signed_in(world.assisting)
    assert client.get("/accounts/password/").status_code == 200

    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": STRONG, "new_password2": STRONG},
    )

    assert response.status_code == 302
    assert response.url == "/accounts/profile/"
    alice = User.objects.get(pk=world.assisting.pk)
    assert alice.check_password(STRONG)
    assert messages_of(response) == ["Your password has been changed."]
    assert client.get("/accounts/profile/").status_code == 200


def test_password_change_with_a_wrong_old_password_changes_nothing(world):
    client = signed_in(world.assisting)

    response = client.post(
        "/accounts/password/", {"old_password": "wrong", "new_password1": STRONG, "new_password2": STRONG}
    )

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["old_password"]
    assert User.objects.get(pk=world.assisting.pk).check_password(PASSWORD)


def test_unknown_url_renders_the_projects_404_page(as_coordinator, world):
    response = as_coordinator.get("/no/such/page/")

    assert response.status_code == 404
    assert "404.html" in template_names(response)
    assert "There is nothing here" in response.content.decode()


def test_an_unknown_user_in_the_directory_is_404(as_coordinator, world):
    response = as_coordinator.get("/accounts/directory/users/999999/")

    assert response.status_code == 404
    assert "404.html" in template_names(response)


def test_the_dashboard_requires_login(browser, world):
    response = browser.get("/")

    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/"
