"""GET /readyz: the database, the cache and the broker, each with a short timeout; 503 naming what is down.

The cache and the broker are a redis-server of the test's own, which the test stops (the shared one is never)."""

import time

import pytest
from django.db import OperationalError
from django.test import override_settings

from core import views
from tests.celery import conftest as celery_fixtures
from tests.celery.conftest import RedisServer

pytestmark = pytest.mark.django_db

redis_server = celery_fixtures.redis_server


def on_redis(url: str) -> override_settings:
    return override_settings(
        CELERY_BROKER_URL=url,
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": url,
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            }
        },
    )


def test_readyz_answers_each_checks_status_without_login(client, redis_server: RedisServer):
    with on_redis(redis_server.url):
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "broker": "ok"}}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_names_the_cache_and_the_broker_when_redis_is_stopped(client, redis_server: RedisServer):
    with on_redis(redis_server.url):
        assert client.get("/readyz").status_code == 200
        redis_server.stop()
        started = time.monotonic()
        response = client.get("/readyz")
        took = time.monotonic() - started
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert sorted(body["down"]) == ["broker", "cache"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"] != "ok"
    assert took < views.READY_TIMEOUT + 2  # a probe gets its answer before its own timeout

    redis_server.start()
    with on_redis(redis_server.url):
        assert client.get("/readyz").status_code == 200  # back as soon as Redis is


def test_readyz_names_the_database_when_it_does_not_answer(client, monkeypatch):
    def unreachable() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(views, "_check_database", unreachable)
    # Without a broker (tasks in-process) there is nothing to reach: the broker counts as ready.
    with override_settings(CELERY_BROKER_URL=""):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["down"] == ["database"]
    assert response.json()["checks"]["database"] == "OperationalError"


def test_readyz_is_exempt_from_the_https_redirect_like_healthz():
    from pathlib import Path

    text = (Path(views.__file__).resolve().parents[1] / "config" / "settings" / "production.py").read_text()
    assert 'r"^readyz$"' in text
    assert 'r"^healthz$"' in text
