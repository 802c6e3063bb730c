"""An official signs in, switches language, and sees the dashboard in both languages."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from tests.browser.conftest import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, username: str, password: str = "duikou-demo") -> None:  # type: ignore[no-untyped-def]
    page.goto(page.base_url + "/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.locator("form button[type=submit]").filter(has_text=re.compile("登录|Sign in")).click()


def test_official_signs_in_switches_language_and_sees_the_dashboard_in_both(page, world):
    world.coordinator.preferred_language = "zh-hans"
    world.coordinator.save()

    page.goto(page.base_url + "/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    sign_in(page, "coord")

    # Chinese first: the user's preferred language.
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_have_text("工作台")
    expect(page.locator("#my-organization")).to_have_text("国家协调办公室")
    expect(page.locator("#stat-organizations")).to_have_text(str(6))
    shot(page, "dashboard.zh-hans")

    page.locator("button[data-language=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.locator("#my-organization")).to_have_text("National office")
    shot(page, "dashboard.en")
    # The choice is remembered for the user, not only in this browser.
    assert User.objects.get(username="coord").preferred_language == "en"

    page.locator("button[data-language=zh-hans]").click()
    expect(page.locator("h1")).to_have_text("工作台")
    assert page.console_errors == []


def test_wrong_password_shows_a_message_on_the_login_page(page, world):
    sign_in(page, "coord", "not-the-password")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.locator(".alert-danger")).to_contain_text(
        re.compile("用户名或密码不正确|username or password is not correct")
    )
