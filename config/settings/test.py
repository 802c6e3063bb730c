"""The test suite: the real PostgreSQL, fast hashing, eager Celery unless a test starts a worker."""

from .base import *  # noqa: F403
from .base import cache_config, database_config, env

DEBUG = False
SECRET_KEY = "test-only-not-secret"  # noqa: S105 — a published demo/test value, not a secret
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

DATABASES = {"default": database_config(env.str("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/duikou"))}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Eager unless a broker is named: the worker started by tests/celery/ runs these settings against Redis.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
DUIKOU_DEMO_ENABLED = True
REST_FRAMEWORK = {**REST_FRAMEWORK}  # noqa: F405
# The suite must not trip throttling; the throttle test patches the rates on the throttle class itself
# (DRF reads them once at import).
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "anon": "100000/minute",
    "user": "100000/minute",
    # The multi-process test (tests/core/test_rate_limits_across_processes.py) runs servers with a real limit.
    "login": env.str("API_THROTTLE_LOGIN", default="100000/minute"),
}
# One process: its own memory is enough, and each test starts from an empty cache. A test that runs several server
# processes gives them a shared one (CACHE_URL, a Redis database of its own).
CACHES = {"default": cache_config(env.str("CACHE_URL", default="locmem://"))}

# Serve static files from the apps and static/ directly (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
