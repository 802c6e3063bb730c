"""The sign-in limit through real gunicorn processes: two workers counting in one Redis, the client's address taken
from the trusted proxies only.

Each server runs `config.settings.test` against this test's (committed) database, with the login limit set low and
the cache on a Redis database of the test's own (DUIKOU_TEST_THROTTLE_REDIS_URL, default db 13 of the Redis at
127.0.0.1:6379), emptied before and after. The windows are fixed minutes, so the requests are sent well inside one.
"""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
REDIS = os.environ.get("DUIKOU_TEST_THROTTLE_REDIS_URL", "redis://127.0.0.1:6379/13")
LIMIT = 10
PASSWORD = settings.DUIKOU_DEMO_PASSWORD
API_LOGIN = "/api/v1/auth/login/"
PAGE_LOGIN = "/accounts/login/"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    log_path: Path
    access_path: Path

    def log(self) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return f"--- gunicorn (exit {self.process.poll()}) ---\n{text[-6000:]}"

    def worker_pids(self, path: str) -> set[str]:
        """The pids of the workers that answered PATH (the access log's `%(p)s`)."""
        lines = self.access_path.read_text().splitlines() if self.access_path.exists() else []
        return {line.split()[0] for line in lines if line.split()[1:2] == [path]}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture
def redis_db() -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(REDIS, socket_connect_timeout=2)
    try:
        client.flushdb()
    except redis.exceptions.RedisError:
        pytest.fail(f"Redis is not answering at {REDIS}: start it (e.g. `apt-get install redis-server`).")
    yield REDIS
    client.flushdb()


@pytest.fixture
def start_server(tmp_path: Path, redis_db: str) -> Iterator:
    """start_server(trusted_proxies) → a gunicorn with 2 workers, answering. Every server is stopped at the end."""
    started: list[Server] = []

    def start(trusted_proxies: int) -> Server:
        port = free_port()
        name = f"gunicorn-{len(started) + 1}"
        log_path, access_path = tmp_path / f"{name}.log", tmp_path / f"{name}.access"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _database_url(),
            "DATABASE_POOL": "false",
            "CACHE_URL": redis_db,
            "API_THROTTLE_LOGIN": f"{LIMIT}/minute",
            "TRUSTED_PROXY_COUNT": str(trusted_proxies),
            "PYTHONUNBUFFERED": "1",
        }
        with log_path.open("wb") as out:
            process = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "gunicorn"),
                    "config.wsgi",
                    "--workers",
                    "2",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--control-socket",
                    str(tmp_path / f"{name}.ctl"),
                    "--access-logfile",
                    str(access_path),
                    "--access-logformat",
                    "%(p)s %(U)s %(s)s",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        server = Server(process, f"http://127.0.0.1:{port}", log_path, access_path)
        started.append(server)
        end = time.monotonic() + 30
        while time.monotonic() < end:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited at start.\n{server.log()}")
            try:
                with urllib.request.urlopen(server.url + "/healthz", timeout=2):  # noqa: S310 — our own server
                    return server
            except (OSError, urllib.error.URLError):
                time.sleep(0.1)
        pytest.fail(f"gunicorn did not answer after 30 s.\n{server.log()}")

    yield start
    for server in started:
        server.stop()


def within_one_window() -> None:
    """Wait for a fresh minute when less than 25 s of this one are left: every request of the test must fall in
    the same fixed window, or a second window's allowance would be added to the first."""
    left = 60 - time.time() % 60
    if left < 25:
        time.sleep(left + 0.5)


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 — our own server
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def api_login(server: Server, forwarded_for: str) -> int:
    body = f'{{"username": "alice", "password": "{PASSWORD}"}}'.encode()
    return post(
        server.url + API_LOGIN,
        body,
        {"Content-Type": "application/json", "X-Forwarded-For": forwarded_for},
    )


class PageClient:
    """A browser-like client of the sign-in page: its CSRF cookie and token, redirects not followed."""

    def __init__(self, server: Server, forwarded_for: str) -> None:
        self.server, self.forwarded_for = server, forwarded_for
        self.jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        with opener.open(server.url + PAGE_LOGIN, timeout=20) as response:
            page = response.read().decode()
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert match, page[:500]
        self.token = match[1]
        self.cookie = next(c.value for c in self.jar if c.name == settings.CSRF_COOKIE_NAME)

    def sign_in(self) -> tuple[int, str]:
        body = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": self.token, "username": "alice", "password": PASSWORD}
        ).encode()
        request = urllib.request.Request(  # noqa: S310 — our own server
            self.server.url + PAGE_LOGIN,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"{settings.CSRF_COOKIE_NAME}={self.cookie}",
                "X-Forwarded-For": self.forwarded_for,
                "Accept-Language": "en",
            },
        )
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=20) as response:
                return int(response.status), response.read().decode()
        except urllib.error.HTTPError as error:
            return int(error.code), error.read().decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def test_sign_in_limits_hold_across_two_workers_and_trust_only_the_proxies(world, start_server):
    direct = start_server(trusted_proxies=0)
    behind_proxy = start_server(trusted_proxies=1)
    within_one_window()
    started = time.monotonic()

    # 60 API logins from one address, each claiming another in X-Forwarded-For, 8 at a time over 2 workers.
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda n: api_login(direct, f"10.{n // 250}.{n % 250}.1"), range(60)))
    assert Counter(statuses) == {200: LIMIT, 429: 60 - LIMIT}, direct.log()
    assert len(direct.worker_pids(API_LOGIN)) == 2, "the requests did not reach both workers"

    # Behind one trusted proxy, the address it appends is the client: two clients, two allowances; what a client
    # wrote before the proxy's entry changes nothing.
    def through_proxy(client: str, n: int) -> int:
        return api_login(behind_proxy, f"172.16.{n}.9, {client}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        first = list(pool.map(lambda n: through_proxy("203.0.113.7", n), range(15)))
        second = list(pool.map(lambda n: through_proxy("198.51.100.9", n), range(15)))
    assert Counter(first) == {200: LIMIT, 429: 5}, behind_proxy.log()
    assert Counter(second) == {200: LIMIT, 429: 5}, behind_proxy.log()

    # The sign-in page counts in the same limit: a third client's 11th attempt is refused, its username kept.
    page = PageClient(behind_proxy, "192.0.2.33")
    answers = [page.sign_in() for _ in range(LIMIT + 2)]
    assert [status for status, _ in answers] == [302] * LIMIT + [429, 429], behind_proxy.log()
    refused = answers[-1][1]
    assert "Too many sign-in attempts from your address." in refused
    assert 'value="alice"' in refused
    # And on the direct server, the address that used up its API allowance finds the page closed too.
    assert PageClient(direct, "10.9.9.9").sign_in()[0] == 429

    assert time.monotonic() - started < 25, "the requests took longer than the window the test waited for"
