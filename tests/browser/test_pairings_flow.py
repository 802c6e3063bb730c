"""In the browser: the national coordinator creates a pairing; the assisting officer records Guangdong's
revenue, computes the mandate and records a commitment and a disbursement, and sees fulfilment move."""

import re

import pytest
from playwright.sync_api import expect

from pairings import services
from pairings.models import FundFlow, Pairing
from tests.browser.conftest import shot
from tests.browser.test_login_and_language import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def program(world):
    program = services.program_create(
        by=None,
        code="xinjiang-2010",
        name="对口援疆",
        name_en="Xinjiang paired assistance",
        model="development",
        start_year=2011,
        end_year=2020,
    )
    services.funding_rule_set(
        by=None, program=program, basis="fiscal_revenue", rate="0.005", escalation="0.08", escalation_years=4
    )
    return program


def test_coordinator_creates_a_pairing_and_officer_records_flows_until_fulfilment_moves(
    page, world, program, browser, live_server
):
    world.coordinator.preferred_language = "en"
    world.coordinator.save()
    sign_in(page, "coord")
    page.goto(page.base_url + "/pairings/")
    page.locator("#new-pairing").click()
    page.select_option("select[name=program]", label="Xinjiang paired assistance")
    page.select_option("select[name=assisting_organization]", label="Guangdong")
    page.fill("input[name=recipient_region]", "999999")  # a code that does not exist
    page.fill("input[name=start_date]", "2010-06-01")
    page.get_by_role("button", name="Save").click()
    # The page says what is wrong on the field and keeps what was typed.
    expect(page.locator("#id_recipient_region_errors")).to_contain_text("999999")
    expect(page.locator("input[name=start_date]")).to_have_value("2010-06-01")
    page.fill("input[name=recipient_region]", "653121")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#pairing-title")).to_have_text("Guangdong → Shufu County")
    pairing = Pairing.objects.get(recipient_region=world.shufu)
    assert pairing.contracting_mode == "diagonal"
    shot(page, "pairing-created.en")

    # The assisting officer, in Chinese: revenue, mandate, commitment, disbursement.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    officer = context.new_page()
    officer.base_url = live_server.url
    world.assisting.preferred_language = "zh-hans"
    world.assisting.save()
    sign_in(officer, "alice")
    officer.goto(officer.base_url + "/fiscal-revenues/")
    officer.select_option("#revenue-form select[name=organization]", label="广东省人民政府")
    officer.fill("#revenue-form input[name=year]", "2010")
    officer.fill("#revenue-form input[name=amount_0]", "427000000000")
    officer.locator("#revenue-form button[type=submit]").click()
    expect(officer.locator(".alert-success")).to_be_visible()

    officer.goto(officer.base_url + f"/pairings/{pairing.pk}/")
    officer.locator("#compute-mandate").click()
    officer.fill("input[name=year]", "2012")
    officer.locator("#record-form button[type=submit]").click()
    expect(officer.locator("#mandates-table tr[data-year='2012']")).to_contain_text("23.06 亿元")

    for kind, amount in (("commitment", "1000000000"), ("disbursement", "1153000000")):
        officer.locator("#record-flow").click()
        officer.select_option("select[name=kind]", kind)
        officer.fill("input[name=amount_0]", amount)
        officer.fill("input[name=date]", "2012-05-01")
        officer.select_option("select[name=source]", "assisting_fiscal")
        officer.locator("#record-form button[type=submit]").click()
        expect(officer.locator(".alert-success")).to_be_visible()

    row = officer.locator("#mandates-table tr[data-year='2012']")
    expect(row.locator(".fulfilment")).to_contain_text("50 %")
    expect(officer.locator("#total-received")).to_have_text(re.compile(r"11\.53 亿元"))
    assert FundFlow.objects.filter(pairing=pairing).count() == 2
    shot(officer, "pairing-flows.zh-hans")
    context.close()
