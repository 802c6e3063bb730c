"""Who sees which projects (through the pairings they see), and the reads pages and API share."""

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from core.models import choice_label, name_in_language
from core.selectors import search_words
from pairings.selectors import named_by, pairing_scope_q

from . import policy
from .models import (
    RECTIFICATION_WAITING,
    Inspection,
    InspectionKind,
    InspectionResult,
    ProgressReport,
    Project,
    Rectification,
    RectificationStatus,
    ReviewStatus,
)


def projects_visible_to(user: User) -> QuerySet[Project]:
    """Projects of the pairings USER sees; every list, page, API and task goes through this."""
    return Project.objects.filter(pairing_scope_q(user, "pairing__"))


def project_list_rows(user: User) -> QuerySet[Project]:
    """The list's rows with the names it shows, in one query (the list page reads its page with `list_rows`)."""
    return projects_visible_to(user).select_related(
        "pairing__program",
        "pairing__assisting_organization",
        "pairing__recipient_region",
        "location",
    )


class ListRow:
    """One row of the project list page, read as plain values (no model instances): the columns it shows, and the
    attributes its order pages by (projects/keyset.py reads them by the terms' names)."""

    #: The project's own columns, read by name.
    COLUMNS = (
        "id",
        "code",
        "title",
        "is_synthetic",
        "state",
        "sector",
        "budget",
        "planned_start",
        "created_at",
        "budget_requested",
    )
    __slots__ = (*COLUMNS, "assisting_name", "recipient_name")
    id: int
    code: str
    title: str
    is_synthetic: bool
    state: str
    sector: str
    budget: Any
    planned_start: Any
    created_at: Any
    budget_requested: Any
    assisting_name: str
    recipient_name: str
    #: The values read for each row: the columns, then the two names in both languages.
    VALUES = (
        *COLUMNS,
        "pairing__assisting_organization__name",
        "pairing__assisting_organization__name_en",
        "pairing__recipient_region__name",
        "pairing__recipient_region__name_en",
    )

    def __init__(self, values: tuple[Any, ...]) -> None:
        for name, value in zip(self.COLUMNS, values, strict=False):
            setattr(self, name, value)
        self.assisting_name = name_in_language(values[10], values[11])
        self.recipient_name = name_in_language(values[12], values[13])

    @property
    def pk(self) -> int:
        return self.id

    def get_state_display(self) -> Any:
        return choice_label(Project._meta.get_field("state"), self.state)

    def get_sector_display(self) -> Any:
        return choice_label(Project._meta.get_field("sector"), self.sector)


def list_rows(queryset: QuerySet[Project]) -> list[ListRow]:
    """QUERYSET's rows (annotated with `budget`, ordered and sliced by the caller) in one statement, as `ListRow`s."""
    return [ListRow(values) for values in queryset.values_list(*ListRow.VALUES)]


def latest_progress(
    project: Project, *, newest: list[ProgressReport] | None = None, limit: int = 0
) -> ProgressReport | None:
    """The latest report that stands: one the approver returned was sent back to be put right, so it neither
    holds later reports to its figure nor lets the project complete on it.

    NEWEST, the project's first LIMIT reports in the reports' order (newest first) as a page already read them,
    saves the query when one of them stands, or when there are fewer than LIMIT (they are all there is)."""
    if newest is not None:
        standing = next((r for r in newest if r.review_status != ReviewStatus.RETURNED), None)
        if standing is not None or len(newest) < limit:
            return standing
    return project.progress_reports.exclude(review_status=ReviewStatus.RETURNED).order_by("-period_end", "-id").first()


def has_full_progress_report(project: Project) -> bool:
    return project.progress_reports.filter(physical_progress=100).exclude(review_status=ReviewStatus.RETURNED).exists()


def has_passed_acceptance(project: Project) -> bool:
    return project.inspections.filter(kind=InspectionKind.ACCEPTANCE, result=InspectionResult.PASSED).exists()


def latest_acceptance(project: Project) -> Inspection | None:
    return project.inspections.filter(kind=InspectionKind.ACCEPTANCE).order_by("-date", "-id").first()


def open_rectifications(project: Project) -> QuerySet[Rectification]:
    """Not closed yet: waiting for the assisting side, or reported done and waiting for verification."""
    return project.rectifications.filter(closed_on__isnull=True)


def rectifications_waiting(qs: QuerySet[Rectification]) -> QuerySet[Rectification]:
    """Those of QS waiting for the assisting side to put them right (open, or sent back): the ones that fall
    overdue and are reminded of."""
    return qs.filter(closed_on__isnull=True, status__in=RECTIFICATION_WAITING)


# --- what waits for a user: one function per kind of work (core.worklist registers them; the home, "My tasks"
# and the navigation's count all read these) ------------------------------------------------------------------

_NAMES = ("pairing__assisting_organization", "pairing__recipient_region")


def _via_project_scope(user: User) -> Q:
    """Rows of the projects USER sees (rectifications, progress reports), as a filter on their `project` relation: the
    scope of `projects_visible_to`, written on the relation so that a national user's counts read the rows' own
    index with no join to every project (the navigation counts them on every page)."""
    return pairing_scope_q(user, "project__pairing__")


def proposals_to_approve(user: User) -> QuerySet[Project]:
    """Proposals in scope waiting for a decision, except the user's own (nobody approves what they proposed)."""
    return projects_visible_to(user).filter(state="proposed").exclude(proposed_by=user).select_related(*_NAMES)


def reports_to_review(user: User) -> QuerySet[ProgressReport]:
    return ProgressReport.objects.filter(_via_project_scope(user), review_status="pending").select_related(
        "project", "reported_by"
    )


