"""The reference data as an official reading Chinese sees it: the programme, pairing and scorecard pages hold no
English working note. The check reads the page's visible text, leaves out what may be in another language — a
cited title (`<cite lang>`), codes, numbers and the Latin-script names of things (XPCC, IATI) — and fails on any
run of four or more English words, which is a sentence or a label that was never translated."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.models import User
from evaluation.models import PairingScorecard
from pairings import services as pairing_services
from pairings.models import Pairing, Program
from pairings.reference import WENCHUAN, XINJIANG, XIZANG
from tests.browser.conftest import shot
from tests.browser.test_login_and_language import sign_in
from tests.evaluation.conftest_engine import run_now

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: Four or more Latin words in a row (a sentence, or a label left in English).
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’]*(?:[ ,:;()\-–/]+[A-Za-z][A-Za-z'’]*){3,}")

VISIBLE_TEXT_WITHOUT_CITATIONS = """
() => {
  const root = document.querySelector("main") || document.body;
  const copy = root.cloneNode(true);
  copy.querySelectorAll("cite, code, script, style, [hidden], .visually-hidden").forEach(e => e.remove());
  return copy.innerText;
}
"""


def english_runs(page) -> list[str]:  # type: ignore[no-untyped-def]
    return ENGLISH_RUN.findall(page.evaluate(VISIBLE_TEXT_WITHOUT_CITATIONS))


@pytest.fixture
def reference_world(db, django_capture_on_commit_callbacks) -> dict[str, object]:
    call_command("load_regions", verbosity=0)
    call_command("load_programs", verbosity=0)
    call_command("seed_demo", verbosity=0)
    coordinator = User.objects.get(username="national_coordinator")
    coordinator.preferred_language = "zh-hans"
    coordinator.save(update_fields=["preferred_language"])
    # A mandate under the unverified Xinjiang rule and a run, so that the scorecard has figures and flags to show.
    shufu = Pairing.objects.get(program__code=XINJIANG, recipient_region__code="653121")
    pairing_services.fiscal_revenue_record(
        by=None, organization=shufu.assisting_organization, year=2010, amount=Decimal("450000000000")
    )
    pairing_services.mandate_compute(by=None, pairing=shufu, year=2015)
    pairing_services.fund_flow_record(
        by=None,
        pairing=shufu,
        kind="disbursement",
        amount=Decimal("5000000"),
        date=dt.date(2015, 6, 1),
        source="assisting_fiscal",
    )
    run = run_now(
        django_capture_on_commit_callbacks,
        program=Program.objects.get(code=XINJIANG),
        year=2015,
        by=coordinator,
        as_of=dt.date(2016, 3, 1),
    )
    card = PairingScorecard.objects.filter(run=run, pairing=shufu).first()
    return {"shufu": shufu, "card": card}


def test_programme_pairing_and_scorecard_pages_hold_no_english_working_notes_in_chinese(page, reference_world):
    sign_in(page, "national_coordinator")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    pages = [f"/programmes/{code}/" for code in (WENCHUAN, XINJIANG, XIZANG)]
    picks = [
        Pairing.objects.get(program__code=WENCHUAN, recipient_region__code="513221"),  # Guangdong → Wenchuan
        Pairing.objects.get(program__code=WENCHUAN, recipient_region__code="620000"),  # Shenzhen → Gansu areas
        reference_world["shufu"],
        Pairing.objects.get(program__code=XINJIANG, recipient_region__code="XPCC-14"),  # Beijing → 14th division
        Pairing.objects.filter(program__code=XIZANG, covers_unsourced=True).first(),  # counties not sourced
        Pairing.objects.filter(program__code=XIZANG, evidence="secondary").first(),
    ]
    pages += [f"/pairings/{p.pk}/" for p in picks]
    card = reference_world["card"]
    assert card is not None, "the run should score Guangdong → Shufu"
    pages.append(f"/evaluation/scorecards/{card.pk}/")
    found: dict[str, list[str]] = {}
    for number, path in enumerate(pages):
        response = page.goto(page.base_url + path)
        assert response is not None, path
        assert response.status == 200, path
        runs = english_runs(page)
        if runs:
            found[path] = runs
        shot(page, f"reference-zh-{number}")
    assert found == {}, f"English text on Chinese pages: {found}"
    # The scorecard says its mandate rests on the unverified Xinjiang rule.
    page.goto(page.base_url + f"/evaluation/scorecards/{card.pk}/")
    expect(page.locator("#card-unverified")).to_contain_text("未核实")
    # The sources are shown as cited titles in their own language.
    page.goto(page.base_url + f"/programmes/{WENCHUAN}/")
    expect(page.locator("cite[lang=zh]").first).to_contain_text("汶川地震灾后恢复重建对口支援方案")
    assert not page.console_errors  # type: ignore[attr-defined]


def test_the_check_catches_an_english_sentence(page, live_server, db):
    """The check itself can fail: an English sentence outside a citation is found, one inside is not."""
    page.set_content(
        "<main><p>对口支援 <cite lang='en'>Xinjiang takes a leaf out of Sichuan's book</cite> 2010年</p>"
        "<p>No day in facts.md, so 2010-03-01 is used</p><p>XPCC 653121 CNY</p></main>"
    )
    runs = english_runs(page)
    assert runs
    assert runs[0].startswith("No day in facts")
    assert not any("Sichuan" in run for run in runs)
