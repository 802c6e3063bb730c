"""The forms' renderer: Django's own, except that its plainest widgets — `<select>` with its `<option>`s and the
one-line `<input>`s — are written in Python instead of through their templates.

Django renders a select through a template that includes one template per option, and each of those includes the
attributes' template: a filter form's four selects cost several milliseconds a page, more than the page's SQL. The
HTML written here is the templates' own, character for character (`tests/core/test_form_renderer.py` renders every
case both ways); anything out of the ordinary (another option template, a value the template language would call,
an attribute named like a dict method) goes to the templates as before.
"""

from collections.abc import Callable, Mapping
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, SafeString, mark_safe

_WIDGETS = "django/forms/widgets/"
SELECT = f"{_WIDGETS}select.html"
OPTION = f"{_WIDGETS}select_option.html"
#: The input widgets whose template is only `{% include "django/forms/widgets/input.html" %}`.
INPUTS = frozenset(
    f"{_WIDGETS}{name}.html"
    for name in (
        "input",
        "text",
        "number",
        "email",
        "url",
        "password",
        "hidden",
        "search",
        "tel",
        "date",
        "datetime",
        "time",
        "color",
    )
)
#: What a form renderer's template gets: autoescaping on, the project's localization and time zone.
_CONTEXT = Context(autoescape=True)


class NotPlain(Exception):
    """The widget holds something the templates treat in a way of their own: they render it."""


def _plain(value: Any) -> Any:
    # The template language calls a callable it meets (unless told not to): not written here.
    if callable(value) and not getattr(value, "do_not_call_in_templates", False):
        raise NotPlain
    return value


def _text(value: Any) -> str:
    """`{{ value }}`."""
    return render_value_in_context(_plain(value), _CONTEXT)


def _formatted(value: Any) -> str:
    """`{{ value|stringformat:'s' }}`: `%s` of the value, left as it is when it was safe, escaped otherwise."""
    value = _plain(value)
    try:
        text = "%s" % (str(value) if isinstance(value, tuple) else value)
    except (ValueError, TypeError):
        text = ""
    # A value that was safe stays so, as the filter leaves it (it is declared is_safe); any other is escaped.
    return conditional_escape(mark_safe(text) if isinstance(value, SafeData) else text)  # noqa: S308


def _attrs(attrs: Mapping[str, Any]) -> str:
    """django/forms/widgets/attrs.html."""
    if "items" in attrs:  # the template would read attrs["items"] instead of attrs.items()
        raise NotPlain
    out = []
    for name, value in attrs.items():
        if value is not False:
            out.append(f" {_text(name)}" if value is True else f' {_text(name)}="{_formatted(value)}"')
    return "".join(out)


def _input(widget: Mapping[str, Any]) -> str:
    """django/forms/widgets/input.html (and the templates that only include it)."""
    value = widget["value"]
    shown = f' value="{_formatted(value)}"' if value != None else ""  # noqa: E711  (the template's own `!= None`)
    return f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{shown}{_attrs(widget["attrs"])}>'


def _select(widget: Mapping[str, Any]) -> str:
    """django/forms/widgets/select.html with django/forms/widgets/select_option.html for each option."""
    out = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in options:
            if option.get("template_name") != OPTION:
                raise NotPlain
            out.append(
                f'\n  <option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
                f"{_text(option['label'])}</option>\n"
            )
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return "".join(out)


_WRITERS: dict[str, Callable[[Mapping[str, Any]], str]] = {SELECT: _select, **dict.fromkeys(INPUTS, _input)}


class Renderer(DjangoTemplates):
    """Django's renderer (its templates, the apps' templates), with the plain widgets written in Python."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        write = _WRITERS.get(template_name)
        widget = context.get("widget") if write is not None else None
        if write is not None and isinstance(widget, Mapping):
            try:
                return SafeString(write(widget).strip())
            except NotPlain:
                pass
        return super().render(template_name, context, request=request)
