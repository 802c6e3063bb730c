"""Celery tasks of the accounts app."""

from celery import shared_task
from django.utils import timezone


@shared_task(acks_late=True)
def purge_expired_tokens() -> int:
    """Delete API tokens past their expiry (authentication refuses them already). Returns how many."""
    from knox.models import AuthToken

    deleted, _ = AuthToken.objects.filter(expiry__lt=timezone.now()).delete()
    return deleted
