"""In the browser, the hematopoiesis test: the assisting officer (Chinese) records the handover of an accepted
project with its asset register; the recipient officer (English) refuses it with a reason (a refusal without one
is refused, the form kept); the officer records it again, the recipient officer confirms it and files the 2026
operation report; 2025's, missing after that year ended, is flagged on the panel and in the officer's tasks until
it is filed too. Each sees the buttons the policy gives them and nothing else.

Elements are found by id, name and data attributes, never by visible text."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from projects.models import Handover, OperationReport
from tests.browser.conftest import shot
from tests.browser.test_project_walk import open_as  # noqa: F401 — the fixture
from tests.projects.test_handover import accepted  # noqa: F401 — the fixture
from tests.projects.test_views import png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = dt.date(2026, 12, 6)


def test_a_handover_refused_recorded_again_confirmed_and_reported_on(
    world,
    accepted,  # noqa: F811
    open_as,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)
    register = tmp_path / "资产清单.pdf"
    register.write_bytes(b"%PDF-1.4\n% asset register\n%%EOF\n")
    photo = tmp_path / "kindergarten.png"
    photo.write_bytes(png_bytes(16))
    detail = f"/projects/{accepted.pk}/"

    # 1. The assisting officer, in Chinese, records the handover: 1180 typed in 万元.
    alice = open_as(world.assisting, "zh-hans")
    alice.goto(alice.base_url + detail)
    expect(alice.locator("#handover-status")).to_have_attribute("data-status", "none")
    expect(alice.locator("#handover-confirm")).to_have_count(0)
    alice.locator("#handover-record").click()
    alice.fill("#record-form input[name=date]", "2025-09-01")
    alice.select_option("#record-form select[name=receiving_organization]", str(world.shufu_gov.pk))
    alice.fill("#record-form input[name=asset_value_0]", "1180")
    alice.select_option("#record-form select[name=asset_value_1]", "wan")
    alice.set_input_files("#record-form input[name=asset_register_file]", str(register))
    shot(alice, "handover-01-record.zh-hans")
    alice.locator("#record-form button[type=submit]").click()
    expect(alice.locator("#handover-status")).to_have_attribute("data-status", "pending")
    expect(alice.locator("#handover-value")).to_have_attribute("data-amount", "11800000.00")
    expect(alice.locator("#handover-record")).to_have_count(0)

    # 2. The recipient officer, in English, refuses it: first without a reason (refused, kept), then with one.
    bob = open_as(world.recipient, "en")
    bob.goto(bob.base_url + detail)
    expect(bob.locator("#handover-record")).to_have_count(0)
    bob.locator("#handover-refuse").click()
    bob.locator("#record-form button[type=submit]").click()
    expect(bob.locator("#record-form textarea[name=reason]")).to_have_attribute("aria-invalid", "true")
    bob.fill("#record-form textarea[name=reason]", "The register lacks the teaching equipment")
    bob.locator("#record-form button[type=submit]").click()
    expect(bob.locator("#handover-status")).to_have_attribute("data-status", "refused")
    expect(bob.locator("#handover-refusal")).to_contain_text("teaching equipment")

    # 3. Recorded again, from the refused one's values; then confirmed.
    alice.goto(alice.base_url + detail)
    expect(alice.locator("#handover-refusal")).to_be_visible()
    shot(alice, "handover-02-refused.zh-hans")
    alice.locator("#handover-record").click()
    expect(alice.locator("#record-form input[name=date]")).to_have_value("2025-09-01")
    alice.locator("#record-form button[type=submit]").click()
    expect(alice.locator("#handover-status")).to_have_attribute("data-status", "pending")
    assert Handover.objects.get(project=accepted).round == 2

    bob.goto(bob.base_url + detail)
    bob.locator("#handover-confirm").click()
    bob.locator("#record-form button[type=submit]").click()
    expect(bob.locator("#handover-status")).to_have_attribute("data-status", "confirmed")
    # 2025 has ended without its report: flagged on the panel and in the tasks.
    expect(bob.locator("#operation-missing")).to_have_attribute("data-years", "2025")
    bob.goto(bob.base_url + "/projects/tasks/")
    expect(bob.locator(f"a[href='{detail}#handover']").first).to_be_visible()

    # 4. The 2026 report, then 2025's: the flag goes.
    bob.goto(bob.base_url + detail)
    bob.locator("#operation-report-new").click()
    bob.select_option("#record-form select[name=year]", "2026")
    bob.select_option("#record-form select[name=status]", "in_use")
    bob.fill("#record-form input[name=utilisation]", "120")
    bob.fill("#record-form textarea[name=notes]", "Enrolment up")
    bob.locator("#record-form button[type=submit]").click()
    # Refused (over 100 %), what was typed kept.
    expect(bob.locator("#record-form input[name=utilisation]")).to_have_attribute("aria-invalid", "true")
    expect(bob.locator("#record-form textarea[name=notes]")).to_have_value("Enrolment up")
    bob.fill("#record-form input[name=utilisation]", "92")
    bob.fill("#record-form input[name=operating_cost_0]", "18")
    bob.select_option("#record-form select[name=operating_cost_1]", "wan")
    bob.select_option("#record-form select[name=cost_payer]", "recipient_government")
    bob.set_input_files("#record-form input[name=photo_1]", str(photo))
    bob.locator("#record-form button[type=submit]").click()
    expect(bob.locator("#operation-reports tr[data-year='2026']")).to_have_count(1)
    shot(bob, "handover-03-missing-year.en")
    bob.locator("#operation-report-new").click()
    bob.select_option("#record-form select[name=year]", "2025")
    bob.select_option("#record-form select[name=status]", "under_used")
    bob.locator("#record-form button[type=submit]").click()
    expect(bob.locator("#operation-reports tbody tr[data-year]")).to_have_count(2)
    expect(bob.locator("#operation-missing")).to_have_count(0)
    expect(bob.locator("#operation-report-new")).to_have_count(0)  # every year filed
    report = OperationReport.objects.get(project=accepted, year=2026)
    assert (report.utilisation, str(report.operating_cost), report.photos.count()) == (92, "180000.00", 1)
    expect(bob.locator("#timeline")).to_contain_text("Operation report filed")
    shot(bob, "handover-04-confirmed.en")
    assert not alice.console_errors and not bob.console_errors  # noqa: PT018
