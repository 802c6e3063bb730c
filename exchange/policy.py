"""Who may do what in data exchange (the conventions are accounts/policy.py's)."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from accounts.policy import Decision, requires

#: A national coordinator registers webhooks for everything they see; an assisting or recipient officer for their
#: organization's scope (what a subscription receives is its owner's scope at delivery time).
WEBHOOK_ROLES = frozenset({Role.NATIONAL_COORDINATOR, Role.ASSISTING_OFFICER, Role.RECIPIENT_OFFICER})


def may_manage_webhooks(user: Any, webhook: Any = None) -> Decision:
    """Register, change, rotate or delete webhooks (one's own)."""
    return requires(
        user,
        WEBHOOK_ROLES,
        _("Only national coordinators and assisting or recipient officers register webhooks."),
    )
