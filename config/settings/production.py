"""Production: every secret and host from the environment, no defaults; HTTPS-only cookies, HSTS, CSP."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import cache_config, database_config, env, env_secret, logging_config, shared_cache_url


def _required(name: str) -> str:
    value = env_secret(name)
    if not value:
        raise ImproperlyConfigured(f"Set the {name} environment variable (or {name}_FILE); production has no default.")
    return value


#: Keys published with the project or with Django: anyone who reads them could sign sessions and reset links.
PLACEHOLDER_SECRET_KEYS = frozenset(
    {"change-me", "changeme", "change_me", "secret", "local-development-only-not-secret", "test-only-not-secret"}
)
SECRET_KEY_MIN_LENGTH = 50
_GENERATE_COMMAND = 'python -c "import secrets; print(secrets.token_urlsafe(64))"'


def _secret_key() -> str:
    """DJANGO_SECRET_KEY, refused when it is a placeholder or too short to be a key: Django itself only warns
    (security.W009), and a site that starts is a site that runs with it."""
    key = _required("DJANGO_SECRET_KEY")
    problem = ""
    if key.strip().lower() in PLACEHOLDER_SECRET_KEYS or key.startswith("django-insecure-"):
        problem = "is a placeholder published with the project"
    elif len(key) < SECRET_KEY_MIN_LENGTH or len(set(key)) < 5:
        problem = f"is shorter than {SECRET_KEY_MIN_LENGTH} characters (or repeats too few of them)"
    if problem:
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY {problem}; production refuses to start with it. Generate one with "
            f"{_GENERATE_COMMAND} and set it in DJANGO_SECRET_KEY (or a file named by DJANGO_SECRET_KEY_FILE)."
        )
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [h.strip() for h in _required("DJANGO_ALLOWED_HOSTS").split(",") if h.strip()]
DATABASES = {"default": database_config(_required("DATABASE_URL"))}
DEBUG = False

CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[f"https://{h}" for h in ALLOWED_HOSTS])
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# The health and readiness checks and the metrics are probed over plain HTTP from inside the compose network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
# Cookies over HTTPS only. DJANGO_SECURE_COOKIES=false is for plain HTTP on the loopback only (`make stack`).
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
DUIKOU_DEMO_ENABLED = False
# The rate limits count in Redis, which every gunicorn worker and machine shares: CACHE_URL, else database 2 of the
# broker's Redis, else the Redis on this machine.
CACHES = {"default": cache_config(shared_cache_url("redis://127.0.0.1:6379/2"))}
# Production logs are JSON lines (one object per record, with its request id) unless DJANGO_LOG_FORMAT=plain.
LOGGING = logging_config(env.str("DJANGO_LOG_FORMAT", default="json"))