def acceptance_due(user: User) -> QuerySet[Project]:
    """Completed projects wait for the supervisor until accepted: first the acceptance inspection, then the
    acceptance itself (`passed` tells which of the two is next)."""
    return (
        projects_visible_to(user)
        .filter(state="completed")
        .annotate(passed=Exists(Inspection.objects.filter(project=OuterRef("pk"), kind="acceptance", result="passed")))
        .select_related(*_NAMES)
    )


def _waiting_statuses(user: User) -> list[str]:
    """What counts as due or overdue for USER: everything waiting for the assisting side, except for those who
    report rectifications done, who have the ones sent back to them as a kind of their own (each item counted
    once)."""
    if may_report_rectification(user):
        return [RectificationStatus.OPEN]
    return sorted(RECTIFICATION_WAITING)


def rectifications_overdue(user: User) -> QuerySet[Rectification]:
    return Rectification.objects.filter(
        _via_project_scope(user),
        closed_on__isnull=True,
        status__in=_waiting_statuses(user),
        deadline__lt=timezone.localdate(),
    ).select_related("project")


def rectifications_due(user: User) -> QuerySet[Rectification]:
    """Rectifications waiting for the assisting side, not yet past their deadline (those past it are
    `rectifications_overdue`; those reported done wait for the supervisor: `rectifications_to_verify`)."""
    return (
        Rectification.objects.filter(
            _via_project_scope(user), closed_on__isnull=True, status__in=_waiting_statuses(user)
        )
        .exclude(deadline__lt=timezone.localdate())
        .select_related("project")
    )


def rectifications_to_verify(user: User) -> QuerySet[Rectification]:
    """Rectifications reported done, waiting for a supervisor to verify them or send them back."""
    return Rectification.objects.filter(
        _via_project_scope(user), closed_on__isnull=True, status=RectificationStatus.REPORTED
    ).select_related("project")


def rectifications_sent_back(user: User) -> QuerySet[Rectification]:
    """Rectifications the supervisor sent back, to be put right and reported again."""
    return Rectification.objects.filter(
        _via_project_scope(user), closed_on__isnull=True, status=RectificationStatus.SENT_BACK
    ).select_related("project")


def drafts_to_submit(user: User) -> QuerySet[Project]:
    """Drafts the user started, and proposals of theirs that an approver returned."""
    return (
        projects_visible_to(user)
        .filter(Q(created_by=user) | Q(proposed_by=user), state="draft")
        .select_related(*_NAMES)
    )


def may_approve(user: User) -> bool:
    return bool(policy.may_transition(user, None, "approve"))


def may_accept(user: User) -> bool:
    return bool(policy.may_transition(user, None, "accept"))


def may_submit(user: User) -> bool:
    return bool(policy.may_transition(user, None, "submit"))


def may_verify_rectification(user: User) -> bool:
    return bool(policy.may_act_on_rectification(user, None, "verify"))


def may_report_rectification(user: User) -> bool:
    return bool(policy.may_act_on_rectification(user, None, "report"))


def concerned_by_rectifications(user: User) -> bool:
    """Open rectifications concern who closes them and who reports the work that puts them right."""
    return bool(policy.may_close_rectification(user) or policy.may_report_progress(user))


def tasks_for(user: User) -> dict[str, Any]:
    """What waits for USER, by role: proposals to decide, reports to review, projects awaiting acceptance
    inspection, rectifications overdue, drafts to submit (and the projects in construction they report on)."""
    tasks: dict[str, Any] = {}
    if may_approve(user):
        tasks["proposals"] = proposals_to_approve(user).order_by("updated_at")
    if policy.may_review_report(user):
        tasks["reports"] = reports_to_review(user).order_by("reported_at")
    if may_accept(user):
        tasks["acceptance_due"] = acceptance_due(user).order_by("actual_end", "id")
    if concerned_by_rectifications(user):
        tasks["overdue"] = rectifications_overdue(user).order_by("deadline")
    if may_submit(user):
        tasks["drafts"] = drafts_to_submit(user)
        tasks["in_construction"] = (
            projects_visible_to(user).filter(state="in_construction").select_related(*_NAMES).order_by("planned_end")
        )
    return tasks


def project_belongs_to_pairing(pairing: Any, project_id: int) -> bool:
    """Whether money of PAIRING may be recorded against PROJECT_ID: a project of that pairing that has been
    approved (drafts, proposals, rejected and cancelled projects receive no funds)."""
    return Project.objects.filter(pk=project_id, pairing_id=pairing.pk, state__in=policy.FUNDED_STATES).exists()


# --- search --------------------------------------------------------------------------------------------------


def project_search(queryset: QuerySet[Project], text: str) -> QuerySet[Project]:
    """Projects of QUERYSET that every word of TEXT matches, in any order: part of the code or the title (trigram
    indexes on PostgreSQL), or a place or party — the location is a region the word names (or lies within one), or
    the pairing is one it names (`pairings.selectors.named_by`: its recipient region, assisting party or
    programme). "疏附 幼儿园" finds the kindergartens in Shufu. The places and parties are looked up first in their
    small tables, so the project table is searched by ids. The one search of the project list, page and API
    alike."""
    words = search_words(text)
    match = Q()
    for word, named in named_by(words).items():
        q = Q(title__icontains=word) | Q(code__icontains=word)
        if named.regions:
            q |= Q(location_id__in=sorted(named.regions))
        if named.pairings:
            q |= Q(pairing_id__in=sorted(named.pairings))
        match &= q
    return queryset.filter(match) if words else queryset
