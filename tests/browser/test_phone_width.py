"""The pages an official opens on a phone, at 390 px, in both languages: the page itself never scrolls sideways (a
wide table scrolls inside its own box; issue #13 found the rankings 1 095 px wide). On the demo's kind of data —
the real programmes and pairings, synthetic projects and a finished evaluation run — and, in Chinese, the pages
that show the demo's own texts (a pairing's trainings and deployments, a project's findings and history) hold no
English sentence (#6's check)."""

import datetime as dt
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.models import User
from evaluation.models import PairingScorecard
from pairings.models import Pairing, Program
from pairings.reference import XINJIANG
from projects.models import Project
from tests.browser.conftest import shot, watch_errors
from tests.browser.test_login_and_language import sign_in
from tests.browser.test_reference_pages_zh import english_runs
from tests.evaluation.conftest_engine import run_now

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
YEAR = 2025


@pytest.fixture
def demo_world(db, django_capture_on_commit_callbacks) -> dict[str, str]:
    call_command("load_regions", verbosity=0)
    call_command("load_programs", verbosity=0)
    call_command("seed_demo", verbosity=0)
    call_command("seed_pairings_demo", verbosity=0)
    call_command("generate_projects", "--projects", "80", verbosity=0)
    coordinator = User.objects.get(username="national_coordinator")
    run = run_now(
        django_capture_on_commit_callbacks,
        program=Program.objects.get(code=XINJIANG),
        year=YEAR,
        by=coordinator,
        as_of=dt.date(2026, 10, 31),
    )
    card = PairingScorecard.objects.filter(run=run).order_by("-score").first()
    assert card is not None, "the run should score a pairing"
    project = (
        Project.objects.filter(inspections__result="failed").order_by("pk").first()
        or Project.objects.order_by("pk").first()
    )
    assert project is not None
    shufu = Pairing.objects.get(program__code=XINJIANG, recipient_region__code="653121")
    return {
        "rankings": f"/evaluation/rankings/?program={XINJIANG}&year={YEAR}",
        "scorecard": f"/evaluation/scorecards/{card.pk}/",
        "run": f"/evaluation/runs/{run.pk}/",
        "projects": "/projects/",
        "project": f"/projects/{project.pk}/",
        "pairing": f"/pairings/{shufu.pk}/",
    }


@pytest.fixture
def phone(browser, live_server) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    pg = context.new_page()
    watch_errors(pg)
    pg.base_url = live_server.url  # type: ignore[attr-defined]
    yield pg
    context.close()


def test_the_pages_fit_a_phone_in_both_languages_and_the_demo_texts_read_in_chinese(phone, demo_world):
    sign_in(phone, "national_coordinator")
    too_wide: dict[str, int] = {}
    english: dict[str, list[str]] = {}
    for language in ("zh-hans", "en"):
        phone.context.add_cookies([{"name": "django_language", "value": language, "url": phone.base_url}])
        for name, path in demo_world.items():
            response = phone.goto(phone.base_url + path)
            assert response is not None, path
            assert response.status == 200, path
            expect(phone.locator("html")).to_have_attribute("lang", language)
            width = phone.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                too_wide[f"{language} {name}"] = width
            if language == "zh-hans" and name in ("pairing", "project", "scorecard", "rankings"):
                runs = english_runs(phone)
                if runs:
                    english[name] = runs
            shot(phone, f"phone-{name}.{language}")
    assert too_wide == {}, f"pages wider than the phone: {too_wide}"
    assert english == {}, f"English text on Chinese pages: {english}"
    # The ranking's table scrolls in its own box, and has rows to scroll.
    phone.goto(phone.base_url + demo_world["rankings"])
    expect(phone.locator("#ranking-table tbody tr[data-organization]").first).to_be_visible()
    assert (
        phone.evaluate(
            "(() => { const t = document.querySelector('#ranking-table').parentElement; "
            "return getComputedStyle(t).overflowX; })()"
        )
        == "auto"
    )
    assert not phone.console_errors  # type: ignore[attr-defined]
