"""Real Celery worker processes and Redis servers for the tests of tests/celery/.

A worker runs `config.settings.test` against the test database this test has committed to (the tests here are
transactional), with the broker it is given. Its output goes to a file, shown when a test fails (a pipe nobody
reads would block a chatty worker). `start_worker` starts as many as a test needs (one killed, another started);
`worker` is one worker on the shared Redis, queue "default". `redis_server` starts a private redis-server on a
free port, for tests that stop the broker, or whose queues must not meet another run's worker on a shared Redis.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
REDIS = os.environ.get("DUIKOU_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


def redis_answers(url: str, timeout: float = 2) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout).ping())
    except redis.exceptions.RedisError:
        return False


def client_app(broker: str, backend: str | None = None) -> Celery:
    """A Celery app of the test's own to send tasks to a worker: the project's app runs eagerly in this process.
    Not made the current app, or the project's shared tasks called later in this process would be sent to a broker
    (one a test may have stopped) instead of running eagerly."""
    return Celery("duikou-test-client", broker=broker, backend=backend, set_as_current=False)


@dataclass
class Worker:
    """A `celery worker` subprocess and the file its output goes to."""

    process: subprocess.Popen
    log_path: Path
    name: str

    @property
    def pid(self) -> int:
        return self.process.pid

    def poll(self) -> int | None:
        return self.process.poll()

    def log(self, tail: int = 8000) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return f"--- worker {self.name} (pid {self.pid}, exit {self.poll()}) ---\n{text[-tail:]}"

    def wait_ready(self, timeout: float = 90) -> None:
        """Until the worker says it is ready (it logs at INFO), or fail with its log."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.poll() is not None:
                pytest.fail(f"The worker exited before it was ready.\n{self.log()}")
            if self.log_path.exists() and " ready." in self.log_path.read_text(errors="replace"):
                return
            time.sleep(0.1)
        pytest.fail(f"The worker was not ready after {timeout} s.\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: no cleanup, no acknowledgement, the task it is running dies with it."""
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """start_worker(broker, queues=("default",), backend="", env={...}) → a running Worker (not yet ready: call
    `wait_ready`). Every worker started is stopped at the end of the test."""
    started: list[Worker] = []

    def start(
        broker: str,
        *,
        queues: tuple[str, ...] = ("default",),
        backend: str = "",
        env: dict[str, str] | None = None,
    ) -> Worker:
        name = f"w{len(started) + 1}"
        log_path = tmp_path / f"worker-{name}.log"
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            # The worker works on the test database this test has committed to.
            "DATABASE_URL": _database_url(),
            "DATABASE_POOL": "false",
            "CELERY_BROKER_URL": broker,
            "CELERY_RESULT_BACKEND": backend,
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        with log_path.open("wb") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "-P",
                    "solo",
                    "-Q",
                    ",".join(queues),
                    "-n",
                    f"{name}-{os.getpid()}@%h",
                    "-l",
                    "info",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],
                cwd=ROOT,
                env=environment,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        worker = Worker(process, log_path, name)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def worker(start_worker: Callable[..., Worker]) -> Worker:
    """One worker on the shared Redis (DUIKOU_TEST_REDIS_URL, db 14), queue "default", Redis as result backend."""
    if not redis_answers(REDIS):
        pytest.fail(f"Redis is not answering at {REDIS}: start it (e.g. `docker compose up -d redis`).")
    return start_worker(REDIS, backend=REDIS)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RedisServer:
    """A redis-server of this test's own, in memory only: stopping it loses every message it held."""

    port: int
    directory: Path
    process: subprocess.Popen | None = None
    starts: int = field(default=0)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 20) -> None:
        self.starts += 1
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
                "--logfile",
                str(self.directory / f"redis-{self.starts}.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.process.poll() is not None:
                pytest.fail(f"redis-server exited at start on port {self.port}:\n{self.log()}")
            if redis_answers(self.url, timeout=0.5):
                return
            time.sleep(0.05)
        pytest.fail(f"redis-server did not answer on port {self.port} after {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def log(self) -> str:
        path = self.directory / f"redis-{self.starts}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.fail("These tests start a redis-server of their own: install it (`apt-get install redis-server`).")
    directory = tmp_path / "redis"
    directory.mkdir()
    server = RedisServer(free_port(), directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
