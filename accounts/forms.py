from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from core.forms import BootstrapFormMixin
from core.models import Region

from .models import Language, Organization, OrganizationKind, Role


class LoginForm(BootstrapFormMixin, AuthenticationForm):
    error_messages = {
        "invalid_login": _("The username or password is not correct. Both are case-sensitive."),
        "inactive": _("This account has been deactivated."),
    }


class RegionChoiceField(forms.CharField):
    """A region typed as its code (select lists of 3,500 regions are unusable)."""

    def clean(self, value: str) -> Region | None:  # type: ignore[override]
        value = super().clean(value)
        if not value:
            return None
        region = Region.objects.filter(code=value.strip()).first()
        if region is None:
            raise forms.ValidationError(
                _("No region has the code %(code)s."), code="unknown_region", params={"code": value}
            )
        return region


class OrganizationForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=_("Name (Chinese)"), max_length=200)
    name_en = forms.CharField(label=_("Name (English)"), max_length=200, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=OrganizationKind.choices)
    region = RegionChoiceField(
        label=_("Region code"),
        required=False,
        help_text=_("Six-digit administrative code, e.g. 653121 for Shufu County."),
    )
    parent = forms.ModelChoiceField(
        label=_("Parent organization"),
        queryset=Organization.objects.filter(is_active=True).order_by("path"),
        required=False,
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class UserCreateForm(BootstrapFormMixin, forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    first_name = forms.CharField(label=_("Given name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Family name"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    organization = forms.ModelChoiceField(
        label=_("Organization"), queryset=Organization.objects.filter(is_active=True).order_by("path")
    )
    roles = forms.MultipleChoiceField(label=_("Roles"), choices=Role.choices, widget=forms.CheckboxSelectMultiple)
    preferred_language = forms.ChoiceField(label=_("Preferred language"), choices=Language.choices)
    password = forms.CharField(label=_("Initial password"), widget=forms.PasswordInput(render_value=True))


class UserEditForm(BootstrapFormMixin, forms.Form):
    first_name = forms.CharField(label=_("Given name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Family name"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    organization = forms.ModelChoiceField(
        label=_("Organization"), queryset=Organization.objects.filter(is_active=True).order_by("path")
    )
    roles = forms.MultipleChoiceField(label=_("Roles"), choices=Role.choices, widget=forms.CheckboxSelectMultiple)
    preferred_language = forms.ChoiceField(label=_("Preferred language"), choices=Language.choices)
