"""In the browser: the Shufu example of a duplicate check. The assisting officer (Chinese) creates "疏附县二幼" while
"疏附县第二幼儿园" exists in the same county: the form shows it as a likely duplicate with its reasons before saving;
saved anyway, the officer confirms "not a duplicate" with a reason on the project's page (refused without one) and
submits; the approver (English) sees the warning and the reason on the approval page. "疏附县人民医院" is saved at
once, with no warning. Elements are found by id, name and data attributes."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from core.models import HistoryEvent
from projects import services
from projects.models import DuplicateDismissal, Project
from tests.browser.conftest import shot
from tests.browser.test_project_walk import open_as  # noqa: F401  (the fixture)
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_project(page, pairing, title: str, sector: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(page.base_url + "/projects/new/")
    page.fill("#record-form input[name=title]", title)
    page.select_option("#record-form select[name=pairing]", str(pairing.pk))
    page.select_option("#record-form select[name=category]", "infrastructure")
    page.select_option("#record-form select[name=sector]", sector)
    page.fill("#record-form input[name=location]", "653121")
    page.fill("#record-form input[name=budget_requested_0]", "8000000")
    page.fill("#record-form input[name=planned_start]", "2024-04-01")
    page.fill("#record-form input[name=planned_end]", "2025-06-30")
    page.locator("#record-form button[type=submit]").click()


def test_the_short_name_is_flagged_confirmed_with_a_reason_and_seen_by_the_approver(world, pw, open_as):  # noqa: F811
    approver = UserFactory(username="approver1", organization=world.guangdong_gov, roles=[Role.APPROVER])
    kindergarten = services.project_create(
        by=world.assisting,
        pairing=pw.shufu,
        title="疏附县第二幼儿园",
        category="infrastructure",
        sector="education",
        location=world.shufu,
        budget_requested=Decimal("9000000"),
        planned_start=dt.date(2024, 3, 1),
        planned_end=dt.date(2025, 8, 31),
    )

    officer = open_as(world.assisting, "zh-hans")
    fill_project(officer, pw.shufu, "疏附县二幼", "education")
    panel = officer.locator("#similar-projects")
    expect(panel).to_be_visible()
    row = panel.locator(f"[data-candidate='{kindergarten.pk}']")
    expect(row).to_contain_text("疏附县第二幼儿园")
    for code in ("same_county", "similar_title", "same_sector", "overlapping_period"):
        expect(row.locator(f"[data-reason={code}]")).to_have_count(1)
    expect(row.locator("[data-reason=same_county]")).to_have_text("同一或重叠地点")
    shot(officer, "duplicates-01-form.zh-hans")
    assert not Project.objects.filter(title="疏附县二幼").exists()
    officer.locator("#save-button").click()
    expect(officer).to_have_url(re.compile(r"/projects/\d+/$"))
    eryou = Project.objects.get(title="疏附县二幼")

    # On the page: the same candidate, to be confirmed with a reason (none: refused, nothing recorded).
    form = officer.locator(f"#similar-projects [data-candidate='{kindergarten.pk}'] form")
    form.locator("button[type=submit]").click()
    expect(officer.locator(".alert-danger").first).to_be_visible()
    assert not DuplicateDismissal.objects.exists()
    form = officer.locator(f"#similar-projects [data-candidate='{kindergarten.pk}'] form")
    form.locator("input[name=reason]").fill("二幼是托克扎克镇新建的分园")
    form.locator("button[type=submit]").click()
    expect(officer.locator(f"[data-dismissed='{kindergarten.pk}']")).to_contain_text("二幼是托克扎克镇新建的分园")
    assert HistoryEvent.objects.for_object(eryou).filter(action="duplicate_dismissed").count() == 1
    officer.locator("#project-actions a[data-action=submit]").click()
    expect(officer.locator("#similar-projects")).to_be_visible()
    officer.locator("#confirm-action").click()
    expect(officer.locator("#project-state")).to_have_text("已申报")

    # The hospital: nothing like it, saved at once.
    fill_project(officer, pw.shufu, "疏附县人民医院", "health")
    expect(officer).to_have_url(re.compile(r"/projects/\d+/$"))
    expect(officer.locator("#similar-projects")).to_have_count(0)

    boss = open_as(approver, "en")
    boss.goto(boss.base_url + f"/projects/{eryou.pk}/act/approve/")
    expect(boss.locator("#similar-projects")).to_be_visible()
    expect(boss.locator(f"[data-dismissed='{kindergarten.pk}']")).to_contain_text("二幼是托克扎克镇新建的分园")
    expect(boss.locator("#similar-projects [data-reason=similar_title]")).to_have_text("Similar title")
    shot(boss, "duplicates-02-approve.en")
    assert not officer.console_errors
    assert not boss.console_errors
