"""The kinds of notification and their texts. Apps register theirs (in AppConfig.ready) as history action labels
are registered, so accounts needs no knowledge of them. A notification stores its kind and parameters; the text is
written here when it is read, in the reader's language, so one made while the system ran in Chinese reads in
English for an English reader."""

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _

from core.history import action_label

#: A template (`%(name)s` placeholders filled from the parameters) or a function writing the text itself.
Template = str | Promise | Callable[[Mapping[str, Any]], str]

_kinds: dict[str, Template] = {}


def register_kinds(kinds: Mapping[str, Template]) -> None:
    _kinds.update(kinds)


def registered_kinds() -> frozenset[str]:
    return frozenset(_kinds)


def render(kind: str, params: Mapping[str, Any]) -> str:
    """The text of a notification of KIND in the current language. An `action` parameter is a history action's
    code and reads as its label; a kind nobody registers (an app removed since) reads as a plain "Notification",
    never as its code."""
    template = _kinds.get(kind)
    if template is None:
        return _("Notification")
    values = dict(params)
    if "action" in values:
        values["action"] = action_label(str(values["action"]))
    if callable(template):
        return template(values)
    text = str(template)
    try:
        return text % values
    except (KeyError, TypeError, ValueError):
        # Parameters stored under an older template: the text without them rather than an error page.
        return text
