#!/usr/bin/env python
"""The duplicate check (projects/duplicates.py) against the project list API's first page, at 100 000 projects.

    .venv/bin/python bench/duplicates.py --projects 100000        (or: make bench-duplicates)

One run requests in process (`django.test.Client`, no socket), the whole request counted, as a national
coordinator with a knox token (who sees every match in full: the most work), after a warm-up, interleaved in each of
``--passes`` passes so that a change in the machine's load hits them alike:

P1  ``GET /api/v1/projects/?page_size=50``: the list API's page 1, the yardstick;
S   ``GET /api/v1/projects/{id}/similar/`` for projects of the most crowded counties (``--sample`` of them, one per
    pass in turn): the check a project page, a submit and an approval run;
C   the check of a stored project as a submit or an approval runs it (``with_similar``: its compared columns
    read, then ``similar_for`` counting the matches the caller sees, those hidden and those confirmed) — a
    function call, no request;
F   the check of a form not saved yet (``similar_for`` on the fields of a new project titled like one of the
    county's), as the create form runs it before it saves — a function call, no request.

It prints the medians and p90 in ms, the ratios C/P1 and F/P1 (target ≤ 1.0: the check costs at most the list's
first page) and S/P1 (the endpoint as served, for information), how many candidates the sampled counties hold, and (``--scan``) the time of the portfolio's scan, the
Celery task's own code run in this process, with the pairs it stored. It exits 1 when a ratio misses the target.

The database (default ``duikou_dup_bench``) is created when missing, migrated, and filled with
``generate_projects --projects N --replace`` unless it already holds exactly N synthetic projects and nothing else
(bench/project_list.py's preparation); then VACUUM ANALYZE. ``--reuse`` takes the database as it is.
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

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/duikou_dup_bench"
LIST = "/api/v1/projects/"
TARGET = 1.0


def parse_args() -> argparse.Namespace:
    p = base.interleaved_arguments(
        __doc__.split("\n\n")[0],
        os.environ.get("BENCH_DUPLICATES_DATABASE_URL", DEFAULT_URL),
        target=TARGET,
        target_help="The ratio to meet",
    )
    p.add_argument("--sample", type=int, default=10, help="Projects of the most crowded counties to check.")
    p.add_argument("--scan", action="store_true", help="Also time the portfolio's scan (the Celery task's code).")
    p.add_argument("--json", action="store_true", help="End with the figures as one line of JSON.")
    return p.parse_args()


def crowded_projects(n: int) -> list[int]:
    """N projects (not cancelled or rejected) of the counties holding the most projects, one per county in turn."""
    from django.db.models import Count

    from projects.duplicates import EXCLUDED_STATES
    from projects.models import Project

    live = Project.objects.exclude(state__in=EXCLUDED_STATES).filter(location__isnull=False)
    counties = [
        row["location_id"]
        for row in live.values("location_id").annotate(n=Count("id")).order_by("-n", "location_id")[: max(n, 1)]
    ]
    ids = []
    for i, location in enumerate(counties[:n]):
        newest = list(live.filter(location_id=location).order_by("-id").values_list("pk", flat=True)[:3])
        ids.append(newest[i % len(newest)])
    return ids


def main() -> None:
    args = parse_args()
    if not args.reuse:
        base.ensure_database(args.database_url)
    base.setup_django(args)  # type: ignore[arg-type]

    from django.db import connection
    from django.test import Client

    if not args.reuse:
        base.prepare_data(args)  # type: ignore[arg-type]
        base.vacuum_analyze("projects_project", "pairings_pairing", "core_region", "projects_duplicatedismissal")
    user, token = base.coordinator_token()
    api = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST=base.HOST)

    from projects import duplicates
    from projects.models import Project

    sample = crowded_projects(args.sample)
    projects = {p.pk: p for p in Project.objects.select_related("location").filter(pk__in=sample)}
    candidates = [
        Project.objects.filter(location_id=projects[pk].location_id)
        .exclude(state__in=duplicates.EXCLUDED_STATES)
        .count()
        for pk in sample
    ]
    forms = [
        duplicates.subject_from(
            {
                "title": projects[pk].title + "（二期）",
                "location": projects[pk].location,
                "sector": projects[pk].sector,
                "planned_start": projects[pk].planned_start,
                "planned_end": projects[pk].planned_end,
            }
        )
        for pk in sample
    ]

    def get(path: str, params: dict[str, str | int]) -> bytes:
        response = api.get(path, params, secure=True)
        if response.status_code != 200:
            raise SystemExit(f"GET {path} {params}: {response.status_code} {response.content[:500]!r}")
        return response.content

    import json

    found = [json.loads(get(f"{LIST}{pk}/similar/", {}))["count"] for pk in sample]
    print(
        f"{len(sample)} projects of the {len(sample)} most crowded counties: {min(candidates)}–{max(candidates)} "
        f"projects at each one's place, {min(found)}–{max(found)} similar ones found."
    )

    def run(key: str, i: int) -> None:
        if key == "P1":
            get(LIST, {"page_size": 50})
        elif key == "S":
            get(f"{LIST}{sample[i % len(sample)]}/similar/", {})
        elif key == "C":
            pk = sample[i % len(sample)]
            stored = Project.objects.select_related("location").only(*duplicates.COMPARED_COLUMNS).get(pk=pk)
            duplicates.similar_for(user, duplicates.subject_of(stored), limit=0)
        else:
            duplicates.similar_for(user, forms[i % len(forms)])

    keys = ("P1", "S", "C", "F")
    for i in range(args.warmup):
        for key in keys:
            run(key, i)
    times: dict[str, list[float]] = {key: [] for key in keys}
    load_before = os.getloadavg()[0]
    for i in range(args.passes):
        for key in keys:
            t0 = time.perf_counter()
            run(key, i)
            times[key].append(time.perf_counter() - t0)
    load_after = os.getloadavg()[0]

    def p50(key: str) -> float:
        return statistics.median(times[key])

    def p90(key: str) -> float:
        return statistics.quantiles(times[key], n=10)[-1]

    labels = {
        "P1": "API projects page=1 (page_size=50)",
        "S": "API projects/{id}/similar/",
        "C": "the check on submit (function)",
        "F": "the create form's check (function)",
    }
    print(f"Load average: {load_before:.2f} before, {load_after:.2f} after ({args.passes} passes).")
    for key, label in labels.items():
        print(f"({key:>2}) {label:<40} p50 {p50(key) * 1000:8.2f} ms   p90 {p90(key) * 1000:8.2f} ms")
    ratios = {"submit check / list page 1": p50("C") / p50("P1"), "form check / list page 1": p50("F") / p50("P1")}
    for name, ratio in ratios.items():
        print(f"{name} = {ratio:.2f} (target ≤ {args.target})")
    print(f"similar/ as served / list page 1 = {p50('S') / p50('P1'):.2f} (for information)")

    figures: dict[str, object] = {
        "projects": Project.objects.count(),
        "sample": len(sample),
        "found": found,
        **{f"{key.lower()}_ms": round(p50(key) * 1000, 3) for key in keys},
    }
    if args.scan:
        from projects.models import SuspectedDuplicate
        from projects.tasks import scan_duplicates

        t0 = time.perf_counter()
        result = scan_duplicates.apply().get()
        took = time.perf_counter() - t0
        print(f"Portfolio scan (the Celery task's code, in process): {took:.1f} s, {result}")
        print(f"Suspected pairs stored: {SuspectedDuplicate.objects.count()}")
        figures |= {"scan_s": round(took, 3), "pairs": result["pairs"]}
    if args.json:
        print(json.dumps(figures))
    if connection.vendor != "postgresql":
        print("(not PostgreSQL: figures not comparable)")
    if any(ratio > args.target for ratio in ratios.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
