"""Project forms: parse and present; the services decide, and their refusals land on the fields."""

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from accounts.forms import RegionChoiceField
from core.forms import BootstrapFormMixin
from pairings.forms import MONEY_HELP, DateInput
from pairings.models import Pairing

from .models import Category, DocumentKind, ExecutionMode, InspectionKind, InspectionResult, Project, Sector


class ProjectForm(BootstrapFormMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    pairing = forms.ModelChoiceField(label=_("Pairing"), queryset=Pairing.objects.none())
    category = forms.ChoiceField(label=_("Category"), choices=[("", "—"), *Category.choices], required=False)
    sector = forms.ChoiceField(label=_("Sector"), choices=[("", "—"), *Sector.choices], required=False)
    execution_mode = forms.ChoiceField(label=_("Execution mode"), choices=ExecutionMode.choices)
    location = RegionChoiceField(
        label=_("Location (region code)"),
        required=False,
        help_text=_("The county or township where the project is, within the pairing's recipient region."),
    )
    budget_requested = forms.DecimalField(
        label=_("Budget requested"), max_digits=18, decimal_places=2, required=False, help_text=MONEY_HELP
    )
    planned_start = forms.DateField(label=_("Planned start"), widget=DateInput(), required=False)
    planned_end = forms.DateField(label=_("Planned end"), widget=DateInput(), required=False)
    expected_beneficiaries = forms.IntegerField(label=_("Expected beneficiaries"), min_value=0, required=False)
    # Labelled as the model's field, so its translation is the one the timeline already uses.
    reached_beneficiaries = forms.IntegerField(
        label=capfirst(Project._meta.get_field("reached_beneficiaries").verbose_name), min_value=0, required=False
    )
    implementing_agency = forms.CharField(label=_("Implementing agency"), max_length=200, required=False)
    is_livelihood = forms.BooleanField(label=_("Livelihood project"), required=False)
    is_self_sustaining = forms.BooleanField(label=_("Self-sustaining (造血)"), required=False)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    repayment_terms = forms.CharField(
        label=_("Repayment terms"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required for reimbursable projects."),
    )

    def __init__(self, *args, pairings=None, editable=None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if pairings is not None:
            self.fields["pairing"].queryset = pairings  # type: ignore[attr-defined]
        if editable is None:
            # A new draft has reached nobody yet; beneficiaries reached are recorded once it is built.
            del self.fields["reached_beneficiaries"]
        else:
            # Editing: only what the state allows, and never the pairing.
            for name in list(self.fields):
                if name not in editable:
                    del self.fields[name]


class TransitionForm(BootstrapFormMixin, forms.Form):
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class ApproveForm(TransitionForm):
    approved_budget = forms.DecimalField(
        label=_("Approved budget"),
        max_digits=18,
        decimal_places=2,
        required=False,
        help_text=_("Empty: the requested budget."),
    )
    field_order = ["approved_budget", "comment"]


class StartForm(TransitionForm):
    actual_start = forms.DateField(label=_("Actual start"), widget=DateInput())
    field_order = ["actual_start", "comment"]


class CompleteForm(TransitionForm):
    actual_end = forms.DateField(label=_("Actual end"), widget=DateInput())
    field_order = ["actual_end", "comment"]


class ProgressReportForm(BootstrapFormMixin, forms.Form):
    period_end = forms.DateField(label=_("Period ending"), widget=DateInput())
    physical_progress = forms.IntegerField(label=_("Physical progress (%)"), min_value=0, max_value=100)
    spend_to_date = forms.DecimalField(label=_("Spend to date"), max_digits=18, decimal_places=2, help_text=MONEY_HELP)
    narrative = forms.CharField(label=_("Narrative"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    photo = forms.FileField(label=_("Photo"), required=False, help_text=_("JPEG or PNG, up to 20 MB."))


class ReviewForm(BootstrapFormMixin, forms.Form):
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class InspectionForm(BootstrapFormMixin, forms.Form):
    date = forms.DateField(label=_("Date"), widget=DateInput())
    kind = forms.ChoiceField(label=_("Kind"), choices=InspectionKind.choices)
    result = forms.ChoiceField(label=_("Result"), choices=InspectionResult.choices)
    findings = forms.CharField(label=_("Findings"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    rectification = forms.CharField(
        label=_("Rectification required"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What must be put right (leave empty if nothing)."),
    )
    deadline = forms.DateField(label=_("Rectification deadline"), widget=DateInput(), required=False)

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean() or {}
        if data.get("rectification") and not data.get("deadline"):
            self.add_error("deadline", _("Give the rectification a deadline."))
        return data


class RectificationCloseForm(BootstrapFormMixin, forms.Form):
    note = forms.CharField(label=_("How it was put right"), widget=forms.Textarea(attrs={"rows": 3}))
    evidence = forms.FileField(label=_("Evidence"), required=False, help_text=_("A photo or document, up to 20 MB."))


class DocumentForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(label=_("File"), help_text=_("JPEG, PNG, PDF, DOCX or XLSX, up to 20 MB."))
    kind = forms.ChoiceField(label=_("Kind"), choices=DocumentKind.choices)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
