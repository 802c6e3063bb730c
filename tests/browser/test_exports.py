"""From the pages, as officials do it: a scorecard, a ranking and a project dossier made as PDF (in the background,
the exports page shows them ready) and downloaded — Chinese text that pdftotext reads back; and a list exported
with the filters in force, the spreadsheet downloaded from the Export button."""

import io
import re
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from evaluation import services as evaluation_services
from evaluation.models import PairingScorecard, RunStatus
from exchange.models import Export, ExportStatus
from tests.browser.conftest import shot
from tests.browser.test_evaluation_walk import YEAR, open_as, programme  # noqa: F401 — fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pdf_text(path: Path) -> str:
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True)
    return done.stdout


def make_pdf(page, button: str, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    """Press the page's PDF BUTTON, wait on the exports page for the file, download it and return its text."""
    before = set(Export.objects.values_list("pk", flat=True))
    page.locator(f"{button} button").click()
    expect(page).to_have_url(re.compile(r"/exchange/exports/$"))
    export = Export.objects.exclude(pk__in=before).get()
    row = page.locator(f"#export-{export.pk}")
    expect(row.get_by_role("link")).to_be_visible(timeout=30_000)
    with page.expect_download() as info:
        row.get_by_role("link").click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert target.read_bytes().startswith(b"%PDF")
    return pdf_text(target)


def test_scorecard_ranking_and_dossier_as_pdf_and_a_list_as_excel(world, pw, programme, open_as, tmp_path):  # noqa: F811
    run, _created = evaluation_services.run_start(program=pw.program, year=YEAR, by=world.coordinator)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    card = PairingScorecard.objects.get(run=run, pairing=pw.shufu)
    project = programme["accepted"][pw.shufu.pk][0]

    boss = open_as(world.coordinator, "zh-hans")
    boss.goto(boss.base_url + f"/evaluation/scorecards/{card.pk}/")
    text = make_pdf(boss, "#pdf-scorecard", tmp_path)
    assert "疏附县" in text
    assert f"{card.score:.1f}" in text
    shot(boss, "exports-01-ready.zh-hans")

    boss.goto(boss.base_url + f"/evaluation/rankings/?program={pw.program.code}&year={YEAR}")
    text = make_pdf(boss, "#pdf-ranking", tmp_path)
    assert "广东省人民政府" in text
    assert "江苏省人民政府" in text

    officer = open_as(world.assisting, "en")
    officer.goto(officer.base_url + f"/projects/{project.pk}/")
    text = make_pdf(officer, "#pdf-project", tmp_path)
    assert project.title in text  # a Chinese title, in an English dossier
    assert project.code in text

    # The pairing list, exported from its page with a filter in force, as a spreadsheet.
    officer.goto(officer.base_url + "/pairings/?status=active")
    with officer.expect_download() as info:
        officer.locator("#export-pairings button").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(Path(download.path()).read_bytes()), read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "ID"
    assert {row[0] for row in rows[1:]} == {pw.shufu.pk}  # the officer's scope: Guangdong's pairing
    assert Export.objects.filter(created_by=world.assisting, status=ExportStatus.DONE).count() == 2
    assert boss.console_errors == []
    assert officer.console_errors == []
