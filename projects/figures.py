"""The figures of projects: counts by stage and a project's money, each computed here and nowhere else.

The definitions, once:

- **counts by stage** — the projects of the scope (those of the pairings a user sees, of a programme among them)
  counted by the stage their state belongs to: selection (draft, proposed), approval (approved, rejected),
  construction (in construction, suspended, completed), supervision (accepted), evaluation (evaluated) — the five
  stages of DESIGN.md — and cancelled apart. The total is every project of the scope, cancelled included.
- **budget** — the approved budget once the project is approved, else the budget requested (none when neither).
- **committed**, **disbursed**, **spent** — the fund flows linked to the project (commitments, disbursements,
  expenditures), all dates. Spent is what the recorded expenditures add up to; the spend to date that a progress
  report states is the assisting side's own account, shown beside it as *reported* (the latest report that
  stands), never in its place.

Money of a pairing or programme (required, received…) is `pairings.figures`'s.
"""

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import EllipsisType
from typing import Any, TypeVar

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Coalesce

from core.statements import Statement
from pairings.figures import is_every_pairing
from pairings.models import FlowKind, FundFlow, Pairing

from .models import ProgressReport, Project, ProjectStateCount, ReviewStatus, State

K = TypeVar("K")

#: The stages a project passes through, as the lifecycle's states map onto them; cancelled projects apart.
STAGES: list[tuple[str, list[str]]] = [
    ("selection", [State.DRAFT, State.PROPOSED]),
    ("approval", [State.APPROVED, State.REJECTED]),
    ("construction", [State.IN_CONSTRUCTION, State.SUSPENDED, State.COMPLETED]),
    ("supervision", [State.ACCEPTED]),
    ("evaluation", [State.EVALUATED]),
    ("cancelled", [State.CANCELLED]),
]

#: The budget a project's figures and lists show: approved where there is one, else requested.
BUDGET = Coalesce("approved_budget", "budget_requested")


@dataclass(frozen=True)
class StageCounts:
    """How many projects of a scope are in each state, and so in each stage."""

    states: dict[str, int] = field(default_factory=dict)

    @property
    def stages(self) -> dict[str, int]:
        return {name: sum(self.states.get(s, 0) for s in states) for name, states in STAGES}

    @property
    def total(self) -> int:
        return sum(self.states.values())


def stage_counts(projects: QuerySet[Project]) -> StageCounts:
    """The projects of PROJECTS (a scope: `selectors.projects_visible_to(user)`, narrowed as wished) by state.
    One query."""
    return StageCounts(dict(projects.order_by().values_list("state").annotate(n=Count("id"))))


def _state_counts(pairings: QuerySet[Pairing]) -> QuerySet[ProjectStateCount]:
    if is_every_pairing(pairings):  # a national scope: every row, no semi-join with every pairing
        return ProjectStateCount.objects.all()
    return ProjectStateCount.objects.filter(pairing__in=pairings.order_by().values("pk"))


def _states(pairings: QuerySet[Pairing]) -> QuerySet[Any]:
    return _state_counts(pairings).order_by().values_list("state").annotate(n=Sum("projects"))


#: `scope_stage_counts`'s statement, compiled once per scope key (`core.statements`).
_STATES = Statement(_states)


def scope_stage_counts(pairings: QuerySet[Pairing], *, key: Hashable | None = None) -> StageCounts:
    """Every project of the pairings in PAIRINGS — a whole scope: `pairings_visible_to(user)`, or a programme's part
    of it — by state, from the rollup (`projects.rollups`): the same counts as `stage_counts` of those projects,
    read from a few rows per pairing. One query. KEY, when given, stands for PAIRINGS as in
    `pairings.figures.money_by_program`: the statement is then compiled once per key."""
    rows = _states(pairings) if key is None else _STATES.rows(pairings, key=key)
    return StageCounts({state: n for state, n in rows if n})


