#!/usr/bin/env python
"""The project list API against its limit and its peer, on the synthetic data set in PostgreSQL.

    .venv/bin/python bench/project_list.py --projects 100000        (or: make bench)

One run measures, on the same pages (``page=1..--pages`` of ``--page-size`` rows, newest first, as the API orders
them), after a warm-up, interleaved page by page so that drift in the machine's load hits all three alike:

(a) the project list API as the project serves it: ``GET /api/v1/projects/?page=K&page_size=50`` through
    `django.test.Client` in process (no socket), with a real knox token in the Authorization header of a
    national coordinator, so the whole request is counted: middleware, authentication, scope, filters,
    pagination (count and page), the serializer with `allowed_actions`, rendering;
(b) the limit: the same page — the same JSON document, checked key by key against (a) — from one raw SQL query
    (project columns, the pairing's programme, assisting organization and recipient region names, the location,
    LIMIT/OFFSET on the page's ids, and the count as a scalar subquery), rows turned into dicts and serialised with
    orjson. Called as a function: no request, no authentication;
(c) the peer: a textbook DRF `ModelViewSet` + `ModelSerializer` (``fields = "__all__"`` plus the nested names
    through ``source="pairing.assisting_organization.name"`` etc.) without `select_related`, mounted on a
    throwaway URLconf and requested exactly as (a), same token, same pagination.

It prints the medians (ms) and the ratios a/b (target ≤ 1.5) and c/a (target ≥ 5), where (a)'s time goes (the
bare request stack, its SQL, the rest: DRF and the serializer), and the queries per request of (a) at page sizes
1, 50 and 200 (target ≤ 4). `--profile` adds a cProfile of (a).

The database (default ``duikou_bench``) is created when missing, migrated, and filled with
``generate_projects --projects N`` unless it already holds exactly N synthetic projects and nothing else. The
settings are the production ones (DEBUG off, the connection pool), with a throwaway secret key; the user throttle
is raised so that it never refuses a request (it still runs).
"""

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import secrets
import statistics
import sys
import time
import types
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/duikou_bench"
HOST = "localhost"
API = "/api/v1/projects/"
PEER = "/bench/peer/projects/"
NOOP = "/bench/noop/"
TARGETS = {"a/b": 1.5, "c/a": 5.0, "queries": 4}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--projects", type=int, default=100_000, help="Size of the data set (default 100000).")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    p.add_argument("--settings", default="config.settings.production")
    p.add_argument("--pages", type=int, default=50, help="Pages 1..N are requested in each round (default 50).")
    p.add_argument("--page-size", type=int, default=50)
    p.add_argument("--rounds", type=int, default=3, help="Rounds over the pages (default 3).")
    p.add_argument("--warmup", type=int, default=10, help="Requests of each kind before measuring.")
    p.add_argument("--regenerate", action="store_true", help="Generate the data set again even if it is there.")
    p.add_argument("--profile", action="store_true", help="Also profile (a) with cProfile.")
    return p.parse_args()


