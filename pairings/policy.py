"""Who may do what to programmes, pairings, mandates, revenue and flows (the conventions are accounts/policy.py's).

The services enforce these decisions, the API refuses early with them, and the pairing page offers exactly the
actions they allow (`allowed_actions`)."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, Role, User
from accounts.policy import ALLOWED, Decision, holds, is_national_coordinator, refuse, requires
from accounts.selectors import organizations_in_scope
from core.errors import DomainError

from .models import FiscalRevenue, FlowKind, Pairing, PairingStatus

NC, AO, RO = Role.NATIONAL_COORDINATOR, Role.ASSISTING_OFFICER, Role.RECIPIENT_OFFICER

#: Programmes and their funding rules, and top-level pairings: the national coordinator.
COORDINATOR_ROLES = frozenset({NC})
#: Breaking down one's own pairing (and then editing, ending and allocating to its children).
BREAKDOWN_ROLES = frozenset({AO})
REVENUE_ROLES = frozenset({NC, AO})
MANDATE_COMPUTE_ROLES = frozenset({NC, AO})
FLOW_ROLES: dict[str, frozenset[str]] = {
    FlowKind.PLEDGE: frozenset({NC, AO}),
    FlowKind.COMMITMENT: frozenset({NC, AO}),
    FlowKind.DISBURSEMENT: frozenset({NC, AO, RO}),
    FlowKind.EXPENDITURE: frozenset({NC, AO, RO}),
}
PEOPLE_ROLES = frozenset({NC, AO, RO})


class _Some:
    """Stands for "some object of this kind" where None already means something (a pairing with no parent)."""

    def __repr__(self) -> str:
        return "SOME"


SOME: Any = _Some()


def _assists(user: User, pairing: Pairing) -> bool:
    """USER is an assisting officer acting for PAIRING's assisting party or an organization above it."""
    return (
        holds(user, BREAKDOWN_ROLES)
        and organizations_in_scope(user).filter(pk=pairing.assisting_organization_id).exists()
    )


def _ended(pairing: Pairing | None) -> bool:
    return pairing is not None and pairing.status != PairingStatus.ACTIVE


def _pairing_ended() -> Decision:
    return refuse(
        _("This pairing has ended; nothing more can be recorded on it."),
        code="pairing_ended",
        field="pairing",
        error=DomainError,
    )


def may_manage_programmes(user: User | None, program: Any = None) -> Decision:
    """Create or change a programme, or set its funding rule."""
    return requires(
        user, COORDINATOR_ROLES, _("Only a national coordinator may manage programmes and their funding rules.")
    )


def may_create_pairing(user: User | None, parent: Pairing | None = SOME) -> Decision:
    """Pair an assisting party with a recipient region (PARENT None), or break PARENT down. A national coordinator
    does both; an assisting officer breaks down a pairing of their own organization (or one under it)."""
    message = _("Only a national coordinator creates pairings; an assisting officer may break down their own pairing.")
    if parent is SOME:
        return requires(user, COORDINATOR_ROLES | BREAKDOWN_ROLES, message)
    if user is not None and not is_national_coordinator(user) and (parent is None or not _assists(user, parent)):
        return refuse(message)
    if _ended(parent):
        return refuse(_("The parent pairing has ended."), code="parent_ended", field="parent", error=DomainError)
    return ALLOWED


def _manages(user: User | None, pairing: Pairing | None) -> bool:
    """A national coordinator manages every pairing; a broken-down one is managed by whoever may break down its
    parent (with PAIRING omitted: whoever might manage some pairing)."""
    if user is None or is_national_coordinator(user):
        return True
    if pairing is None:
        return holds(user, BREAKDOWN_ROLES)
    return pairing.parent is not None and _assists(user, pairing.parent)


def may_change_pairing(user: User | None, pairing: Pairing | None = None) -> Decision:
    """Change a pairing's term, mode or note (an ended pairing too: its record may need correcting)."""
    if _manages(user, pairing):
        return ALLOWED
    return refuse(_("Only a national coordinator may change this pairing."))


