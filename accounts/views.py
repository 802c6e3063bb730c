"""Pages: sign in and out, password, profile, and the national coordinator's users and organizations."""

import math
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from core.api.throttles import LoginThrottle
from core.errors import DomainError
from core.forms import apply_domain_error
from core.list_filters import ListFilters, status_of
from core.models import HistoryEvent

from . import services
from .api.filters import OrganizationFilter, UserFilter
from .forms import LoginForm, NotificationEmailForm, OrganizationForm, UserCreateForm, UserEditForm
from .models import Language, NotificationEmail, Organization, Role, User
from .policy import Decision, may_manage_organizations, may_manage_users, may_unlock_users
from .selectors import locked_users, regions_in_scope, scope_for, scope_summary


def _set_language_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # The API login's limit per client address, counted in the same window: a guesser cannot move to the
        # page when the API says wait. Counted before the password is checked.
        throttle = LoginThrottle()
        if not throttle.allow_request(request, self):  # type: ignore[arg-type]
            return self._throttled(request, throttle.wait() or 60)
        return super().post(request, *args, **kwargs)

    def _throttled(self, request: HttpRequest, wait: float) -> HttpResponse:
        """429: the form again with the username as typed (never the password), saying how long to wait."""
        seconds = max(1, math.ceil(wait))
        form = self.get_form_class()(request, initial={"username": request.POST.get("username", "")[:150]})
        message = ngettext(
            "Too many sign-in attempts from your address. Wait %(seconds)s second, then try again.",
            "Too many sign-in attempts from your address. Wait %(seconds)s seconds, then try again.",
            seconds,
        ) % {"seconds": seconds}
        context = self.get_context_data(form=form, throttled=message)
        response = self.render_to_response(context, status=429)
        response["Retry-After"] = str(seconds)
        return response

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()
        if settings.LANGUAGE_COOKIE_NAME not in self.request.COOKIES:
            _set_language_cookie(response, user.preferred_language)
        return response


class LogoutView(auth_views.LogoutView):
    http_method_names = ["post", "options"]


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form: Any) -> HttpResponse:
        messages.success(self.request, _("Your password has been changed."))
        return super().form_valid(form)


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; remembered for the signed-in user as well as in the browser."""
    language = request.POST.get("language", "")
    if language not in Language.values:
        language = settings.LANGUAGE_CODE
    if request.user.is_authenticated:
        services.user_set_language(user=request.user, language=language)  # type: ignore[arg-type]
    nxt = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        nxt = "/"
    response = HttpResponseRedirect(nxt)
    _set_language_cookie(response, language)
    return response


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    from knox.models import AuthToken

    tokens = AuthToken.objects.filter(user=user).order_by("-created")
    scope = scope_for(user)
    return render(
        request,
        "accounts/profile.html",
        {
            "profile_user": user,
            "roles": [Role(r).label for r in sorted(user.roles)],
            "scope": scope,
            "summary": scope_summary(user),
            "region_count": regions_in_scope(user).count(),
            "tokens": tokens,
            "history": HistoryEvent.objects.for_object(user).select_related("actor")[:20],
            "notification_email_choices": NotificationEmail.choices,
        },
    )


@login_required
@require_POST
def notification_email(request: HttpRequest) -> HttpResponse:
    """The user's own choice of notification e-mails, from the profile page."""
    form = NotificationEmailForm(request.POST)
    if form.is_valid():
        services.user_set_notification_email(
            user=request.user,  # type: ignore[arg-type]
            choice=form.cleaned_data["notification_email"],
        )
        messages.success(request, _("Your choice of notification e-mails has been saved."))
    else:
        messages.error(request, _("Choose at once, daily digest or no e-mail."))
    return redirect("accounts:profile")


def _require(decision: Decision) -> None:
    """The page's 403, with the policy's reason."""
    if not decision:
        raise DjangoPermissionDenied(decision.message)


@login_required
def directory(request: HttpRequest) -> HttpResponse:
    """Users and organizations, for the national coordinator: add, edit, set roles, deactivate."""
    _require(may_manage_users(request.user))  # type: ignore[arg-type]
    # One search box over both lists, each filtered as the API filters it (its own `search` and other filters).
    users = ListFilters(
        request,
        UserFilter,
        User.objects.select_related("organization").prefetch_related("role_assignments").order_by("username"),
        shown={"search": _("Search by name or username")},
    )
    orgs = ListFilters(
        request,
        OrganizationFilter,
        Organization.objects.select_related("region", "parent").annotate(
            user_count=Count("users", filter=Q(users__is_active=True))
        ),
        shown={},
    )
    for name, problems in orgs.errors.items():
        users.errors.setdefault(name, problems)
    may_unlock = bool(may_unlock_users(request.user))  # type: ignore[arg-type]
    return render(
        request,
        "accounts/directory.html",
        {
            "organizations": orgs.qs,
            "users": users.qs,
            "filters": users,
            "may_unlock": may_unlock,
            "locked_count": locked_users().count() if may_unlock else 0,
        },
        status=status_of(users, orgs),
    )