def _states_by_program(pairings: QuerySet[Pairing]) -> QuerySet[Any]:
    return _state_counts(pairings).order_by().values_list("pairing__program_id", "state").annotate(n=Sum("projects"))


#: `scope_stage_counts_by_program`'s statement, compiled once per scope key (`core.statements`).
_STATES_BY_PROGRAM = Statement(_states_by_program)


def scope_stage_counts_by_program(
    pairings: QuerySet[Pairing], *, key: Hashable | None = None
) -> dict[int, StageCounts]:
    """The same per programme (by programme id; absent: no project). One query. KEY, when given, stands for
    PAIRINGS as in `pairings.figures.money_by_program`: the statement is then compiled once per key."""
    states: dict[int, dict[str, int]] = {}
    rows = _states_by_program(pairings) if key is None else _STATES_BY_PROGRAM.rows(pairings, key=key)
    for program_id, state, n in rows:
        if n:
            states.setdefault(program_id, {})[state] = n
    return {program_id: StageCounts(s) for program_id, s in states.items()}


def scope_stage_counts_by_group[K](groups: Mapping[K, Iterable[int]]) -> dict[K, StageCounts]:
    """The same for each group of pairing ids (by its key; the map's areas): every project of the group's pairings
    by state, from the rollup. One query however many groups."""
    members = {key: set(ids) for key, ids in groups.items()}
    ids = set().union(*members.values()) if members else set()
    by_pairing: dict[int, dict[str, int]] = {}
    rows = ProjectStateCount.objects.filter(pairing__in=ids).order_by().values_list("pairing_id", "state")
    for pairing_id, state, n in rows.annotate(n=Sum("projects")):
        if n:
            by_pairing.setdefault(pairing_id, {})[state] = n
    result: dict[K, StageCounts] = {}
    for key, group in members.items():
        states: dict[str, int] = {}
        for pk in group:
            for state, n in by_pairing.get(pk, {}).items():
                states[state] = states.get(state, 0) + n
        result[key] = StageCounts(states)
    return result


@dataclass(frozen=True)
class ProjectMoney:
    """A project's money (see the module's definitions)."""

    budget: Decimal | None
    committed: Decimal
    disbursed: Decimal
    spent: Decimal
    #: The spend to date of the latest progress report that stands, and the end of its period.
    reported_spend: Decimal | None = None
    reported_on: date | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "budget": self.budget,
            "committed": self.committed,
            "disbursed": self.disbursed,
            "spent": self.spent,
            "reported_spend_to_date": self.reported_spend,
            "reported_on": self.reported_on,
        }


def budget_of(project: Project) -> Decimal | None:
    """The project's budget: approved where there is one, else requested (as `BUDGET` in a query)."""
    return project.approved_budget if project.approved_budget is not None else project.budget_requested


def project_money(project: Project, latest: ProgressReport | EllipsisType | None = ...) -> ProjectMoney:
    """PROJECT's budget and the flows linked to it, with its latest reported spend. Two queries; one when the
    caller has read LATEST already, the project's latest report that stands (`selectors.latest_progress`, the same
    report this reads: returned ones left out, the latest period first)."""
    sums = dict(FundFlow.objects.filter(project_id=project.pk).order_by().values_list("kind").annotate(t=Sum("amount")))
    report: tuple[Any, ...] | None
    if isinstance(latest, EllipsisType):
        report = (
            project.progress_reports.exclude(review_status=ReviewStatus.RETURNED)
            .order_by("-period_end", "-id")
            .values_list("spend_to_date", "period_end")
            .first()
        )
    else:
        report = (latest.spend_to_date, latest.period_end) if latest is not None else None
    return ProjectMoney(
        budget=budget_of(project),
        committed=sums.get(FlowKind.COMMITMENT, Decimal("0.00")),
        disbursed=sums.get(FlowKind.DISBURSEMENT, Decimal("0.00")),
        spent=sums.get(FlowKind.EXPENDITURE, Decimal("0.00")),
        reported_spend=report[0] if report else None,
        reported_on=report[1] if report else None,
    )