def may_end_pairing(user: User | None, pairing: Pairing | None = None) -> Decision:
    if not _manages(user, pairing):
        return refuse(_("Only a national coordinator may end this pairing."))
    if _ended(pairing):
        return refuse(_("This pairing has already ended."), code="already_ended", field="status", error=DomainError)
    return ALLOWED


def may_compute_mandate(user: User | None, pairing: Pairing | None = None) -> Decision:
    """Compute a year's mandate from the programme's rule: only a pairing the rule gives a share of its own."""
    decision = requires(
        user, MANDATE_COMPUTE_ROLES, _("Only assisting officers and national coordinators compute mandates.")
    )
    if not decision or pairing is None:
        return decision
    if pairing.parent_id is not None:
        return refuse(
            _("A broken-down pairing's mandate is allocated from its parent's: set it by hand."),
            code="allocated_from_parent",
            field="year",
            error=DomainError,
        )
    if not pairing.mandate_from_rule:
        return refuse(
            _("The programme's rule gives this pairing no share of its own: set its mandate by hand."),
            code="not_under_rule",
            field="year",
            error=DomainError,
        )
    return ALLOWED


def may_set_mandate(user: User | None, pairing: Pairing | None = None) -> Decision:
    """Set a mandate by hand: a national coordinator; for a broken-down pairing also whoever manages it (the
    allocation from its parent's mandate)."""
    if _manages(user, pairing):
        return ALLOWED
    if pairing is not None and pairing.parent_id is None:
        return refuse(_("Only a national coordinator may do this."))
    return refuse(_("Only a national coordinator or the parent pairing's assisting officer allocates this mandate."))


def may_record_revenue(user: User | None, organization: Organization | None = None) -> Decision:
    """Record or correct an assisting party's fiscal revenue: for an organization one acts for."""
    decision = requires(
        user, REVENUE_ROLES, _("Only assisting officers and national coordinators record fiscal revenue.")
    )
    if not decision or user is None or organization is None:
        return decision
    if not organizations_in_scope(user).filter(pk=organization.pk).exists():
        return refuse(
            _("You do not act for this organization."), code="out_of_scope", field="organization", error=DomainError
        )
    return ALLOWED


def may_correct_revenue(user: User | None, revenue: FiscalRevenue | None = None) -> Decision:
    """Correct a recorded revenue: the same right as recording it, for the revenue's organization."""
    return may_record_revenue(user, revenue.organization if revenue is not None else None)


def may_record_flow(user: User | None, pairing: Pairing | None = None, kind: str | None = None) -> Decision:
    """Record money moving in a pairing that is still active. KIND omitted (or unknown): a flow of some kind."""
    roles = FLOW_ROLES[kind] if kind in FLOW_ROLES else frozenset().union(*FLOW_ROLES.values())
    decision = requires(user, roles, _("Your roles do not allow recording this kind of flow."))
    if decision and _ended(pairing):
        return _pairing_ended()
    return decision


def _people(user: User | None, pairing: Pairing | None) -> Decision:
    decision = requires(user, PEOPLE_ROLES, _("Your roles do not allow this."))
    if decision and _ended(pairing):
        return _pairing_ended()
    return decision


def may_record_deployment(user: User | None, pairing: Pairing | None = None) -> Decision:
    return _people(user, pairing)


def may_record_training(user: User | None, pairing: Pairing | None = None) -> Decision:
    return _people(user, pairing)


def allowed_actions(user: User, pairing: Pairing) -> set[str]:
    """What USER may do on PAIRING now: the buttons the pairing page shows."""
    checks = {
        **{f"flow_{kind}": may_record_flow(user, pairing, kind) for kind in FLOW_ROLES},
        "deployment": may_record_deployment(user, pairing),
        "training": may_record_training(user, pairing),
        "mandate_compute": may_compute_mandate(user, pairing),
        "mandate_set": may_set_mandate(user, pairing),
        "breakdown": may_create_pairing(user, pairing),
        "edit": may_change_pairing(user, pairing),
        "end": may_end_pairing(user, pairing),
    }
    return {name for name, decision in checks.items() if decision}
