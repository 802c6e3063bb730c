"""Celery tasks of data exchange's exports: thin doors onto exchange.services. (The webhook tasks are in
exchange/webhook_tasks.py.)"""

from celery import shared_task


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=3)
def make_export(export_id: int) -> str | None:
    """Make a queued export (a long list or a PDF report). Safe to run twice: a finished export is left alone."""
    from .services import export_make

    export = export_make(export_id)
    return export.status if export else None


@shared_task(acks_late=True)
def expire_exports() -> int:
    """Delete the files of exports past their expiry (hourly on beat)."""
    from .services import exports_expire

    return exports_expire()
