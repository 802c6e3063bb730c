"""The bodies of the accounts API: sign-in, the caller, organizations and users."""

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from accounts.models import Language, NotificationEmail, Organization, Role, User
from accounts.selectors import scope_summary
from core.api.fields import region_by_code
from core.api.serializers import StrictSerializerMixin


class LoginSerializer(StrictSerializerMixin, serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField(allow_null=True)


class OrganizationBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "name_en", "kind"]


class MeSerializer(serializers.ModelSerializer):
    organization = OrganizationBriefSerializer(read_only=True)
    roles = serializers.SerializerMethodField()
    scope = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "first_name",
            "last_name",
            "email",
            "preferred_language",
            "notification_email",
            "organization",
            "roles",
            "scope",
        ]

    def get_roles(self, obj: User) -> list[str]:
        return sorted(obj.roles)

    @extend_schema_field(
        inline_serializer(
            "ScopeSummary",
            {
                "national": serializers.BooleanField(),
                "organizations": serializers.IntegerField(allow_null=True),
                "region": serializers.CharField(allow_null=True),
                "regions": serializers.IntegerField(allow_null=True),
            },
        )
    )
    def get_scope(self, obj: User) -> dict:
        return scope_summary(obj)


class MePreferencesSerializer(StrictSerializerMixin, serializers.Serializer):
    """What the caller may change of their own: the interface language and how notifications reach their e-mail
    (`at_once`, `daily_digest` or `none`). A field left out is left as it is."""

    preferred_language = serializers.ChoiceField(choices=Language.choices, required=False)
    notification_email = serializers.ChoiceField(choices=NotificationEmail.choices, required=False)


class OrganizationSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    region = region_by_code(allow_null=True, required=False)

    class Meta:
        model = Organization
        fields = ["id", "name", "name_en", "kind", "region", "parent", "is_active"]
        read_only_fields = ["id", "is_active"]
        # Uniqueness is the service's call (it reports the duplicate with its own code).
        extra_kwargs: dict[str, dict[str, Any]] = {
            "name": {"validators": []},
            "parent": {"allow_null": True, "required": False},
        }


class UserSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    """A user as the directory shows it; `roles` is the list of role codes."""

    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.filter(is_active=True))
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices), allow_empty=False, min_length=1)
    password = serializers.CharField(write_only=True, required=False, trim_whitespace=False)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "first_name",
            "last_name",
            "email",
            "organization",
            "roles",
            "preferred_language",
            "is_active",
            "password",
            "last_login",
            "date_joined",
        ]
        read_only_fields = ["id", "last_login", "date_joined"]
        # Uniqueness (in any letter case) is the service's call.
        extra_kwargs: dict[str, dict[str, Any]] = {"username": {"validators": []}}

    def to_representation(self, instance: User) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["roles"] = sorted(instance.roles)
        return data

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance is None:
            # Required on create only, and checked with the other fields so every problem is reported at once.
            self.fields["password"].required = True

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None:
            if attrs.get("is_active") is False:
                # user_create always makes an active user: refuse rather than silently ignore the request.
                raise serializers.ValidationError(
                    {
                        "is_active": [
                            serializers.ErrorDetail(
                                _("A new user is always active; deactivate them afterwards."), code="invalid"
                            )
                        ]
                    }
                )
        elif "username" in attrs and attrs["username"] != self.instance.username:
            raise serializers.ValidationError(
                {"username": [serializers.ErrorDetail(_("A username cannot be changed."), code="read_only")]}
            )
        if self.instance is not None and "password" in attrs:
            raise serializers.ValidationError(
                {"password": [serializers.ErrorDetail(_("Users change their own password."), code="read_only")]}
            )
        return attrs


class LockedUserSerializer(serializers.ModelSerializer):
    """An account django-axes has locked after repeated failed sign-ins: how many failures within the cool-off, and
    when the lock lifts by itself unless a national coordinator unlocks it first."""

    organization_name = serializers.CharField(source="organization.display_name", read_only=True)
    failures = serializers.IntegerField(read_only=True, help_text="Failed sign-ins within the cool-off.")
    locked_until = serializers.DateTimeField(read_only=True, help_text="When the lock lifts by itself.")

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "first_name",
            "last_name",
            "organization",
            "organization_name",
            "failures",
            "locked_until",
        ]
        read_only_fields = fields


class UnlockSerializer(StrictSerializerMixin, serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=1000, help_text="Why, for history.")
