"""The pages whose statements are compiled once per scope (core.statements, keyed by `Scope.key`): users of one
scope share a statement, users of another scope get their own, and a change of scope (an organization moved,
its region changed) is a new key — never a statement of another scope's rows."""

import pytest
from django.urls import reverse

from accounts.models import Role, User
from accounts.selectors import scope_for
from core.selectors import timeline
from core.statements import ForIds
from pairings import views
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _listed(client, program) -> set[int]:  # type: ignore[no-untyped-def]
    response = client.get(reverse("pairings:program_detail", args=[program.code]))
    assert response.status_code == 200
    return {r["pk"] for r in response.context["rows"]}


def test_a_scopes_key_is_what_its_filters_are_made_of(world):
    gd_user = UserFactory(organization=world.guangdong_gov, roles=[Role.ASSISTING_OFFICER])
    assert scope_for(gd_user).key == scope_for(world.assisting).key  # one organization, one key
    assert scope_for(world.assisting).key != scope_for(world.outsider).key
    assert scope_for(world.coordinator).key[0] is True
    # The organization's region is part of it: a recipient's scope reaches the pairings into its region.
    assert scope_for(world.recipient).key[2] == world.shufu.path
    world.shufu_gov.region = world.jiashi
    world.shufu_gov.save(update_fields=["region"])
    assert scope_for(User.objects.get(pk=world.recipient.pk)).key[2] == world.jiashi.path


def test_each_scope_sees_its_own_pairings_one_after_the_other(client, world, pw, monkeypatch):
    built: list[object] = []
    statement = views._PROGRAMME_PAIRINGS
    fresh = ForIds(statement.build)  # a store of its own: what earlier tests compiled does not count here
    monkeypatch.setattr(views, "_PROGRAMME_PAIRINGS", fresh)

    def build(ids, scope):  # type: ignore[no-untyped-def]
        built.append(scope.key)
        return statement.build(ids, scope)

    monkeypatch.setattr(fresh, "build", build)
    seen = {}
    for user in (world.coordinator, world.assisting, world.outsider, world.recipient, world.coordinator):
        client.force_login(user)
        seen[user.username] = _listed(client, pw.program)
    assert seen["coord"] == {pw.shufu.pk, pw.jiashi.pk}
    assert seen["alice"] == {pw.shufu.pk}  # Guangdong assists Shufu
    assert seen["charlie"] == {pw.jiashi.pk}  # Jiangsu assists Jiashi
    assert seen["bob"] == {pw.shufu.pk}  # Shufu's own officer
    # Four scopes, four statements; the coordinator's second page compiled nothing.
    assert len(built) == 4
    # A second user of Guangdong's scope reads Guangdong's statement.
    client.force_login(UserFactory(organization=world.guangdong_gov, roles=[Role.ASSISTING_OFFICER]))
    assert _listed(client, pw.program) == {pw.shufu.pk}
    assert len(built) == 4


def test_a_timeline_is_the_querysets_events(world, pw):
    from django.contrib.contenttypes.models import ContentType

    from core.models import HistoryEvent

    HistoryEvent.objects.create(
        actor=world.coordinator,
        content_type=ContentType.objects.get_for_model(pw.program),
        object_id=pw.program.pk,
        object_repr=str(pw.program),
        action="updated",
        changes={"name_en": {"old": "Xinjiang", "new": "Xinjiang paired assistance"}},
        comment="改名",
    )
    expected = list(HistoryEvent.objects.for_object(pw.program).select_related("actor", "content_type")[:20])
    assert expected, "creating the programme and its rule made history"
    got = timeline(pw.program, 20)
    assert [e.pk for e in got] == [e.pk for e in expected]
    for mine, theirs in zip(got, expected, strict=True):
        for field in ("at", "action", "from_state", "to_state", "changes", "comment", "object_repr", "object_id"):
            assert getattr(mine, field) == getattr(theirs, field), field
        assert mine.content_type == theirs.content_type
        assert (mine.actor.username if mine.actor else None) == (theirs.actor.username if theirs.actor else None)
    assert any(e.actor is not None for e in got)
    assert timeline(pw.program, 1) == got[:1]
    # Another object of the same model: the same statement, its own events.
    assert {e.object_id for e in timeline(pw.shufu, 20)} == {pw.shufu.pk}
