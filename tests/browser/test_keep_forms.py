"""Switching language on a half-filled form keeps what was typed (static/duikou/keep-forms.js)."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_login_and_language import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_switching_language_keeps_a_half_filled_project_form(page, world, pw):
    world.assisting.preferred_language = "zh-hans"
    world.assisting.save(update_fields=["preferred_language"])
    sign_in(page, world.assisting.username)
    page.goto(page.base_url + "/projects/new/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.fill("input[name=title]", "疏附县第二幼儿园")
    page.fill("input[name=budget_requested_0]", "816")
    page.select_option("select[name=budget_requested_1]", "wan")
    page.select_option("select[name=category]", "infrastructure")
    page.fill("textarea[name=description]", "新建教学楼一栋")

    page.locator("button[data-language=en]").click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("input[name=title]")).to_have_value("疏附县第二幼儿园")
    expect(page.locator("input[name=budget_requested_0]")).to_have_value("816")
    expect(page.locator("select[name=budget_requested_1]")).to_have_value("wan")
    expect(page.locator("select[name=category]")).to_have_value("infrastructure")
    expect(page.locator("textarea[name=description]")).to_have_value("新建教学楼一栋")
    # Kept once: a later visit starts empty.
    page.goto(page.base_url + "/projects/new/")
    expect(page.locator("input[name=title]")).to_have_value("")
    assert page.console_errors == []
