#!/usr/bin/env python
"""The project list API searched, against the same list unfiltered, on the synthetic data set in PostgreSQL.

    .venv/bin/python bench/search.py --projects 100000        (or: make bench-search)

One run requests, through `django.test.Client` in process with a national coordinator's knox token (the whole
request counted, as bench/project_list.py does):

(u) the first page of the project list, unfiltered: ``GET /api/v1/projects/?page_size=50``;
(s) the first page of the same list searched for two words, a word of the titles and a place:
    ``GET /api/v1/projects/?page_size=50&search=幼儿园 疏附`` (``--search``): every word must match the code, the
    title (trigram indexes), or a place or party, looked up first in the region, organization and pairing tables
    (`projects.selectors.project_search`).

(c) the same as (s) with the words' lookups not kept: the cache of looked-up words (`pairings.selectors.named_by`,
    which a change to the names empties) is left behind before each request, as for words nobody searched since the
    last change.

After a warm-up, the three are requested one after the other in each of ``--passes`` passes (interleaved, so that
a change in the machine's load hits them alike); it prints the medians, the ratio s/u (target ≤ 2.0) and c/u, the
rows the search matches, and the plan PostgreSQL chose for the search's count. It exits 1 when s/u misses the
target.

The database (default ``duikou_bench``, bench/project_list.py's) is created when missing, migrated, and filled with
``generate_projects --projects N`` unless it already holds exactly N synthetic projects and nothing else; then
VACUUM ANALYZE, so that the planner knows the tables. ``--reuse`` takes the database as it is (the smoke test runs
it on the test database this way) and ``--json`` prints the figures as one JSON line at the end.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import project_list as base  # noqa: E402  (bench/project_list.py: the database, the settings, the caller)

API = "/api/v1/projects/"
TARGET = 2.0


def parse_args() -> argparse.Namespace:
    p = base.interleaved_arguments(
        __doc__.split("\n\n")[0],
        os.environ.get("BENCH_DATABASE_URL", base.DEFAULT_URL),
        target=TARGET,
        target_help="The s/u to meet",
        passes=30,
        warmup=5,
    )
    p.add_argument("--search", default="幼儿园 疏附", help="The words searched (default: 幼儿园 疏附).")
    p.add_argument("--page-size", type=int, default=50)
    p.add_argument("--json", action="store_true", help="Print the figures as one JSON line at the end.")
    return p.parse_args()


def search_plan(text: str) -> str:
    """PostgreSQL's plan for the count of the projects TEXT matches."""
    from django.db import connection

    from projects.models import Project
    from projects.selectors import project_search

    sql, params = project_search(Project.objects.order_by(), text).values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN SELECT count(*) FROM ({sql}) AS matched", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def main() -> None:
    args = parse_args()
    if not args.reuse:
        base.ensure_database(args.database_url)
    base.setup_django(args)  # type: ignore[arg-type]

    from django.db import connection
    from django.test import Client

    if not args.reuse:
        base.prepare_data(args)  # type: ignore[arg-type]
        base.vacuum_analyze("projects_project", "pairings_pairing", "core_region", "accounts_organization")
    _, token = base.coordinator_token()
    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST=base.HOST)

    def get(params: dict[str, object]) -> dict:
        response = client.get(API, {"page_size": args.page_size, **params}, secure=True)
        if response.status_code != 200:
            raise SystemExit(f"GET {API} {params}: {response.status_code} {response.content[:500]!r}")
        return json.loads(response.content)

    unfiltered: dict[str, object] = {}
    searched = {"search": args.search}
    total, matched = get(unfiltered)["count"], get(searched)["count"]
    print(f"{total} projects; {args.search!r} matches {matched}.")
    plan = search_plan(args.search) if connection.vendor == "postgresql" else ""
    for _ in range(args.warmup):
        get(unfiltered), get(searched)

    from core.selectors import names_changed

    times: dict[str, list[float]] = {"u": [], "s": [], "c": []}
    load_before = os.getloadavg()[0]
    for _ in range(args.passes):
        for key, params in (("u", unfiltered), ("s", searched), ("c", searched)):
            if key == "c":
                names_changed()
            t0 = time.perf_counter()
            get(params)
            times[key].append(time.perf_counter() - t0)
    load_after = os.getloadavg()[0]

    u, s, c = (statistics.median(times[key]) for key in ("u", "s", "c"))
    ratio = s / u
    print(f"Load average: {load_before:.2f} before, {load_after:.2f} after ({args.passes} passes).")
    print(f"(u) page 1 unfiltered:          median {u * 1000:8.2f} ms")
    print(f"(s) page 1 searched {args.search!r}: median {s * 1000:8.2f} ms")
    print(f"(c) the same, words looked up:  median {c * 1000:8.2f} ms")
    print(f"s/u = {ratio:.2f} (target ≤ {args.target}); c/u = {c / u:.2f}")
    if plan:
        print("Plan of the search's count:\n" + plan)
    if args.json:
        figures = {"projects": total, "matched": matched, "u_ms": u * 1000, "s_ms": s * 1000, "c_ms": c * 1000}
        print(json.dumps({**figures, "ratio": ratio}))
    if ratio > args.target:
        sys.exit(1)


if __name__ == "__main__":
    main()
