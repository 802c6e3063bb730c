"""API: tokens (knox), the caller (`me`), organizations and users."""

from typing import Any

from django.contrib.auth import authenticate, user_logged_in
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from knox.models import AuthToken
from knox.views import LogoutView as KnoxLogoutView
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import policy, services
from accounts.auth import TokenAuthentication
from accounts.models import User
from accounts.selectors import locked_users, organizations_visible_to, users_visible_to
from core.api.caller import user_of
from core.api.permissions import PolicyPermission, require
from core.api.throttles import LoginThrottle
from core.errors import DomainError

from .filters import OrganizationFilter, UserFilter
from .serializers import (
    LockedUserSerializer,
    LoginSerializer,
    MePreferencesSerializer,
    MeSerializer,
    OrganizationSerializer,
    TokenSerializer,
    UnlockSerializer,
    UserSerializer,
)


class LoginView(APIView):
    """Exchange a username and password for an expiring token. Failures count toward the account's lockout."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    # Per client address, counted with the sign-in page's attempts (core.api.throttles.LoginThrottle).
    throttle_classes = [LoginThrottle]

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


class MeView(APIView):
    """The caller: who they are, their organization, roles and the reach of their scope; PATCH changes their own
    preferences (language, notification e-mails)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer, tags=["auth"])
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)

    @extend_schema(request=MePreferencesSerializer, responses=MeSerializer, tags=["auth"])
    def patch(self, request: Request) -> Response:
        data = MePreferencesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_of(request)
        if "preferred_language" in data.validated_data:
            services.user_set_language(user=user, language=data.validated_data["preferred_language"])
        if "notification_email" in data.validated_data:
            services.user_set_notification_email(user=user, choice=data.validated_data["notification_email"])
        return Response(MeSerializer(user).data)


class OrganizationViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Organizations (the parties). Anyone signed in may look them up; national coordinators add them."""

    serializer_class = OrganizationSerializer
    filterset_class = OrganizationFilter
    permission_classes = [IsAuthenticated, PolicyPermission]
    write_policies = {"create": policy.may_manage_organizations}

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


class UserViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Users. Everyone sees the users of their own organization subtree (national: all); a national
    coordinator adds users, changes their organization and roles, and deactivates them (`is_active`)."""

    serializer_class = UserSerializer
    filterset_class = UserFilter
    permission_classes = [IsAuthenticated, PolicyPermission]
    write_policies = {
        **dict.fromkeys(["create", "partial_update"], policy.may_manage_users),
        "unlock": policy.may_unlock_users,
    }
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
        # One request, one outcome: the service writes every part of the change or none of it.
        # (`username` may be sent unchanged; the serializer refuses a new one.)
        user = services.user_change(user=user, by=by, **{k: v for k, v in data.items() if k != "username"})
        serializer.instance = user

    @extend_schema(
        summary="Accounts locked after repeated failed sign-ins",
        responses={200: LockedUserSerializer(many=True)},
        tags=["users"],
    )
    @action(detail=False, methods=["get"], url_path="locked", pagination_class=None, filterset_class=None)
    def locked(self, request: Request) -> Response:
        """The accounts django-axes has locked now, the latest first (national coordinators only)."""
        require(policy.may_unlock_users(user_of(request)))
        return Response(LockedUserSerializer(locked_users(), many=True).data)

    @extend_schema(
        summary="Unlock an account locked after repeated failed sign-ins",
        request=UnlockSerializer,
        responses={200: UserSerializer},
        tags=["users"],
    )
    @action(detail=True, methods=["post"], url_path="unlock")
    def unlock(self, request: Request, pk: str | None = None) -> Response:
        """Lift the lock before its cool-off ends; recorded in the user's history. 400 `not_locked` when the
        account is not locked."""
        body = UnlockSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = services.user_unlock(
            user=self.get_object(), by=user_of(request), comment=body.validated_data.get("comment", "")
        )
        return Response(UserSerializer(user, context=self.get_serializer_context()).data)
