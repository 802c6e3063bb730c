from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.forms import BootstrapFormMixin
from core.models import Region
from core.selectors import region_by_code_or_name

from .models import Language, NotificationEmail, Organization, OrganizationKind, Role


class LoginForm(BootstrapFormMixin, AuthenticationForm):
    error_messages = {
        "invalid_login": _("The username or password is not correct. Both are case-sensitive."),
        "inactive": _("This account has been deactivated."),
    }


class RegionPicker(forms.TextInput):
    """A text input that offers regions as the official types (a name in Chinese or English, or a code): htmx asks
    core's `region_options` for the matches and puts them in the input's datalist; choosing one fills in its code."""

    template_name = "core/widgets/region_picker.html"

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        options_id = f"{widget['attrs'].get('id') or name}-options"
        widget["options_id"] = options_id
        widget["attrs"].update(
            {
                "list": options_id,
                "autocomplete": "off",
                "hx-get": f"{reverse('core:region_options')}?field={name}",
                "hx-trigger": "input changed delay:200ms",
                "hx-target": f"#{options_id}",
                "hx-swap": "innerHTML",
            }
        )
        return context


class RegionChoiceField(forms.CharField):
    """A region typed as its code or its name (select lists of 3,500 regions are unusable): the picker offers the
    matches as one types; a name that more than one region has asks for the code."""

    widget = RegionPicker

    def clean(self, value: str) -> Region | None:  # type: ignore[override]
        value = super().clean(value)
        if not value:
            return None
        return region_by_code_or_name(value)


class OrganizationForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=_("Name (Chinese)"), max_length=200)
    name_en = forms.CharField(label=_("Name (English)"), max_length=200, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=OrganizationKind.choices)
    region = RegionChoiceField(
        label=_("Region"),
        required=False,
        help_text=_("Type its name (Chinese or English) or code and choose it."),
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


class NotificationEmailForm(forms.Form):
    """The user's own choice of how notifications reach their e-mail (the profile page)."""

    notification_email = forms.ChoiceField(
        label=_("Notification e-mails"), choices=NotificationEmail.choices, widget=forms.RadioSelect
    )
