"""In the browser: a project is submitted; the approvers see the bell count 1, open the notification centre,
read the notification in their own language with the action's label, and clicking it opens the project and
clears the count."""

import re

import pytest
from django.utils import translation
from playwright.sync_api import expect

from accounts.models import Role
from projects import services
from tests.browser.conftest import shot, watch_errors
from tests.browser.test_login_and_language import sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("language", "label", "locale"), [("en", "Submit", "en-GB"), ("zh-hans", "申报", "zh-CN")])
def test_an_approver_sees_the_bell_and_opens_the_submitted_project(
    browser, live_server, world, pw, draft, language, label, locale
):
    approver = UserFactory(
        username="approver1", organization=world.guangdong_gov, roles=[Role.APPROVER], preferred_language=language
    )
    project = draft
    with translation.override("zh-hans" if language == "en" else "en"):  # submitted in the other language
        services.project_submit(project=project, by=world.assisting)  # commits: the task runs (eager)

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale)
    page = context.new_page()
    watch_errors(page)
    page.base_url = live_server.url
    sign_in(page, approver.username)

    expect(page.locator("#bell-count")).to_have_text("1")
    page.locator("#bell").click()
    expect(page).to_have_url(re.compile(r"/accounts/notifications/$"))
    item = page.locator("#notifications li[data-unread=true]")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(project.code)
    expect(item).to_contain_text(label)
    shot(page, f"notifications.{language}")

    item.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/projects/{project.pk}/$"))
    expect(page.locator("#bell-count")).to_have_count(0)
    assert page.console_errors == []
    context.close()


@pytest.mark.parametrize(("language", "locale"), [("en", "en-GB"), ("zh-hans", "zh-CN")])
def test_on_a_phone_the_bell_and_the_task_count_stay_beside_the_folded_menu(
    browser, live_server, world, pw, draft, language, locale
):
    approver = UserFactory(
        username="approver1", organization=world.guangdong_gov, roles=[Role.APPROVER], preferred_language=language
    )
    project = draft
    services.project_submit(project=project, by=world.assisting)  # commits: the task runs (eager)

    context = browser.new_context(viewport={"width": 390, "height": 844}, locale=locale)
    page = context.new_page()
    watch_errors(page)
    page.base_url = live_server.url
    sign_in(page, approver.username)

    # The menu is folded away, the bell and the task count are not.
    expect(page.locator(".navbar-toggler")).to_be_visible()
    expect(page.locator("#mainnav")).not_to_be_visible()
    expect(page.locator("#bell")).to_be_visible()
    expect(page.locator("#bell-count")).to_have_text("1")
    expect(page.locator("#tasks-quick-count")).to_be_visible()
    expect(page.locator("#tasks-quick-count")).to_have_text(page.locator("#nav-tasks-count").inner_text())
    navbar = page.locator("nav.navbar").bounding_box()
    assert navbar is not None
    assert navbar["height"] < 80
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, f"bell-390.{language}")

    page.locator("#bell").click()
    expect(page).to_have_url(re.compile(r"/accounts/notifications/$"))
    expect(page.locator("#notifications li[data-unread=true]")).to_contain_text(project.code)

    # On a wide screen the count is in the menu itself, and the quick one is hidden.
    page.set_viewport_size({"width": 1366, "height": 900})
    expect(page.locator("#tasks-quick")).not_to_be_visible()
    expect(page.locator("#nav-tasks-count")).to_be_visible()
    expect(page.locator("#bell")).to_be_visible()
    assert page.console_errors == []
    context.close()


@pytest.mark.parametrize(("language", "locale"), [("en", "en-GB"), ("zh-hans", "zh-CN")])
def test_the_national_coordinators_whole_menu_fits_one_row_on_a_1366_px_laptop(
    browser, live_server, world, language, locale
):
    world.coordinator.preferred_language = language
    world.coordinator.save(update_fields=["preferred_language"])
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale=locale)
    page = context.new_page()
    page.base_url = live_server.url
    sign_in(page, world.coordinator.username)

    links = page.locator("#mainnav .navbar-nav .nav-link")
    expect(links.last).to_be_visible()
    tops = {round(box["y"]) for box in (links.nth(i).bounding_box() for i in range(links.count())) if box}
    assert len(tops) == 1, tops  # every entry on one row
    assert page.locator("nav.navbar").bounding_box()["height"] < 70
    context.close()
