"""The framework editor: one form per indicator (a formset with empty rows to add and a delete box), one per
grade band, and the reason. The fields are lenient text so that `services.framework_revise` checks everything
at once and its problems, named like ``indicators[2].weight``, land on the row and field they concern."""

import re
from collections.abc import Mapping, Sequence
from typing import Any

from django import forms
from django.forms import BaseFormSet, formset_factory
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError
from core.forms import BootstrapFormMixin

from .measures import MEASURES, PAIRING, PROJECT
from .models import Curve

INDICATORS_PREFIX = "indicators"
SIZES = {
    "code": 14,
    "name": 16,
    "name_en": 16,
    "floor": 6,
    "target": 6,
    "thresholds": 22,
    "weight": 5,
}
BANDS_PREFIX = "bands"
_FIELD = re.compile(r"^indicators\[(\d+)\]\.(\w+)$")


def formula_choices() -> list[tuple[str, Any]]:
    groups: list[tuple[str, Any]] = [("", gettext_lazy("— choose —"))]
    for level, label in ((PROJECT, _("Project indicators")), (PAIRING, _("Pairing indicators"))):
        groups.append((label, [(m.code, str(m.label)) for m in MEASURES.values() if m.level == level]))
    return groups


def _number_text(value: Any) -> str:
    """A stored number as an official would type it: 0.8, 20, 4.5 (no trailing zeros)."""
    if value is None or value == "":
        return ""
    text = f"{float(value):.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def thresholds_text(bands: Sequence[Sequence[Any]] | None) -> str:
    return ", ".join(f"{_number_text(a)}:{_number_text(b)}" for a, b in (bands or []))


class IndicatorForm(BootstrapFormMixin, forms.Form):
    code = forms.CharField(label=gettext_lazy("Code"), max_length=40, required=False)
    name = forms.CharField(label=gettext_lazy("Name (Chinese)"), max_length=120, required=False)
    name_en = forms.CharField(label=gettext_lazy("Name (English)"), max_length=120, required=False)
    formula = forms.CharField(label=gettext_lazy("Formula"), required=False, widget=forms.Select)
    curve = forms.CharField(
        label=gettext_lazy("Curve"), required=False, widget=forms.Select(choices=Curve.choices), initial=Curve.LINEAR
    )
    floor = forms.CharField(label=gettext_lazy("Floor"), max_length=30, required=False)
    target = forms.CharField(label=gettext_lazy("Target"), max_length=30, required=False)
    thresholds = forms.CharField(
        label=gettext_lazy("Thresholds"),
        max_length=400,
        required=False,
    )
    weight = forms.CharField(label=gettext_lazy("Weight (%)"), max_length=10, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["formula"].widget.choices = formula_choices()  # type: ignore[attr-defined]
        for name in ("floor", "target", "weight"):
            self.fields[name].widget.attrs["inputmode"] = "decimal"
        self.fields["code"].widget.attrs["spellcheck"] = "false"
        # The table's columns take their widths from these sizes; labels are visually hidden, so placeholders.
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.Select):
                widget.attrs["class"] = widget.attrs.get("class", "") + " form-select-sm"
            elif name in SIZES:
                widget.attrs["size"] = str(SIZES[name])
                widget.attrs["class"] = widget.attrs.get("class", "") + " form-control-sm"
            if name in ("name", "name_en", "floor", "target", "thresholds"):
                widget.attrs["placeholder"] = str(field.label)

    @property
    def level_label(self) -> str:
        """The level of the row's formula as typed (or as loaded), for the row's badge."""
        formula = self.data.get(self.add_prefix("formula")) if self.is_bound else self.initial.get("formula")
        measure = MEASURES.get(str(formula or ""))
        if measure is None:
            return ""
        return str(_("project") if measure.level == PROJECT else _("pairing"))

    def clean_thresholds(self) -> list[list[str]] | None:
        """'1:0, 3:60' → [['1', '0'], ['3', '60']]; the service judges the numbers. None when unreadable."""
        raw = (self.cleaned_data.get("thresholds") or "").strip()
        if not raw:
            return []
        if raw.startswith("["):  # the API's JSON form pasted in
            import json

            try:
                value = json.loads(raw)
                return [[str(a), str(b)] for a, b in value]
            except (ValueError, TypeError):
                return None
        pairs = []
        for part in re.split(r"[,;，；\n]+", raw):
            part = part.strip()
            if not part:
                continue
            bits = re.split(r"\s*[:：→]\s*", part)
            if len(bits) != 2:
                return None
            pairs.append(bits)
        return pairs

    def row(self) -> dict[str, Any]:
        """What the service takes: the level follows the formula (a formula measures one kind of object)."""
        d = self.cleaned_data
        formula = d.get("formula") or ""
        thresholds = d.get("thresholds")
        return {
            "code": (d.get("code") or "").strip(),
            "name": (d.get("name") or "").strip(),
            "name_en": (d.get("name_en") or "").strip(),
            "level": MEASURES[formula].level if formula in MEASURES else "",
            "formula": formula,
            "curve": d.get("curve") or Curve.LINEAR,
            "floor": (d.get("floor") or "").strip(),
            "target": (d.get("target") or "").strip(),
            # Unreadable text reaches the service as a band it refuses, so its message names the field.
            "thresholds": thresholds if thresholds is not None else [["?", "?"]],
            "weight": (d.get("weight") or "").strip(),
        }


