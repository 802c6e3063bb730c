"""bench/exports.py on a small data set, so that the benchmark cannot rot: its child process writes the first rows
of the project list with the export writers, and the whole list through the Celery task's code, and reports the
figures the benchmark compares."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from exchange.models import Export

BENCH = Path(__file__).resolve().parents[2] / "bench" / "exports.py"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_export_benchmark_measures_a_slice_and_the_task(fmt):
    call_command("generate_projects", "--projects", "60", "--seed", "4", verbosity=0)
    settings = connection.settings_dict
    url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    env = {**os.environ, "DJANGO_SECRET_KEY": "x" * 60}

    def child(rows: int) -> dict:
        command = [sys.executable, str(BENCH), "--child", "--rows", str(rows), "--format", fmt]
        command += ["--database-url", url, "--settings", "config.settings.test"]
        done = subprocess.run(command, check=True, capture_output=True, text=True, env=env, timeout=300)
        return json.loads(done.stdout.strip().splitlines()[-1])

    part = child(25)
    assert part["rows"] == 25
    assert part["peak_kb"] >= part["before_kb"] > 0
    assert part["bytes"] > 0
    whole = child(0)
    assert whole["status"] == "done"
    assert whole["rows"] == whole["total"] == 60
    assert not Export.objects.exists()  # the benchmark leaves nothing behind
