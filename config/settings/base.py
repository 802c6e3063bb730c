"""Settings shared by every environment; values come from the environment (django-environ).

Environment-specific modules (local, test, production) import this one and override.
"""

from pathlib import Path

import environ
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()


def env_secret(name: str, default: str | None = None) -> str | None:
    """Read a secret from NAME, or from the file named by NAME_FILE (docker/compose secrets)."""
    file_name = env.str(f"{name}_FILE", default="")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            from django.core.exceptions import ImproperlyConfigured

            raise ImproperlyConfigured(f"{name}_FILE points at {file_name}, which cannot be read: {exc}") from exc
    return env.str(name, default=default)


DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("DJANGO_ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "core",
    "accounts",
    "pairings",
    "projects",
    "evaluation",
    "exchange",
    "atlas",
]

MIDDLEWARE = [
    # First: times the whole request for the metrics (core/observability.py).
    "core.observability.RequestMetricsMiddleware",
    # Early, so that every later log line of the request carries its id.
    "core.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Axes last: it reads the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.navigation",
                "accounts.context_processors.notifications",
            ],
            # Django's `date` filter with the numeric formats of the lists' rows written directly (same output).
            "builtins": ["core.templatetags.dates"],
        },
    }
]
# Django's widget templates, with selects and one-line inputs written in Python (the same HTML, a fraction of the
# time: a select's template includes a template per option).
FORM_RENDERER = "core.form_renderer.Renderer"


def database_config(url: str) -> dict:
    """A DATABASES entry for URL; PostgreSQL gets psycopg 3's pool, SQLite WAL and IMMEDIATE transactions."""
    config = env.db_url_config(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN so two
            # writers queue instead of failing with "database is locked" half-way through a transaction.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    elif config["ENGINE"] == "django.db.backends.postgresql":
        config["ENGINE"] = "django.db.backends.postgresql"
        config.setdefault("OPTIONS", {})
        if env.bool("DATABASE_POOL", default=True):
            config["OPTIONS"]["pool"] = {
                "min_size": env.int("DATABASE_POOL_MIN", default=1),
                "max_size": env.int("DATABASE_POOL_MAX", default=10),
                "timeout": 10,
            }
            # Django's pool and persistent connections exclude each other.
            config["CONN_MAX_AGE"] = 0
            # With the pool, Django passes psycopg_pool's `check=ConnectionPool.check_connection` for this (it
            # refuses a `check` of our own in the pool options): a connection is tried before the pool hands it
            # out, so after a database restart the dead ones are replaced instead of failing a request with a 500.
            config["CONN_HEALTH_CHECKS"] = True
        # Server-side binding: the parameters travel apart from the statement, so psycopg prepares a statement
        # the second time a connection runs it and PostgreSQL parses and plans it once per connection (the pool
        # keeps the connections). Measured: every page 10-30 % faster alone (README, Performance). Turn it off
        # behind a pooler in transaction mode that cannot keep prepared statements.
        if env.bool("DATABASE_SERVER_SIDE_BINDING", default=True):
            config["OPTIONS"]["server_side_binding"] = True
            config["OPTIONS"]["prepare_threshold"] = env.int("DATABASE_PREPARE_THRESHOLD", default=2)
    config["ATOMIC_REQUESTS"] = False
    return config


DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, reading the signed-in user with their organization and roles in one statement.
    "accounts.auth.UserBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Security headers that hold everywhere; production adds HTTPS-only settings.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Sessions stay in the database (Django's default), not the cache: Django's cached_db store fails a request when the
# cache does not answer, and a sign-out made while Redis was away could come back with it. Every page would then
# depend on Redis, which the rate limits are written not to.
# Every asset is served by the project itself: officials work on closed networks.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# django-axes: lock an account (username) after repeated failures on the login page or API.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = ["username"]
# Officials sit behind shared government gateways: locking by IP address would lock a whole office out after
# one person's typos. Accounts are locked by username; the API login is also throttled per client address.
# models.W040: SQLite cannot include non-key columns in an index; the covering part of the projects' cohort
# index is a PostgreSQL optimisation, SQLite (`make run`) gets the plain index.
SILENCED_SYSTEM_CHECKS = ["axes.W006", "models.W040"]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# The client's address: the one TRUSTED_PROXY_COUNT hops from the right of X-Forwarded-For when that many reverse
# proxies in front of Django each append the address they were reached from; with 0 (no proxy) REMOTE_ADDR, the
# header ignored, since any client can write it. One number read by both DRF's throttles (NUM_PROXIES below) and
# django-axes (which records the address of each attempt through the same function).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "core.api.throttles.client_address"
# Read by axes only when django-ipware is installed (it is not: the callable above decides); kept equal anyway.
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT
CSRF_FAILURE_VIEW = "core.views.csrf_failure"

# REST API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.auth.TokenAuthentication",
        # SessionAuthentication enforces CSRF for browser sessions.
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["core.api.filter_backend.StrictFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "core.api.throttles.AnonThrottle",
        "core.api.throttles.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
        "user": env.str("API_THROTTLE_USER", default="6000/minute"),
        "login": env.str("API_THROTTLE_LOGIN", default="10/minute"),
    },
    # DRF's default (None) would take the client's own X-Forwarded-For as its address: a new address per request.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "core.api.renderers.ORJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "iso-8601",
    "DATE_FORMAT": "iso-8601",
}

