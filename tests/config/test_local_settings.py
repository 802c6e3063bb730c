"""`make run`'s settings serve as officials see Duikou: no debug pages unless asked (`make dev`), so an unknown API
path is the API's JSON error and a page out of scope is the friendly 404, in the page's language."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]


def debug_with(env: dict[str, str]) -> bool:
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    base = {k: v for k, v in os.environ.items() if k not in ("DJANGO_DEBUG", "DATABASE_URL")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings.local", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1] == "True"


def test_make_run_has_no_debug_pages_and_make_dev_has():
    assert debug_with({}) is False
    assert debug_with({"DJANGO_DEBUG": "true"}) is True
    makefile = (ROOT / "Makefile").read_text()
    assert "DJANGO_DEBUG=true $(MAKE) --no-print-directory run" in makefile


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_an_unknown_path_answers_in_the_callers_terms(world, language):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(world.outsider)
    api = client.get("/api/v1/nothing/")
    assert api.status_code == 404
    assert api["Content-Type"].startswith("application/json")
    assert api.json()["errors"][0]["code"] == "not_found"
    page = client.get("/no-such-page/")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert "URLconf" not in html  # not Django's technical page with the URL map
    assert f'lang="{language}"' in html
