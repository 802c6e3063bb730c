"""Typing a place on the project form: "疏附", "shufu" or its initials "sfx" offers 疏附县 (653121), and choosing it saves the
draft there."""

import re

import pytest
from playwright.sync_api import expect

from projects.models import Project
from tests.browser.test_login_and_language import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("typed", ["疏附", "shufu", "sfx", "Shu Fu"])
def test_the_location_picker_offers_shufu_county(page, world, pw, typed):
    sign_in(page, world.assisting.username)
    page.goto(page.base_url + "/projects/new/")
    page.fill("input[name=title]", "疏附县第二幼儿园")
    page.select_option("select[name=pairing]", str(pw.shufu.pk))
    page.locator("input[name=location]").press_sequentially(typed, delay=30)
    options = page.locator("#id_location-options option")
    expect(options.first).to_have_attribute("value", "653121", timeout=5000)
    expect(options.first).to_contain_text("疏附县")
    # Choosing an option puts its code in the field; the form saves the draft at that place.
    page.fill("input[name=location]", "653121")
    page.locator("#record-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/projects/\d+/$"))
    assert Project.objects.get(title="疏附县第二幼儿园").location == world.shufu
    assert page.console_errors == []
