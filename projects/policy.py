"""Who may do what to a project (the conventions are accounts/policy.py's): the lifecycle table with its roles,
and one function for each thing recorded on a project.

The services enforce these decisions under the row lock; the API's `allowed_actions` and early refusals, and the
project page's buttons, read the same functions."""

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from accounts.policy import ALLOWED, Decision, acts_nationally, refuse, requires
from core.errors import Conflict, DomainError
from pairings import policy as pairing_policy
from pairings.models import Pairing

from .models import (
    HandoverStatus,
    ProgressReport,
    Project,
    Rectification,
    RectificationStatus,
    ReviewStatus,
    State,
)

NC, AO, RO = Role.NATIONAL_COORDINATOR, Role.ASSISTING_OFFICER, Role.RECIPIENT_OFFICER
APPROVER, SUPERVISOR, EVALUATOR = Role.APPROVER, Role.SUPERVISOR, Role.EVALUATOR


# --- the lifecycle table (DESIGN.md, a contract) -----------------------------------------------------------


class Action:
    """One row of the lifecycle table: from which states, to which, who may, and the label people read."""

    def __init__(
        self,
        name: str,
        sources: Iterable[str],
        target: str,
        roles: Iterable[str],
        label: Any,
        needs_comment: bool = False,
    ):
        self.name, self.sources, self.target = name, frozenset(sources), target
        self.roles, self.label, self.needs_comment = frozenset(roles), label, needs_comment


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in [
        Action("submit", [State.DRAFT], State.PROPOSED, [AO, RO], _("Submit")),
        Action("approve", [State.PROPOSED], State.APPROVED, [APPROVER], _("Approve")),
        Action("reject", [State.PROPOSED], State.REJECTED, [APPROVER], _("Reject"), needs_comment=True),
        Action("return", [State.PROPOSED], State.DRAFT, [APPROVER], _("Return for changes"), needs_comment=True),
        Action("start", [State.APPROVED], State.IN_CONSTRUCTION, [AO], _("Start construction")),
        Action("suspend", [State.IN_CONSTRUCTION], State.SUSPENDED, [AO, SUPERVISOR], _("Suspend"), needs_comment=True),
        Action("resume", [State.SUSPENDED], State.IN_CONSTRUCTION, [AO, SUPERVISOR], _("Resume"), needs_comment=True),
        Action("complete", [State.IN_CONSTRUCTION], State.COMPLETED, [AO], _("Complete")),
        Action("accept", [State.COMPLETED], State.ACCEPTED, [SUPERVISOR], _("Accept")),
        Action("reopen", [State.COMPLETED], State.IN_CONSTRUCTION, [SUPERVISOR], _("Reopen")),
        Action("evaluate", [State.ACCEPTED], State.EVALUATED, [EVALUATOR], _("Mark evaluated")),
        Action(
            "cancel",
            [State.DRAFT, State.PROPOSED, State.APPROVED, State.IN_CONSTRUCTION, State.SUSPENDED],
            State.CANCELLED,
            [NC, APPROVER],
            _("Cancel"),
            needs_comment=True,
        ),
    ]
}

#: Create drafts and edit projects (which fields, the state decides: services.EDITABLE).
EDIT_ROLES = frozenset({NC, AO, RO})
BUDGET_ROLES = frozenset({APPROVER})
PROGRESS_ROLES = frozenset({AO, NC})
REVIEW_ROLES = frozenset({APPROVER})
INSPECTION_ROLES = frozenset({SUPERVISOR})
DOCUMENT_ROLES = frozenset({AO, RO, SUPERVISOR, APPROVER, NC})
MILESTONE_ROLES = frozenset({AO, RO, NC})

#: The states between approval and completion: a budget is revised and money recorded against the project.
BUDGET_STATES = frozenset({State.APPROVED, State.IN_CONSTRUCTION, State.SUSPENDED})
PROGRESS_STATES = frozenset({State.IN_CONSTRUCTION, State.SUSPENDED})
#: The states in which a project takes money (drafts, proposals, rejected and cancelled projects receive none).
FUNDED_STATES = frozenset(
    {State.APPROVED, State.IN_CONSTRUCTION, State.SUSPENDED, State.COMPLETED, State.ACCEPTED, State.EVALUATED}
)


# --- the lifecycle -------------------------------------------------------------------------------------------


