"""The API's rate limits: a counter per window, per user or per client address."""

from unittest import mock

import pytest
from django.core.cache import cache
from django.test import override_settings

from core.api import throttles
from tests.conftest import api_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_a_minute(monkeypatch):
    # The windows are fixed minutes; the clock stands still so that slow requests (the schema takes a second or
    # two on a loaded machine) cannot straddle two windows and reset the count.
    monkeypatch.setattr(throttles.FixedWindowThrottle, "timer", staticmethod(lambda: 1_800_000_030.0))
    cache.clear()
    monkeypatch.setattr(throttles.UserThrottle, "THROTTLE_RATES", {"user": "2/minute"})
    monkeypatch.setattr(throttles.AnonThrottle, "THROTTLE_RATES", {"anon": "2/minute"})
    yield
    cache.clear()


def test_a_user_over_the_rate_gets_429_in_the_error_format_and_others_are_not_affected(world, two_a_minute):
    client = api_as(world.assisting)
    assert [client.get("/api/v1/me/").status_code for _ in range(2)] == [200, 200]
    response = client.get("/api/v1/me/")
    assert response.status_code == 429
    assert response.json()["errors"][0]["code"] == "throttled"
    assert "Retry-After" in response.headers
    assert api_as(world.recipient).get("/api/v1/me/").status_code == 200


def test_anonymous_clients_are_counted_by_address(client, two_a_minute):
    # The schema is open to anonymous callers (the API's resources refuse them before counting).
    statuses = [client.get("/api/schema/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_a_cache_that_does_not_answer_lets_requests_through_and_says_so(world, two_a_minute, caplog):
    # A Redis nobody listens on: every count fails; the API keeps answering instead of 500s.
    from tests.celery.conftest import free_port

    dead = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    with override_settings(CACHES=dead):
        from django.core.cache import caches

        throttle_cache = caches["default"]
        with mock.patch.object(throttles.FixedWindowThrottle, "cache", throttle_cache):
            statuses = [api_as(world.assisting).get("/api/v1/me/").status_code for _ in range(3)]

    assert statuses == [200, 200, 200]
    assert "not counted, the cache did not answer" in caplog.text
