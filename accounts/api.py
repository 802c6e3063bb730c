"""API: tokens (knox), the caller (`me`), organizations and users."""

from typing import Any

import django_filters
from django.contrib.auth import authenticate, user_logged_in
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from knox.models import AuthToken
from knox.views import LogoutView as KnoxLogoutView
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.auth import TokenAuthentication
from core.api.serializers import StrictSerializerMixin
from core.errors import DomainError
from core.models import Region

from . import services
from .models import Organization, OrganizationKind, Role, User
from .permissions import NationalCoordinatorWrites
from .selectors import organizations_visible_to, scope_summary, users_visible_to


class LoginSerializer(StrictSerializerMixin, serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField(allow_null=True)


class LoginView(APIView):
    """Exchange a username and password for an expiring token. Failures count toward the account's lockout."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(request=LoginSerializer, responses={200: TokenSerializer}, auth=[], tags=["auth"])
    def post(self, request: Request) -> Response:
        data = LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        django_request = request._request
        user = authenticate(
            request=django_request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if getattr(django_request, "axes_locked_out", False):
            # AxesMiddleware answers with the lockout response (the API's error format).
            return Response(status=status.HTTP_403_FORBIDDEN)
        if user is None:
            raise DomainError("invalid_credentials", _("The username or password is not correct."), "password")
        instance, token = AuthToken.objects.create(user)
        # As a browser sign-in does: axes resets the failure count (AXES_RESET_ON_SUCCESS), last_login is set.
        user_logged_in.send(sender=user.__class__, request=django_request, user=user)
        return Response({"token": token, "expiry": instance.expiry})


class LogoutView(KnoxLogoutView):
    """Revoke the token used for this request."""

    # knox accepts only tokens here; a browser session must reach the view to be told it has no token to revoke.
    authentication_classes = [TokenAuthentication, SessionAuthentication]

    @extend_schema(request=None, responses={204: None}, tags=["auth"])
    def post(self, request: Request, format: Any = None) -> Response:
        if not isinstance(request.auth, AuthToken):
            raise DomainError("token_required", _("Sign out of a token by calling with that token."))
        return super().post(request, format)


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


class MeView(APIView):
    """The caller: who they are, their organization, roles and the reach of their scope."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer, tags=["auth"])
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)


class OrganizationSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    region = serializers.SlugRelatedField(
        slug_field="code", queryset=Region.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Organization
        fields = ["id", "name", "name_en", "kind", "region", "parent", "is_active"]
        read_only_fields = ["id", "is_active"]
        # Uniqueness is the service's call (it reports the duplicate with its own code).
        extra_kwargs: dict[str, dict[str, Any]] = {
            "name": {"validators": []},
            "parent": {"allow_null": True, "required": False},
        }


class OrganizationFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=OrganizationKind.choices)
    parent = django_filters.NumberFilter(field_name="parent_id")
    region = django_filters.CharFilter(field_name="region__code")
    search = django_filters.CharFilter(method="filter_search")

    class Meta:
        model = Organization
        fields = ["kind", "parent", "region", "is_active"]

    def filter_search(self, queryset: Any, name: str, value: str) -> Any:
        from django.db.models import Q

        return queryset.filter(Q(name__icontains=value) | Q(name_en__icontains=value))


class OrganizationViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Organizations (the parties). Anyone signed in may look them up; national coordinators add them."""

    serializer_class = OrganizationSerializer
    filterset_class = OrganizationFilter
    permission_classes = [IsAuthenticated, NationalCoordinatorWrites]

    def get_queryset(self) -> Any:
        return organizations_visible_to(self.request.user).order_by("path")  # type: ignore[arg-type]

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = services.organization_create(
            by=self.request.user,  # type: ignore[arg-type]
            name=data["name"],
            name_en=data.get("name_en", ""),
            kind=data["kind"],
            region=data.get("region"),
            parent=data.get("parent"),
        )


class UserSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    """A user as the directory shows it; `roles` is the list of role codes."""

    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.filter(is_active=True))
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices), allow_empty=False)
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


class UserFilter(django_filters.FilterSet):
    organization = django_filters.NumberFilter(field_name="organization_id")
    role = django_filters.ChoiceFilter(choices=Role.choices, field_name="role_assignments__role")
    search = django_filters.CharFilter(method="filter_search")

    class Meta:
        model = User
        fields = ["organization", "role", "is_active"]

    def filter_search(self, queryset: Any, name: str, value: str) -> Any:
        from django.db.models import Q

        return queryset.filter(
            Q(username__icontains=value) | Q(first_name__icontains=value) | Q(last_name__icontains=value)
        )


class UserViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Users. Everyone sees the users of their own organization subtree (national: all); a national
    coordinator adds users, changes their organization and roles, and deactivates them (`is_active`)."""

    serializer_class = UserSerializer
    filterset_class = UserFilter
    permission_classes = [IsAuthenticated, NationalCoordinatorWrites]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> Any:
        return users_visible_to(self.request.user).order_by("username").distinct()  # type: ignore[arg-type]

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = services.user_create(
            by=self.request.user,  # type: ignore[arg-type]
            username=data["username"],
            organization=data["organization"],
            roles=data["roles"],
            password=data["password"],
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
            email=data.get("email", ""),
            preferred_language=data.get("preferred_language", "zh-hans"),
        )

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        user: User = serializer.instance  # type: ignore[assignment]
        data = serializer.validated_data
        by: User = self.request.user  # type: ignore[assignment]
        # One request, one outcome: either every part of the change lands or none does.
        with transaction.atomic():
            profile = {"organization", "first_name", "last_name", "email", "preferred_language"}
            if profile & set(data):
                user = services.user_update(
                    user=user,
                    by=by,
                    organization=data.get("organization", user.organization),
                    first_name=data.get("first_name", user.first_name),
                    last_name=data.get("last_name", user.last_name),
                    email=data.get("email", user.email),
                    preferred_language=data.get("preferred_language", user.preferred_language),
                )
            if "roles" in data:
                user = services.user_set_roles(user=user, by=by, roles=data["roles"])
            if "is_active" in data:
                user = services.user_set_active(user=user, by=by, active=data["is_active"])
        user.__dict__.pop("roles", None)
        serializer.instance = user
