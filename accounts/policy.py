"""Who may do what: the one place a role is tested.

Each app has a `policy.py` with one function per action, `may_<action>(user, object) -> Decision`: whether USER
may do it to OBJECT now, and if not, why. The service enforces the decision (`decision.enforce()` raises the
domain error it carries), the API and the pages read the same decision to refuse early or to offer a button.
No other module names a role set or asks whether a user acts nationally; they ask a policy function.

Conventions every policy function follows:
- `user=None` is the system (a command, a seed, a task): always allowed, as the services have always let it;
- the object, when omitted, means "some object of this kind": the role part alone, for a refusal that comes
  before a request's body is read (the service asks again with the object);
- a refusal of the right is a `PermissionDenied` (403); a refusal of the moment (the object's state, an ended
  pairing) carries the error the service has always raised for it (409 or 400), so a page that hides a button
  and a service that refuses agree, reason and all.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError, PermissionDenied

from .models import Role, User
from .selectors import scope_for


@dataclass(frozen=True)
class Decision:
    """A policy's answer: truthy when allowed; otherwise the reason as the error a service raises for it."""

    allowed: bool
    code: str = ""
    message: str | Promise = ""
    field: str | None = None
    error: type[DomainError] = PermissionDenied

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def forbidden(self) -> bool:
        """Refused for want of a right (403), as opposed to refused for the object's state at this moment."""
        return not self.allowed and issubclass(self.error, PermissionDenied)

    def enforce(self) -> None:
        """Raise the refusal (a no-op when allowed): how a service applies the decision."""
        if not self.allowed:
            raise self.error(self.code, self.message, self.field)


ALLOWED = Decision(True)


def refuse(
    message: str | Promise,
    *,
    code: str = "forbidden",
    field: str | None = None,
    error: type[DomainError] = PermissionDenied,
) -> Decision:
    return Decision(False, code, message, field, error)


NATIONAL_COORDINATOR = Role.NATIONAL_COORDINATOR
#: Who manages the directory: organizations, users and their roles.
DIRECTORY_ROLES = frozenset({NATIONAL_COORDINATOR})


def acts_nationally(user: Any) -> bool:
    """The one test of "national": a superuser, or a user acting for the central office. A national coordinator's
    role counts only together with this (`holds`)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or scope_for(user).is_national)


def holds(user: Any, roles: Iterable[str]) -> bool:
    """Whether USER holds one of ROLES. A superuser holds every role; the national coordinator's role counts only
    for a user acting nationally (held by an official of a province, it gives no right)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    held = user.roles.intersection(roles)
    return bool(held - {NATIONAL_COORDINATOR}) or (NATIONAL_COORDINATOR in held and acts_nationally(user))


def is_national_coordinator(user: Any) -> bool:
    return holds(user, {NATIONAL_COORDINATOR})


def requires(user: User | None, roles: Iterable[str], message: str | Promise, field: str | None = None) -> Decision:
    """The role part of most policies: the system may; a user needs one of ROLES; otherwise MESSAGE."""
    if user is None or holds(user, roles):
        return ALLOWED
    return refuse(message, field=field)


# --- accounts' own actions -----------------------------------------------------------------------------------


def may_manage_organizations(user: User | None, organization: Any = None) -> Decision:
    """Add or change an organization."""
    return requires(user, DIRECTORY_ROLES, _("Only a national coordinator may manage organizations and users."))


def may_manage_users(user: User | None, edited: Any = None) -> Decision:
    """Add a user, change their profile or roles, deactivate or reactivate them."""
    return requires(user, DIRECTORY_ROLES, _("Only a national coordinator may manage organizations and users."))


def may_unlock_users(user: User | None, locked: Any = None) -> Decision:
    """See the accounts django-axes has locked after repeated failed sign-ins, and unlock one before its cool-off
    ends (the lockout message promises this)."""
    return requires(user, DIRECTORY_ROLES, _("Only a national coordinator may see and unlock locked accounts."))
