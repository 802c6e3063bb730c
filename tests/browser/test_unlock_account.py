"""A national coordinator unlocks, in the browser, an account locked after repeated failed sign-ins."""

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from core.models import HistoryEvent
from tests.browser.conftest import shot, watch_errors
from tests.browser.test_login_and_language import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_coordinator_unlocks_a_locked_account_and_its_user_signs_in(browser, live_server, page, world):
    # Alice, in a browser of her own, mistypes her password until the account locks.
    context = browser.new_context(locale="en-US")
    alice = context.new_page()
    watch_errors(alice)
    alice.base_url = live_server.url
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(alice, "alice", "wrong-password")
    expect(alice.locator("#lockout-message")).to_contain_text("ask a national coordinator to unlock it")

    # The coordinator finds her among the locked accounts, from the directory, and unlocks her.
    sign_in(page, "coord")
    page.goto(page.base_url + "/accounts/directory/")
    page.locator("#locked-accounts").click()
    expect(page).to_have_url(re.compile(r"/accounts/directory/locked/$"))
    row = page.locator("#locked-table tr[data-username=alice]")
    expect(row).to_be_visible()
    shot(page, "locked-accounts.zh-hans")
    row.locator("button[type=submit]").click()
    expect(page.locator(".alert-success")).to_contain_text("alice")
    expect(page.locator("#locked-table tr[data-username=alice]")).to_have_count(0)
    assert page.console_errors == []

    # She signs in at once, without waiting for the cool-off.
    sign_in(alice, "alice")
    expect(alice).not_to_have_url(re.compile(r"/accounts/login/"))
    expect(alice.locator("h1")).to_have_text("Dashboard")
    context.close()
    assert HistoryEvent.objects.filter(
        action="unlocked", actor=world.coordinator, object_id=world.assisting.pk
    ).exists()
