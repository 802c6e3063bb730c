"""Evaluation forms: parse and present. The services decide what is allowed and what is in range, and their
refusals land on the fields (so a forbidden user is refused by the service, not by a form that happens to
find a typo first)."""

from collections.abc import Iterable

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import BootstrapFormMixin
from pairings.models import Program

ALL_PROGRAMS = "all"


class RunStartForm(BootstrapFormMixin, forms.Form):
    program = forms.ChoiceField(label=_("Programme"))
    year = forms.CharField(
        label=_("Year"),
        max_length=8,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def __init__(self, *args, programs: Iterable[Program] = (), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = [  # type: ignore[attr-defined]
            (ALL_PROGRAMS, _("All programmes")),
            *((p.code, str(p)) for p in programs),
        ]


class ExpertScoreForm(BootstrapFormMixin, forms.Form):
    """One expert-scored indicator of one project: the score and the reason for it."""

    score = forms.CharField(
        label=_("Score (0–100)"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 0, "max": 100, "step": "0.01", "inputmode": "decimal"}),
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Why this score: what you saw."),
    )


RATING_CHOICES = [
    ("1", _("1 · very unsatisfied")),
    ("2", _("2 · unsatisfied")),
    ("3", _("3 · neutral")),
    ("4", _("4 · satisfied")),
    ("5", _("5 · very satisfied")),
]


class SatisfactionForm(BootstrapFormMixin, forms.Form):
    # A CharField with radio buttons: a value out of range reaches the service, which says what is allowed.
    score = forms.CharField(label=_("Satisfaction"), required=False, widget=forms.RadioSelect(choices=RATING_CHOICES))
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
