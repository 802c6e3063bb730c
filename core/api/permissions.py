"""The API's one way to refuse an action: ask the app's policy, answer 403 with its reason.

The policies live in the apps (`accounts/policy.py` and each app's `policy.py`); core knows only the shape of
their answer, a decision that is truthy when allowed and otherwise carries the domain error to raise
(`core.errors.PermissionDenied` for a missing right). core/api/errors.py turns that error into a 403 in the API's
error shape, the reason and its code included.

A refusal of the moment (the object's state, an ended pairing) is not raised here: the service says it, after the
body has been checked, so that a client hears first of what is wrong with its request.
"""

from collections.abc import Callable
from typing import Any, Protocol

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request


class Decision(Protocol):
    """What a policy function answers (accounts.policy.Decision)."""

    @property
    def forbidden(self) -> bool: ...

    def enforce(self) -> None: ...


def require(decision: Decision) -> None:
    """Refuse (403, with the policy's reason) a caller the policy forbids; anything else goes on to the service."""
    if decision.forbidden:
        decision.enforce()


class PolicyPermission(BasePermission):
    """Reads a view's `write_policies`: for each write action (`create`, `partial_update`, an `@action`), the policy
    function that decides it. Asked with no object before the body is read (the role alone: could this caller make
    this kind of write at all?), and again with the object when the view looks it up (`get_object`). Reads are
    anyone's who is signed in (what they see is the selectors' business)."""

    def _policy(self, request: Request, view: Any) -> Callable[..., Decision] | None:
        if request.method in SAFE_METHODS:
            return None
        return getattr(view, "write_policies", {}).get(getattr(view, "action", None))

    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        policy = self._policy(request, view)
        if policy is not None:
            require(policy(request.user))
        return True

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        policy = self._policy(request, view)
        if policy is not None:
            require(policy(request.user, obj))
        return True
