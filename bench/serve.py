#!/usr/bin/env python
"""Every page served by gunicorn under load, against /healthz and against the page's own SQL alone.

    .venv/bin/python bench/serve.py --projects 100000        (or: make bench-serve)

On its own database (``duikou_bench_serve``: a copy of bench/project_list.py's ``duikou_bench``, made with
``CREATE DATABASE … TEMPLATE`` so that the other benchmarks' data set is never changed; generated like it when that
one is missing), migrated, with the demo figures added (fiscal revenues and mandates: ``seed_pairings_demo``;
finished evaluation runs: ``seed_evaluation_demo``), then VACUUM ANALYZE, each page is measured three ways:

(1) alone: one request at a time in process (`django.test.Client`, the same settings), the median of
    ``--requests`` after a warm-up, as a ratio to the project list API's page 1 (target ≤ 3; ≤ 2 for the
    dashboards: the home, /evaluation/ and a programme's page);
(2) served: gunicorn with the production settings (``--workers`` 2 sync workers, a control socket of its own, a
    free port) loaded by wrk (``-t2 -c20 -d<duration>s --timeout 10s``) with a national coordinator's knox token
    for the API, the session cookie of the same user for the HTML pages, and ``X-Forwarded-Proto: https`` as the TLS
    proxy in front of production sends it: requests per second, latency p50/p90/p99, errors (socket errors and
    answers of 400 and above);
(3) its SQL alone: the statements one request of the page runs (captured in process, parameters inlined as sent)
    replayed by pgbench in the same shape (``-c20 -j2 -T<duration>``) on the same database: transactions per second.

The pages are measured one after the other, served then SQL alone, and the whole round again ``--passes`` times
(interleaved, so that a change in the machine's load hits them alike); the figures are the medians over the passes.
Target for each page: served ≥ 0.6 × the lower of its SQL alone and /healthz served, from the same run, with no
errors. It prints a table, writes the figures as JSON to var/bench/serve-<time>.json, and exits 1 when a target is
missed (not with ``--smoke``: one-second runs on a tiny data set prove that it works, not how fast).
"""

import argparse
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import project_list as base  # noqa: E402  (bench/project_list.py: the settings, the data set, the caller)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/duikou_bench_serve"
TEMPLATE = "duikou_bench"
LIST_API = "/api/v1/projects/"
#: Served throughput must reach this share of the lower of the page's SQL alone and /healthz.
SERVED_SHARE = 0.6
#: One request alone, as a multiple of the list API's page 1: pages and endpoints, and the dashboards.
ALONE_PAGE, ALONE_DASHBOARD = 3.0, 2.0
#: pgbench's own variables: `:name` in a replayed statement would be replaced by their values.
PGBENCH_VARIABLES = ("client_id", "default_seed", "random_seed", "scale")
#: Statements of a request that are not its work on the data (pgbench runs each statement on its own).
NOT_REPLAYED = re.compile(r"^\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)\b", re.IGNORECASE)
DEEP_PAGE = 1000

#: wrk prints one JSON line at the end (its Lua `done` hook): counts, and latencies in microseconds.
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, ' ..
    '"timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
