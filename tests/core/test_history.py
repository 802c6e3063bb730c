import pytest
from django.contrib.contenttypes.models import ContentType

from core.models import AppendOnlyError, HistoryEvent
from core.services import history_record

pytestmark = pytest.mark.django_db


def test_history_record_writes_actor_state_and_changes(world):
    event = history_record(
        obj=world.guangdong_gov,
        action="updated",
        actor=world.coordinator,
        from_state="a",
        to_state="b",
        changes={"name": ("old", "new")},
        comment="because",
    )
    stored = HistoryEvent.objects.get(pk=event.pk)
    assert stored.actor == world.coordinator
    assert stored.content_type == ContentType.objects.get_for_model(world.guangdong_gov)
    assert stored.object_id == world.guangdong_gov.pk
    assert (stored.from_state, stored.to_state, stored.comment) == ("a", "b", "because")
    assert stored.changes == {"name": {"old": "old", "new": "new"}}
    assert list(HistoryEvent.objects.for_object(world.guangdong_gov)) == [stored]


def test_history_event_cannot_be_updated_through_the_orm(world):
    event = history_record(obj=world.guangdong_gov, action="created")
    event.comment = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        HistoryEvent.objects.filter(pk=event.pk).update(comment="rewritten")
    with pytest.raises(AppendOnlyError):
        HistoryEvent.objects.bulk_update([event], ["comment"])
    assert HistoryEvent.objects.get(pk=event.pk).comment == ""


def test_history_event_cannot_be_deleted_through_the_orm(world):
    event = history_record(obj=world.guangdong_gov, action="created")
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        HistoryEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AppendOnlyError):
        HistoryEvent.objects.all().delete()
    assert HistoryEvent.objects.filter(pk=event.pk).exists()
