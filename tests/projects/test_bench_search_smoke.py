"""bench/search.py on a small data set, so that the benchmark cannot rot: it requests the project list unfiltered,
searched, and searched with the words' lookups not kept, and reports the figures it compares."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from projects.models import Project

BENCH = Path(__file__).resolve().parents[2] / "bench" / "search.py"


@pytest.mark.django_db(transaction=True)
def test_the_search_benchmark_measures_the_list_searched_and_not():
    call_command("generate_projects", "--projects", "60", "--seed", "4", verbosity=0)
    settings = connection.settings_dict
    url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    env = {**os.environ, "DJANGO_SECRET_KEY": "x" * 60}
    command = [sys.executable, str(BENCH), "--reuse", "--json", "--passes", "3", "--warmup", "1", "--target", "1000"]
    command += ["--database-url", url, "--settings", "config.settings.test", "--search", "幼儿园 疏附"]
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=env, timeout=300)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["projects"] == Project.objects.count() == 60
    assert 0 <= figures["matched"] <= 60
    assert figures["u_ms"] > 0
    assert figures["s_ms"] > 0
    assert figures["c_ms"] > 0
    assert "Plan of the search's count" in done.stdout
