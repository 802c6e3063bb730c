"""A task through the real thing: a Celery worker process, Redis as broker and result backend, PostgreSQL."""

import time
from datetime import timedelta

import pytest
from knox.models import AuthToken

from .conftest import REDIS, client_app

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_purges_expired_tokens_through_redis(worker, world):
    AuthToken.objects.create(world.assisting, expiry=timedelta(seconds=-1))
    AuthToken.objects.create(world.assisting)  # still valid: kept
    started = time.monotonic()
    client = client_app(REDIS, backend=REDIS)
    result = client.send_task("accounts.tasks.purge_expired_tokens", queue="default")
    deleted = result.get(timeout=60)
    assert deleted == 1, worker.log()
    assert AuthToken.objects.filter(user=world.assisting).count() == 1
    assert time.monotonic() - started < 60
