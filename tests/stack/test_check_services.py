"""`make test` and `make stack` stop with one sentence saying what to install or start when PostgreSQL or Redis
does not answer (scripts/check_services.py), before anything else happens."""

import subprocess
import sys

from tests.celery.conftest import free_port

from .conftest import ROOT


def run(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *arguments], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )


def test_make_stack_says_what_to_start_when_postgresql_does_not_answer(tmp_path):
    port = free_port()  # nothing listens there
    result = run(
        "scripts/stack.py", "--state-dir", str(tmp_path), "--database-url", f"postgres://postgres@127.0.0.1:{port}/x"
    )
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    assert f"PostgreSQL is not answering at 127.0.0.1:{port}" in lines[0]
    assert "apt-get install postgresql" in lines[0]
    assert "STACK_DATABASE_URL=" in lines[0]
    assert "`make stack` again" in lines[0]


def test_make_stack_says_what_to_start_when_redis_does_not_answer(tmp_path):
    port = free_port()
    result = run("scripts/stack.py", "--state-dir", str(tmp_path), "--redis-url", f"redis://127.0.0.1:{port}/0")
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    assert f"Redis is not answering at 127.0.0.1:{port}" in lines[0]
    assert "apt-get install redis-server" in lines[0]
