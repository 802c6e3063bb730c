"""Celery tasks: thin doors onto the services and selectors."""

from celery import shared_task
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import Role, User

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
    """After one commit moved PROJECT_IDS by ACTION: e-mail, for each, the officials who act next. Returns how
    many mails were sent. Nothing to do (and no query) for an action after which nobody in particular acts."""
    if action not in NEXT_ROLES:
        return 0
    return sum(notify_transition(pk, action) for pk in project_ids)


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def notify_transition(project_id: int, action: str) -> int:
    """E-mail the officials who act next on the project (those who see it and hold the role). Returns how
    many were told. Safe to run twice: it only sends mail."""
    from pairings.selectors import user_sees_pairing

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
    candidates = (
        User.objects.filter(is_active=True, role_assignments__role__in=roles)
        .exclude(email="")
        .select_related("organization__region")
        .distinct()
    )
    sent = 0
    for user in candidates:
        if not user_sees_pairing(user, project.pairing):
            continue
        if action == "submit" and user.pk == project.proposed_by_id:
            continue  # the proposer may hold the approver role too, but may not approve their own proposal
        with translation.override(user.preferred_language):
            send_mail(
                subject=_("Duikou: %(code)s is waiting for you") % {"code": project.code},
                message=_("Project %(code)s “%(title)s” was %(action)s. It is your turn to act on it.")
                % {"code": project.code, "title": project.title, "action": action},
                from_email=None,
                recipient_list=[user.email],
            )
        sent += 1
    return sent
