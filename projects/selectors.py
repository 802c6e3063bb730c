"""Who sees which projects (through the pairings they see), and the reads pages and API share."""

from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import User
from pairings.models import FlowKind, FundFlow
from pairings.selectors import pairing_scope_q

from .models import (
    Inspection,
    InspectionKind,
    InspectionResult,
    ProgressReport,
    Project,
    Rectification,
    ReviewStatus,
)


def projects_visible_to(user: User) -> QuerySet[Project]:
    """Projects of the pairings USER sees; every list, page, API and task goes through this."""
    return Project.objects.filter(pairing_scope_q(user, "pairing__"))


def project_list_rows(user: User) -> QuerySet[Project]:
    """The list's rows with the names it shows, in one query."""
    return projects_visible_to(user).select_related(
        "pairing__program",
        "pairing__assisting_organization",
        "pairing__recipient_region",
        "location",
    )


def project_money(project: Project) -> dict[str, Decimal]:
    """Budget against the pairing's fund flows linked to this project: committed, disbursed, spent."""
    sums = dict(FundFlow.objects.filter(project_id=project.pk).order_by().values_list("kind").annotate(t=Sum("amount")))
    return {
        "budget": project.approved_budget
        if project.approved_budget is not None
        else (project.budget_requested or Decimal(0)),
        "committed": sums.get(FlowKind.COMMITMENT, Decimal(0)),
        "disbursed": sums.get(FlowKind.DISBURSEMENT, Decimal(0)),
        "spent": sums.get(FlowKind.EXPENDITURE, Decimal(0)),
    }


def latest_progress(project: Project) -> ProgressReport | None:
    """The latest report that stands: one the approver returned was sent back to be put right, so it neither
    holds later reports to its figure nor lets the project complete on it."""
    return project.progress_reports.exclude(review_status=ReviewStatus.RETURNED).order_by("-period_end", "-id").first()


def has_full_progress_report(project: Project) -> bool:
    return project.progress_reports.filter(physical_progress=100).exclude(review_status=ReviewStatus.RETURNED).exists()


def has_passed_acceptance(project: Project) -> bool:
    return project.inspections.filter(kind=InspectionKind.ACCEPTANCE, result=InspectionResult.PASSED).exists()


def latest_acceptance(project: Project) -> Inspection | None:
    return project.inspections.filter(kind=InspectionKind.ACCEPTANCE).order_by("-date", "-id").first()


def open_rectifications(project: Project) -> QuerySet[Rectification]:
    return project.rectifications.filter(closed_on__isnull=True)


def tasks_for(user: User) -> dict[str, Any]:
    """What waits for USER, by role: proposals to decide, reports to review, projects awaiting acceptance
    inspection, rectifications overdue, drafts to submit."""
    visible = projects_visible_to(user)
    today = timezone.localdate()
    names = ("pairing__assisting_organization", "pairing__recipient_region")
    tasks: dict[str, Any] = {}
    if user.has_role("approver") or user.is_superuser:
        tasks["proposals"] = (
            visible.filter(state="proposed").exclude(proposed_by=user).select_related(*names).order_by("updated_at")
        )
        tasks["reports"] = (
            ProgressReport.objects.filter(project__in=visible, review_status="pending")
            .select_related("project", "reported_by")
            .order_by("reported_at")
        )
    if user.has_role("supervisor") or user.is_superuser:
        # Completed projects wait for the supervisor until accepted: first the acceptance inspection, then
        # the acceptance itself (`passed` tells which of the two is next).
        tasks["acceptance_due"] = (
            visible.filter(state="completed")
            .annotate(
                passed=Exists(Inspection.objects.filter(project=OuterRef("pk"), kind="acceptance", result="passed"))
            )
            .select_related(*names)
            .order_by("actual_end", "id")
        )
    if user.has_role("supervisor", "assisting_officer", "national_coordinator") or user.is_superuser:
        tasks["overdue"] = (
            Rectification.objects.filter(project__in=visible, closed_on__isnull=True, deadline__lt=today)
            .select_related("project")
            .order_by("deadline")
        )
    if user.has_role("assisting_officer", "recipient_officer") or user.is_superuser:
        # Drafts the user started, and proposals of theirs that an approver returned.
        tasks["drafts"] = visible.filter(Q(created_by=user) | Q(proposed_by=user), state="draft").select_related(*names)
        tasks["in_construction"] = (
            visible.filter(state="in_construction").select_related(*names).order_by("planned_end")
        )
    return tasks


def project_belongs_to_pairing(pairing: Any, project_id: int) -> bool:
    """Whether money of PAIRING may be recorded against PROJECT_ID: a project of that pairing that has been
    approved (drafts, proposals, rejected and cancelled projects receive no funds)."""
    return Project.objects.filter(
        pk=project_id,
        pairing_id=pairing.pk,
        state__in=["approved", "in_construction", "suspended", "completed", "accepted", "evaluated"],
    ).exists()
