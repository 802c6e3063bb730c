"""Shared writes: recording history."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import translation

from .models import HistoryEvent


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        # Keep the label as it read then: the object may be renamed or gone when the history is read.
        return {"id": value.pk, "label": str(value)}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return str(value)


def history_record(
    *,
    obj: models.Model,
    action: str,
    actor: Any = None,
    from_state: str = "",
    to_state: str = "",
    changes: Mapping[str, tuple[Any, Any]] | None = None,
    comment: str = "",
) -> HistoryEvent:
    """Append one event for OBJ. `changes` maps a field to (old, new); values are stored as JSON."""
    event = history_event(
        obj=obj, action=action, actor=actor, from_state=from_state, to_state=to_state, changes=changes, comment=comment
    )
    event.save()
    return event


def history_event(
    *,
    obj: models.Model,
    action: str,
    actor: Any = None,
    from_state: str = "",
    to_state: str = "",
    changes: Mapping[str, tuple[Any, Any]] | None = None,
    comment: str = "",
) -> HistoryEvent:
    """The event `history_record` would append, unsaved: for services that write many at once (bulk_create).

    Labels are recorded in the site's language whoever acts: the record says what a thing was called then, the
    same for an English-reading actor as for a Chinese-reading one (the reader's language applies when it is shown).
    """
    with translation.override(settings.LANGUAGE_CODE):
        return _event(obj, action, actor, from_state, to_state, changes, comment)


def _event(
    obj: models.Model,
    action: str,
    actor: Any,
    from_state: str,
    to_state: str,
    changes: Mapping[str, tuple[Any, Any]] | None,
    comment: str,
) -> HistoryEvent:
    return HistoryEvent(
        actor=actor if getattr(actor, "pk", None) else None,
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        object_repr=str(obj)[:200],
        action=action,
        from_state=from_state or "",
        to_state=to_state or "",
        changes={k: {"old": _jsonable(old), "new": _jsonable(new)} for k, (old, new) in (changes or {}).items()},
        comment=comment or "",
    )


def diff_fields(obj: models.Model, new_values: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The fields of OBJ whose value differs from NEW_VALUES, as field -> (old, new)."""
    return {name: (getattr(obj, name), value) for name, value in new_values.items() if getattr(obj, name) != value}
