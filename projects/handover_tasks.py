"""Celery tasks of the handover and the operation reports: thin doors onto the selectors and notifications
(imported by projects.tasks, so that a worker registers them)."""

import datetime as dt

from celery import shared_task
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from accounts.services import notify

#: Who is told of each step of a handover: the side that acts next.
HANDOVER_NEXT = {
    "handover_recorded": (Role.RECIPIENT_OFFICER, "handover_to_confirm"),
    "handover_confirmed": (Role.ASSISTING_OFFICER, "handover_confirmed"),
    "handover_refused": (Role.ASSISTING_OFFICER, "handover_refused"),
}


def _officials(project, role: str) -> list[User]:  # type: ignore[no-untyped-def]
    """The active officials holding ROLE who see PROJECT, on the side that role acts for."""
    from .tasks import officials_seeing

    users = officials_seeing(project, [role])
    return _side(users, project, role)


def _side(users: list[User], project, role: str) -> list[User]:  # type: ignore[no-untyped-def]
    from . import policy

    acts = policy.acts_for_recipient_side if role == Role.RECIPIENT_OFFICER else policy.acts_for_assisting_side
    return [u for u in users if acts(u, project)]


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def notify_handover(handover_id: int, event_id: int) -> int:
    """A handover was recorded, confirmed or refused (EVENT_ID: its history event): tell the side that acts next.
    Keyed by the event, so a task delivered twice tells nobody twice. Returns how many were told."""
    from core.models import HistoryEvent

    from .models import Handover

    handover = (
        Handover.objects.select_related(
            "project__pairing__assisting_organization", "project__pairing__recipient_region"
        )
        .filter(pk=handover_id)
        .first()
    )
    event = HistoryEvent.objects.filter(pk=event_id).first()
    if handover is None or event is None or event.action not in HANDOVER_NEXT:
        return 0
    role, kind = HANDOVER_NEXT[event.action]
    project = handover.project
    users = [u for u in _officials(project, role) if u.pk != event.actor_id]
    params = {"code": project.code, "title": project.title, "reason": handover.refusal_reason[:200]}
    link = reverse("projects:project_detail", args=[project.pk]) + "#handover"
    return len(notify(users, kind, params, link, key=f"{kind}:{event_id}", mail=True))


@shared_task
def remind_operation_reports(today: str | None = None) -> int:
    """The daily reminder (Celery beat): from 1 January on, each confirmed handover without its report for a
    year from the handover's year to last year is announced to the recipient officers who see its project, once
    per missing year (the key makes a second run on the same or a later day send nothing twice). Returns how
    many were told."""
    from .handover_selectors import missing_reports, missing_years

    day = dt.date.fromisoformat(today) if today else timezone.localdate()
    told = 0
    handovers = list(
        missing_reports(today=day)
        .select_related("project__pairing__assisting_organization", "project__pairing__recipient_region")
        .order_by("pk")
    )
    years = missing_years(handovers, day)
    for handover in handovers:
        project = handover.project
        users = _officials(project, Role.RECIPIENT_OFFICER)
        link = reverse("projects:project_detail", args=[project.pk]) + "#handover"
        for year in years.get(handover.pk, []):
            params = {"code": project.code, "title": project.title, "year": year}
            key = f"operation_report_missing:{handover.pk}:{year}"
            told += len(notify(users, "operation_report_missing", params, link, key=key, mail=True))
    return told
