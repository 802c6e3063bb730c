"""Reading history events: field labels in the reader's language and values as people read them."""

from typing import Any

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _

from core.demo_texts import in_language
from core.history import action_label as _action_label
from core.models import HistoryEvent
from core.money import format_cny

register = template.Library()


@register.filter
def field_label(event: HistoryEvent, name: str) -> str:
    """The label of NAME on the event's model: its `history_labels`, else the field's verbose name."""
    model = event.content_type.model_class()
    if model is None:
        return name
    # The model's own labels first: a name there may also be a reverse relation (a project's `rectifications`),
    # which has no verbose name to show.
    labels = getattr(model, "history_labels", {})
    if name in labels:
        return str(labels[name])
    try:
        return str(getattr(model._meta.get_field(name), "verbose_name", name))
    except FieldDoesNotExist:
        return name


@register.filter
def action_label(action: str) -> str:
    return _action_label(action)


@register.simple_tag
def history_value(event: HistoryEvent, name: str, value: Any) -> str:
    """VALUE of field NAME as people read it; a model may translate its codes with `history_display`."""
    model = event.content_type.model_class()
    display = getattr(model, "history_display", None)
    if display is not None:
        shown = display(name, value)
        if shown is not None:
            return shown
    if model is not None:
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            field = None
        choices = dict(getattr(field, "choices", None) or [])
        if choices and isinstance(value, str) and value in choices:
            return str(choices[value])
        # Money fields (18 digits, 2 places) read as CNY.
        if (
            getattr(field, "decimal_places", None) == 2
            and getattr(field, "max_digits", None) == 18
            and value is not None
        ):
            return format_cny(value)
    return change_value(value)


@register.simple_tag
def state_label(event: HistoryEvent, value: str) -> str:
    """A from/to state in the reader's language (the model's `status` or `state` choices)."""
    model = event.content_type.model_class()
    for name in ("state", "status"):
        try:
            field = model._meta.get_field(name) if model is not None else None
        except FieldDoesNotExist:
            continue
        choices = dict(getattr(field, "choices", None) or [])
        if value in choices:
            return str(choices[value])
    return value or "—"


@register.filter
def change_value(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    if isinstance(value, dict) and "label" in value:
        return str(value["label"])
    if isinstance(value, list):
        return "、".join(change_value(v) for v in value) if value else "—"
    # A text the demo or the synthetic data wrote (a training's topic) reads in the page's language.
    return in_language(str(value))