REST_KNOX = {
    "TOKEN_TTL": __import__("datetime").timedelta(hours=env.int("API_TOKEN_TTL_HOURS", default=10)),
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Duikou API",
    "DESCRIPTION": (
        "Paired assistance: programmes, pairings, mandates, flows, projects and evaluation. "
        'Errors on every 4xx are {"errors": [{"code", "message", "field"}]}.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Enums of fields named alike (`kind`, `status`) in several components: each keeps its own name.
    "ENUM_NAME_OVERRIDES": {
        "ImportKindEnum": "exchange.models.ImportKind",
        "ImportStatusEnum": "exchange.models.ImportStatus",
        "OrganizationKindEnum": "accounts.models.OrganizationKind",
        "ExportFormatEnum": "exchange.models.ExportFormat",
        "ReportFormatEnum": ["pdf"],
        "MapLevelEnum": ["province", "prefecture", "county"],
        # A suspected duplicate's reasons (projects.duplicates.REASONS): named for what they are, not `code`.
        "SimilarityReasonEnum": "projects.duplicates.REASONS",
    },
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # core.api.schema adds the errors each operation can answer, in the error format.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.document_errors",
        # exchange.api.schema: each enum named once, whatever the language (generated clients).
        "exchange.api.schema.name_parameter_enums",
    ],
}

# Celery: tasks run in-process (eagerly) when no broker is configured, so `make run` needs no Redis.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True


def cache_config(url: str) -> dict:
    """A CACHES entry for URL: `redis://host:port/db` (Django's own Redis backend), `file:///directory`,
    `locmem://`."""
    scheme, _, rest = url.partition("://")
    if scheme in ("redis", "rediss"):
        # Short timeouts: a Redis that stops answering fails a request quickly instead of holding a worker.
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "duikou",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    if scheme == "file":
        return {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": rest}
    if scheme == "locmem":
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": rest or "duikou"}
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"CACHE_URL {url!r}: use redis://host:port/db, file:///directory or locmem://.")


def shared_cache_url(fallback: str) -> str:
    """CACHE_URL; else database 2 of the Redis that is the Celery broker; else FALLBACK.

    The rate limits count in this cache: it must be one that every web process shares, or each process counts
    alone and the real limit is the configured one times the number of processes."""
    url = env.str("CACHE_URL", default="")
    if url:
        return url
    if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        from urllib.parse import urlsplit

        broker = urlsplit(CELERY_BROKER_URL)
        return broker._replace(path="/2", query="", fragment="").geturl()
    return fallback


# Evaluation runs: projects per chunk, how long a chunk may take before the reconciler queues it again, and
# how many times a chunk is tried before its run fails.
EVALUATION_CHUNK_SIZE = env.int("EVALUATION_CHUNK_SIZE", default=5000)
EVALUATION_CHUNK_TIMEOUT = env.float("EVALUATION_CHUNK_TIMEOUT", default=600)
EVALUATION_MAX_ATTEMPTS = env.int("EVALUATION_MAX_ATTEMPTS", default=5)

# Exports (exchange/exports.py): a list up to this many rows is made in the request, a longer one (and every PDF)
# by a Celery task; files are deleted this many hours after they were made. SITE_URL starts the links in e-mails.
EXPORT_SYNC_ROWS = env.int("EXPORT_SYNC_ROWS", default=5000)
EXPORT_TTL_HOURS = env.int("EXPORT_TTL_HOURS", default=72)
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# Files a refused form kept server-side (core/uploads.py) that nobody came back for are deleted after this many
# hours by an hourly Celery task.
KEPT_UPLOADS_MAX_AGE_HOURS = env.int("KEPT_UPLOADS_MAX_AGE_HOURS", default=24)

# Spreadsheet imports (exchange/imports.py): a larger file or one with more data rows is refused before it is read.
# A row goes through its form's service (about 5 ms each): 5 000 rows check and commit within gunicorn's 60 s.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=5_000)


# Logs: one line per record on stderr, JSON in production (DJANGO_LOG_FORMAT=json) and plain text elsewhere; each
# carries the id of the request or task it belongs to (core/observability.py).
def logging_config(log_format: str) -> dict:
    """LOGGING with the console's lines as JSON objects (`json`) or plain text (anything else)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "core.observability.RequestIdFilter"}},
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s %(message)s"},
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                "rename_fields": {
                    "asctime": "time",
                    "levelname": "level",
                    "name": "logger",
                },
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if log_format == "json" else "plain",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
        "loggers": {"axes": {"level": "WARNING"}},
    }


LOGGING = logging_config(env.str("DJANGO_LOG_FORMAT", default="plain"))

# GET /metrics: scraped with this bearer token, or from this machine only when it is empty.
METRICS_TOKEN = env_secret("METRICS_TOKEN", default="") or ""

# Error reports to a Sentry-compatible service, only when SENTRY_DSN is set: nothing leaves the machine otherwise.
SENTRY_DSN = env_secret("SENTRY_DSN", default="") or ""
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        # Officials' names and addresses stay here.
        send_default_pii=False,
    )

# Webhooks (exchange/webhooks.py): a URL whose address is loopback, private, link-local, multicast, reserved or
# unspecified is refused, when registered and again on the address its name resolves to at delivery time, unless
# this allows it (the embedded default does, so that a receiver on the same machine works).
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", default=False)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=5)
# The wait before attempt n+1 is BASE × 4^(n-1) seconds (10 s, 40 s, 160 s, 640 s): under the broker's
# visibility timeout (config/celery_app.py), so a waiting retry is never delivered twice.
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=10.0)

DUIKOU_DEMO_PASSWORD = "duikou-demo"  # noqa: S105 — a published demo/test value, not a secret
# Management commands `make run` calls after the demo users (apps further up append theirs).
DUIKOU_BOOTSTRAP_COMMANDS: list[str | list[str]] = []
