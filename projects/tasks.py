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
    from .models import Project, Rectification

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
def notify_transitions(project_ids: list[int], action: str, event_ids: list[int] | None = None) -> int:
    """After one commit moved PROJECT_IDS by ACTION (EVENT_IDS: the history event of each, in the same order):
    tell, for each, the officials who act next (inbox and e-mail). Returns how many mails were sent. Nothing to do
    (and no query) for an action after which nobody in particular acts."""
    if action not in NEXT_ROLES:
        return 0
    events: list[int | None] = list(event_ids) if event_ids and len(event_ids) == len(project_ids) else []
    return sum(notify_transition(pk, action, events[i] if events else None) for i, pk in enumerate(project_ids))


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def notify_transition(project_id: int, action: str, event_id: int | None = None) -> int:
    """Tell the officials who act next on the project (those who see it and hold the role): a notification in
    each one's inbox, and an e-mail to those who chose e-mails at once and have an address. Returns how many were
    e-mailed. Each is keyed by the transition's history event (EVENT_ID; without it, the project's latest event of
    ACTION), so a task delivered twice tells nobody twice, while a project submitted again is announced again."""
    from core.models import HistoryEvent

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
    if event_id is None:
        event_id = (
            HistoryEvent.objects.for_object(project)
            .filter(action=action)
            .order_by("-pk")
            .values_list("pk", flat=True)
            .first()
        )
    params = {"code": project.code, "title": project.title, "action": action, "project": project.pk}
    key = f"project_turn:{event_id}" if event_id is not None else ""
    made = set(notify(told, "project_turn", params, reverse("projects:project_detail", args=[project.pk]), key=key))
    sent = 0
    for user in told:
        if user.pk not in made or not user.mails_at_once:
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
    link = reverse("projects:project_detail", args=[project.pk])
    return len(notify(users, "report_to_review", params, link, key=f"report_to_review:{report_id}", mail=True))


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
    return len(
        notify(users, "inspection_recorded", params, link, key=f"inspection_recorded:{inspection_id}", mail=True)
    )


#: How many days before its deadline an open rectification is announced as due.
DUE_SOON_DAYS = 3


@shared_task
def remind_rectifications(today: str | None = None) -> dict[str, int]:
    """The daily reminder (Celery beat): each rectification waiting for the assisting side (open, or sent back)
    due within DUE_SOON_DAYS days, and each one overdue, is announced once to the assisting officers who see its project and to the supervisor who raised
    it. Each reminder carries a key, so a second run on the same or a later day sends nothing twice. Returns how
    many users were told of each."""
    from .models import Rectification
    from .selectors import rectifications_waiting

    day = dt.date.fromisoformat(today) if today else timezone.localdate()
    told = {"rectification_due_soon": 0, "rectification_overdue": 0}
    # Only those waiting for the assisting side: one reported done waits for the supervisor's verification.
    open_ = rectifications_waiting(Rectification.objects.all()).filter(
        deadline__lte=day + dt.timedelta(days=DUE_SOON_DAYS)
    )
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


def _rectification_params(rect: "Rectification", project: "Project") -> dict[str, str]:
    return {
        "code": project.code,
        "title": project.title,
        "finding": rect.finding[:80],
        "deadline": rect.deadline.isoformat(),
    }


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def notify_rectification_reported(rectification_id: int, event_id: int | None = None) -> int:
    """A rectification was reported done: tell the supervisor who raised it (or, if nobody did, the supervisors
    who see its project) that it waits for verification. Returns how many."""
    from .models import Rectification

    rect = Rectification.objects.filter(pk=rectification_id).first()
    project = _project(rect.project_id) if rect else None
    if rect is None or project is None:
        return 0
    supervisors = officials_seeing(project, [Role.SUPERVISOR])
    raised = [u for u in supervisors if u.pk == rect.created_by_id]
    users = [u for u in (raised or supervisors) if u.pk != rect.reported_by_id]
    link = reverse("projects:project_detail", args=[project.pk]) + "#rectifications-table"
    params = _rectification_params(rect, project)
    key = f"rectification_reported:{event_id}" if event_id else ""
    return len(notify(users, "rectification_reported", params, link, key=key, mail=True))


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def notify_rectification_sent_back(rectification_id: int, event_id: int | None = None) -> int:
    """A reported rectification was sent back: tell the assisting officers who see its project, with the reason.
    Returns how many."""
    from .models import Rectification

    rect = Rectification.objects.filter(pk=rectification_id).first()
    project = _project(rect.project_id) if rect else None
    if rect is None or project is None:
        return 0
    users = [u for u in officials_seeing(project, [Role.ASSISTING_OFFICER]) if u.pk != rect.sent_back_by_id]
    params = {**_rectification_params(rect, project), "reason": rect.send_back_reason[:200]}
    link = reverse("projects:project_detail", args=[project.pk]) + "#rectifications-table"
    key = f"rectification_sent_back:{event_id}" if event_id else ""
    return len(notify(users, "rectification_sent_back", params, link, key=key, mail=True))


# The handover's and the operation reports' tasks live beside their services; imported here so a worker has them.
from .handover_tasks import notify_handover, remind_operation_reports  # noqa: E402, F401


# The portfolio's scan for duplicate projects: long on a large portfolio, so it has time limits of its own (a
# county at a time; at 100 000 projects bench/duplicates.py measures it).
@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def scan_duplicates() -> dict[str, int]:
    """Find every suspected pair of the portfolio (projects.duplicates.portfolio_pairs) and store them: a pair
    found again keeps its first `found_at` and takes the new score and reasons; a pair not found any more (a
    title changed, a project cancelled) is removed. Safe to run twice. Returns how many pairs stand and how many
    were removed."""
    from django.db import transaction

    from .duplicates import portfolio_pairs
    from .models import SuspectedDuplicate

    found = {(a, b): (score, reasons) for a, b, score, reasons in portfolio_pairs()}
    now = timezone.now()
    with transaction.atomic():
        stale = [
            pk
            for pk, a, b in SuspectedDuplicate.objects.values_list("pk", "project_a_id", "project_b_id").iterator()
            if (a, b) not in found
        ]
        for i in range(0, len(stale), 1000):
            SuspectedDuplicate.objects.filter(pk__in=stale[i : i + 1000]).delete()
        SuspectedDuplicate.objects.bulk_create(
            [
                SuspectedDuplicate(project_a_id=a, project_b_id=b, score=score, reasons=reasons, found_at=now)
                for (a, b), (score, reasons) in found.items()
            ],
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["project_a", "project_b"],
            update_fields=["score", "reasons"],
        )
    return {"pairs": len(found), "removed": len(stale)}
