"""Celery tasks of webhooks: thin doors onto exchange.webhooks. (A module of its own, imported by the app's ready(),
beside the exports' tasks.py.)"""

from typing import Any

from celery import shared_task

from . import webhooks


@shared_task(bind=True, acks_late=True, max_retries=None)
def deliver_webhook(self: Any, delivery_id: str) -> None:
    """One attempt at a webhook delivery; another, later, while attempts are left (exponential backoff). The
    number of attempts is the delivery's own count (WEBHOOK_MAX_ATTEMPTS), not Celery's."""
    countdown = webhooks.attempt(delivery_id)
    if countdown is None:
        return
    if self.request.is_eager:
        # Eager (the embedded default and the tests; a retry would raise out of the caller there): no worker comes
        # back later, so the attempts left run now, one after another, without the wait.
        while countdown is not None:
            countdown = webhooks.attempt(delivery_id)
        return
    raise self.retry(countdown=countdown)


@shared_task(acks_late=True)
def rectifications_overdue() -> int:
    """Daily: each rectification past its deadline and still open is announced once (`rectification.overdue`).
    Returns how many were announced."""
    return len(webhooks.rectifications_overdue_announce())
