"""A task through the real thing: a Celery worker process, Redis as broker and result backend, PostgreSQL."""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection
from knox.models import AuthToken

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
REDIS = os.environ.get("DUIKOU_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture
def worker():
    import redis

    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        pytest.fail(f"Redis is not answering at {REDIS}: start it (e.g. `docker compose up -d redis`).")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        # The worker works on the test database this test has committed to.
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "DATABASE_POOL": "false",
        "CELERY_BROKER_URL": REDIS,
        "CELERY_RESULT_BACKEND": REDIS,
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-P",
            "solo",
            "-Q",
            "default",
            "-l",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_a_worker_purges_expired_tokens_through_redis(worker, world):
    AuthToken.objects.create(world.assisting, expiry=timedelta(seconds=-1))
    AuthToken.objects.create(world.assisting)  # still valid: kept
    started = time.monotonic()
    # A client of its own: the project's app runs eagerly in this process and caches its backend.
    client = Celery("duikou-test-client", broker=REDIS, backend=REDIS)
    result = client.send_task("accounts.tasks.purge_expired_tokens", queue="default")
    deleted = result.get(timeout=60)
    assert deleted == 1, worker.stdout.read(2000) if worker.poll() is not None else deleted
    assert AuthToken.objects.filter(user=world.assisting).count() == 1
    assert time.monotonic() - started < 60
