#!/usr/bin/env python
"""Exports in bounded memory: the project list written to XLSX and CSV at 10 000 and at 100 000 rows.

    .venv/bin/python bench/exports.py --projects 100000        (or: make bench-exports)

Each measurement runs in a fresh Python process (so that one export's memory cannot hide in another's): it sets
Django up on the production settings, reads the national coordinator's project list (newest first, the first
ROWS rows) and writes it with the export code the Celery task runs (`exchange.exports.WRITERS`, streaming rows a
chunk at a time into openpyxl's write-only workbook or the CSV writer) to a temporary file. It reports the wall
time, the resident memory before the export started (Django, the settings and the connection loaded) and the peak
resident memory of the whole process (VmHWM: see `peak_kb`).

Target (#12): peak RSS at 100 000 rows ≤ 1.5 × peak RSS at 10 000 rows, for each format. The growth over the
baseline (peak − before) is printed too, which is the export's own memory.

The database (default ``duikou_bench``, shared with bench/project_list.py) is created, migrated and filled with
``generate_projects --projects N`` when it does not hold exactly N synthetic projects.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.project_list import DEFAULT_URL, ensure_database, prepare_data, setup_django  # noqa: E402

TARGET = 1.5


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--projects", type=int, default=100_000, help="Size of the data set (default 100000).")
    p.add_argument("--small", type=int, default=10_000, help="Rows of the small export (default 10000).")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    p.add_argument("--settings", default="config.settings.production")
    p.add_argument("--formats", default="xlsx,csv")
    p.add_argument("--regenerate", action="store_true")
    # The child process: one export, its figures as JSON on stdout.
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    p.add_argument("--format", help=argparse.SUPPRESS)
    return p.parse_args()


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    return 0


def rss_kb() -> int:
    """The resident memory of this process now (kB)."""
    return _status_kb("VmRSS")


def peak_kb() -> int:
    """The peak resident memory of this process (kB): the kernel's high-water mark of this process's memory map.
    Not `getrusage(...).ru_maxrss`, which on Linux keeps the high-water mark from before `exec` — the forked copy
    of the parent — so that every child would report at least the parent's size."""
    return _status_kb("VmHWM")


def child(args: argparse.Namespace) -> None:
    setup_django(args)
    from django.db import connection
    from django.utils import translation

    from bench.project_list import coordinator_token
    from exchange import exports

    user, _token = coordinator_token()
    translation.activate("zh-hans")
    source = exports.Source(exports.LISTS["projects"], user, {})
    source.queryset = source.queryset[: args.rows]
    source.total = args.rows
    connection.ensure_connection()
    before = rss_kb()
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        written = exports.WRITERS[args.format](source, out, None)
        size = out.tell()
    seconds = time.perf_counter() - started
    peak = peak_kb()
    print(json.dumps({"rows": written, "seconds": seconds, "before_kb": before, "peak_kb": peak, "bytes": size}))


def child_task(args: argparse.Namespace) -> None:
    """The whole list through the Celery task's code (`make_export`, run in this process), as a user's export of
    more than EXPORT_SYNC_ROWS rows runs: the Export record, progress counted as rows are written, the file stored."""
    setup_django(args)
    from django.utils import translation

    from bench.project_list import coordinator_token
    from exchange import services
    from exchange.models import Export
    from exchange.tasks import make_export

    user, _token = coordinator_token()
    translation.activate("zh-hans")
    before = rss_kb()
    started = time.perf_counter()
    # The request's part: check the filters, count the rows and queue the task (kept from running here, as Celery
    # is eager without a broker), then the worker's part: the task itself.
    with mock.patch.object(make_export, "delay"):
        export = services.export_create(by=user, kind="projects", format=args.format)
    queued = time.perf_counter() - started
    make_export.apply(args=[export.pk])
    seconds = time.perf_counter() - started
    export = Export.objects.get(pk=export.pk)
    peak = peak_kb()
    size = export.file.size if export.file else 0
    export.file.delete(save=False)
    Export.objects.filter(pk=export.pk).delete()
    print(
        json.dumps(
            {
                "rows": export.done,
                "total": export.total,
                "status": export.status,
                "queued_seconds": queued,
                "seconds": seconds,
                "before_kb": before,
                "peak_kb": peak,
                "bytes": size,
            }
        )
    )


def measure(args: argparse.Namespace, rows: int, fmt: str) -> dict:
    command = [
        sys.executable,
        __file__,
        "--child",
        "--rows",
        str(rows),
        "--format",
        fmt,
        "--database-url",
        args.database_url,
        "--settings",
        args.settings,
    ]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    args = parse_args()
    if args.child:
        child_task(args) if args.rows == 0 else child(args)
        return
    ensure_database(args.database_url)
    setup_django(args)
    prepare_data(args)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) projects_project")
    connection.close()
    print(f"Export of the project list, {args.small} and {args.projects} rows, each in a fresh process")
    print(
        f"{'format':<6} {'rows':>8} {'time s':>8} {'rows/s':>8} {'before MB':>10} {'peak MB':>8} {'growth MB':>10} {'file MB':>8}"
    )
    failed = False
    for fmt in args.formats.split(","):
        results = [measure(args, rows, fmt) for rows in (args.small, args.projects)]
        for r in results:
            print(
                f"{fmt:<6} {r['rows']:>8} {r['seconds']:>8.1f} {r['rows'] / r['seconds']:>8.0f} "
                f"{r['before_kb'] / 1024:>10.1f} {r['peak_kb'] / 1024:>8.1f} "
                f"{(r['peak_kb'] - r['before_kb']) / 1024:>10.1f} {r['bytes'] / 1e6:>8.1f}"
            )
        small, large = results
        ratio = large["peak_kb"] / small["peak_kb"]
        ok = ratio <= TARGET
        failed |= not ok
        task = measure(args, 0, fmt)
        print(
            f"{fmt:<6} {task['rows']:>8} {task['seconds']:>8.1f} {task['rows'] / task['seconds']:>8.0f} "
            f"{task['before_kb'] / 1024:>10.1f} {task['peak_kb'] / 1024:>8.1f} "
            f"{(task['peak_kb'] - task['before_kb']) / 1024:>10.1f} {task['bytes'] / 1e6:>8.1f}  "
            f"(the Celery task, whole list: {task['status']}, progress {task['rows']}/{task['total']}, "
            f"queued in {task['queued_seconds'] * 1000:.0f} ms)"
        )
        print(
            f"{fmt}: peak RSS at {args.projects} rows / at {args.small} rows = {ratio:.2f} (target ≤ {TARGET}) {'met' if ok else 'NOT MET'}"
        )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