"""


@dataclass
class Page:
    """A page (or endpoint) measured: `key` names it on the command line and in the table."""

    key: str
    path: str
    kind: str  # "health", "api" (the knox token) or "html" (the session cookie)
    alone_target: float | None  # the ratio to the list API's page 1 not to exceed; None for the references
    queries: list[str] = field(default_factory=list)


@dataclass
class Figures:
    """What one page measured, over the passes."""

    alone_ms: list[float] = field(default_factory=list)
    served_rps: list[float] = field(default_factory=list)
    p50_ms: list[float] = field(default_factory=list)
    p90_ms: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)
    requests: int = 0
    errors: int = 0
    sql_tps: list[float] = field(default_factory=list)
    sql_failed: int = 0
    sql_note: str = ""
    #: Seconds the server took to answer what wrk's connections had sent before it stopped (not counted).
    drain_s: list[float] = field(default_factory=list)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--projects", type=int, default=100_000, help="Size of the data set (default 100000).")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--database-url", default=os.environ.get("BENCH_SERVE_DATABASE_URL", DEFAULT_URL))
    p.add_argument("--template", default=TEMPLATE, help=f"The database copied when it holds the data set ({TEMPLATE}).")
    p.add_argument("--fresh", action="store_true", help="Drop this benchmark's database and copy it again.")
    p.add_argument("--regenerate", action="store_true", help="Generate the data set again even if it is there.")
    p.add_argument("--reuse", action="store_true", help="Take the database as it is: no copy, migrate, data, VACUUM.")
    p.add_argument("--settings", default="config.settings.production")
    p.add_argument("--cache-url", default=os.environ.get("CACHE_URL", "redis://127.0.0.1:6379/2"))
    p.add_argument("--port", type=int, default=0, help="gunicorn's port (default: a free one).")
    p.add_argument("--workers", type=int, default=2, help="gunicorn's sync workers (default 2).")
    p.add_argument("--duration", type=int, default=20, help="Seconds of each wrk and pgbench run (default 20).")
    p.add_argument("--connections", type=int, default=20, help="wrk's connections and pgbench's clients (20).")
    p.add_argument("--threads", type=int, default=2, help="wrk's and pgbench's threads (default 2).")
    p.add_argument("--passes", type=int, default=3, help="Interleaved passes over the pages (default 3).")
    p.add_argument("--requests", type=int, default=15, help="Requests of each page alone, in process (15).")
    p.add_argument("--warmup", type=int, default=2, help="Requests of each page before measuring.")
    p.add_argument("--pages", default="", help="Only these pages (keys, comma-separated; --list-pages).")
    p.add_argument("--list-pages", action="store_true", help="Print the pages' keys and paths and exit.")
    p.add_argument("--skip-sql", action="store_true", help="Do not replay the pages' SQL with pgbench.")
    p.add_argument(
        "--alone-only", action="store_true", help="Only each page alone in process: no server, no wrk, no pgbench."
    )
    p.add_argument("--smoke", action="store_true", help="1 s runs, one pass, few requests; never exits 1.")
    p.add_argument("--json-out", type=Path, help="Where to write the figures (default var/bench/serve-<time>.json).")
    args = p.parse_args()
    if args.smoke:
        args.duration, args.passes, args.requests, args.warmup = 1, 1, 3, 1
        args.connections = min(args.connections, 4)
    return args


# --- the database --------------------------------------------------------------------------------------------


def _with_name(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _holds_data_set(url: str, projects: int) -> bool:
    """Whether the database at URL holds exactly PROJECTS synthetic projects and no other."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT count(*) FILTER (WHERE is_synthetic), count(*) FILTER (WHERE NOT is_synthetic)"
                " FROM projects_project"
            ).fetchone()
    except psycopg.Error:
        return False
    return row is not None and row[0] == projects and row[1] == 0


def ensure_copy(args: argparse.Namespace) -> None:
    """This benchmark's database: kept when it exists (unless --fresh), else a copy of the template when that holds
    the data set, else an empty one that `prepare_data` fills. The template is only read: CREATE DATABASE …
    TEMPLATE refuses while anyone is connected to it, so it is tried again for a few minutes."""
    import psycopg
    from psycopg import errors, sql

    name = urlsplit(args.database_url).path.lstrip("/")
    if name == args.template:
        sys.exit(f"The benchmark's database must not be its template ({name}).")
    with psycopg.connect(_with_name(args.database_url, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None
        if exists and args.fresh:
            conn.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
            print(f"Dropped database {name}.")
            exists = False
        if exists:
            return
        template_url = _with_name(args.database_url, args.template)
        if _holds_data_set(template_url, args.projects):
            t0, deadline = time.perf_counter(), time.monotonic() + 600
            while True:
                try:
                    conn.execute(
                        sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                            sql.Identifier(name), sql.Identifier(args.template)
                        )
                    )
                    break
                except errors.ObjectInUse:
                    if time.monotonic() > deadline:
                        sys.exit(f"{args.template} stayed in use for 10 minutes: try again later.")
                    print(f"{args.template} is in use; trying again in 5 s…", flush=True)
                    time.sleep(5)
            print(f"Copied {args.template} into {name} in {time.perf_counter() - t0:.1f} s.")
        else:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"Created database {name} ({args.template} does not hold {args.projects} projects).")