def may_transition(user: User | None, project: Project | None, action: str) -> Decision:
    """ACTION (a name of ACTIONS) on PROJECT now: its state first (409 when it moved on), then the role, then
    separation of duties (nobody approves what they proposed). Guards on the project's records are the service's
    (`services.blockers`), shown beside the button rather than hiding it."""
    spec = ACTIONS[action]
    if project is not None and project.state not in spec.sources:
        return refuse(
            _("The project is %(state)s now; it cannot be %(action)s.")
            % {"state": State(project.state).label, "action": str(spec.label).lower()},
            code="state_conflict",
            field="state",
            error=Conflict,
        )
    decision = requires(user, spec.roles, _("Your roles do not allow this action on this project."), "action")
    proposer = decision and user is not None and project is not None and project.proposed_by_id == user.pk
    if action == "approve" and proposer:
        return refuse(
            _("You proposed this project; someone else must approve it."), code="separation_of_duties", field="action"
        )
    return decision


def allowed_actions(user: User, project: Project) -> list[str]:
    """The actions USER may take on PROJECT now, in the table's order: what the API reports and the page shows.
    Reads only the project's state and proposer (the fast list passes a stand-in with just those)."""
    # The state first: most actions are out of the project's state, and asking may_transition about them would
    # build (and translate) a refusal for each — on every row of a list page.
    return [
        name for name, spec in ACTIONS.items() if project.state in spec.sources and may_transition(user, project, name)
    ]


# --- creating and editing ------------------------------------------------------------------------------------


def may_create_project(user: User | None, pairing: Pairing | None = None) -> Decision:
    """Start a draft (in PAIRING, which the service finds in the user's scope and checks is active)."""
    return requires(user, EDIT_ROLES, _("Only assisting or recipient officers create projects."))


def may_update_project(user: User | None, project: Project | None = None) -> Decision:
    """Edit a project's fields; which of them, the project's state decides (`services.EDITABLE`)."""
    return requires(user, EDIT_ROLES, _("Only assisting or recipient officers edit projects."))


def may_revise_budget(user: User | None, project: Project | None = None) -> Decision:
    """Revise an approved budget, between approval and completion."""
    if project is not None and project.state not in BUDGET_STATES:
        return refuse(
            _("The budget can be revised only between approval and completion."),
            code="state_conflict",
            field="state",
            error=Conflict,
        )
    return requires(user, BUDGET_ROLES, _("Only an approver revises an approved budget."))


# --- what is recorded on a project ---------------------------------------------------------------------------


def may_report_progress(user: User | None, project: Project | None = None) -> Decision:
    decision = requires(user, PROGRESS_ROLES, _("Only assisting officers report progress."))
    if decision and project is not None and project.state not in PROGRESS_STATES:
        return refuse(
            _("Progress is reported while the project is in construction."),
            code="state_conflict",
            field="state",
            error=Conflict,
        )
    return decision


def may_review_report(user: User | None, report: ProgressReport | None = None) -> Decision:
    """Accept or return a progress report (once)."""
    decision = requires(user, REVIEW_ROLES, _("Only an approver reviews progress reports."))
    if decision and report is not None and report.review_status != ReviewStatus.PENDING:
        return refuse(
            _("This report has already been reviewed."), code="already_reviewed", field="review_status", error=Conflict
        )
    return decision


def may_record_inspection(user: User | None, project: Project | None = None) -> Decision:
    """Record an inspection (which kind suits the project's state, the service says with the rest of the form)."""
    return requires(user, INSPECTION_ROLES, _("Only supervisors record inspections."))


# --- rectifications: both ways (the table is read by the service, the API's `allowed_actions` and the page) ----

OPEN, REPORTED, SENT_BACK, VERIFIED = (
    RectificationStatus.OPEN,
    RectificationStatus.REPORTED,
    RectificationStatus.SENT_BACK,
    RectificationStatus.VERIFIED,
)

#: A rectification's steps: the assisting side reports it done (with a text and photos), the supervisor verifies
#: it or sends it back with a reason (then it is reported again). `close` is the supervisor closing one nobody
#: reported, on their own finding (with a note and, usually, a document). Overdue is not a status: it is derived
#: from the deadline while the rectification waits for the assisting side.
RECTIFICATION_ACTIONS: dict[str, Action] = {
    a.name: a
    for a in [
        Action("report", [OPEN, SENT_BACK], REPORTED, [AO], _("Report done")),
        Action("verify", [REPORTED], VERIFIED, [SUPERVISOR], _("Verify and close")),
        Action("send_back", [REPORTED], SENT_BACK, [SUPERVISOR], _("Send back"), needs_comment=True),
        Action("close", [OPEN, SENT_BACK], VERIFIED, [SUPERVISOR], _("Close on re-inspection"), needs_comment=True),
    ]
}
RECTIFICATION_ROLES = frozenset({SUPERVISOR})


def rectification_status(rectification: Rectification) -> str:
    """The status the table reads: one closed before statuses existed (closed_on set) is verified."""
    return VERIFIED if rectification.closed_on is not None else rectification.status


