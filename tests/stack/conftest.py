"""The real stack in the tests: `scripts/stack.py` (the one-off step, then honcho running the Procfile: gunicorn,
a Celery worker, Celery beat) with the production settings, on the test database this test has committed to, a
redis-server of the test's own and a free port. Its output goes to a file, shown when a test fails.

`stack_data` writes synthetic projects over the real programmes and the demo users (password `duikou-demo`);
`held` holds a project's score in a run, so that the worker waits in that project's chunk for as long as the test
likes; `descendants` lists every process under the stack's, to see that Ctrl-C (SIGINT) stopped them all.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.models import Count

from accounts.models import User
from evaluation.measures import SCORED_STATES
from evaluation.models import EvaluationRun, ProjectScore
from pairings.models import Program
from projects.models import Project
from tests.celery import conftest as celery_fixtures
from tests.celery.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
# A redis-server of the test's own (broker and cache of the stack).
redis_server = celery_fixtures.redis_server
START_TIMEOUT = 120


def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def descendants(pid: int) -> set[int]:
    """Every live process under PID (read from /proc: children of children included)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the fields after the last ")" are fixed.
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@dataclass
class Stack:
    process: subprocess.Popen
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self, tail: int = 12000) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return f"--- stack (pid {self.process.pid}, exit {self.process.poll()}) ---\n{text[-tail:]}"

    def request(
        self, method: str, path: str, body: dict | None = None, token: str = "", headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        """The status and the body: parsed JSON, or the text of a response that is not JSON."""
        headers = {"Accept": "application/json", **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Token {token}"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310 — our own server, over http
                content = response.read()
                if "json" not in response.headers.get("Content-Type", ""):
                    return response.status, content.decode(errors="replace")
                return response.status, json.loads(content or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Until gunicorn answers /readyz (database, cache, Redis) and the worker says it is ready."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.process.poll() is not None:
                pytest.fail(f"The stack exited before it was ready.\n{self.log()}")
            try:
                status, _body = self.request("GET", "/readyz")
            except OSError:
                status = 0
            if status == 200 and " ready." in self.log_path.read_text(errors="replace"):
                return
            time.sleep(0.2)
        pytest.fail(f"The stack was not ready after {timeout} s.\n{self.log()}")

    def interrupt(self, timeout: float = 60) -> int:
        """Ctrl-C: SIGINT to honcho, which stops every process; its exit status."""
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"The stack did not stop {timeout} s after SIGINT.\n{self.log()}")


@pytest.fixture
def start_stack(tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    """start_stack(redis_url, chunk_size=…, concurrency=…) → a Stack on the test database (not yet ready: call
    `wait_ready`). Whatever is still running at the end of the test is stopped, its processes killed."""
    started: list[Stack] = []

    def start(redis_url: str, *, chunk_size: int = 5, concurrency: int = 2) -> Stack:
        port = free_port()
        log_path = tmp_path / f"stack-{len(started) + 1}.log"
        environment = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_", "STACK_", "CACHE_"))
        }
        with log_path.open("wb") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "scripts/stack.py",
                    "--port",
                    str(port),
                    "--workers",
                    "2",
                    "--concurrency",
                    str(concurrency),
                    "--chunk-size",
                    str(chunk_size),
                    "--state-dir",
                    str(tmp_path / "state"),
                    "--database-url",
                    database_url(),
                    "--redis-url",
                    redis_url,
                    "--no-data",
                ],
                cwd=ROOT,
                env=environment,
                stdout=out,
                stderr=subprocess.STDOUT,
                # Its own session: the SIGINT is the test's alone, as a terminal's Ctrl-C is the stack's alone.
                start_new_session=True,
            )
        stack = Stack(process, port, log_path)
        started.append(stack)
        return stack

    yield start
    for stack in started:
        if stack.process.poll() is None:
            left = descendants(stack.process.pid)
            stack.process.send_signal(signal.SIGINT)
            try:
                stack.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                stack.process.kill()
            for pid in left:
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)


@pytest.fixture
def stack_data() -> tuple[Program, int]:
    """Synthetic projects over the real programmes and the demo users; the programme-year with the most projects
    to score."""
    call_command("generate_projects", projects=400, seed=7, verbosity=0)
    call_command("seed_demo", verbosity=0)
    # The test settings hash with MD5, which the production settings do not accept: the user who signs in on the
    # stack gets production's hash.
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    hasher = PBKDF2PasswordHasher()
    User.objects.filter(username="national_coordinator").update(
        password=hasher.encode(settings.DUIKOU_DEMO_PASSWORD, hasher.salt())
    )
    row = (
        Project.objects.filter(state__in=SCORED_STATES, planned_start__isnull=False)
        .values("pairing__program", "planned_start__year")
        .annotate(n=Count("id"))
        .order_by("-n", "pairing__program", "planned_start__year")
        .first()
    )
    assert row is not None
    return Program.objects.get(pk=row["pairing__program"]), row["planned_start__year"]


@contextmanager
def held(run: EvaluationRun, project_id: int) -> Iterator[Callable[[], None]]:
    """An uncommitted score of PROJECT_ID in RUN, from a connection of its own: the worker's upsert of the chunk
    that holds the project waits for it until the test calls the release it is given (or the block ends)."""
    import psycopg

    db = connection.settings_dict
    pairing = Project.objects.values_list("pairing_id", flat=True).get(pk=project_id)
    with psycopg.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432
    ) as other:
        other.execute(
            f"INSERT INTO {ProjectScore._meta.db_table} (run_id, project_id, pairing_id, score, measures, is_final) "
            "VALUES (%s, %s, %s, NULL, '{}', false)",
            (run.pk, project_id, pairing),
        )
        try:
            yield other.rollback
        finally:
            other.rollback()
