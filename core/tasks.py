"""Celery tasks of the core app."""

import datetime as dt

from celery import shared_task
from django.conf import settings


@shared_task(acks_late=True)
def sweep_kept_uploads() -> int:
    """Delete the files refused forms kept (core.uploads) older than KEPT_UPLOADS_MAX_AGE_HOURS: nobody came back
    for them. Hourly on Celery beat; running it twice deletes nothing twice. Returns how many files."""
    from core import uploads

    return uploads.sweep(dt.timedelta(hours=settings.KEPT_UPLOADS_MAX_AGE_HOURS))


@shared_task(acks_late=True)
def reconcile_rollups() -> dict[str, int]:
    """Check every rollup (core.rollups) against its rows and rebuild one that differs, logging each difference as
    an error: the triggers keep them exact, so a difference means a write bypassed them. Nightly on Celery beat;
    safe to run at any time and twice. Returns how many keys differed, by rollup."""
    from core import rollups

    return {name: len(found) for name, found in rollups.reconcile(repair=True).items()}
