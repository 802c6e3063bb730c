"""Production refuses to start with a secret key anyone could know (a placeholder) or guess (a short one), and
counts its rate limits in Redis; the settings are loaded in a subprocess, as a deployment loads them."""

import secrets

import pytest

from tests.config.test_production_settings import manage, production_env, settings_in_subprocess

GENERATE = 'python -c "import secrets; print(secrets.token_urlsafe(64))"'


@pytest.mark.parametrize(
    "key",
    ["change-me", "CHANGE-ME", "changeme", "local-development-only-not-secret", "django-insecure-" + "x1y2z3" * 10],
)
def test_a_placeholder_secret_key_is_refused_saying_how_to_make_one(key):
    result = manage("check", env=production_env(DJANGO_SECRET_KEY=key))

    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY is a placeholder published with the project" in result.stderr
    assert GENERATE in result.stderr


@pytest.mark.parametrize("key", [secrets.token_urlsafe(64)[:49], "a" * 80], ids=["49 characters", "one character"])
def test_a_short_or_monotonous_secret_key_is_refused(key):
    result = manage("check", env=production_env(DJANGO_SECRET_KEY=key))

    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY is shorter than 50 characters" in result.stderr
    assert GENERATE in result.stderr


def test_a_key_of_50_random_characters_starts():
    result = manage("check", env=production_env(DJANGO_SECRET_KEY=secrets.token_urlsafe(64)[:50]))

    assert result.returncode == 0, result.stderr


def test_production_counts_in_the_brokers_redis_unless_told_otherwise():
    backend = "django.core.cache.backends.redis.RedisCache"
    expression = "[settings.CACHES['default']['BACKEND'], settings.CACHES['default']['LOCATION']]"

    assert settings_in_subprocess(expression, production_env()) == [backend, "redis://127.0.0.1:6379/2"]
    assert settings_in_subprocess(expression, production_env(CELERY_BROKER_URL="redis://redis:6379/0")) == [
        backend,
        "redis://redis:6379/2",
    ]
    assert settings_in_subprocess(expression, production_env(CACHE_URL="redis://cache.internal:6380/5")) == [
        backend,
        "redis://cache.internal:6380/5",
    ]


def test_production_trusts_the_configured_number_of_proxies_everywhere():
    expression = "[settings.REST_FRAMEWORK['NUM_PROXIES'], settings.AXES_IPWARE_PROXY_COUNT]"

    assert settings_in_subprocess(expression, production_env()) == [0, 0]
    assert settings_in_subprocess(expression, production_env(TRUSTED_PROXY_COUNT="1")) == [1, 1]
