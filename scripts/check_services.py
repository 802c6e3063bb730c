"""Stop `make test` or `make stack` with one clear sentence when a service it needs does not answer.

python scripts/check_services.py postgres [--then "make test"]     # DATABASE_URL
python scripts/check_services.py redis [--then "make stack"]       # CELERY_BROKER_URL
"""

import argparse
import os
import sys
from urllib.parse import urlparse

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/duikou"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def check_postgres(url: str | None = None, then: str = "make test", variable: str = "DATABASE_URL") -> int:
    """0 when PostgreSQL answers at URL (default: $VARIABLE); else one sentence saying what to do, and 1."""
    url = url or os.environ.get(variable, DEFAULT_DATABASE_URL)
    parts = urlparse(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        print(f"`{then}` runs on PostgreSQL, but {variable} is {parts.scheme}://…: point it at a PostgreSQL server.")
        return 1
    import psycopg

    try:
        # Connect to the maintenance database: the application's database is created by the caller.
        with psycopg.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=parts.username or "postgres",
            password=parts.password or None,
            dbname="postgres",
            connect_timeout=3,
        ) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError:
        where = f"{parts.hostname or '127.0.0.1'}:{parts.port or 5432}"
        name = parts.path.lstrip("/") or "duikou"
        print(
            f"PostgreSQL is not answering at {where}: install and start it (`sudo apt-get install postgresql`, or "
            f"`docker compose up -d db` with {variable}=postgres://duikou:$POSTGRES_PASSWORD@127.0.0.1:5432/{name}) "
            f"and run `{then}` again."
        )
        return 1
    return 0


def check_redis(url: str | None = None, then: str = "make stack") -> int:
    """0 when Redis answers at URL (default: $CELERY_BROKER_URL); else one sentence saying what to do, and 1."""
    url = url or os.environ.get("CELERY_BROKER_URL") or DEFAULT_REDIS_URL
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except redis.exceptions.RedisError:
        parts = urlparse(url)
        where = f"{parts.hostname or '127.0.0.1'}:{parts.port or 6379}"
        print(
            f"Redis is not answering at {where}: install and start it (`sudo apt-get install redis-server`, or "
            f"`docker compose up -d redis`) and run `{then}` again."
        )
        return 1
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("service", nargs="?", default="postgres", choices=["postgres", "redis"])
    parser.add_argument("--then", default="make test", help="the command to run again once the service answers")
    args = parser.parse_args()
    check = {"postgres": check_postgres, "redis": check_redis}[args.service]
    sys.exit(check(then=args.then))