def seed_demo(url: str) -> None:
    """Mandates, revenues and evaluation runs on the data set: the demo commands run with the local settings (the
    production ones refuse demo data), Celery eager, in their own process."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": url}
    env.update(CELERY_BROKER_URL="", CACHE_URL="locmem://")
    env.pop("DJANGO_SECRET_KEY", None)
    for command in ("seed_pairings_demo", "seed_evaluation_demo"):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "manage.py", command, "-v", "0"], cwd=ROOT, env=env, check=True)
        print(f"{command} in {time.perf_counter() - t0:.1f} s.", flush=True)


def vacuum_analyze() -> None:
    """VACUUM ANALYZE, and the rollups written again compactly: the demo's flows and evaluation runs rewrote their
    rows (a dead version each time), which the pages reading them would otherwise scan."""
    from django.db import connection

    from core import rollups

    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        for rollup in rollups.registered():
            cursor.execute(f"VACUUM (FULL, ANALYZE) {rollup.model._meta.db_table}")
    print(f"VACUUM ANALYZE in {time.perf_counter() - t0:.1f} s.", flush=True)


def collect_static() -> None:
    """Production renders `{% static %}` from the manifest of the collected files: collected when the manifest is
    missing or older than a static file (compressing them takes minutes on two cores, so not on every run)."""
    from django.conf import settings
    from django.contrib.staticfiles.finders import get_finders
    from django.core.management import call_command

    if "Manifest" not in settings.STORAGES["staticfiles"]["BACKEND"]:
        return
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if manifest.exists():
        sources = (storage.path(path) for finder in get_finders() for path, storage in finder.list(["CVS", ".*", "*~"]))
        if max(os.path.getmtime(source) for source in sources) <= manifest.stat().st_mtime:
            return
    t0 = time.perf_counter()
    call_command("collectstatic", interactive=False, verbosity=0)
    print(f"collectstatic in {time.perf_counter() - t0:.1f} s.", flush=True)


# --- the pages -----------------------------------------------------------------------------------------------


def discover_pages(caller: "Caller") -> list[Page]:
    """Every page and endpoint that matters, on rows of the data set: the biggest programme and top-level pairing
    (the pages whose cost grows with the data), a project with inspections from the middle of the list, the
    latest scorecard and project score when evaluation runs exist."""
    from django.db.models import Count

    from evaluation.models import PairingScorecard, ProjectScore
    from pairings.models import Pairing, Program
    from projects.models import Inspection, Project

    total = Project.objects.count()
    deep = min(DEEP_PAGE, max(1, -(-total // 50)))
    inspected = Inspection.objects.order_by("project_id").values_list("project_id", flat=True)
    n = inspected.count()
    project_id = inspected[n // 2] if n else Project.objects.order_by("pk").values_list("pk", flat=True).first()
    pairing = (
        Pairing.objects.filter(parent__isnull=True)
        .annotate(n=Count("projects"))
        .order_by("-n", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    program = (
        Program.objects.annotate(n=Count("pairings__projects")).order_by("-n", "pk").values_list("code", flat=True)
    )
    program_code = program.first()
    if pairing is None or project_id is None or program_code is None:
        sys.exit("The database holds no pairing or no project: generate the data set first.")
    card = PairingScorecard.objects.filter(pairing_id=pairing).order_by("-run_id").values_list("pk", flat=True).first()
    card = card or PairingScorecard.objects.order_by("-run_id", "pk").values_list("pk", flat=True).first()
    score = ProjectScore.objects.filter(project_id=project_id).order_by("-run_id").values_list("pk", flat=True).first()

    d, p = ALONE_DASHBOARD, ALONE_PAGE
    pages = [
        Page("healthz", "/healthz", "health", None),
        Page("api-projects", f"{LIST_API}?page_size=50", "api", None),
        Page("api-projects-deep", f"{LIST_API}?page={deep}", "api", p),
    ]
    last = last_page_by_cursor(caller)
    if last:
        pages.append(Page("api-projects-last", last, "api", p))
    pages += [
        Page("api-project", f"{LIST_API}{project_id}/", "api", p),
        Page("api-projects-figures", f"{LIST_API}figures/", "api", p),
        Page("api-pairings", "/api/v1/pairings/", "api", p),
        Page("api-pairing", f"/api/v1/pairings/{pairing}/", "api", p),
        Page("api-pairings-figures", "/api/v1/pairings/figures/", "api", p),
        Page("api-pairing-figures", f"/api/v1/pairings/{pairing}/figures/", "api", p),
        Page("api-program-figures", f"/api/v1/programs/{program_code}/figures/", "api", p),
        Page("home", "/", "html", d),
        Page("evaluation", "/evaluation/", "html", d),
        Page("programme", f"/programmes/{program_code}/", "html", d),
        Page("programmes", "/programmes/", "html", p),
        Page("projects", "/projects/", "html", p),
        Page("projects-deep", f"/projects/?page={deep}", "html", p),
        Page("project", f"/projects/{project_id}/", "html", p),
        Page("tasks", "/projects/tasks/", "html", p),
        Page("pairings", "/pairings/", "html", p),
        Page("pairing", f"/pairings/{pairing}/", "html", p),
        Page("rankings", "/evaluation/rankings/", "html", p),
    ]
    if card:
        pages.append(Page("scorecard", f"/evaluation/scorecards/{card}/", "html", p))
    if score:
        pages.append(Page("project-score", f"/evaluation/project-scores/{score}/", "html", p))
    return pages


def last_page_by_cursor(caller: "Caller") -> str:
    """The last page of the project list by cursor, when the list pages by cursor (by default, or when asked
    with `?cursor=first`) and links its last page (a `last` link in the body or the Link header); empty
    otherwise."""
    import logging

    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(logging.CRITICAL)  # a list that does not know `cursor` answers 400: not a failure here
    try:
        for params in ({"page_size": "50"}, {"page_size": "50", "cursor": "first"}):
            response = caller.api.get(LIST_API, params, secure=True)
            if response.status_code != 200:
                continue
            body = response.json()
            links = body.get("links") if isinstance(body.get("links"), dict) else {}
            link = body.get("last") or links.get("last") or ""
            if not link:
                match = re.search(r'<([^>]+)>;\s*rel="last"', response.headers.get("Link", ""))
                link = match[1] if match else ""
            if "cursor=" in link:
                parts = urlsplit(link)
                return f"{parts.path}?{parts.query}"
    finally:
        request_log.setLevel(level)
    return ""


# --- one request alone, and its SQL --------------------------------------------------------------------------


class Caller:
    """The national coordinator in process: the knox token for the API, a session for the pages."""

    def __init__(self, user: Any, token: str) -> None:
        from django.conf import settings
        from django.test import Client

        self.api = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST=base.HOST)
        self.html = Client(HTTP_HOST=base.HOST)
        self.html.force_login(user)
        self.token = token
        self.session = self.html.cookies[settings.SESSION_COOKIE_NAME].value
        self.cookie_name = settings.SESSION_COOKIE_NAME

    def get(self, page: Page) -> float:
        client = self.html if page.kind == "html" else self.api
        t0 = time.perf_counter()
        response = client.get(page.path, secure=True)
        elapsed = time.perf_counter() - t0
        if response.status_code != 200:
            raise SystemExit(f"GET {page.path}: {response.status_code} {response.content[:300]!r}")
        return elapsed

    def headers(self, page: Page) -> dict[str, str]:
        """What wrk sends: the proxy's header, and the token or the session cookie."""
        headers = {"X-Forwarded-Proto": "https"}
        if page.kind == "html":
            headers["Cookie"] = f"{self.cookie_name}={self.session}"
        else:
            headers["Authorization"] = f"Token {self.token}"
        return headers