@login_required
def locked_accounts(request: HttpRequest) -> HttpResponse:
    """The accounts locked after repeated failed sign-ins, each with a button to unlock it."""
    _require(may_unlock_users(request.user))  # type: ignore[arg-type]
    return render(
        request,
        "accounts/locked_accounts.html",
        {"locked": locked_users(), "failure_limit": settings.AXES_FAILURE_LIMIT},
    )


@login_required
@require_POST
def user_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    _require(may_unlock_users(request.user))  # type: ignore[arg-type]
    edited = get_object_or_404(User, pk=pk)
    try:
        services.user_unlock(user=edited, by=request.user)  # type: ignore[arg-type]
        messages.success(request, _("User “%(name)s” unlocked: they can sign in again.") % {"name": edited.username})
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("accounts:locked_accounts")


@login_required
def organization_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _require(may_manage_organizations(request.user))  # type: ignore[arg-type]
    org = get_object_or_404(Organization, pk=pk) if pk else None
    initial = {}
    if org:
        initial = {
            "name": org.name,
            "name_en": org.name_en,
            "kind": org.kind,
            "region": org.region.code if org.region else "",
            "parent": org.parent,
            "is_active": org.is_active,
        }
    form = OrganizationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if org is None:
                org = services.organization_create(
                    by=request.user,  # type: ignore[arg-type]
                    name=data["name"],
                    name_en=data["name_en"],
                    kind=data["kind"],
                    region=data["region"],
                    parent=data["parent"],
                )
                messages.success(request, _("Organization “%(name)s” added.") % {"name": org.name})
            else:
                org = services.organization_update(
                    organization=org,
                    by=request.user,  # type: ignore[arg-type]
                    name=data["name"],
                    name_en=data["name_en"],
                    kind=data["kind"],
                    region=data["region"],
                    parent=data["parent"],
                    is_active=data["is_active"],
                )
                messages.success(request, _("Organization “%(name)s” saved.") % {"name": org.name})
            return redirect(reverse("accounts:directory") + "#organizations")
        except DomainError as exc:
            apply_domain_error(form, exc)
    return render(request, "accounts/organization_form.html", {"form": form, "organization": org})


@login_required
def user_create(request: HttpRequest) -> HttpResponse:
    _require(may_manage_users(request.user))  # type: ignore[arg-type]
    form = UserCreateForm(request.POST or None, initial={"preferred_language": Language.ZH_HANS})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_create(
                by=request.user,  # type: ignore[arg-type]
                username=data["username"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                organization=data["organization"],
                roles=data["roles"],
                preferred_language=data["preferred_language"],
                password=data["password"],
            )
            messages.success(request, _("User “%(name)s” added.") % {"name": user.username})
            return redirect("accounts:directory")
        except DomainError as exc:
            apply_domain_error(form, exc)
    return render(request, "accounts/user_form.html", {"form": form, "edited": None})


@login_required
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require(may_manage_users(request.user))  # type: ignore[arg-type]
    edited = get_object_or_404(User, pk=pk)
    form = UserEditForm(
        request.POST or None,
        initial={
            "first_name": edited.first_name,
            "last_name": edited.last_name,
            "email": edited.email,
            "organization": edited.organization,
            "roles": sorted(edited.roles),
            "preferred_language": edited.preferred_language,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            # Profile and roles in one service call: one transaction, every problem at once.
            services.user_change(user=edited, by=request.user, **data)  # type: ignore[arg-type]
            messages.success(request, _("User “%(name)s” saved.") % {"name": edited.username})
            return redirect("accounts:directory")
        except DomainError as exc:
            apply_domain_error(form, exc)
    history = HistoryEvent.objects.for_object(edited).select_related("actor")[:20]
    return render(request, "accounts/user_form.html", {"form": form, "edited": edited, "history": history})


@login_required
@require_POST
def user_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    _require(may_manage_users(request.user))  # type: ignore[arg-type]
    edited = get_object_or_404(User, pk=pk)
    active = request.POST.get("active") == "1"
    try:
        services.user_set_active(user=edited, by=request.user, active=active)  # type: ignore[arg-type]
        if active:
            messages.success(request, _("User “%(name)s” reactivated.") % {"name": edited.username})
        else:
            messages.success(
                request, _("User “%(name)s” deactivated; their API tokens were revoked.") % {"name": edited.username}
            )
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("accounts:directory")
