"""The forms' renderer (core/form_renderer.py) writes selects and inputs in Python: the HTML must be Django's
templates' own, character for character, in every case the templates distinguish — and anything it does not write
itself goes to the templates."""

import datetime as dt
from decimal import Decimal

import pytest
from django import forms
from django.conf import settings
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from core import form_renderer
from core.form_renderer import Renderer
from core.list_filters import OneOf
from projects.models import Sector, State

DJANGO = DjangoTemplates()
FAST = Renderer()


class Named:
    def __str__(self) -> str:
        return "<named & “quoted”>"


class Called:
    """A value the template language calls (it prints what the call returns)."""

    def __call__(self) -> str:
        return "called"

    def __str__(self) -> str:
        return "not called"


GROUPED = [
    ("", "—"),
    ("Fruit", [("apple", "Apple & pie"), ("pear", mark_safe("<b>Pear</b>"))]),
    ("Numbers", [(1, 2024), (2, Decimal("1234.50")), (3, dt.date(2026, 1, 2))]),
    ("x", "<script>"),
]

CASES = [
    ("select", forms.Select(choices=[("", "Any"), *Sector.choices]), "sector", ""),
    ("select, chosen", forms.Select(choices=[("", "Any"), *State.choices]), "state", "accepted"),
    ("select, lazy labels", forms.Select(choices=[("", gettext_lazy("Any state")), *State.choices]), "s", None),
    ("select, groups and odd labels", forms.Select(choices=GROUPED), "g", "pear"),
    ("select, value as a number", forms.Select(choices=[(1, "one"), (2, "two")]), "n", 2),
    ("select multiple", forms.SelectMultiple(choices=GROUPED), "m", ["apple", "1"]),
    ("one of several", OneOf(choices=[("", "Any"), *State.choices]), "state", ["draft", "accepted"]),
    ("null boolean", forms.NullBooleanSelect(), "b", True),
    (
        "select, odd attributes",
        forms.Select(
            choices=[("a", "A")],
            attrs={
                "class": "form-select is-invalid",
                "aria-label": gettext_lazy("State"),
                "disabled": True,
                "hidden": False,
                "data-x": '"quoted" & <tag>',
                "data-safe": mark_safe("<ok>"),
                "data-n": 3,
                "data-obj": Named(),
                "data-tuple": (1, 2),
            },
        ),
        "o",
        "a",
    ),
    (
        "text",
        forms.TextInput(attrs={"placeholder": "Code, title or place", "class": "form-control"}),
        "q",
        "幼儿园 & <b>",
    ),
    ("text, empty", forms.TextInput(), "q", None),
    ("text, empty string", forms.TextInput(), "q", ""),
    ("text, safe value", forms.TextInput(), "q", mark_safe("<i>kept</i>")),
    ("number", forms.NumberInput(attrs={"min": 1, "max": 9, "step": "any"}), "year", 2024),
    ("number, decimal", forms.NumberInput(), "amount", Decimal("1234.50")),
    ("hidden", forms.HiddenInput(), "next", "/projects/?a=1&b=2"),
    ("email", forms.EmailInput(attrs={"required": True, "autofocus": True}), "email", "a@b.cn"),
    ("password", forms.PasswordInput(render_value=True), "pw", "x<y"),
    ("date", forms.DateInput(), "d", dt.date(2026, 12, 6)),
    ("search", forms.TextInput(attrs={"type": "search"}), "s", "x"),
    ("url", forms.URLInput(), "u", "https://example.org/?a=1&b=2"),
]


@pytest.mark.parametrize(("label", "widget", "name", "value"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_each_widget_is_written_as_its_templates_write_it(label, widget, name, value, language) -> None:
    with translation.override(language):
        expected = widget.render(name, value, attrs={"id": f"id_{name}"}, renderer=DJANGO)
        written = widget.render(name, value, attrs={"id": f"id_{name}"}, renderer=FAST)
    assert written == expected
    assert type(written) is type(expected)


def test_the_select_and_the_inputs_do_not_reach_their_templates(monkeypatch) -> None:
    """Written in Python, not only written alike: the templates are never asked for."""
    asked = []
    monkeypatch.setattr(DjangoTemplates, "get_template", lambda self, name: asked.append(name))
    for _, widget, name, value in CASES:
        widget.render(name, value, renderer=Renderer())
    assert asked == []


@pytest.mark.parametrize(
    ("widget", "value"),
    [
        (forms.Select(choices=[("a", "A")]), Called()),  # a value the template language calls
        (forms.TextInput(), Called()),
        (forms.RadioSelect(choices=[("a", "A"), ("b", "B")]), "a"),  # a template this renderer does not write
        (forms.CheckboxInput(), True),
        (forms.Textarea(), "<text>"),
    ],
)
def test_what_it_does_not_write_goes_to_the_templates(widget, value) -> None:
    assert widget.render("w", value, renderer=FAST) == widget.render("w", value, renderer=DJANGO)


def test_an_attribute_named_items_goes_to_the_templates() -> None:
    """The template reads `attrs.items` as attrs["items"] (and fails on it): so does the renderer."""
    widget = forms.Select(choices=[("a", "A")], attrs={"items": "x"})
    for renderer in (DJANGO, FAST):
        with pytest.raises(ValueError, match="Need 2 values to unpack"):
            widget.render("w", "a", renderer=renderer)


def test_a_select_whose_options_have_another_template_goes_to_the_templates(monkeypatch) -> None:
    widget = forms.Select(choices=[("a", "A")])
    widget.option_template_name = "django/forms/widgets/input_option.html"
    assert widget.option_template_name != form_renderer.OPTION
    assert widget.render("w", "a", renderer=FAST) == widget.render("w", "a", renderer=DJANGO)


def test_the_project_renders_forms_with_it() -> None:
    assert settings.FORM_RENDERER == "core.form_renderer.Renderer"
    assert isinstance(get_default_renderer(), Renderer)


def test_a_bound_field_with_an_error_renders_alike() -> None:
    """`{{ field }}` in a page: Django adds aria-invalid and aria-describedby to a field with errors."""

    class F(forms.Form):
        state = forms.ChoiceField(choices=[("", "Any"), *State.choices], help_text="Pick one")
        year = forms.IntegerField(min_value=2000)

    fast = F({"state": "nonsense", "year": "1999"}, renderer=FAST)
    django = F({"state": "nonsense", "year": "1999"}, renderer=DJANGO)
    assert not fast.is_valid()
    assert not django.is_valid()
    for name in ("state", "year"):
        assert str(fast[name]) == str(django[name])
        assert 'aria-invalid="true"' in str(fast[name])
