"""A database restart costs no 500: gunicorn (2 workers, the production settings, psycopg's pool with its
connection check) serves writes and reads from threads while a PostgreSQL cluster of the test's own — never the
shared one — is restarted under it. Once the restart has completed, no request answers 500 (without the check, the
pool hands out the connections the restart killed), and every write that was acknowledged is kept.

The cluster is made by initdb in a temporary directory, on a free port, as the `postgres` user when the tests run
as root (initdb refuses root)."""

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.celery.conftest import free_port

from .conftest import ROOT, alive, descendants

pytestmark = pytest.mark.processes

THREADS = 6
LOAD_BEFORE = 2.0  # seconds of load before the restart
LOAD_AFTER = 2.0  # and after it has completed


def pg_binary(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.fail(
            f"No {name} under /usr/lib/postgresql/*/bin: install PostgreSQL's server (`apt-get install postgresql`)."
        )
    return found[-1]


@dataclass
class Cluster:
    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/duikou_restart"

    def run(self, *command: str) -> subprocess.CompletedProcess:
        """A server command as the cluster's owner (`postgres` when the tests run as root)."""
        if os.geteuid() == 0:
            command = ("runuser", "-u", "postgres", "--", *command)
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)

    def ctl(self, *arguments: str) -> None:
        result = self.run(
            pg_binary("pg_ctl"),
            "-D",
            str(self.directory / "data"),
            "-l",
            str(self.directory / "server.log"),
            "-w",
            "-t",
            "30",
            "-o",
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off",
            *arguments,
        )
        assert result.returncode == 0, f"pg_ctl {arguments}: {result.stdout}{result.stderr}\n{self.log()}"

    def log(self) -> str:
        path = self.directory / "server.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    directory = Path(tempfile.mkdtemp(prefix="duikou-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    cluster = Cluster(directory, free_port())
    result = cluster.run(
        pg_binary("initdb"), "-D", str(directory / "data"), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    cluster.ctl("start")
    try:
        result = cluster.run(
            pg_binary("createdb"), "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "duikou_restart"
        )
        assert result.returncode == 0, result.stderr
        yield cluster
    finally:
        cluster.run(pg_binary("pg_ctl"), "-D", str(directory / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(directory, ignore_errors=True)


def production_env(database_url: str, directory: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_", "API_", "CACHE_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=uuid.uuid4().hex + uuid.uuid4().hex,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_MEDIA_ROOT=str(directory / "media"),
        DATABASE_URL=database_url,
        API_THROTTLE_USER="1000000/minute",
        # The rate limits are not under test here: a cache of each process's own, not the shared Redis.
        CACHE_URL="locmem://",
        PYTHONUNBUFFERED="1",
    )
    return env


def setup_database(database_url: str) -> str:
    """Migrate the cluster's database and make a national coordinator; return their API token."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": database_url}
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr
    script = (
        "import django; django.setup()\n"
        "from knox.models import AuthToken\n"
        "from tests.conftest import make_world\n"
        "print(AuthToken.objects.create(make_world().coordinator)[1])\n"
    )
    made = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert made.returncode == 0, made.stderr
    return made.stdout.strip().splitlines()[-1]


@dataclass
class Outcome:
    started: float
    kind: str
    status: int
    name: str = ""


def test_a_database_restart_costs_no_500_and_loses_no_acknowledged_write(cluster: Cluster, tmp_path: Path):
    token = setup_database(cluster.url)
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("wb") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--control-socket",
                str(tmp_path / "gunicorn.ctl"),
                "--timeout",
                "30",
            ],
            cwd=ROOT,
            env=production_env(cluster.url, tmp_path),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}/api/v1"
    headers = {"Authorization": f"Token {token}", "Accept": "application/json", "Content-Type": "application/json"}

    def log() -> str:
        return log_path.read_text(errors="replace")[-6000:] + "\n--- postgres ---\n" + cluster.log()

    def call(method: str, path: str, body: bytes | None = None) -> int:
        request = urllib.request.Request(base + path, data=body, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 — our own server, over http
                response.read()
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return 0  # no answer at all (connection refused, reset)

    try:
        end = time.monotonic() + 60
        while call("GET", "/me/") != 200:
            assert server.poll() is None, f"gunicorn exited.\n{log()}"
            assert time.monotonic() < end, f"gunicorn did not start.\n{log()}"
            time.sleep(0.2)

        outcomes: list[Outcome] = []
        go, stop = threading.Event(), threading.Event()
        idle = threading.Barrier(THREADS + 1)

        def load(number: int) -> None:
            i = 0
            while not stop.is_set():
                if not go.is_set():
                    idle.wait(timeout=30)  # this thread is between requests
                    go.wait(timeout=30)
                    continue
                i += 1
                name = f"重启测试机构 {number}-{i}"
                started = time.monotonic()
                body = f'{{"name": "{name}", "kind": "central_enterprise"}}'.encode()
                outcomes.append(Outcome(started, "write", call("POST", "/organizations/", body), name))
                started = time.monotonic()
                outcomes.append(Outcome(started, "read", call("GET", "/organizations/?page_size=5")))

        threads = [threading.Thread(target=load, args=(n,)) for n in range(THREADS)]
        go.set()
        for thread in threads:
            thread.start()
        time.sleep(LOAD_BEFORE)
        # Under load: requests in flight while it is down may fail; none once it is back.
        cluster.ctl("-m", "fast", "restart")
        restarted = time.monotonic()
        time.sleep(LOAD_AFTER)
        # Idle: every pooled connection is left dead by the restart, and the next requests draw them.
        go.clear()
        idle.wait(timeout=60)
        cluster.ctl("-m", "fast", "restart")
        go.set()
        time.sleep(LOAD_AFTER)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)

        after = [o for o in outcomes if o.started >= restarted]
        before = [o for o in outcomes if o.started < restarted]
        assert len(before) > 20, len(before)
        assert len(after) > 20, len(after)
        errors_after = [o for o in after if o.status >= 500 or o.status == 0]
        assert errors_after == [], f"{len(errors_after)} failures after the restart completed.\n{log()}"
        assert {o.status for o in after if o.kind == "write"} == {201}
        assert {o.status for o in after if o.kind == "read"} == {200}

        acknowledged = {o.name for o in outcomes if o.kind == "write" and o.status == 201}
        import psycopg

        with psycopg.connect(cluster.url.replace("postgres://", "postgresql://")) as conn:
            kept = {
                row[0]
                for row in conn.execute("SELECT name FROM accounts_organization WHERE name LIKE '重启测试机构 %%'")
            }
        assert acknowledged - kept == set(), "acknowledged writes were lost"
    finally:
        processes = descendants(server.pid) | {server.pid}
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        for pid in processes:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
