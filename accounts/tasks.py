"""Celery tasks of the accounts app."""

from celery import shared_task
from django.utils import timezone


@shared_task(acks_late=True)
def purge_expired_tokens() -> int:
    """Delete API tokens past their expiry (authentication refuses them already). Returns how many."""
    from knox.models import AuthToken

    deleted, _ = AuthToken.objects.filter(expiry__lt=timezone.now()).delete()
    return deleted


@shared_task(acks_late=True)
def send_digests(today: str | None = None) -> dict[str, int]:
    """The daily digest (Celery beat): each active user who chose "daily digest" and has an address gets one
    e-mail in their language listing the notifications since their last digest. The day's digest is recorded per
    user, so a second run or a redelivered task sends nobody a second one. Returns how many users were sent one
    and how many notifications they listed."""
    import datetime as dt

    from .models import NotificationEmail, User
    from .services import digest_send

    day = dt.date.fromisoformat(today) if today else timezone.localdate()
    users = (
        User.objects.filter(is_active=True, notification_email=NotificationEmail.DAILY_DIGEST)
        .exclude(email="")
        .exclude(notification_digests__day=day)
        .order_by("pk")
    )
    told = {"users": 0, "notifications": 0}
    for user in users:
        listed = digest_send(user=user, day=day)
        if listed:
            told["users"] += 1
            told["notifications"] += listed
    return told
