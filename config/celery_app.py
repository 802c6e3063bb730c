"""The Celery application. Tasks run eagerly in-process when CELERY_BROKER_URL is unset (`make run`)."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

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
    task_routes={
        "evaluation.tasks.*": {"queue": "evaluation"},
        "*": {"queue": "default"},
    },
    task_default_queue="default",
    beat_schedule={
        "purge-expired-api-tokens": {"task": "accounts.tasks.purge_expired_tokens", "schedule": 60 * 60},
        "reconcile-evaluation-runs": {"task": "evaluation.tasks.reconcile_runs", "schedule": 60},
        "nightly-evaluation": {"task": "evaluation.tasks.nightly_evaluation", "schedule": crontab(hour=2, minute=30)},
    },
)
app.autodiscover_tasks()
