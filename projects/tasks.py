"""Celery tasks: thin doors onto the services and selectors."""

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from celery import shared_task
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Role, User
from accounts.notifications import render
from accounts.services import notify

if TYPE_CHECKING:
    from .models import Project

# Whose turn it is after each action (the roles that may act next).
NEXT_ROLES = {
    "submit": [Role.APPROVER],
    "return": [Role.ASSISTING_OFFICER, Role.RECIPIENT_OFFICER],
    "approve": [Role.ASSISTING_OFFICER],
    "complete": [Role.SUPERVISOR],
    "reopen": [Role.ASSISTING_OFFICER],
    "accept": [Role.EVALUATOR],
}


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def notify_transitions(project_ids: list[int], action: str) -> int:
    """After one commit moved PROJECT_IDS by ACTION: tell, for each, the officials who act next (inbox and
    e-mail). Returns how many mails were sent. Nothing to do (and no query) for an action after which nobody in particular acts."""
    if action not in NEXT_ROLES:
        return 0
    return sum(notify_transition(pk, action) for pk in project_ids)


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def notify_transition(project_id: int, action: str) -> int:
    """Tell the officials who act next on the project (those who see it and hold the role): a notification in
    each one's inbox, and an e-mail to those with an address. Returns how many were e-mailed."""
    from .models import Project

    roles = NEXT_ROLES.get(action)
    if not roles:
        return 0
    project = (
        Project.objects.select_related("pairing__assisting_organization", "pairing__recipient_region")
        .filter(pk=project_id)
        .first()
    )
    if project is None:
        return 0
    told = [
        user
        for user in officials_seeing(project, roles)
        # The proposer may hold the approver role too, but may not approve their own proposal.
        if not (action == "submit" and user.pk == project.proposed_by_id)
    ]
    params = {"code": project.code, "title": project.title, "action": action, "project": project.pk}
    notify(told, "project_turn", params, reverse("projects:project_detail", args=[project.pk]))
    sent = 0
    for user in told:
        if not user.email:
            continue
        with translation.override(user.preferred_language):
            send_mail(
                subject=_("Duikou: %(code)s is waiting for you") % {"code": project.code},
                message=render("project_turn", params),
                from_email=None,
                recipient_list=[user.email],
            )
        sent += 1
    return sent


def officials_seeing(project: "Project", roles: Iterable[str]) -> list[User]:
    """The active users holding one of ROLES who see PROJECT's pairing."""
    from pairings.selectors import user_sees_pairing

    candidates = (
        User.objects.filter(is_active=True, role_assignments__role__in=list(roles))
        .select_related("organization__region")
        .distinct()
        .order_by("pk")
    )
    return [user for user in candidates if user_sees_pairing(user, project.pairing)]


def _project(project_id: int) -> "Project | None":
    from .models import Project

    return (
        Project.objects.select_related("pairing__assisting_organization", "pairing__recipient_region")
        .filter(pk=project_id)
        .first()
    )


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def notify_report_submitted(report_id: int) -> int:
    """A progress report waits for review: tell the approvers who see its project. Returns how many."""
    from .models import ProgressReport

    report = ProgressReport.objects.filter(pk=report_id).only("project_id", "period_end").first()
    project = _project(report.project_id) if report else None
    if report is None or project is None:
        return 0
    users = [u for u in officials_seeing(project, [Role.APPROVER]) if u.pk != report.reported_by_id]
    params = {"code": project.code, "title": project.title, "period": report.period_end.isoformat()}
    return len(
        notify(users, "report_to_review", params, reverse("projects:project_detail", args=[project.pk]), mail=True)
    )


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def notify_inspection(inspection_id: int) -> int:
    """An inspection was recorded on a project: tell the assisting officers who see it. Returns how many."""
    from .models import Inspection

    inspection = Inspection.objects.filter(pk=inspection_id).first()
    project = _project(inspection.project_id) if inspection else None
    if inspection is None or project is None:
        return 0
    users = [u for u in officials_seeing(project, [Role.ASSISTING_OFFICER]) if u.pk != inspection.inspector_id]
    params = {
        "code": project.code,
        "title": project.title,
        "result": inspection.result,
        "rectifications": inspection.rectifications.count(),
    }
    link = reverse("projects:project_detail", args=[project.pk])
    return len(notify(users, "inspection_recorded", params, link, mail=True))


#: How many days before its deadline an open rectification is announced as due.
DUE_SOON_DAYS = 3


@shared_task
def remind_rectifications(today: str | None = None) -> dict[str, int]:
    """The daily reminder (Celery beat): each open rectification due within DUE_SOON_DAYS days, and each one
    overdue, is announced once to the assisting officers who see its project and to the supervisor who raised
    it. Each reminder carries a key, so a second run on the same or a later day sends nothing twice. Returns how
    many users were told of each."""
    from .models import Rectification

    day = dt.date.fromisoformat(today) if today else timezone.localdate()
    told = {"rectification_due_soon": 0, "rectification_overdue": 0}
    open_ = Rectification.objects.filter(closed_on__isnull=True, deadline__lte=day + dt.timedelta(days=DUE_SOON_DAYS))
    for rect in open_.select_related(
        "project__pairing__assisting_organization", "project__pairing__recipient_region"
    ).order_by("deadline", "pk"):
        kind = "rectification_overdue" if rect.deadline < day else "rectification_due_soon"
        project = rect.project
        users: list[User | int] = list(officials_seeing(project, [Role.ASSISTING_OFFICER]))
        if rect.created_by_id is not None:
            users.append(rect.created_by_id)
        params = {
            "code": project.code,
            "title": project.title,
            "finding": rect.finding[:80],
            "deadline": rect.deadline.isoformat(),
        }
        link = reverse("projects:project_detail", args=[project.pk])
        told[kind] += len(notify(users, kind, params, link, key=f"{kind}:{rect.pk}", mail=True))
    return told
