from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from .errors import DomainError, Problem


def apply_domain_error(form: forms.Form, error: DomainError) -> None:
    """Put each problem of a DomainError on its field (or on the form when the field is not in it),
    so the page shows every message where the official has to act and keeps what was typed."""
    for p in error.problems:
        form.add_error(p.field if p.field in form.fields else None, str(p.message))


def add_more_problems(form: forms.Form, problems: Iterable[Problem]) -> None:
    """After the form refused some fields, add what the service's own checks say of the fields it accepted, so
    every mistake shows after one submit (a field already refused keeps only its own message)."""
    refused = set(form.errors)
    for p in problems:
        field = p.field if p.field in form.fields else None
        if field not in refused:
            form.add_error(field, str(p.message))


class BootstrapFormMixin:
    """Give every widget Bootstrap's class, and mark fields with errors so the page shows where to act."""

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        for field in self.fields.values():  # type: ignore[attr-defined]
            if isinstance(field, forms.ModelChoiceField) and field.empty_label is not None:
                field.empty_label = _("— choose —")
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple | forms.RadioSelect):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        self._mark_invalid()

    def add_error(self, field, error):  # type: ignore[no-untyped-def]
        super().add_error(field, error)  # type: ignore[misc]
        self._mark_invalid()

    def _mark_invalid(self) -> None:
        for name in getattr(self, "_errors", None) or {}:
            if name in self.fields:  # type: ignore[attr-defined]
                widget = self.fields[name].widget  # type: ignore[attr-defined]
                classes = widget.attrs.get("class", "")
                if "is-invalid" not in classes:
                    widget.attrs["class"] = f"{classes} is-invalid".strip()
                widget.attrs["aria-invalid"] = "true"


# --- money ------------------------------------------------------------------------------------------------


class MoneyUnit(models.TextChoices):
    """The unit an official types an amount in: budgets are spoken of in 万元, the API and the database hold yuan."""

    YUAN = "yuan", _("yuan (元)")
    WAN = "wan", _("10 000 yuan (万元)")


UNIT_FACTOR = {MoneyUnit.YUAN: Decimal(1), MoneyUnit.WAN: Decimal(10_000)}
_CENT = Decimal("0.01")


class MoneyWidget(forms.MultiWidget):
    """An amount and its unit side by side (`<name>_0`, `<name>_1`). A plain `<name>` in the data (a script, an
    older page) is read as yuan."""

    template_name = "core/widgets/money.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        widgets = (
            forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
            forms.Select(choices=MoneyUnit.choices),
        )
        super().__init__(widgets, attrs)

    def decompress(self, value: Any) -> list[Any]:
        return [value, MoneyUnit.YUAN] if value not in (None, "") else [None, MoneyUnit.YUAN]

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        if f"{name}_0" not in data and name in data:
            return [data.get(name), MoneyUnit.YUAN]
        return super().value_from_datadict(data, files, name)

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data and super().value_omitted_from_data(data, files, name)

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        # The form's Bootstrap class is for the number; the unit is a select (and keeps the invalid mark).
        number, unit = context["widget"]["subwidgets"]
        classes = str(number["attrs"].get("class", "form-control")).replace("form-select", "form-control")
        number["attrs"]["class"] = classes
        unit["attrs"]["class"] = classes.replace("form-control", "form-select") + " dk-money-unit flex-grow-0 w-auto"
        return context


class MoneyField(forms.MultiValueField):
    """An amount in yuan typed in 元 or 万元: cleaned to yuan with two places (18 digits at most), whatever unit the
    official chose; on a refused form both the number and the unit come back as typed."""

    widget = MoneyWidget

    def __init__(self, *, required: bool = True, **kwargs: Any) -> None:
        fields = (
            forms.DecimalField(required=False, localize=False),
            forms.ChoiceField(choices=MoneyUnit.choices, required=False),
        )
        kwargs.setdefault("help_text", _("Choose the unit beside the amount: yuan (元) or 10 000 yuan (万元)."))
        super().__init__(fields=fields, required=required, require_all_fields=False, **kwargs)

    def compress(self, data_list: list[Any]) -> Decimal | None:
        if not data_list or data_list[0] in (None, ""):
            return None
        amount, unit = data_list[0], data_list[1] or MoneyUnit.YUAN
        yuan = Decimal(amount) * UNIT_FACTOR[MoneyUnit(unit)]
        if yuan != yuan.quantize(_CENT):
            raise ValidationError(_("An amount has at most two places in yuan (fen)."), code="max_decimal_places")
        yuan = yuan.quantize(_CENT)
        if abs(yuan) >= Decimal(10) ** 16:
            raise ValidationError(_("This amount is too large."), code="max_digits")
        return yuan


def unusual_ratio(amount: Decimal | None, reference: Decimal | None, factor: int = 10) -> Decimal | None:
    """How many times AMOUNT differs from REFERENCE when it is more than FACTOR times either way (the likely sign of
    an amount typed in the wrong unit: 816 yuan for 816 万元 is 10 000 times off), else None."""
    if not amount or not reference or amount <= 0 or reference <= 0:
        return None
    ratio = max(amount / reference, reference / amount)
    return ratio if ratio > factor else None
