"""HTML forms. They only parse and present; every rule is checked by the services, whose problems are
put back on the fields (core.forms.apply_domain_error) so nothing typed is lost."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import RegionChoiceField
from accounts.models import Organization
from core.forms import BootstrapFormMixin, MoneyField

from .models import ContractingMode, DeploymentKind, FlowKind, FlowSource, FundFlow, Pairing, Program


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(format="%Y-%m-%d", **kwargs)


class PairingForm(BootstrapFormMixin, forms.Form):
    program = forms.ModelChoiceField(label=_("Programme"), queryset=Program.objects.all())
    assisting_organization = forms.ModelChoiceField(
        label=_("Assisting organization"), queryset=Organization.objects.filter(is_active=True).order_by("path")
    )
    recipient_region = RegionChoiceField(
        label=_("Recipient region"), help_text=_("Type its name (Chinese or English) or code and choose it.")
    )
    parent = forms.ModelChoiceField(
        label=_("Parent pairing"),
        queryset=Pairing.objects.none(),
        required=False,
        help_text=_("When this pairing breaks down a larger one (a city taking part of a province's mandate)."),
    )
    start_date = forms.DateField(label=_("Start date"), widget=DateInput())
    end_date = forms.DateField(label=_("End date"), widget=DateInput(), required=False)
    contracting_mode = forms.ChoiceField(
        label=_("Contracting mode"),
        choices=[("", _("Derive from the parties' levels")), *ContractingMode.choices],
        required=False,
    )
    mode_reason = forms.CharField(
        label=_("Reason for the mode"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    source = forms.CharField(label=_("Source"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, parents=None, organizations=None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if parents is not None:
            self.fields["parent"].queryset = parents  # type: ignore[attr-defined]
        if organizations is not None:
            self.fields["assisting_organization"].queryset = organizations  # type: ignore[attr-defined]


class PairingEditForm(BootstrapFormMixin, forms.Form):
    start_date = forms.DateField(label=_("Start date"), widget=DateInput())
    end_date = forms.DateField(label=_("End date"), widget=DateInput(), required=False)
    contracting_mode = forms.ChoiceField(label=_("Contracting mode"), choices=ContractingMode.choices)
    mode_reason = forms.CharField(
        label=_("Reason for the mode"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class PairingEndForm(BootstrapFormMixin, forms.Form):
    end_date = forms.DateField(label=_("End date"), widget=DateInput())
    comment = forms.CharField(label=_("Why it ends"), widget=forms.Textarea(attrs={"rows": 3}))


class FiscalRevenueForm(BootstrapFormMixin, forms.Form):
    organization = forms.ModelChoiceField(label=_("Organization"), queryset=Organization.objects.none())
    year = forms.IntegerField(label=_("Year"))
    amount = MoneyField(label=_("General public budget revenue"))
    source = forms.CharField(
        label=_("Source"), required=False, help_text=_("e.g. the provincial final accounts report")
    )

    def __init__(self, *args, organizations=None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if organizations is not None:
            self.fields["organization"].queryset = organizations  # type: ignore[attr-defined]


class MandateComputeForm(BootstrapFormMixin, forms.Form):
    year = forms.IntegerField(label=_("Year"))
    personnel_quota = forms.IntegerField(label=_("Personnel quota"), required=False, min_value=0)


class MandateSetForm(BootstrapFormMixin, forms.Form):
    year = forms.IntegerField(label=_("Year"))
    funds_required = MoneyField(label=_("Funds required"))
    personnel_quota = forms.IntegerField(label=_("Personnel quota"), required=False, min_value=0)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class PledgeChoiceField(forms.ModelChoiceField):
    """A pledge as officials read it: its date and its amount formatted in the page's language."""

    def label_from_instance(self, obj: FundFlow) -> str:  # type: ignore[override]
        from core.money import format_cny

        return f"{obj.date:%Y-%m-%d} · {format_cny(obj.amount)}"


class FundFlowForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=FlowKind.choices)
    amount = MoneyField(label=_("Amount"))
    date = forms.DateField(label=_("Date"), widget=DateInput())
    source = forms.ChoiceField(label=_("Source of funds"), choices=FlowSource.choices)
    pledge = PledgeChoiceField(
        label=_("Pledge it fulfils"),
        queryset=FundFlow.objects.none(),
        required=False,
        help_text=_("For a commitment that turns an earlier pledge into a commitment."),
    )
    reference = forms.CharField(label=_("Reference"), required=False, help_text=_("Document or voucher number"))
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, pledges=None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if pledges is not None:
            self.fields["pledge"].queryset = pledges  # type: ignore[attr-defined]


class DeploymentForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=DeploymentKind.choices)
    batch = forms.CharField(label=_("Batch"), required=False, help_text=_("e.g. 10th batch"))
    headcount = forms.IntegerField(label=_("Headcount"))
    start_date = forms.DateField(label=_("Start date"), widget=DateInput())
    end_date = forms.DateField(label=_("End date"), widget=DateInput(), required=False)
    group_style = forms.BooleanField(label=_("Group-style (组团式)"), required=False)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class TrainingForm(BootstrapFormMixin, forms.Form):
    topic = forms.CharField(label=_("Topic"), max_length=200)
    people_trained = forms.IntegerField(label=_("People trained"))
    days = forms.DecimalField(label=_("Days"), max_digits=6, decimal_places=1)
    start_date = forms.DateField(label=_("Date"), widget=DateInput())
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
