"""Project forms: parse and present; the services decide, and their refusals land on the fields."""

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from accounts.forms import RegionChoiceField
from core.forms import BootstrapFormMixin, MoneyField, unusual_ratio
from pairings.forms import DateInput
from pairings.models import Pairing

from .models import Category, DocumentKind, ExecutionMode, InspectionKind, InspectionResult, Project, Sector


class ProjectForm(BootstrapFormMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    pairing = forms.ModelChoiceField(label=_("Pairing"), queryset=Pairing.objects.none())
    category = forms.ChoiceField(label=_("Category"), choices=[("", "—"), *Category.choices], required=False)
    sector = forms.ChoiceField(label=_("Sector"), choices=[("", "—"), *Sector.choices], required=False)
    execution_mode = forms.ChoiceField(label=_("Execution mode"), choices=ExecutionMode.choices)
    location = RegionChoiceField(
        label=_("Location"),
        required=False,
        help_text=_(
            "The county or township where the project is, within the pairing's recipient region: type its name "
            "(Chinese or English) or code and choose it."
        ),
    )
    budget_requested = MoneyField(label=_("Budget requested"), required=False)
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

    def __init__(self, *args, project=None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.project = project


class ApproveForm(TransitionForm):
    """The approval, with the budget: the request shown beside it, and an amount more than ten times off the request
    (816 typed in yuan for 816 万元) asked about before it is saved — a warning the approver may confirm, not a rule
    (the service and the API take any amount)."""

    approved_budget = MoneyField(label=_("Approved budget"), required=False)
    field_order = ["approved_budget", "confirm_amount", "comment"]

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        requested = self.project.budget_requested if self.project is not None else None
        field = self.fields["approved_budget"]
        if requested:
            field.help_text = _("Requested: %(yuan)s yuan (%(wan)s 万元). Empty: the requested budget.") % {
                "yuan": f"{requested:,.2f}",
                "wan": f"{requested / 10_000:,.2f}",
            }
        else:
            field.help_text = _("Empty: the requested budget.")
        if self.data.get("confirm_amount"):
            self._add_confirm()

    def _add_confirm(self) -> None:
        self.fields["confirm_amount"] = forms.BooleanField(
            label=_("Yes, this is the approved budget"), required=False, widget=forms.CheckboxInput()
        )
        self.fields["confirm_amount"].widget.attrs.setdefault("class", "form-check-input")
        self.order_fields(self.field_order)  # right under the amount it confirms

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean() or {}
        approved = data.get("approved_budget")
        requested = self.project.budget_requested if self.project is not None else None
        ratio = unusual_ratio(approved, requested)
        if ratio is not None and approved is not None and requested is not None and not data.get("confirm_amount"):
            if "confirm_amount" not in self.fields:
                self._add_confirm()
            self.add_error(
                "approved_budget",
                _(
                    "%(approved)s yuan is %(ratio)s times %(direction)s than the %(requested)s yuan requested: check "
                    "the unit (yuan or 10 000 yuan). If the amount is right, tick the confirmation below and approve."
                )
                % {
                    "approved": f"{approved:,.2f}",
                    "requested": f"{requested:,.2f}",
                    "ratio": f"{ratio:,.0f}",
                    "direction": _("smaller") if approved < requested else _("larger"),
                },
            )
        return data


class StartForm(TransitionForm):
    actual_start = forms.DateField(label=_("Actual start"), widget=DateInput())
    field_order = ["actual_start", "comment"]


class CompleteForm(TransitionForm):
    actual_end = forms.DateField(label=_("Actual end"), widget=DateInput())
    field_order = ["actual_end", "comment"]


class ProgressReportForm(BootstrapFormMixin, forms.Form):
    period_end = forms.DateField(label=_("Period ending"), widget=DateInput())
    physical_progress = forms.IntegerField(label=_("Physical progress (%)"), min_value=0, max_value=100)
    spend_to_date = MoneyField(label=_("Spend to date"))
    narrative = forms.CharField(label=_("Narrative"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    photo = forms.FileField(label=_("Photo"), required=False, help_text=_("JPEG or PNG, up to 20 MB."))


class ReviewForm(BootstrapFormMixin, forms.Form):
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class InspectionForm(BootstrapFormMixin, forms.Form):
    date = forms.DateField(label=_("Date"), widget=DateInput())
    kind = forms.ChoiceField(label=_("Kind"), choices=InspectionKind.choices)
    result = forms.ChoiceField(label=_("Result"), choices=InspectionResult.choices)
    findings = forms.CharField(label=_("Findings"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class RectificationItemForm(BootstrapFormMixin, forms.Form):
    """One rectification the inspection orders: a row of the inspection form. A row left empty is no
    rectification; a row half filled is named."""

    finding = forms.CharField(
        label=_("Rectification required"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What must be put right."),
    )
    deadline = forms.DateField(label=_("Rectification deadline"), widget=DateInput(), required=False)

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean() or {}
        finding, deadline = (data.get("finding") or "").strip(), data.get("deadline")
        if finding and not deadline and "deadline" not in self.errors:
            self.add_error("deadline", _("Give the rectification a deadline."))
        if deadline and not finding:
            self.add_error("finding", _("Describe the finding."))
        return data

    @property
    def is_empty(self) -> bool:
        return not any(str(self.data.get(self.add_prefix(name), "")).strip() for name in self.fields)


#: The inspection form's rows of rectifications (one empty row to start; "Add a row" adds another).
RectificationItemFormSet = forms.formset_factory(RectificationItemForm, extra=1, max_num=20, absolute_max=20)


class RectificationReportForm(BootstrapFormMixin, forms.Form):
    """The assisting side's report that a rectification was put right, with up to three photos."""

    text = forms.CharField(label=_("How it was put right"), widget=forms.Textarea(attrs={"rows": 3}))
    photo_1 = forms.FileField(label=_("Photo"), required=False, help_text=_("JPEG or PNG, up to 20 MB."))
    photo_2 = forms.FileField(label=_("Another photo"), required=False)
    photo_3 = forms.FileField(label=_("Another photo"), required=False)

    PHOTO_FIELDS = ("photo_1", "photo_2", "photo_3")


class RectificationVerifyForm(BootstrapFormMixin, forms.Form):
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RectificationSendBackForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(label=_("What is still not put right"), widget=forms.Textarea(attrs={"rows": 3}))


class RectificationCloseForm(BootstrapFormMixin, forms.Form):
    note = forms.CharField(label=_("How it was put right"), widget=forms.Textarea(attrs={"rows": 3}))
    evidence = forms.FileField(label=_("Evidence"), required=False, help_text=_("A photo or document, up to 20 MB."))


class DocumentForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(label=_("File"), help_text=_("JPEG, PNG, PDF, DOCX or XLSX, up to 20 MB."))
    kind = forms.ChoiceField(label=_("Kind"), choices=DocumentKind.choices)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
