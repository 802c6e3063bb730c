"""Reads shared by pages, API and tasks: what a user may see. The figures (money, people) are `figures`'s."""

from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from accounts.models import Organization, User
from accounts.selectors import scope_for

from .figures import with_figures
from .models import (
    AnnualMandate,
    Deployment,
    FiscalRevenue,
    FundFlow,
    Pairing,
    Program,
    Training,
)


def pairing_scope_q(user: User, prefix: str = "") -> Q:
    """The pairings USER may see, as a filter on a Pairing relation named by PREFIX ('' or 'pairing__').

    National: all. Otherwise: pairings whose assisting party is the user's organization or one under it,
    and pairings whose recipient region lies within the organization's region.
    """
    scope = scope_for(user)
    if scope.is_national:
        return Q()
    org = scope.organization
    if org is None:
        return Q(pk__in=[])
    q = Q(**{f"{prefix}assisting_organization__path__startswith": org.path})
    if org.region_id is not None and org.region is not None:
        q |= Q(**{f"{prefix}recipient_region__path__startswith": org.region.path})
    return q


def pairings_visible_to(user: User) -> QuerySet[Pairing]:
    return Pairing.objects.filter(pairing_scope_q(user)).select_related(
        "program", "assisting_organization", "recipient_region", "parent"
    )


def programs_visible_to(user: User) -> QuerySet[Program]:
    """Programmes are public policy: everyone signed in sees them (pairings inside are scoped)."""
    return Program.objects.select_related("lead_agency")


def fund_flows_visible_to(user: User) -> QuerySet[FundFlow]:
    return FundFlow.objects.filter(pairing_scope_q(user, "pairing__")).select_related(
        "pairing__program", "pairing__assisting_organization", "pairing__recipient_region", "recorded_by"
    )


def deployments_visible_to(user: User) -> QuerySet[Deployment]:
    return Deployment.objects.filter(pairing_scope_q(user, "pairing__")).select_related(
        "pairing__assisting_organization", "pairing__recipient_region"
    )


def trainings_visible_to(user: User) -> QuerySet[Training]:
    return Training.objects.filter(pairing_scope_q(user, "pairing__")).select_related(
        "pairing__assisting_organization", "pairing__recipient_region"
    )


def fiscal_revenues_visible_to(user: User) -> QuerySet[FiscalRevenue]:
    """Revenues of the organizations the user acts for, and of the assisting parties of pairings they see
    (a recipient official may check the basis of what is owed to them)."""
    qs = FiscalRevenue.objects.select_related("organization", "recorded_by")
    scope = scope_for(user)
    if scope.is_national:
        return qs
    if scope.organization is None:
        return qs.none()
    assisting = Pairing.objects.filter(pairing_scope_q(user)).values("assisting_organization_id")
    return qs.filter(Q(organization__path__startswith=scope.organization.path) | Q(organization_id__in=assisting))


def revenue_organizations_for(user: User) -> QuerySet[Organization]:
    """Organizations whose revenue USER may record: the ones they act for (national: all)."""
    scope = scope_for(user)
    qs = Organization.objects.filter(is_active=True)
    if scope.is_national:
        return qs
    if scope.organization is None:
        return qs.none()
    return qs.filter(path__startswith=scope.organization.path)


def mandates_for(pairing: Pairing) -> QuerySet[AnnualMandate]:
    return with_figures(pairing.mandates.select_related("rule", "basis_revenue").order_by("year"))


def mandates_visible_to(user: User) -> QuerySet[AnnualMandate]:
    return with_figures(
        AnnualMandate.objects.filter(pairing_scope_q(user, "pairing__")).select_related(
            "pairing__assisting_organization", "pairing__recipient_region", "pairing__program", "rule"
        )
    )


def breakdown(mandate: AnnualMandate) -> dict[str, Any]:
    """A parent mandate and its children's mandates for the same year, with what is left unallocated."""
    children = list(
        with_figures(
            AnnualMandate.objects.filter(pairing__parent_id=mandate.pairing_id, year=mandate.year).select_related(
                "pairing__assisting_organization", "pairing__recipient_region", "rule"
            )
        ).order_by("pairing__recipient_region__code")
    )
    allocated = sum((c.funds_required for c in children), Decimal(0))
    return {
        "mandate": mandate,
        "children": children,
        "allocated": allocated,
        "unallocated": mandate.funds_required - allocated,
    }


def user_sees_pairing(user: User, pairing: Pairing) -> bool:
    """The same rule as pairing_scope_q, for one pairing already loaded (no query when the user's
    organization and region are loaded)."""
    scope = scope_for(user)
    if scope.is_national:
        return True
    org = scope.organization
    if org is None:
        return False
    if pairing.assisting_organization.path.startswith(org.path):
        return True
    return org.region is not None and pairing.recipient_region.path.startswith(org.region.path)
