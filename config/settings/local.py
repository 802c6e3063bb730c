"""The embedded default for `make run`: SQLite in WAL mode, Celery eager, demo data allowed; debug pages off (an
official opening a page they may not see gets the friendly 404, an unknown `/api/` path the JSON error), on with
`make dev` or DJANGO_DEBUG=true."""

from .base import *  # noqa: F403
from .base import BASE_DIR, cache_config, database_config, env, shared_cache_url

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="local-development-only-not-secret")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

# The embedded database lives in var/, which a fresh clone does not have yet.
(BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {
    "default": database_config(env.str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'duikou.sqlite3'}"))
}

# The rate limits' counters, shared by every process on the machine (`make run`'s server, a second one beside it):
# files under var/cache need nothing installed or created, and keep the counters out of SQLite's single write lock
# (a database cache would take it on every request). Its add and incr are not atomic across processes, so under a
# burst a few hits may be lost: the local limit is approximate; production counts in Redis, atomically.
CACHES = {"default": cache_config(shared_cache_url(f"file://{BASE_DIR / 'var' / 'cache'}"))}

# Local runs serve from the source tree without a manifest, so a fresh clone needs no collectstatic.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DUIKOU_DEMO_ENABLED = True
# A webhook receiver on this machine (127.0.0.1) must work in the embedded default.
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", default=True)
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}

# Serve static files from the apps and static/ directly (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
DUIKOU_BOOTSTRAP_COMMANDS = [
    "load_programs",
    "seed_pairings_demo",
    # A few hundred synthetic projects in every state, so each page has something to show.
    ["generate_projects", "--projects", "400", "--if-empty"],
    # Finished evaluation runs (Celery is eager here), so that the rankings and scorecards have content.
    "seed_evaluation_demo",
]
