"""The caller of an API request: typed as the project's user, with their organization loaded once."""

from typing import TYPE_CHECKING, Any, cast

from rest_framework.request import Request

if TYPE_CHECKING:
    # For the type checker only: the user model is the one AUTH_USER_MODEL names, never imported at run time.
    from accounts.models import User


def user_of(request: Request) -> "User":
    return cast("User", request.user)


def load_caller(user: Any) -> None:
    """Scope needs the caller's organization and its region: load both in one query, once per request, so that
    neither the scope filter nor `allowed_actions` on each row asks again. (Roles are cached on the user.)"""
    org_field = user._meta.get_field("organization")
    if user.organization_id is not None and not org_field.is_cached(user):
        user.organization = org_field.related_model._default_manager.select_related("region").get(
            pk=user.organization_id
        )


class CallerMixin:
    """Loads the caller's organization once, after authentication and the permission classes."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        load_caller(user_of(request))