def capture_sql(caller: Caller, page: Page) -> list[str]:
    """The statements of one request of PAGE as PostgreSQL received them (psycopg binds on the client, so the
    parameters are inlined), the savepoints left out."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        caller.get(page)
    return [q["sql"] for q in ctx.captured_queries if not NOT_REPLAYED.match(q["sql"])]


def pgbench_script(queries: list[str]) -> str:
    """QUERIES as a pgbench script: one transaction is one request's statements, each ended by a semicolon."""
    for query in queries:
        for name in PGBENCH_VARIABLES:
            if re.search(rf":{name}\b", query):
                raise ValueError(f"a statement holds :{name}, which pgbench would replace")
    return "".join(f"{q.rstrip().rstrip(';')};\n" for q in queries)


# --- the server and the load ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """gunicorn with the benchmark's settings, started and stopped by this process."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.port = args.port or free_port()
        self.log = workdir / "gunicorn.log"
        command = [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            "sync",
            "--timeout",
            "60",
            "--control-socket",
            str(workdir / "gunicorn.ctl"),
            "--error-logfile",
            str(self.log),
        ]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=dict(os.environ), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited at start:\n{self.tail()}")
            try:
                if self.get("/healthz", {})[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not answer in 60 s:\n{self.tail()}")
            time.sleep(0.2)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def get(self, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def wait_idle(self, timeout: float = 300) -> float:
        """Wait until no connection to the server is left, and return how long that took. When wrk stops, the
        requests its connections had sent are still in the listen queue, and a sync worker answers each of them
        (it cannot see that the client left): for a slow page that is seconds of work, which would be counted
        against the next measurement. A connection accepted or waiting to be is an ESTABLISHED or CLOSE_WAIT
        socket on the server's port (/proc/net/tcp); the server is idle when there is none."""
        t0 = time.monotonic()
        port = f":{self.port:04X}"
        while time.monotonic() - t0 < timeout:
            busy = 0
            for table in ("/proc/net/tcp", "/proc/net/tcp6"):
                try:
                    lines = Path(table).read_text().splitlines()[1:]
                except OSError:
                    continue
                busy += sum(1 for x in lines if x.split()[1].endswith(port) and x.split()[3] in ("01", "08"))
            if not busy:
                break
            time.sleep(0.1)
        return time.monotonic() - t0

    def stop(self) -> None:
        """TERM, as a supervisor stops it (the workers finish their request); KILL when it does not stop."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def run_wrk(args: argparse.Namespace, server: Server, page: Page, headers: dict[str, str], lua: Path) -> dict:
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--timeout", "10s"]
    command += ["--latency", "-s", str(lua)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run(
        [*command, server.url + page.path], capture_output=True, text=True, timeout=args.duration + 60
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed on {page.path} ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    figures = json.loads(line[4:])
    errors = sum(figures[k] for k in ("connect", "read", "write", "status", "timeout"))
    return {
        "rps": figures["requests"] / (figures["duration_us"] / 1e6),
        "requests": figures["requests"],
        "errors": errors,
        "p50_ms": figures["p50_us"] / 1000,
        "p90_ms": figures["p90_us"] / 1000,
        "p99_ms": figures["p99_us"] / 1000,
    }


def run_pgbench(args: argparse.Namespace, script: Path) -> dict:
    command = ["pgbench", "-n", f"-c{args.connections}", f"-j{args.threads}", f"-T{args.duration}", "-f", str(script)]
    done = subprocess.run([*command, args.database_url], capture_output=True, text=True, timeout=args.duration + 120)
    tps = re.search(r"^tps = ([0-9.]+)", done.stdout, re.MULTILINE)
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    note = "" if done.returncode == 0 else (done.stderr.strip().splitlines() or ["pgbench failed"])[-1][:200]
    return {"tps": float(tps[1]) if tps else 0.0, "failed": int(failed[1]) if failed else 0, "note": note}


# --- the run -------------------------------------------------------------------------------------------------


def prepare(args: argparse.Namespace) -> None:
    """Environment, database and Django: the settings of the server and of the in-process requests are one."""
    os.environ["DJANGO_ALLOWED_HOSTS"] = f"{base.HOST},127.0.0.1"
    os.environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)  # throwaway: production refuses a short one
    os.environ["CACHE_URL"] = args.cache_url
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    tools = () if args.alone_only else (("wrk", "wrk"), *(() if args.skip_sql else (("pgbench", "postgresql-client"),)))
    for tool, package in tools:
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (Debian: apt-get install {package}).")
    if not args.reuse:
        ensure_copy(args)
    base.setup_django(args)  # type: ignore[arg-type]
    if not args.reuse:
        base.prepare_data(args)  # type: ignore[arg-type]
        seed_demo(args.database_url)
        vacuum_analyze()
    collect_static()


def chosen(args: argparse.Namespace, pages: list[Page]) -> list[Page]:
    """The pages of --pages, with the two that the others are compared with."""
    if not args.pages:
        return pages
    wanted = {k.strip() for k in args.pages.split(",") if k.strip()} | {"healthz", "api-projects"}
    unknown = wanted - {p.key for p in pages}
    if unknown:
        sys.exit(f"Unknown pages: {', '.join(sorted(unknown))} (see --list-pages).")
    return [p for p in pages if p.key in wanted]


def measure_alone(args: argparse.Namespace, caller: Caller, pages: list[Page], figures: dict[str, Figures]) -> None:
    """(1) Each page alone in process, interleaved; and the SQL of one request of each, after the warm-up."""
    for _ in range(args.warmup):
        for page in pages:
            caller.get(page)
    for page in pages:
        page.queries = capture_sql(caller, page)
    for _ in range(args.requests):
        for page in pages:
            figures[page.key].alone_ms.append(caller.get(page) * 1000)


def measure_load(args: argparse.Namespace, caller: Caller, pages: list[Page], figures: dict[str, Figures]) -> None:
    """(2) and (3): each page served under wrk, then its SQL under pgbench, page after page, pass after pass. The
    server is stopped however this ends (Ctrl-C, a TERM, a failure)."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    lua = workdir / "report.lua"
    lua.write_text(WRK_SCRIPT)
    scripts: dict[str, Path] = {}
    for page in pages:
        try:
            text = pgbench_script(page.queries)
        except ValueError as exc:
            figures[page.key].sql_note = str(exc)
            continue
        scripts[page.key] = workdir / f"{page.key}.sql"
        scripts[page.key].write_text(text)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    server = None
    try:
        server = Server(args, workdir)
        print(f"gunicorn ({args.workers} workers, {args.settings}) on {server.url}.", flush=True)
        for page in pages:
            status, body = server.get(page.path, caller.headers(page))
            if status != 200:
                raise SystemExit(f"Served {page.path}: {status} {body[:300]!r}")
        for number in range(1, args.passes + 1):
            for page in pages:
                f = figures[page.key]
                load = run_wrk(args, server, page, caller.headers(page), lua)
                f.drain_s.append(server.wait_idle())
                f.served_rps.append(load["rps"])
                f.p50_ms.append(load["p50_ms"])
                f.p90_ms.append(load["p90_ms"])
                f.p99_ms.append(load["p99_ms"])
                f.requests += load["requests"]
                f.errors += load["errors"]
                line = f"pass {number} {page.key:22} served {load['rps']:8.1f}/s p50 {load['p50_ms']:7.1f} ms"
                line += f" (drained in {f.drain_s[-1]:4.1f} s)"
                if not args.skip_sql and page.key in scripts:
                    replay = run_pgbench(args, scripts[page.key])
                    f.sql_tps.append(replay["tps"])
                    f.sql_failed += replay["failed"]
                    f.sql_note = f.sql_note or replay["note"]
                    line += f"   SQL alone {replay['tps']:8.1f}/s"
                print(line, flush=True)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def result_rows(pages: list[Page], figures: dict[str, Figures]) -> list[dict[str, Any]]:
    """One row per page: the medians over the passes, the ratios, and the targets it missed."""
    base_alone = median(figures["api-projects"].alone_ms)
    health = median(figures["healthz"].served_rps)
    rows = []
    for page in pages:
        f = figures[page.key]
        alone, served, sql = median(f.alone_ms), median(f.served_rps), median(f.sql_tps)
        ratio = alone / base_alone if alone is not None and base_alone else None
        missed = []
        if page.alone_target is not None and ratio is not None and ratio > page.alone_target:
            missed.append(f"alone>{page.alone_target:g}x")
        # /healthz is the yardstick of the others, not measured against itself.
        references = [x for x in (sql, health) if x is not None] if page.kind != "health" else []
        if served is not None and references and served < SERVED_SHARE * min(references):
            missed.append(f"served<{SERVED_SHARE:g}x")
        if f.errors:
            missed.append("errors")
        if f.sql_note or f.sql_failed:
            missed.append("SQL alone failed")
        rows.append(
            {
                "page": page.key,
                "path": page.path,
                "kind": page.kind,
                "queries": len(page.queries),
                "alone_ms": alone,
                "alone_ratio": ratio,
                "alone_target": page.alone_target,
                "served_rps": served,
                "p50_ms": median(f.p50_ms),
                "p90_ms": median(f.p90_ms),
                "p99_ms": median(f.p99_ms),
                "requests": f.requests,
                "errors": f.errors,
                "sql_tps": sql,
                "sql_failed": f.sql_failed,
                "sql_note": f.sql_note,
                "served_per_healthz": served / health if served and health else None,
                "served_per_sql": served / sql if served and sql else None,
                "missed": missed,
                "passes": asdict(f),
            }
        )
    return rows


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_table(args: argparse.Namespace, rows: list[dict[str, Any]], loads: tuple[tuple, tuple]) -> None:
    print()
    before, after = (" ".join(f"{x:.2f}" for x in load) for load in loads)
    print(f"Load average (1, 5, 15 min) before: {before}; after: {after}.")
    if args.alone_only:
        print(f"{args.projects} projects; alone only (no server, no load): median of {args.requests}.")
    else:
        print(
            f"{args.projects} projects; gunicorn {args.workers} sync workers; wrk -t{args.threads} "
            f"-c{args.connections} -d{args.duration}s; pgbench -c{args.connections} -j{args.threads} "
            f"-T{args.duration}; {args.passes} pass(es); alone: median of {args.requests}."
        )
    print(
        f"Targets: served ≥ {SERVED_SHARE:g} × min(SQL alone, /healthz served) with no errors; alone ≤ "
        f"{ALONE_PAGE:g} × the list API's page 1 (≤ {ALONE_DASHBOARD:g} × for the dashboards: home, evaluation, "
        "programme)."
    )
    print()
    head = (
        f"{'page':22} {'q':>3} {'alone ms':>9} {'×p1':>5} {'≤':>2} {'served/s':>9} {'p50':>7} {'p90':>7} "
        f"{'p99':>7} {'err':>4} {'SQL/s':>8} {'/hz':>5} {'/SQL':>5}  met?"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['page']:22} {r['queries']:3d} {fmt(r['alone_ms'], '9.1f')} {fmt(r['alone_ratio'], '5.2f')} "
            f"{fmt(r['alone_target'], '2.0f')} {fmt(r['served_rps'], '9.1f')} {fmt(r['p50_ms'], '7.1f')} "
            f"{fmt(r['p90_ms'], '7.1f')} {fmt(r['p99_ms'], '7.1f')} {r['errors']:4d} {fmt(r['sql_tps'], '8.1f')} "
            f"{fmt(r['served_per_healthz'], '5.2f')} {fmt(r['served_per_sql'], '5.2f')}  "
            f"{'yes' if not r['missed'] else 'NO: ' + ', '.join(r['missed'])}"
        )
        if r["sql_note"]:
            print(f"{'':22} SQL alone: {r['sql_note']}")
    print(
        "q: SQL statements of one request; alone: one request in process (median), ×p1 its ratio to api-projects, "
        "≤ its target; p50/p90/p99: served latency in ms under load; /hz, /SQL: served ÷ /healthz served, ÷ SQL alone."
    )


def write_json(args: argparse.Namespace, rows: list[dict[str, Any]], loads: tuple[tuple, tuple]) -> Path:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        postgres = cursor.fetchone()[0].split(" on ")[0]
    out = args.json_out or ROOT / "var" / "bench" / f"serve-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "postgres": postgres},
        "load_before": loads[0],
        "load_after": loads[1],
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "targets": {"served_share": SERVED_SHARE, "alone_page": ALONE_PAGE, "alone_dashboard": ALONE_DASHBOARD},
        "pages": rows,
    }
    out.write_text(json.dumps(document, indent=1))
    return out


def main() -> int:
    args = parse_args()
    prepare(args)
    user, token = base.coordinator_token()
    caller = Caller(user, token)
    pages = discover_pages(caller)
    if args.list_pages:
        for page in pages:
            print(f"{page.key:22} {page.path}")
        return 0
    pages = chosen(args, pages)
    figures = {p.key: Figures() for p in pages}
    runs = len(pages) * args.passes * (1 if args.skip_sql else 2)
    print(
        f"{len(pages)} pages alone in process, median of {args.requests} each."
        if args.alone_only
        else f"{len(pages)} pages, {args.passes} pass(es) of {args.duration} s runs "
        f"(about {runs * (args.duration + 1) / 60:.0f} min under load).",
        flush=True,
    )
    load_before = os.getloadavg()
    measure_alone(args, caller, pages, figures)
    if not args.alone_only:
        measure_load(args, caller, pages, figures)
    loads = (load_before, os.getloadavg())
    rows = result_rows(pages, figures)
    print_table(args, rows, loads)
    print(f"Figures written to {write_json(args, rows, loads)}.")
    missed = [r["page"] for r in rows if r["missed"]]
    return 1 if missed and not args.smoke else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("Interrupted (the server was stopped).")
