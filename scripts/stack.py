"""`make stack`: Duikou's production topology on this machine, on the PostgreSQL and Redis installed here.

Once, before the processes start (the one-off step, as the compose `migrate` service): the stack's own database
is created when missing and migrated, the static files are collected (production serves them from the manifest),
and the reference data, demo users and demo projects are loaded. Then honcho runs the Procfile — gunicorn (the
production settings, a control socket under the state directory), a Celery worker and Celery beat — until Ctrl-C,
which stops every one of them.

Production refuses a short or placeholder secret: a random key is generated once into the state directory
(git-ignored) and read from there (DJANGO_SECRET_KEY_FILE). Plain HTTP on 127.0.0.1 needs the HTTPS redirect, the
secure cookies and HSTS off: they are switched off through the environment variables production reads, for this
stack only; production's defaults stay strict.

    python scripts/stack.py [--port 8000] [--workers 2] [--concurrency 2] [--chunk-size 10]
                            [--state-dir var/stack] [--database-url URL] [--redis-url URL] [--no-data] [--prepare-only]
"""

import argparse
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from check_services import check_postgres, check_redis  # noqa: E402 — a sibling script, not a package

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/duikou_stack"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
#: Projects per evaluation chunk: the demo data set is small, so a run is cut in many chunks and its progress
#: bar is seen moving (production's default, 5000, would make one chunk of it).
DEFAULT_CHUNK_SIZE = 10


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run the production topology here (see `make stack`).")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("GUNICORN_WORKERS") or 2))
    parser.add_argument("--state-dir", type=Path, default=ROOT / "var" / "stack")
    parser.add_argument("--database-url", default=os.environ.get("STACK_DATABASE_URL") or DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=os.environ.get("STACK_REDIS_URL") or DEFAULT_REDIS_URL)
    parser.add_argument(
        "--chunk-size", type=int, default=int(os.environ.get("EVALUATION_CHUNK_SIZE") or DEFAULT_CHUNK_SIZE)
    )
    parser.add_argument(
        "--concurrency", type=int, default=int(os.environ.get("CELERY_CONCURRENCY") or 2), help="worker processes"
    )
    parser.add_argument("--no-data", action="store_true", help="load no data (the tests bring their own)")
    parser.add_argument("--prepare-only", action="store_true", help="do the one-off step and exit")
    return parser.parse_args(argv)


def secret_key(state: Path) -> Path:
    """The stack's key, made once: random, 64 characters, readable by this user only."""
    path = state / "secret_key"
    if not path.exists() or len(path.read_text(encoding="utf-8").strip()) < 50:
        path.write_text(secrets.token_urlsafe(48) + "\n", encoding="utf-8")
        path.chmod(0o600)
    return path


def ensure_database(url: str) -> None:
    """Create the stack's database when missing (on the server's maintenance database)."""
    import psycopg
    from psycopg import sql

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or None,
        dbname="postgres",
        autocommit=True,
        connect_timeout=5,
    ) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def stack_environment(args: argparse.Namespace, state: Path) -> dict[str, str]:
    """What every process of the stack runs with (honcho's env file: it wins over the caller's environment, and
    a developer's compose .env is not read)."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY_FILE": str(secret_key(state)),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": args.database_url,
        "CELERY_BROKER_URL": args.redis_url,
        # Plain HTTP on the loopback: no redirect to HTTPS, cookies sent without TLS, no HSTS.
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_COOKIES": "false",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "DJANGO_MEDIA_ROOT": str(state / "media"),
        "EVALUATION_CHUNK_SIZE": str(args.chunk_size),
        # honcho gives the first process (web) this port, the next ones +100, +200 (they do not listen).
        "PORT": str(args.port),
        "GUNICORN_WORKERS": str(args.workers),
        "CELERY_CONCURRENCY": str(args.concurrency),
        "STACK_STATE_DIR": str(state),
        # Every gunicorn worker and Celery process writes its metrics here; GET /metrics adds them up.
        "PROMETHEUS_MULTIPROC_DIR": str(state / "metrics"),
        "PYTHONUNBUFFERED": "1",
    }


def manage(*arguments: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *arguments], cwd=ROOT, env=env, check=True)  # noqa: S603 — our own


def prepare(args: argparse.Namespace, state: Path, stack_env: dict[str, str]) -> None:
    """The one-off step: database, migrations, static files, reference and demo data."""
    env = {**os.environ, **stack_env}
    ensure_database(args.database_url)
    print(f"Migrating {urlparse(args.database_url).path.lstrip('/')} and collecting the static files…", flush=True)
    manage("migrate", "--no-input", "-v", "0", env=env)
    manage("collectstatic", "--no-input", "-v", "0", env=env)
    # The production settings refuse demo data (DUIKOU_DEMO_ENABLED): the same command as `make run` loads it into
    # the stack's database with the local settings, tasks in-process.
    seed = {**env, "DJANGO_SETTINGS_MODULE": "config.settings.local", "CELERY_BROKER_URL": ""}
    seed.pop("DJANGO_SECRET_KEY_FILE", None)
    if not args.no_data:
        manage("bootstrap_local", "--port", str(args.port), env=seed)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    state = args.state_dir.resolve()
    state.mkdir(parents=True, exist_ok=True)
    (state / "media").mkdir(exist_ok=True)
    if check_postgres(args.database_url, then="make stack", variable="STACK_DATABASE_URL") or check_redis(
        args.redis_url, then="make stack"
    ):
        return 1
    stack_env = stack_environment(args, state)
    # The metrics of an earlier stack's processes are not this one's.
    shutil.rmtree(state / "metrics", ignore_errors=True)
    (state / "metrics").mkdir()
    prepare(args, state, stack_env)
    env_file = state / "stack.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in stack_env.items()), encoding="utf-8")
    env_file.chmod(0o600)
    url = f"http://127.0.0.1:{args.port}/"
    print(
        f"The stack (gunicorn ×{args.workers}, a Celery worker, Celery beat; production settings) serves at {url}"
        " — Ctrl-C stops it.",
        flush=True,
    )
    if args.prepare_only:
        return 0
    # The stack's commands come from this environment (gunicorn, celery), and honcho stops them all on Ctrl-C.
    bin_dir = str(Path(sys.executable).parent)
    os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    honcho = str(Path(bin_dir) / "honcho")
    # Replaced by honcho (no shell): Ctrl-C reaches it, and it stops the processes of the Procfile.
    os.execv(honcho, [honcho, "start", "-f", str(ROOT / "Procfile"), "-d", str(ROOT), "-e", str(env_file)])  # noqa: S606


if __name__ == "__main__":
    sys.exit(main())
