"""Reading history events: field labels in the reader's language and values as people read them."""

import html
from collections.abc import Iterable
from typing import Any

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.template.defaultfilters import capfirst
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # not in the stubs
from django.utils.translation import gettext as _

from core.demo_texts import in_language
from core.history import action_label as _action_label
from core.models import HistoryEvent
from core.money import format_cny
from core.selectors import RecentChange
from core.templatetags.dates import date as fast_date

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


def _item(change: Any, key: str) -> Any:
    """CHANGE's KEY as the template's `change.old` read it: "" where it has none."""
    if isinstance(change, dict):
        return change.get(key, "")
    return getattr(change, key, "")


def _esc(value: Any) -> str:
    """VALUE escaped as a template (or format_html) writes it: a safe string as it is."""
    as_html = getattr(value, "__html__", None)
    return as_html() if as_html is not None else html.escape(str(value))


@register.simple_tag
def history_list(events: Iterable[HistoryEvent]) -> str:
    """The timeline's events written in Python (the template language cost more than the rest of a project's page):
    what includes/history.html wrote per event, element for element (tests/core/test_history_list.py renders them
    both ways) — when and who, the action and the states, each change as people read it, the comment. A state's
    and a field's label are looked up once per model in a timeline; each part is escaped as format_html did."""
    states_seen: dict[tuple[int, str], str] = {}
    labels_seen: dict[tuple[int, str], str] = {}

    def state(e: HistoryEvent, value: str) -> str:
        key = (e.content_type_id, value)
        if key not in states_seen:
            states_seen[key] = _esc(state_label(e, value))
        return states_seen[key]

    def label(e: HistoryEvent, name: str) -> str:
        key = (e.content_type_id, name)
        if key not in labels_seen:
            labels_seen[key] = _esc(field_label(e, name))
        return labels_seen[key]

    system = _esc(_("system"))
    written = []
    for e in events:
        actor = e.actor
        who = _esc(in_language(actor.get_full_name() or actor.username)) if actor else system
        states = ""
        if e.from_state or e.to_state:
            before = f"{state(e, e.from_state)} → " if e.from_state else ""
            states = f": {before}{state(e, e.to_state)}"
        changes = ""
        if e.changes:
            pairs = e.changes.items() if isinstance(e.changes, dict) else []
            spans = "".join(
                f'<span class="me-3"><span class="text-body-secondary">{label(e, name)}:</span> '
                f"{_esc(history_value(e, name, _item(change, 'old')))} → "
                f"{_esc(history_value(e, name, _item(change, 'new')))}</span>"
                for name, change in pairs
            )
            changes = f'<div class="small">{spans}</div>'
        comment = f'<div class="small fst-italic">{_esc(in_language(e.comment))}</div>' if e.comment else ""
        written.append(
            f'\n  <li>\n    <div class="small text-body-secondary">{_esc(fast_date(template_localtime(e.at), "Y-m-d H:i"))}'
            f" · {who}</div>\n    <div>{_esc(capfirst(action_label(e.action)))}{states}</div>\n"
            f"    {changes}\n    {comment}\n  </li>\n"
        )
    if not written:
        written.append(format_html('\n  <li class="text-body-secondary">{}</li>\n', _("No history yet.")))
    return mark_safe("".join(written))  # noqa: S308 — every part above was escaped


@register.simple_tag
def history_rows(events: Iterable[RecentChange]) -> str:
    """The home's recent changes (`core.selectors.recent_history`) written in Python, a table row per event: what
    core/panels/history.html wrote per event, element for element (tests/core/test_history_list.py renders them both
    ways) — when, who, what, which."""
    system = _("system")
    return mark_safe(  # noqa: S308 — every part is escaped
        "".join(
            f'\n        <tr>\n          <td class="text-nowrap">{_esc(fast_date(template_localtime(e.at), "Y-m-d H:i"))}'
            f"</td>\n          <td>{_esc(e.actor_username or system)}</td>\n"
            f"          <td>{_esc(capfirst(action_label(e.action)))}</td>\n          <td>{_esc(e.object_repr)}</td>\n"
            "        </tr>\n"
            for e in events
        )
    )
