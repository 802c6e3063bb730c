"""Who may start evaluation runs, revise indicator frameworks, give expert scores and rate satisfaction (the
conventions are accounts/policy.py's)."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from accounts.policy import Decision, acts_nationally, refuse, requires

#: Runs rank every assisting party, so they are started nationally: by these roles acting for the central office.
RUN_ROLES = frozenset({Role.NATIONAL_COORDINATOR, Role.EVALUATOR})
FRAMEWORK_ROLES = frozenset({Role.NATIONAL_COORDINATOR})
SCORE_ROLES = frozenset({Role.EVALUATOR})
RATING_ROLES = frozenset({Role.RECIPIENT_OFFICER})


def may_run(user: User | None, program: Any = None) -> Decision:
    """Start an evaluation run (of PROGRAM, or of every programme)."""
    message = _("Evaluation runs are started by the national coordinator or a national evaluator.")
    decision = requires(user, RUN_ROLES, message, "program")
    if decision and user is not None and not acts_nationally(user):
        return refuse(message, field="program")
    return decision


def may_revise_framework(user: User | None, program: Any = None) -> Decision:
    """Write a new version of a programme's indicator framework."""
    return requires(user, FRAMEWORK_ROLES, _("Only the national coordinator revises indicator frameworks."), "program")


def may_score(user: User | None, project: Any = None) -> Decision:
    """Give (or change) an expert score of a project; which projects are scored, the service says with the rest."""
    return requires(user, SCORE_ROLES, _("Only evaluators give expert scores."), "indicator")


def may_rate(user: User | None, project: Any = None) -> Decision:
    """Rate (or re-rate) satisfaction with a project; that it is accepted, the service says with the rest."""
    return requires(user, RATING_ROLES, _("Only recipient officers rate satisfaction."), "score")