def may_act_on_rectification(user: User | None, rectification: Rectification | None, action: str) -> Decision:
    """ACTION (a name of RECTIFICATION_ACTIONS) on RECTIFICATION now: its status first (409 when it moved on),
    then the role."""
    spec = RECTIFICATION_ACTIONS[action]
    if rectification is not None:
        status = rectification_status(rectification)
        if status not in spec.sources:
            if status == VERIFIED:
                return refuse(
                    _("This rectification is already closed."),
                    code="already_closed",
                    field="closed_on",
                    error=Conflict,
                )
            return refuse(
                _("The rectification is “%(status)s” now: “%(action)s” is not possible.")
                % {"status": RectificationStatus(status).label, "action": spec.label},
                code="state_conflict",
                field="status",
                error=Conflict,
            )
    messages = {
        "report": _("Only the assisting side's officers report a rectification done."),
        "verify": _("Only supervisors verify rectifications."),
        "send_back": _("Only supervisors send rectifications back."),
        "close": _("Only supervisors close rectifications."),
    }
    return requires(user, spec.roles, messages[action])


def rectification_actions(user: User, rectification: Rectification) -> list[str]:
    """The steps USER may take on RECTIFICATION now, in the table's order: what the API reports and the page
    shows."""
    status = rectification_status(rectification)
    return [
        name
        for name, spec in RECTIFICATION_ACTIONS.items()
        if status in spec.sources and may_act_on_rectification(user, rectification, name)
    ]


def may_close_rectification(user: User | None, rectification: Rectification | None = None) -> Decision:
    """Close a rectification: verify one reported done, or close one nobody reported."""
    if rectification is not None and rectification_status(rectification) == REPORTED:
        return may_act_on_rectification(user, rectification, "verify")
    return may_act_on_rectification(user, rectification, "close")


def may_upload_document(user: User | None, project: Project | None = None) -> Decision:
    return requires(user, DOCUMENT_ROLES, _("Your roles do not allow uploading here."))


def may_record_flow(user: User | None, project: Project | None = None, kind: str | None = None) -> Decision:
    """Record money of the project's pairing against the project: the pairing's rule, for a project that takes
    money."""
    decision = pairing_policy.may_record_flow(user, project.pairing if project is not None else None, kind)
    if decision and project is not None and project.state not in FUNDED_STATES:
        return refuse(
            _("Choose a project of this pairing."), code="invalid_project", field="project", error=DomainError
        )
    return decision


def may_add_milestone(user: User | None, project: Project | None = None) -> Decision:
    return requires(user, MILESTONE_ROLES, _("Your roles do not allow this."))


# --- handover and operation after acceptance -----------------------------------------------------------------

#: A handover is recorded once the project is accepted (or evaluated): a record beside the lifecycle, not a state.
HANDOVER_STATES = frozenset({State.ACCEPTED, State.EVALUATED})
#: The assisting side records the handover; the recipient side confirms or refuses it and reports on operation.
HANDOVER_ROLES = frozenset({AO})
RECEIPT_ROLES = frozenset({RO})
OPERATION_REPORT_ROLES = frozenset({RO})


def acts_for_assisting_side(user: User | None, project: Project) -> bool:
    """USER acts for PROJECT's assisting party: its organization, one above it (a province for its city's pairing)
    or one under it (the front-line headquarters, an aid office). The system and a national official do too."""
    if user is None or acts_nationally(user):
        return True
    org = user.organization
    assisting = project.pairing.assisting_organization
    if org is None or not org.path or not assisting.path:
        return False
    return assisting.path.startswith(org.path) or org.path.startswith(assisting.path)


def acts_for_recipient_side(user: User | None, project: Project) -> bool:
    """USER acts for PROJECT's recipient region: their organization's region holds it (the county's government,
    the prefecture's or the region's above it). The system and a national official do too."""
    if user is None or acts_nationally(user):
        return True
    org = user.organization
    region = org.region if org is not None else None
    recipient = project.pairing.recipient_region
    return region is not None and bool(region.path) and recipient.path.startswith(region.path)


def _handover_state(project: Project | None) -> Decision | None:
    if project is not None and project.state not in HANDOVER_STATES:
        return refuse(
            _("A handover is recorded once the project is accepted."),
            code="not_accepted",
            field="state",
            error=Conflict,
        )
    return None


