"""bench/duplicates.py on a small data set, so that the benchmark cannot rot: it requests the list's first page and
the similar projects of the most crowded counties, runs the check as a submit and a create form run it, and the
portfolio's scan through the Celery task's code, and reports the figures it compares."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from projects.models import Project, SuspectedDuplicate

BENCH = Path(__file__).resolve().parents[2] / "bench" / "duplicates.py"


@pytest.mark.django_db(transaction=True)
def test_the_duplicates_benchmark_measures_the_check_against_the_lists_first_page():
    call_command("generate_projects", "--projects", "400", "--seed", "5", verbosity=0)
    settings = connection.settings_dict
    url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    env = {**os.environ, "DJANGO_SECRET_KEY": "x" * 60}
    command = [sys.executable, str(BENCH), "--reuse", "--json", "--passes", "3", "--warmup", "1", "--target", "1000"]
    command += ["--database-url", url, "--settings", "config.settings.test", "--sample", "3", "--scan"]
    done = subprocess.run(command, check=False, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["projects"] == Project.objects.count() == 400
    assert figures["sample"] == 3
    for key in ("p1_ms", "s_ms", "c_ms", "f_ms"):
        assert figures[key] > 0, key
    # The scan stored what it found (the synthetic titles repeat within a county: there are pairs).
    assert figures["pairs"] == SuspectedDuplicate.objects.count() > 0
    assert "submit check / list page 1" in done.stdout
