"""Scope: which organizations and regions a user acts for. Every later list narrows by this.

- national (the central office): everything;
- an assisting organization: itself and every organization under it (its pairings as the assisting party);
- a recipient-side organization: its region's whole subtree (pairings whose recipient lies there).

An organization's scope is the union of the two: a province can assist elsewhere and receive at home.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import (
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.utils import timezone

from core.models import Region
from core.selectors import count_each, search_words
from core.statements import Statement

from .models import Notification, Organization, User


@dataclass(frozen=True)
class Scope:
    is_national: bool
    organization: Organization | None

    @property
    def is_empty(self) -> bool:
        return not self.is_national and self.organization is None

    @property
    def key(self) -> tuple[bool, str | None, str | None]:
        """What the scope's filters are made of — national, the organization's path, its region's path: equal keys,
        equal filters (a statement compiled for one scope serves every user whose scope has the same key)."""
        org = self.organization
        region = org.region if org is not None and org.region_id is not None else None
        return (self.is_national, org.path if org is not None else None, region.path if region is not None else None)

    def organizations_q(self, prefix: str = "") -> Q:
        """A filter on an Organization relation (PREFIX like 'assisting_organization__'), empty when all."""
        if self.is_national:
            return Q()
        if self.organization is None:
            return Q(pk__in=[])
        return Q(**{f"{prefix}path__startswith": self.organization.path})

    def regions_q(self, prefix: str = "") -> Q:
        """A filter on a Region relation: the subtree of the organization's region."""
        if self.is_national:
            return Q()
        if self.organization is None or self.organization.region is None:
            return Q(pk__in=[])
        return Q(**{f"{prefix}path__startswith": self.organization.region.path})


def scope_for(user: User) -> Scope:
    """The scope of USER (anonymous or organization-less users see nothing, superusers everything)."""
    if not getattr(user, "is_authenticated", False):
        return Scope(is_national=False, organization=None)
    org = user.organization
    if user.is_superuser and org is None:
        return Scope(is_national=True, organization=None)
    if org is None or not org.is_active:
        return Scope(is_national=False, organization=None)
    return Scope(is_national=org.is_national, organization=org)


def organizations_in_scope(user: User):  # -> QuerySet[Organization]
    """Organizations the user acts for: all (national), or their organization and those under it."""
    scope = scope_for(user)
    return Organization.objects.filter(scope.organizations_q())


def regions_in_scope(user: User):  # -> QuerySet[Region]
    """Regions the user acts for: all (national), or their organization's region subtree; assisting-only
    organizations act in no region of their own (their reach into recipient regions goes through pairings)."""
    scope = scope_for(user)
    if scope.is_national:
        return Region.objects.all()
    if scope.organization is None or scope.organization.region_id is None:
        return Region.objects.none()
    return Region.objects.within(scope.organization.region)  # type: ignore[arg-type]


def organizations_visible_to(user: User):  # -> QuerySet[Organization]
    """Organizations a user may look up (the directory is not secret between governments: names, kinds,
    regions are public), but only national coordinators see inactive ones."""
    qs = Organization.objects.select_related("region", "parent")
    if not scope_for(user).is_national:
        qs = qs.filter(is_active=True)
    return qs


def users_visible_to(user: User):  # -> QuerySet[User]
    """Users a user may see in the directory: national sees all, others their own organization subtree."""
    scope = scope_for(user)
    qs = User.objects.select_related("organization").prefetch_related("role_assignments")
    if scope.is_national:
        return qs
    return qs.filter(scope.organizations_q("organization__"))


def scope_summary(user: User) -> dict:
    """What /api/v1/me/ says about the caller's reach."""
    scope = scope_for(user)
    org = scope.organization
    region = org.region if org else None
    return {
        "national": scope.is_national,
        "organizations": None if scope.is_national else organizations_in_scope(user).count(),
        "region": region.code if region else None,
        "regions": None if scope.is_national else regions_in_scope(user).count(),
    }


__all__ = [
    "Scope",
    "organizations_in_scope",
    "organizations_visible_to",
    "regions_in_scope",
    "scope_for",
    "scope_summary",
    "users_visible_to",
]


def dashboard_scope_counts(request) -> dict[str, QuerySet[Any]]:  # type: ignore[no-untyped-def]
    """What the scope panel counts: the active organizations and users, and those of my scope (a national scope is
    shown as "all": its organizations and regions are not counted)."""
    user = request.user
    counts: dict[str, QuerySet[Any]] = {
        "organization_total": Organization.objects.filter(is_active=True),
        "users_active": User.objects.filter(is_active=True),
    }
    if not scope_for(user).is_national:
        counts["my_organizations"] = organizations_in_scope(user)
        counts["my_regions"] = regions_in_scope(user)
    return counts


