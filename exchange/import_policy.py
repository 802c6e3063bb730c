"""Who may import what (the conventions are accounts/policy.py's): the same people who may record the thing in its
form. Each row is then checked again by the form's own service, with its object (the pairing, the organization)."""

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.policy import ALLOWED, Decision, refuse
from pairings import policy as pairing_policy
from projects import policy as project_policy

from .models import Import, ImportKind

#: The policy function of each kind's form, asked without an object ("some pairing", "some organization").
IMPORT_RIGHTS: dict[str, Callable[[User | None], Decision]] = {
    ImportKind.PROJECTS: lambda user: project_policy.may_create_project(user),
    ImportKind.FUND_FLOWS: lambda user: pairing_policy.may_record_flow(user),
    ImportKind.FISCAL_REVENUES: lambda user: pairing_policy.may_record_revenue(user),
    ImportKind.DEPLOYMENTS: lambda user: pairing_policy.may_record_deployment(user),
    ImportKind.TRAININGS: lambda user: pairing_policy.may_record_training(user),
}


def may_import(user: User | None, kind: str) -> Decision:
    """Import rows of KIND: whoever may record one in its form."""
    right = IMPORT_RIGHTS.get(kind)
    if right is None:
        return refuse(_("Choose a valid kind."), code="invalid_choice", field="kind")
    decision = right(user)
    if not decision:
        return refuse(_("Your roles do not allow importing this kind of record."), field="kind")
    return ALLOWED


def importable_kinds(user: User | None) -> list[str]:
    """The kinds USER may import, in the order of ImportKind."""
    return [kind for kind in ImportKind.values if may_import(user, kind)]


def may_import_something(user: Any) -> bool:
    """Whether the imports page is offered at all (the navigation entry)."""
    return bool(importable_kinds(user))


def may_see_import(user: User, record: Import) -> bool:
    """An import is its creator's alone."""
    return record.created_by_id == user.pk
