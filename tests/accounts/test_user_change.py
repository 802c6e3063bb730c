"""One edit of a user is one service call: all of it lands or none of it, and every problem is said at once."""

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import Role, User
from core.errors import DomainError, PermissionDenied
from core.models import HistoryEvent
from tests.factories import UserFactory


def test_profile_roles_and_activity_change_together_with_history(world):
    edited = UserFactory(username="edited", organization=world.guangdong_gov, roles=[Role.ASSISTING_OFFICER])
    services.user_change(user=edited, by=world.coordinator, first_name="Lin", roles=[Role.APPROVER], is_active=False)
    edited = User.objects.get(pk=edited.pk)
    assert (edited.first_name, sorted(edited.roles), edited.is_active) == ("Lin", [Role.APPROVER], False)
    actions = set(HistoryEvent.objects.for_object(edited).values_list("action", flat=True))
    assert {"updated", "roles_changed", "deactivated"} <= actions


def test_a_refused_role_list_leaves_the_profile_unchanged_and_every_problem_is_named(world):
    edited = UserFactory(username="edited", organization=world.guangdong_gov, roles=[Role.ASSISTING_OFFICER])
    with pytest.raises(DomainError) as caught:
        services.user_change(user=edited, by=world.coordinator, first_name="Lin", email="not-an-email", roles=[])
    assert {p.field for p in caught.value.problems} == {"email", "roles"}
    edited = User.objects.get(pk=edited.pk)
    assert (edited.first_name, sorted(edited.roles)) == ("", [Role.ASSISTING_OFFICER])
    assert not HistoryEvent.objects.for_object(edited).exists()


def test_a_good_profile_with_an_empty_role_list_writes_nothing(world):
    edited = UserFactory(username="edited", organization=world.guangdong_gov, roles=[Role.ASSISTING_OFFICER])
    with pytest.raises(DomainError):
        services.user_change(user=edited, by=world.coordinator, first_name="Lin", roles=[])
    assert User.objects.get(pk=edited.pk).first_name == ""


def test_only_a_national_coordinator_changes_users(world):
    edited = UserFactory(username="edited", organization=world.guangdong_gov, roles=[Role.ASSISTING_OFFICER])
    officer = UserFactory(username="officer", organization=world.guangdong_gov, roles=[Role.ASSISTING_OFFICER])
    with pytest.raises(PermissionDenied):
        services.user_change(user=edited, by=officer, first_name="Lin")
    assert User.objects.get(pk=edited.pk).first_name == ""


def test_the_user_page_saves_through_the_one_service(world, client):
    edited = UserFactory(username="edited", organization=world.guangdong_gov, roles=[Role.ASSISTING_OFFICER])
    client.force_login(world.coordinator)
    response = client.post(
        reverse("accounts:user_edit", args=[edited.pk]),
        {
            "first_name": "Lin",
            "last_name": "",
            "email": "lin@example.org",
            "organization": world.guangdong_gov.pk,
            "roles": [Role.APPROVER, Role.SUPERVISOR],
            "preferred_language": "en",
        },
    )
    assert response.status_code == 302
    edited = User.objects.get(pk=edited.pk)
    assert (edited.first_name, edited.email, sorted(edited.roles)) == (
        "Lin",
        "lin@example.org",
        sorted([Role.APPROVER, Role.SUPERVISOR]),
    )