class BandForm(BootstrapFormMixin, forms.Form):
    lowest = forms.CharField(label=gettext_lazy("From score"), max_length=10, required=False)
    grade = forms.CharField(label=gettext_lazy("Grade"), max_length=8, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lowest"].widget.attrs["inputmode"] = "decimal"


class ReasonForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for the change"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Kept with the new version and shown in its history."),
    )
    #: The version that was current when the editor opened: saving over a newer one is refused.
    based_on = forms.IntegerField(widget=forms.HiddenInput, required=False)
    #: Lenient text, judged by the service with the rest (its problem names this field).
    min_coverage = forms.CharField(
        label=gettext_lazy("Minimum data coverage (%)"),
        max_length=10,
        required=False,
        help_text=gettext_lazy(
            "A project is scored only when its indicators with data carry at least this share of the project "
            "indicators' weight; below it, it shows “not enough data yet” and does not count in its pairing's "
            "average."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["min_coverage"].widget.attrs.update(inputmode="decimal", size="6")


def kept_forms(formset: BaseFormSet) -> list[tuple[int, forms.Form]]:  # type: ignore[type-arg]
    """(form index, form) of a validated formset's rows to save: not marked for deletion, and not an untouched
    empty row."""
    out = []
    for i, form in enumerate(formset.forms):
        if form.cleaned_data.get("DELETE"):
            continue
        if i >= formset.initial_form_count() and not form.has_changed():
            continue
        out.append((i, form))
    return out


IndicatorFormSet = formset_factory(IndicatorForm, extra=2, can_delete=True, max_num=60)
BandFormSet = formset_factory(BandForm, extra=1, can_delete=True, max_num=12)


def indicator_initial(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The rows as the form shows them, project indicators first (the order the framework page shows)."""
    rows = sorted(rows, key=lambda r: r.get("level") != PROJECT)
    return [
        {
            "code": r["code"],
            "name": r["name"],
            "name_en": r["name_en"],
            "formula": r["formula"],
            "curve": r["curve"],
            "floor": _number_text(r.get("floor")),
            "target": _number_text(r.get("target")),
            "thresholds": thresholds_text(r.get("thresholds")),
            "weight": _number_text(r.get("weight")),
        }
        for r in rows
    ]


def band_initial(bands: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    return [{"lowest": _number_text(lo), "grade": str(g)} for lo, g in sorted(bands or [], key=lambda b: -float(b[0]))]


class FrameworkEditor:
    """The three parts of the editor page, bound together, and the way back from the service's problems."""

    def __init__(  # type: ignore[no-untyped-def]
        self, data: Any = None, *, rows: Sequence[Mapping[str, Any]] = (), bands: Any = (), based_on=None,
        min_coverage: Any = None,
    ):  # fmt: skip
        self.indicators = IndicatorFormSet(data, initial=indicator_initial(rows), prefix=INDICATORS_PREFIX)
        self.bands = BandFormSet(data, initial=band_initial(bands), prefix=BANDS_PREFIX)
        self.reason = ReasonForm(data, initial={"based_on": based_on, "min_coverage": _number_text(min_coverage)})
        self.indicator_errors: list[str] = []
        self.band_errors: list[str] = []
        self._kept_rows: list[tuple[int, forms.Form]] = []

    def is_valid(self) -> bool:
        # Evaluate all three so every error shows at once.
        results = [self.indicators.is_valid(), self.bands.is_valid(), self.reason.is_valid()]
        return all(results)

    def payload(self) -> dict[str, Any]:
        """The service's arguments. Remembers which form each submitted row came from."""
        self._kept_rows = kept_forms(self.indicators)
        indicators = [form.row() for _i, form in self._kept_rows]  # type: ignore[attr-defined]
        bands = [
            [(form.cleaned_data.get("lowest") or "").strip(), (form.cleaned_data.get("grade") or "").strip()]
            for _i, form in kept_forms(self.bands)
        ]
        return {
            "indicators": indicators,
            "grade_bands": bands,
            "reason": self.reason.cleaned_data.get("reason") or "",
            # Left empty: the service keeps the current version's.
            "min_coverage": (self.reason.cleaned_data.get("min_coverage") or "").strip() or None,
        }

    def apply(self, error: DomainError) -> None:
        """Put each problem on the row and field it names (``indicators[2].weight`` is the third row saved)."""
        for p in error.problems:
            message = str(p.message)
            match = _FIELD.match(p.field or "")
            if match:
                index, name = int(match.group(1)), match.group(2)
                if index < len(self._kept_rows):
                    form = self._kept_rows[index][1]
                    if name == "level":  # the level follows the formula
                        name = "formula"
                    form.add_error(name if name in form.fields else None, message)
                    continue
            if p.field in (INDICATORS_PREFIX,) or (p.field or "").startswith(INDICATORS_PREFIX):
                self.indicator_errors.append(message)
            elif p.field == "grade_bands":
                self.band_errors.append(message)
            elif p.field in self.reason.fields:
                self.reason.add_error(p.field, message)
            else:
                self.reason.add_error(None, message)

    @property
    def has_errors(self) -> bool:
        return bool(
            self.indicator_errors
            or self.band_errors
            or self.reason.errors
            or any(f.errors for f in self.indicators.forms)
            or any(f.errors for f in self.bands.forms)
            or self.indicators.non_form_errors()
            or self.bands.non_form_errors()
        )
