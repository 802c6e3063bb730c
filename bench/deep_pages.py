#!/usr/bin/env python
"""The project list's last page against its first, by cursor (projects/keyset.py), in the API and the HTML list.

    .venv/bin/python bench/deep_pages.py --projects 100000        (or: make bench-deep-pages)

One run requests in process (`django.test.Client`, no socket), the whole request counted, as a national
coordinator (the API with a knox token, the page signed in), after a warm-up, interleaved in each of ``--passes``
passes so that a change in the machine's load hits them alike:

API  ``GET /api/v1/projects/?page_size=50`` with ``cursor=first`` (A1) and ``cursor=last`` (AL), in the default
     order (newest first) and ordered by a column that may be empty (``ordering=-planned_start``: B1, BL); and for
     comparison the pages by number, ``page=1`` (P1) and ``page=1000`` (P1000);
HTML ``GET /projects/`` (H1) and ``GET /projects/?cursor=last`` (HL), 50 to a page.

It prints the medians and p90 in ms, the ratios last/first (target ≤ 1.5) and P1000/P1, and PostgreSQL's plan for
the last page's ids in the default order. It exits 1 when a last/first ratio misses the target.

The database (default ``duikou_bench``, bench/project_list.py's) is created when missing, migrated, and filled with
``generate_projects --projects N`` unless it already holds exactly N synthetic projects and nothing else; then
VACUUM ANALYZE. ``--reuse`` takes the database as it is.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import project_list as base  # noqa: E402  (bench/project_list.py: the database, the settings, the caller)

API = "/api/v1/projects/"
HTML = "/projects/"
TARGET = 1.5


def parse_args() -> argparse.Namespace:
    return base.interleaved_arguments(
        __doc__.split("\n\n")[0],
        os.environ.get("BENCH_DATABASE_URL", base.DEFAULT_URL),
        target=TARGET,
        target_help="The last/first to meet",
    ).parse_args()


def last_page_plan(user: object) -> str:
    """PostgreSQL's plan (run) for the ids of the last page in the default order, as the API reads them."""
    from django.db import connection

    from projects import keyset, selectors

    terms = keyset.terms_of(["-created_at", "-id"])
    rows = selectors.project_list_rows(user).order_by(*keyset.order_by(terms, reverse=True))  # type: ignore[arg-type]
    sql, params = rows.values("pk")[:51].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}", params)
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
    user, token = base.coordinator_token()
    api = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST=base.HOST)
    html = Client(HTTP_HOST=base.HOST)
    html.force_login(user)

    requests: dict[str, tuple[Client, str, dict[str, str | int]]] = {
        "A1": (api, API, {"page_size": 50, "cursor": "first"}),
        "AL": (api, API, {"page_size": 50, "cursor": "last"}),
        "B1": (api, API, {"page_size": 50, "cursor": "first", "ordering": "-planned_start"}),
        "BL": (api, API, {"page_size": 50, "cursor": "last", "ordering": "-planned_start"}),
        "P1": (api, API, {"page_size": 50, "page": 1}),
        "P1000": (api, API, {"page_size": 50, "page": 1000}),
        "H1": (html, HTML, {}),
        "HL": (html, HTML, {"cursor": "last"}),
    }

    def get(key: str) -> bytes:
        client, path, params = requests[key]
        response = client.get(path, params, secure=True)
        if response.status_code != 200:
            raise SystemExit(f"GET {path} {params}: {response.status_code} {response.content[:500]!r}")
        return response.content

    import json

    total = json.loads(get("A1"))["count"]
    last = json.loads(get("AL"))["results"]
    print(f"{total} projects in the coordinator's scope; the last page holds {len(last)}.")
    for _ in range(args.warmup):
        for key in requests:
            get(key)

    times: dict[str, list[float]] = {key: [] for key in requests}
    load_before = os.getloadavg()[0]
    for _ in range(args.passes):
        for key in requests:
            t0 = time.perf_counter()
            get(key)
            times[key].append(time.perf_counter() - t0)
    load_after = os.getloadavg()[0]

    def p50(key: str) -> float:
        return statistics.median(times[key])

    def p90(key: str) -> float:
        return statistics.quantiles(times[key], n=10)[-1]

    labels = {
        "A1": "API cursor=first",
        "AL": "API cursor=last",
        "B1": "API cursor=first, ordering=-planned_start",
        "BL": "API cursor=last, ordering=-planned_start",
        "P1": "API page=1",
        "P1000": "API page=1000",
        "H1": "HTML first page",
        "HL": "HTML cursor=last",
    }
    print(f"Load average: {load_before:.2f} before, {load_after:.2f} after ({args.passes} passes).")
    for key, label in labels.items():
        print(f"({key:>5}) {label:<44} p50 {p50(key) * 1000:8.2f} ms   p90 {p90(key) * 1000:8.2f} ms")
    ratios = {"API last/first": p50("AL") / p50("A1"), "API (nullable order) last/first": p50("BL") / p50("B1")}
    ratios["HTML last/first"] = p50("HL") / p50("H1")
    for name, ratio in ratios.items():
        print(f"{name} = {ratio:.2f} (target ≤ {args.target})")
    print(f"API page=1000 / page=1 = {p50('P1000') / p50('P1'):.2f} (pages by number, for comparison)")
    if connection.vendor == "postgresql":
        print("Plan of the last page's ids (default order):\n" + last_page_plan(user))
    if any(ratio > args.target for ratio in ratios.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
