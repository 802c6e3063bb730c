"""bench/serve.py end to end on a small data set, so that the benchmark cannot rot: it starts gunicorn, loads a few
pages with wrk, replays their SQL with pgbench, times them alone in process, and writes its figures as JSON.

One-second runs on 60 projects prove that every part of it works, not how fast anything is (`--smoke` never exits 1
for a missed target). The server runs `config.settings.test` on this test's committed database: the production
settings would collect and compress the static files first, which takes minutes on two cores."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]

BENCH = Path(__file__).resolve().parents[2] / "bench" / "serve.py"
PAGES = ["healthz", "api-projects", "api-project", "api-pairing", "home", "projects", "pairing"]


def test_the_serve_benchmark_measures_pages_served_alone_and_their_sql_alone(tmp_path):
    for tool in ("wrk", "pgbench"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed: `apt-get install wrk postgresql-client` (.ci/run installs it).")
    call_command("generate_projects", "--projects", "60", "--seed", "4", verbosity=0)
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    url = f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    out = tmp_path / "serve.json"
    command = [sys.executable, str(BENCH), "--reuse", "--smoke", "--database-url", url, "--json-out", str(out)]
    command += ["--settings", "config.settings.test", "--cache-url", "locmem://", "--pages", ",".join(PAGES[2:])]
    done = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ), timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    rows = {row["page"]: row for row in json.loads(out.read_text())["pages"]}
    assert list(rows) == PAGES
    for row in rows.values():
        assert row["requests"] > 0, row
        assert row["served_rps"] > 0, row
        assert row["errors"] == 0, row
        assert 0 < row["p50_ms"] <= row["p99_ms"], row
        assert row["sql_tps"] > 0, row
        assert (row["sql_failed"], row["sql_note"]) == (0, ""), row
        assert row["alone_ms"] > 0, row
        assert row["queries"] >= 1, row
    assert rows["api-projects"]["alone_ratio"] == 1
    assert rows["home"]["alone_target"] == 2
    assert rows["projects"]["alone_target"] == 3
    assert "served/s" in done.stdout
    assert "Load average" in done.stdout


def test_alone_only_times_the_pages_in_process_and_starts_no_server(tmp_path):
    call_command("generate_projects", "--projects", "60", "--seed", "4", verbosity=0)
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    url = f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    out = tmp_path / "alone.json"
    command = [sys.executable, str(BENCH), "--reuse", "--smoke", "--alone-only", "--database-url", url]
    command += ["--json-out", str(out), "--settings", "config.settings.test", "--cache-url", "locmem://"]
    command += ["--pages", ",".join(PAGES[2:])]
    done = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ), timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    rows = {row["page"]: row for row in json.loads(out.read_text())["pages"]}
    assert list(rows) == PAGES
    for row in rows.values():
        assert row["alone_ms"] > 0, row
        assert row["queries"] >= 1, row
        assert (row["served_rps"], row["sql_tps"], row["requests"]) == (None, None, 0), row
    assert "gunicorn" not in done.stdout
    assert "pages alone in process" in done.stdout
