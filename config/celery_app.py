"""The Celery application. Tasks run eagerly in-process when CELERY_BROKER_URL is unset (`make run`)."""

import os
from typing import Any

from celery import Celery
from celery.schedules import crontab
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

#: Seconds after which Redis hands a message that was delivered but never acknowledged to another worker: with
#: acks_late, that is how the task of a worker that died (SIGKILL, OOM, lost machine) runs again. It must be longer
#: than the longest task (task_time_limit, 360 s) and the longest retry countdown (a minute), or a task still running
#: or waiting would be delivered a second time; kombu's default, one hour, is kept. The tests of tests/celery/ shorten it (CELERY_VISIBILITY_TIMEOUT=5) to see a killed
#: worker's message come back within seconds.
VISIBILITY_TIMEOUT = float(os.environ.get("CELERY_VISIBILITY_TIMEOUT") or 3600)
TRANSPORT_OPTIONS: dict[str, float] = {"visibility_timeout": VISIBILITY_TIMEOUT}
if VISIBILITY_TIMEOUT < 60:
    # kombu looks for such messages every 10 s × 10 (interval × throttle): for a short timeout, every second.
    TRANSPORT_OPTIONS |= {"unacked_restore_interval": 1, "unacked_restore_throttle": 1}


@setup_logging.connect
def _django_logging(**kwargs: Any) -> None:
    """A worker logs as the web processes do (settings.LOGGING: JSON in production, each line with the request id
    of the task), instead of Celery's own format."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


app = Celery("duikou")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    timezone="Asia/Shanghai",
    enable_utc=True,
    # Tasks are written to be idempotent, so a message is acknowledged only once the work is done:
    # a worker that dies mid-task leaves it to be redelivered.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_soft_time_limit=300,
    task_time_limit=360,
    broker_connection_retry_on_startup=True,
    broker_transport_options=TRANSPORT_OPTIONS,
    task_routes={
        "evaluation.tasks.*": {"queue": "evaluation"},
        "*": {"queue": "default"},
    },
    task_default_queue="default",
    beat_schedule={
        "purge-expired-api-tokens": {"task": "accounts.tasks.purge_expired_tokens", "schedule": 60 * 60},
        "reconcile-evaluation-runs": {"task": "evaluation.tasks.reconcile_runs", "schedule": 60},
        "expire-exports": {"task": "exchange.tasks.expire_exports", "schedule": 60 * 60},
        "nightly-evaluation": {"task": "evaluation.tasks.nightly_evaluation", "schedule": crontab(hour=2, minute=30)},
        # The portfolio's suspected duplicate projects, found again each night (projects/duplicates.py).
        "scan-duplicates": {"task": "projects.tasks.scan_duplicates", "schedule": crontab(hour=1, minute=40)},
        "remind-rectifications": {
            "task": "projects.tasks.remind_rectifications",
            "schedule": crontab(hour=7, minute=0),
        },
        "remind-operation-reports": {
            "task": "projects.handover_tasks.remind_operation_reports",
            "schedule": crontab(hour=7, minute=5),
        },
        # After the reminders, so the day's reminders are in the digest.
        "notification-digests": {"task": "accounts.tasks.send_digests", "schedule": crontab(hour=7, minute=30)},
        "sweep-kept-uploads": {"task": "core.tasks.sweep_kept_uploads", "schedule": 60 * 60},
        # The rollups are kept exact by triggers; this finds (and mends) what a write around them broke.
        "reconcile-rollups": {"task": "core.tasks.reconcile_rollups", "schedule": crontab(hour=3, minute=45)},
        "rectifications-overdue": {
            "task": "exchange.webhook_tasks.rectifications_overdue",
            "schedule": crontab(hour=1, minute=15),
        },
    },
)
app.autodiscover_tasks()
