"""The handover's and the operation reports' forms: parse and present; the services decide, and their refusals
land on the fields."""

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from core.forms import BootstrapFormMixin, MoneyField, unusual_ratio
from pairings.forms import DateInput

from .models import CostPayer, Document, OperationStatus, Project


class HandoverForm(BootstrapFormMixin, forms.Form):
    """The handover as the assisting side records it. An asset value more than ten times off the project's budget
    (816 typed in yuan for 816 万元) is asked about before it is saved: a warning to confirm, not a rule."""

    date = forms.DateField(label=_("Handover date"), widget=DateInput())
    receiving_organization = forms.ModelChoiceField(
        label=_("Receiving organization"), queryset=Organization.objects.none(), required=False
    )
    receiving_name = forms.CharField(
        label=_("Or the receiving body"),
        max_length=200,
        required=False,
        help_text=_("When the receiver is not an organization of the directory (a school, a hospital, an operator)."),
    )
    asset_value = MoneyField(label=_("Asset value"))
    asset_register = forms.ModelChoiceField(
        label=_("Asset register"),
        queryset=Document.objects.none(),
        required=False,
        help_text=_("A document already attached to the project…"),
    )
    asset_register_file = forms.FileField(
        label=_("…or upload the asset register"),
        required=False,
        help_text=_("PDF, DOCX, XLSX, JPEG or PNG, up to 20 MB."),
    )
    field_order = [
        "date",
        "receiving_organization",
        "receiving_name",
        "asset_value",
        "confirm_amount",
        "asset_register",
        "asset_register_file",
    ]

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.project = project
        region = project.pairing.recipient_region
        orgs = Organization.objects.filter(is_active=True, region__path__startswith=region.path).order_by("path")
        self.fields["receiving_organization"].queryset = orgs  # type: ignore[attr-defined]
        self.fields["asset_register"].queryset = project.documents.order_by("-uploaded_at")  # type: ignore[attr-defined]
        budget = self.budget
        if budget:
            self.fields["asset_value"].help_text = _(
                "The project's budget: %(yuan)s yuan (%(wan)s 万元). Choose the unit beside the amount."
            ) % {"yuan": f"{budget:,.2f}", "wan": f"{budget / 10_000:,.2f}"}
        if self.data.get("confirm_amount"):
            self._add_confirm()

    @property
    def budget(self) -> Decimal | None:
        return self.project.approved_budget or self.project.budget_requested

    def _add_confirm(self) -> None:
        self.fields["confirm_amount"] = forms.BooleanField(
            label=_("Yes, this is the asset value"), required=False, widget=forms.CheckboxInput()
        )
        self.fields["confirm_amount"].widget.attrs.setdefault("class", "form-check-input")
        self.order_fields(self.field_order)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        value, budget = data.get("asset_value"), self.budget
        ratio = unusual_ratio(value, budget)
        if ratio is not None and value is not None and budget is not None and not data.get("confirm_amount"):
            if "confirm_amount" not in self.fields:
                self._add_confirm()
            self.add_error(
                "asset_value",
                _(
                    "%(value)s yuan is %(ratio)s times %(direction)s than the project's budget of %(budget)s yuan: "
                    "check the unit (yuan or 10 000 yuan). If the amount is right, tick the confirmation below."
                )
                % {
                    "value": f"{value:,.2f}",
                    "budget": f"{budget:,.2f}",
                    "ratio": f"{ratio:,.0f}",
                    "direction": _("smaller") if value < budget else _("larger"),
                },
            )
        return data


class HandoverRefuseForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Why the handover is refused"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say why the handover is refused.")},
    )


class HandoverConfirmForm(BootstrapFormMixin, forms.Form):
    """No fields: the confirmation is the submit itself."""


class OperationReportForm(BootstrapFormMixin, forms.Form):
    year = forms.TypedChoiceField(label=_("Year"), coerce=int, choices=[])
    status = forms.ChoiceField(label=_("Operating status"), choices=[("", "—"), *OperationStatus.choices])
    utilisation = forms.IntegerField(
        label=_("Utilisation (%)"), min_value=0, max_value=100, required=False, help_text=_("Share of capacity used.")
    )
    operating_cost = MoneyField(label=_("Operating cost"), required=False)
    maintenance_cost = MoneyField(label=_("Maintenance cost"), required=False)
    cost_payer = forms.ChoiceField(label=_("Costs paid by"), choices=[("", "—"), *CostPayer.choices], required=False)
    revenue = MoneyField(
        label=_("Operating revenue"),
        required=False,
        help_text=_("For self-sustaining projects: what it earned in the year."),
    )
    jobs = forms.IntegerField(label=_("Jobs"), min_value=0, max_value=2_147_483_647, required=False)
    people_served = forms.IntegerField(label=_("People served"), min_value=0, max_value=2_147_483_647, required=False)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    photo_1 = forms.FileField(label=_("Photo"), required=False, help_text=_("JPEG or PNG, up to 20 MB."))
    photo_2 = forms.FileField(label=_("Another photo"), required=False)

    PHOTO_FIELDS = ("photo_1", "photo_2")

    def __init__(self, *args: Any, years: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(y, str(y)) for y in years]  # type: ignore[attr-defined]