def dashboard_scope_panel(request, counts: dict[str, int] | None = None) -> dict:  # type: ignore[no-untyped-def]
    """The dashboard's first panel: who I act for and how far my scope reaches. Its COUNTS (`dashboard_scope_counts`)
    come from the home's statement that counts every panel's; counted here in one query when not given."""
    from .models import Role

    user = request.user
    if counts is None:
        asked = dashboard_scope_counts(request)
        counts = dict(zip(asked, count_each(list(asked.values()), label="scope"), strict=True))
    return {
        "scope": scope_for(user),
        "role_labels": [Role(r).label for r in sorted(user.roles)],
        "organization_total": counts["organization_total"],
        "users_active": counts["users_active"],
        "my_organizations": counts.get("my_organizations"),
        "my_regions": counts.get("my_regions"),
    }


#: `dashboard_parties_panel`'s statement, compiled once (`core.statements`).
_ORGANIZATIONS_BY_KIND = Statement(
    lambda: Organization.objects.filter(is_active=True).order_by().values_list("kind").annotate(n=Count("id"))
)


def dashboard_parties_panel(request) -> dict:  # type: ignore[no-untyped-def]
    """The parties in the system by kind."""
    from .models import OrganizationKind

    by_kind = dict(_ORGANIZATIONS_BY_KIND.rows())
    return {"organizations_by_kind": [(OrganizationKind(k).label, by_kind.get(k, 0)) for k in OrganizationKind.values]}


# --- locked accounts (django-axes) ---------------------------------------------------------------------------


def lockout_threshold() -> datetime:
    """Failures before this moment no longer count: the cool-off has passed (AXES_COOLOFF_TIME, in hours)."""
    return timezone.now() - timedelta(hours=float(settings.AXES_COOLOFF_TIME))


def _locked_usernames() -> QuerySet[Any]:
    # As axes decides at sign-in (AXES_LOCKOUT_PARAMETERS = ["username"]): the failures of a username within the
    # cool-off, summed, against the limit.
    return (
        AccessAttempt.objects.filter(attempt_time__gte=lockout_threshold())
        .values("username")
        .annotate(failures=Sum("failures_since_start"), last_failure=Max("attempt_time"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
    )


def locked_users() -> QuerySet[User]:
    """The accounts locked now, each with `failures` (within the cool-off) and `locked_until` (when the lock lifts
    by itself), the latest locked first."""
    locked = _locked_usernames().filter(username=OuterRef("username"))
    cool_off = timedelta(hours=float(settings.AXES_COOLOFF_TIME))
    return (
        User.objects.filter(username__in=_locked_usernames().values("username"))
        .select_related("organization")
        .annotate(
            failures=Subquery(locked.values("failures")[:1]),
            last_failure=Subquery(locked.values("last_failure")[:1]),
        )
        .annotate(locked_until=ExpressionWrapper(F("last_failure") + cool_off, output_field=DateTimeField()))
        .order_by("-last_failure", "username")
    )


def is_locked(user: User) -> bool:
    return _locked_usernames().filter(username=user.username).exists()


def notifications_of(user: User) -> QuerySet[Notification]:
    """USER's own notifications, the newest first (the inbox index serves it)."""
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


def unread_notifications(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user, read_at__isnull=True)


def unread_count(user: User) -> int:
    return unread_notifications(user).count()


# --- search --------------------------------------------------------------------------------------------------


def organization_word_q(word: str, prefix: str = "") -> Q:
    """Organizations (through the relation PREFIX) whose Chinese or English name holds WORD."""
    return Q(**{f"{prefix}name__icontains": word}) | Q(**{f"{prefix}name_en__icontains": word})


def organization_search(queryset: QuerySet[Organization], text: str) -> QuerySet[Organization]:
    """Organizations of QUERYSET whose names hold every word of TEXT, in any order (organizations have no code)."""
    match = Q()
    for word in search_words(text):
        match &= organization_word_q(word)
    return queryset.filter(match)


def user_search(queryset: QuerySet[User], text: str) -> QuerySet[User]:
    """Users of QUERYSET that every word of TEXT matches, in any order: part of the username, the first or last
    name, or their organization's name."""
    match = Q()
    for word in search_words(text):
        match &= (
            Q(username__icontains=word)
            | Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | organization_word_q(word, "organization__")
        )
    return queryset.filter(match)