def interleaved_arguments(
    description: str, database_url: str, *, target: float, target_help: str, passes: int = 25, warmup: int = 3
) -> argparse.ArgumentParser:
    """The arguments the interleaved benchmarks on this data set share (deep_pages.py, search.py, duplicates.py):
    the data set, its database (DATABASE_URL unless given), the settings, the passes and the target."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--projects", type=int, default=100_000, help="Size of the data set (default 100000).")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--database-url", default=database_url)
    p.add_argument("--settings", default="config.settings.production")
    p.add_argument("--passes", type=int, default=passes, help=f"Interleaved passes (default {passes}).")
    p.add_argument("--warmup", type=int, default=warmup, help=f"Passes before measuring (default {warmup}).")
    p.add_argument("--regenerate", action="store_true", help="Generate the data set again even if it is there.")
    p.add_argument("--reuse", action="store_true", help="Take the database as it is: no migrate, no data.")
    p.add_argument("--target", type=float, default=target, help=f"{target_help} (default {target}).")
    return p


def vacuum_analyze(*tables: str) -> None:
    """VACUUM ANALYZE the TABLES a benchmark reads (autovacuum is off on the benchmark machine)."""
    from django.db import connection

    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"VACUUM ANALYZE in {time.perf_counter() - t0:.1f} s.")


def ensure_database(url: str) -> None:
    """Create the database of URL when it does not exist (connecting to the server's `postgres` database)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"Created database {name}.")


def setup_django(args: argparse.Namespace) -> None:
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = args.settings
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", HOST)
    os.environ["API_THROTTLE_USER"] = "100000000/minute"
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()


# --- data set and caller -------------------------------------------------------------------------------------


def prepare_data(args: argparse.Namespace) -> None:
    from django.core.management import call_command

    from projects.models import Project

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    synthetic = Project.objects.filter(is_synthetic=True).count()
    other = Project.objects.filter(is_synthetic=False).count()
    if synthetic == args.projects and other == 0 and not args.regenerate:
        print(f"Data set: {synthetic} synthetic projects already there (reused).")
        return
    if other:
        sys.exit(f"The bench database holds {other} projects that are not synthetic; use an empty database.")
    print(f"Generating {args.projects} synthetic projects (seed {args.seed})…", flush=True)
    call_command("generate_projects", projects=args.projects, seed=args.seed, replace=True, verbosity=1)
    print(f"Data set ready in {time.perf_counter() - t0:.1f} s.")


def coordinator_token() -> tuple[Any, str]:
    """A national coordinator of the central office, and a fresh knox token for them."""
    from knox.models import AuthToken

    from accounts.models import Organization, OrganizationKind, Role, RoleAssignment, User

    org = Organization.objects.filter(kind=OrganizationKind.CENTRAL_OFFICE).order_by("pk").first()
    if org is None:
        from accounts import services

        org = services.organization_create(
            by=None,
            name="国家对口支援协调办公室",
            name_en="National Paired Assistance Coordination Office",
            kind=OrganizationKind.CENTRAL_OFFICE,
        )
    user, _ = User.objects.get_or_create(username="bench-coordinator", defaults={"organization": org})
    user.set_unusable_password()
    user.save()
    RoleAssignment.objects.get_or_create(user=user, role=Role.NATIONAL_COORDINATOR)
    AuthToken.objects.filter(user=user).delete()
    _, token = AuthToken.objects.create(user)
    return user, token


# --- (b) the limit -------------------------------------------------------------------------------------------


def make_limit(user: Any) -> Callable[[int, int], bytes]:
    """The page as one SQL query and orjson: the same document as (a) for a national coordinator (whose scope is
    everything). Per-state values (`allowed_actions`, IATI status) are computed once by the project's own code.

    The query is the best one we know how to write, not a strawman: the page's ids are picked from the project
    table alone (ORDER BY … LIMIT/OFFSET in a subquery) and only those 50 rows are joined to their names — joining
    first would make PostgreSQL join every skipped row of a deep page too. The count is a scalar subquery."""
    from zoneinfo import ZoneInfo

    import orjson
    from django.conf import settings
    from django.db import connection

    from projects import policy
    from projects.models import Category, Project, State

    tz = ZoneInfo(settings.TIME_ZONE)
    allowed = {s: policy.allowed_actions(user, Project(state=s)) for s in State.values}
    activity = {s: Project(state=s).iati_activity_status for s in State.values}
    query = """
        SELECT (SELECT count(*) FROM projects_project),
               p.id, p.code, p.title, p.pairing_id, pa.program_id, pr.code, pr.name,
               pa.assisting_organization_id, o.name, r.code, r.name, p.category, p.sector, p.execution_mode,
               l.code, l.name, p.latitude::text, p.longitude::text, p.is_livelihood, p.is_self_sustaining,
               p.budget_requested::text, p.approved_budget::text, p.funding_sources::text,
               p.planned_start, p.planned_end, p.actual_start, p.actual_end,
               p.expected_beneficiaries, p.reached_beneficiaries, p.implementing_agency, p.description,
               p.repayment_terms, p.state, p.proposed_by_id, p.is_synthetic, p.created_at, p.updated_at
          FROM projects_project p
          JOIN pairings_pairing pa ON pa.id = p.pairing_id
          JOIN pairings_program pr ON pr.id = pa.program_id
          JOIN accounts_organization o ON o.id = pa.assisting_organization_id
          JOIN core_region r ON r.id = pa.recipient_region_id
          LEFT JOIN core_region l ON l.id = p.location_id
         WHERE p.id IN (SELECT id FROM projects_project ORDER BY created_at DESC, id DESC LIMIT %s OFFSET %s)
         ORDER BY p.created_at DESC, p.id DESC
    """
    base = f"https://{HOST}{API}"
    reimbursable = Category.REIMBURSABLE.value
    fragment = orjson.Fragment

    def page(number: int, size: int) -> bytes:
        with connection.cursor() as cursor:
            cursor.execute(query, [size, (number - 1) * size])
            rows = cursor.fetchall()
        total = rows[0][0] if rows else 0
        results = [
            {
                "id": r[1],
                "code": r[2],
                "title": r[3],
                "pairing": r[4],
                "pairing_label": f"{r[9]} → {r[11]}",
                "program": r[5],
                "program_code": r[6],
                "program_name": r[7],
                "assisting_organization": r[8],
                "assisting_organization_name": r[9],
                "recipient_region": r[10],
                "recipient_region_name": r[11],
                "category": r[12],
                "sector": r[13],
                "execution_mode": r[14],
                "location": r[15],
                "location_name": r[16],
                "latitude": r[17],
                "longitude": r[18],
                "is_livelihood": r[19],
                "is_self_sustaining": r[20],
                "budget_requested": r[21],
                "approved_budget": r[22],
                "funding_sources": fragment(r[23]),
                "planned_start": r[24],
                "planned_end": r[25],
                "actual_start": r[26],
                "actual_end": r[27],
                "expected_beneficiaries": r[28],
                "reached_beneficiaries": r[29],
                "implementing_agency": r[30],
                "description": r[31],
                "repayment_terms": r[32],
                "state": r[33],
                "allowed_actions": allowed[r[33]],
                "proposed_by": r[34],
                "iati_finance_type": 410 if r[12] == reimbursable else 110,
                "iati_activity_status": activity[r[33]],
                "is_synthetic": r[35],
                "created_at": r[36].astimezone(tz),
                "updated_at": r[37].astimezone(tz),
            }
            for r in rows
        ]
        last = max(1, -(-total // size))
        prev = (
            None
            if number <= 1
            else (f"{base}?page_size={size}" if number == 2 else f"{base}?page={number - 1}&page_size={size}")
        )
        return orjson.dumps(
            {
                "count": total,
                "next": f"{base}?page={number + 1}&page_size={size}" if number < last else None,
                "previous": prev,
                "results": results,
            }
        )

    return page


# --- (c) the peer, and the throwaway URLconf -----------------------------------------------------------------


def install_urlconf() -> str:
    """The project's URLs plus the peer and a no-op view, as a module of their own."""
    from django.http import HttpRequest, HttpResponse
    from django.urls import include, path
    from rest_framework import routers, serializers, viewsets

    import config.urls
    from projects.models import Project

    class PeerProjectSerializer(serializers.ModelSerializer):
        program_name = serializers.CharField(source="pairing.program.name", read_only=True)
        assisting_organization_name = serializers.CharField(
            source="pairing.assisting_organization.name", read_only=True
        )
        recipient_region_name = serializers.CharField(source="pairing.recipient_region.name", read_only=True)
        location_name = serializers.CharField(source="location.name", read_only=True)

        class Meta:
            model = Project
            fields = "__all__"

    class PeerProjectViewSet(viewsets.ModelViewSet):
        queryset = Project.objects.all()
        serializer_class = PeerProjectSerializer

    def noop(request: HttpRequest) -> HttpResponse:
        return HttpResponse(b"{}", content_type="application/json")

    router = routers.SimpleRouter()
    router.register("projects", PeerProjectViewSet, basename="peer-project")
    module = types.ModuleType("bench_urls")
    module.urlpatterns = [  # type: ignore[attr-defined]
        path("bench/peer/", include(router.urls)),
        path("bench/noop/", noop),
        *config.urls.urlpatterns,
    ]
    for name in ("handler400", "handler403", "handler404", "handler500"):
        setattr(module, name, getattr(config.urls, name))
    sys.modules["bench_urls"] = module
    return "bench_urls"


# --- measuring -----------------------------------------------------------------------------------------------


SQL_KINDS = (
    ("knox_authtoken", "authentication (token, user)"),
    ('FROM "accounts_organization"', "caller's organization"),
    ("accounts_roleassignment", "caller's roles"),
    ("COUNT(*)", "page with its total (count)"),
    ('FROM "projects_project"', "page"),
)


class SqlTimer:
    """Wall time spent inside cursor.execute (an execute_wrapper), by kind of query, to split (a)'s time."""

    def __init__(self) -> None:
        self.by_kind: dict[str, float] = {}

    @property
    def total(self) -> float:
        return sum(self.by_kind.values())

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            kind = next((label for marker, label in SQL_KINDS if marker in sql), "other")
            self.by_kind[kind] = self.by_kind.get(kind, 0.0) + time.perf_counter() - t0


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f}"


def main() -> None:
    args = parse_args()
    ensure_database(args.database_url)
    setup_django(args)

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    prepare_data(args)
    user, token = coordinator_token()
    limit = make_limit(user)
    urlconf = install_urlconf()
    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST=HOST)

    def get(path: str, page: int, size: int) -> bytes:
        response = client.get(path, {"page": page, "page_size": size}, secure=True)
        if response.status_code != 200:
            raise SystemExit(f"GET {path} page {page}: {response.status_code} {response.content[:500]!r}")
        return response.content

    size, pages = args.page_size, range(1, args.pages + 1)
    with override_settings(ROOT_URLCONF=urlconf):
        # The three produce the same page (checked on the first and the last page measured).
        for number in (1, args.pages):
            a_doc, b_doc = json.loads(get(API, number, size)), json.loads(limit(number, size))
            c_doc = json.loads(get(PEER, number, size))
            if a_doc != b_doc:
                diff = sorted(
                    {k for x, y in zip(a_doc["results"], b_doc["results"], strict=False) for k in x if x[k] != y.get(k)}
                )
                raise SystemExit(f"(b) differs from (a) on page {number}: keys {diff or 'count/next/previous'}")
            if [r["id"] for r in c_doc["results"]] != [r["id"] for r in a_doc["results"]]:
                raise SystemExit(f"(c) lists other projects than (a) on page {number}")
        print(f"(a), (b) and (c) give the same page ({len(a_doc['results'][0])} fields per project in (a) and (b)).")

        for i in range(args.warmup):
            get(API, i + 1, size), limit(i + 1, size), get(PEER, i + 1, size), client.get(NOOP, secure=True)

        load_before = os.getloadavg()[0]
        times: dict[str, list[float]] = {"a": [], "b": [], "c": [], "noop": [], "a_sql": []}
        sql_kinds: dict[str, list[float]] = {}
        for _ in range(args.rounds):
            for number in pages:
                sql_timer = SqlTimer()
                with connection.execute_wrapper(sql_timer):
                    t0 = time.perf_counter()
                    get(API, number, size)
                    times["a"].append(time.perf_counter() - t0)
                times["a_sql"].append(sql_timer.total)
                for kind, seconds in sql_timer.by_kind.items():
                    sql_kinds.setdefault(kind, []).append(seconds)
                t0 = time.perf_counter()
                limit(number, size)
                times["b"].append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                get(PEER, number, size)
                times["c"].append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                client.get(NOOP, secure=True)
                times["noop"].append(time.perf_counter() - t0)

        counts: dict[int, list[str]] = {}
        for n in (1, 50, 200):
            with CaptureQueriesContext(connection) as ctx:
                get(API, 1, n)
            counts[n] = [q["sql"] for q in ctx.captured_queries]
        with CaptureQueriesContext(connection) as ctx:
            get(PEER, 1, size)
        peer_queries = len(ctx.captured_queries)
        with CaptureQueriesContext(connection) as ctx:
            limit(1, size)
        limit_queries = len(ctx.captured_queries)

        profile_text = ""
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for number in pages:
                get(API, number, size)
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("cumulative").print_stats(40)
            stats.sort_stats("tottime").print_stats(25)
            profile_text = out.getvalue()

    med = {k: statistics.median(v) for k, v in times.items()}
    p90 = {k: statistics.quantiles(v, n=10)[-1] for k, v in times.items() if len(v) >= 10}
    a_b, c_a = med["a"] / med["b"], med["c"] / med["a"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        pg = cursor.fetchone()[0].split(" on ")[0]
    import django
    import rest_framework

    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if "model name" in line
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else platform.processor()
    )

    n = len(times["a"])
    print()
    print(
        f"Machine: {os.cpu_count()} cores ({cpu}); {pg}; Python {platform.python_version()}, "
        f"Django {django.get_version()}, DRF {rest_framework.VERSION}; settings {args.settings}."
    )
    print(f"Load average (1 min) before / after the measurements: {load_before:.2f} / {os.getloadavg()[0]:.2f}.")
    print(f"Data: {args.projects} projects; pages 1..{args.pages} of {size}, {args.rounds} rounds: {n} requests each.")
    print()
    print(f"{'':44} {'median ms':>9} {'p90 ms':>8}  queries")
    print(
        f"{'(a) project list API (as served)':44} {ms(med['a'])} {ms(p90.get('a', 0))}  {len(counts[size]) if size in counts else '-'}"
    )
    print(f"{'(b) limit: one SQL query + orjson':44} {ms(med['b'])} {ms(p90.get('b', 0))}  {limit_queries}")
    print(f"{'(c) peer: ModelViewSet, no select_related':44} {ms(med['c'])} {ms(p90.get('c', 0))}  {peer_queries}")
    print()
    verdict = {True: "met", False: "MISSED"}
    print(f"a/b = {a_b:.2f}   (target ≤ {TARGETS['a/b']}: {verdict[a_b <= TARGETS['a/b']]})")
    print(f"c/a = {c_a:.2f}   (target ≥ {TARGETS['c/a']}: {verdict[c_a >= TARGETS['c/a']]})")
    for n_rows, queries in counts.items():
        ok = len(queries) <= TARGETS["queries"]
        print(f"(a) queries at page_size={n_rows:<3}: {len(queries)}   (target ≤ {TARGETS['queries']}: {verdict[ok]})")
        if not ok:
            for q in queries:
                print(f"      {q[:150]}")
    print()
    print("Where (a)'s time goes (medians):")
    print(f"  request stack alone (no-op view, same middleware, no auth) {ms(med['noop'])} ms")
    print(f"  SQL inside (a) (execute time, all queries)                {ms(med['a_sql'])} ms")
    for kind, values in sql_kinds.items():
        print(f"    {kind:<55}{ms(statistics.median(values))} ms")
    print(f"  the rest: auth, DRF, serializer, rendering                {ms(med['a'] - med['a_sql'] - med['noop'])} ms")
    if profile_text:
        print()
        print(profile_text)


if __name__ == "__main__":
    main()