def may_record_handover(user: User | None, project: Project | None = None, handover: Any = None) -> Decision:
    """Record the handover (again, after a refusal): the assisting side's officers, once the project is accepted;
    not while a handover waits for confirmation or after one was confirmed."""
    decision = requires(user, HANDOVER_ROLES, _("Only the assisting side's officers record a handover."))
    if decision and project is not None and not acts_for_assisting_side(user, project):
        decision = refuse(_("Only the assisting side's officers record a handover."))
    if not decision:
        return decision
    if (moment := _handover_state(project)) is not None:
        return moment
    if handover is not None and handover.status == HandoverStatus.PENDING:
        return refuse(
            _("The handover waits for the recipient side's confirmation."),
            code="handover_pending",
            field="status",
            error=Conflict,
        )
    if handover is not None and handover.status == HandoverStatus.CONFIRMED:
        return refuse(
            _("The handover has already been confirmed."), code="handover_confirmed", field="status", error=Conflict
        )
    return decision


def _may_answer_handover(user: User | None, project: Project | None, handover: Any, message: Any) -> Decision:
    decision = requires(user, RECEIPT_ROLES, message)
    if decision and project is not None and not acts_for_recipient_side(user, project):
        decision = refuse(message)
    if not decision or project is None:
        return decision
    if handover is None:
        return refuse(_("No handover has been recorded yet."), code="no_handover", field="status", error=Conflict)
    if handover.status != HandoverStatus.PENDING:
        return refuse(
            _("The handover is “%(status)s”: there is nothing to confirm or refuse.")
            % {"status": HandoverStatus(handover.status).label},
            code="state_conflict",
            field="status",
            error=Conflict,
        )
    return decision


def may_confirm_handover(user: User | None, project: Project | None = None, handover: Any = None) -> Decision:
    """Confirm receipt: a recipient officer of the recipient region, of a handover waiting for confirmation."""
    return _may_answer_handover(
        user, project, handover, _("Only the recipient side's officers confirm or refuse a handover.")
    )


def may_refuse_handover(user: User | None, project: Project | None = None, handover: Any = None) -> Decision:
    """Refuse a handover (with the reason): who may confirm it."""
    return _may_answer_handover(
        user, project, handover, _("Only the recipient side's officers confirm or refuse a handover.")
    )


def may_file_operation_report(user: User | None, project: Project | None = None, handover: Any = None) -> Decision:
    """File a year's operation report: the recipient side's officers, once the handover is confirmed."""
    message = _("Only the recipient side's officers file operation reports.")
    decision = requires(user, OPERATION_REPORT_ROLES, message)
    if decision and project is not None and not acts_for_recipient_side(user, project):
        decision = refuse(message)
    if not decision or project is None:
        return decision
    if handover is None or handover.status != HandoverStatus.CONFIRMED:
        return refuse(
            _("Operation reports are filed once the handover is confirmed."),
            code="handover_not_confirmed",
            field="status",
            error=Conflict,
        )
    return decision


def handover_actions(user: User, project: Project, handover: Any) -> list[str]:
    """The steps USER may take on PROJECT's handover now (`record`, `confirm`, `refuse`, `file_report`): what the
    API reports and the page offers (the services enforce the same)."""
    if project.state not in HANDOVER_STATES:
        return []
    steps = {
        "record": may_record_handover,
        "confirm": may_confirm_handover,
        "refuse": may_refuse_handover,
        "file_report": may_file_operation_report,
    }
    return [name for name, may in steps.items() if may(user, project, handover)]


def sees_missing_operation_reports(user: User | None) -> Decision:
    """Whose work a missing operation report is: the recipient side's officers (the worklist's kind)."""
    return requires(user, OPERATION_REPORT_ROLES, _("Only the recipient side's officers file operation reports."))


# --- duplicate projects across pairings (projects/duplicates.py) --------------------------------------------

#: Who confirms that a project is not the same undertaking as a similar one: those who propose projects.
DUPLICATE_ROLES = EDIT_ROLES


def may_dismiss_duplicate(user: User | None, project: Project | None = None) -> Decision:
    """Confirm "not a duplicate" (with a reason) on a project in scope, while it may still take money."""
    if project is not None and project.state in (State.CANCELLED, State.REJECTED):
        return refuse(
            _("The project is %(state)s: nothing to confirm.") % {"state": State(project.state).label},
            code="state_conflict",
            field="state",
            error=Conflict,
        )
    return requires(user, DUPLICATE_ROLES, _("Only assisting or recipient officers confirm this."))


def may_see_duplicates(user: User | None) -> Decision:
    """The suspected pairs of the whole portfolio: national users only (a pair may span pairings nobody else sees
    both of)."""
    if user is None or acts_nationally(user):
        return ALLOWED
    return refuse(_("Only the national level sees the suspected duplicates of the whole portfolio."))


def may_scan_duplicates(user: User | None) -> Decision:
    """Run the portfolio's scan for duplicates now (it also runs every night)."""
    decision = may_see_duplicates(user)
    if not decision:
        return decision
    return requires(user, {NC}, _("Only a national coordinator starts the scan."))
