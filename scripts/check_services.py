"""Stop `make test` with one clear sentence when a service it needs does not answer."""

import os
import sys
from urllib.parse import urlparse


def check_postgres() -> int:
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/duikou")
    parts = urlparse(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        print(
            f"The test suite runs on PostgreSQL, but DATABASE_URL is {parts.scheme}://…: point it at a PostgreSQL server."
        )
        return 1
    import psycopg

    try:
        # Connect to the maintenance database: the test database is created by the suite itself.
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
        print(
            f"PostgreSQL is not answering at {where}: start one (e.g. `docker compose up -d db` with "
            "DATABASE_URL=postgres://duikou:$POSTGRES_PASSWORD@127.0.0.1:5432/duikou) and run `make test` again."
        )
        return 1
    return 0


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "postgres"
    sys.exit({"postgres": check_postgres}[what]())
