"""The test suite: the real PostgreSQL, fast hashing, eager Celery unless a test starts a worker."""

from .base import *  # noqa: F403
from .base import database_config, env

DEBUG = False
SECRET_KEY = "test-only-not-secret"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

DATABASES = {"default": database_config(env.str("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/duikou"))}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CELERY_BROKER_URL = ""
CELERY_TASK_ALWAYS_EAGER = True
DUIKOU_DEMO_ENABLED = True
REST_FRAMEWORK = {**REST_FRAMEWORK}  # noqa: F405
# Throttling is tested explicitly (tests override these rates); the suite itself must not trip it.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"anon": "100000/minute", "user": "100000/minute", "login": "100000/minute"}
