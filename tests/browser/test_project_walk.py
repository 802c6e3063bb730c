"""In the browser, one project from draft to accepted, each step by the official whose step it is, in their
own language: the assisting officer (Chinese) proposes it; the approver (English) approves it; the officer
starts it, reports 100 % and completes it; the supervisor (Chinese) records a failed acceptance inspection
with a rectification, closes the rectification with a photo as evidence, records a passed inspection and
accepts it. After every step the state badge and the timeline say what happened.

Elements are found by id, name and data-action, never by visible text, so the walk does not depend on which
strings are translated yet; the labels the page should show are computed in the reader's language."""

import re
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from django.utils.text import capfirst
from playwright.sync_api import expect

from accounts.models import Role, User
from core.history import action_label
from core.models import HistoryEvent
from projects.models import Document, Project, Rectification, State
from tests.browser.conftest import shot, watch_errors
from tests.browser.test_login_and_language import sign_in
from tests.factories import UserFactory
from tests.projects.test_views import png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WALK = [
    "created",
    "submit",
    "approve",
    "start",
    "progress_reported",
    "document_added",
    "complete",
    "inspected",
    "document_added",
    "rectification_closed",
    "inspected",
    "accept",
]


@pytest.fixture
def open_as(browser, live_server) -> Iterator[Callable[[User, str], object]]:
    """Sign USER in, in a browser context of their own, with LANGUAGE as their preference."""
    contexts = []

    def open_(user: User, language: str):  # type: ignore[no-untyped-def]
        user.preferred_language = language
        user.save(update_fields=["preferred_language"])
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="zh-CN" if language == "zh-hans" else "en-GB"
        )
        contexts.append(context)
        page = context.new_page()
        watch_errors(page)
        page.base_url = live_server.url
        page.language = language
        sign_in(page, user.username)
        expect(page.locator("html")).to_have_attribute("lang", language)
        return page

    yield open_
    for context in contexts:
        context.close()


def expect_step(page, state: str, *actions: str, total: int) -> None:  # type: ignore[no-untyped-def]
    """The badge shows STATE, and the timeline holds TOTAL events, the newest being ACTIONS (newest first),
    all in the page's language."""
    expect(page.locator("html")).to_have_attribute("lang", page.language)
    with translation.override(page.language):
        state_label = str(State(state).label)
        labels = [capfirst(action_label(a)) for a in actions]
    expect(page.locator("#project-state")).to_have_text(state_label)
    events = page.locator("#timeline li")
    expect(events).to_have_count(total)
    for i, label in enumerate(labels):
        expect(events.nth(i)).to_contain_text(label)


def act(page, action: str) -> None:  # type: ignore[no-untyped-def]
    """Take ACTION from the project page: its button, then the confirmation."""
    page.locator(f"#project-actions a[data-action={action}]").click()
    expect(page).to_have_url(re.compile(rf"/act/{action}/$"))
    page.locator("#confirm-action").click()


def test_a_project_walks_from_draft_to_accepted_with_the_right_official_at_each_step(
    world, pw, open_as, tmp_path, live_server
):
    approver = UserFactory(username="approver1", organization=world.guangdong_gov, roles=[Role.APPROVER])
    supervisor = UserFactory(username="supervisor1", organization=world.guangdong_gov, roles=[Role.SUPERVISOR])
    photo = tmp_path / "site.png"
    photo.write_bytes(png_bytes(16))
    today = f"{timezone.localdate():%Y-%m-%d}"

    # 1. The assisting officer, in Chinese, proposes the project through the form.
    officer = open_as(world.assisting, "zh-hans")
    officer.goto(officer.base_url + "/projects/")
    officer.locator("#new-project").click()
    officer.fill("#record-form input[name=title]", "疏附县第二中学教学楼")
    officer.select_option("#record-form select[name=pairing]", str(pw.shufu.pk))
    officer.select_option("#record-form select[name=category]", "infrastructure")
    officer.select_option("#record-form select[name=sector]", "education")
    officer.fill("#record-form input[name=location]", world.jiashi.code)  # not within Shufu
    officer.fill("#record-form input[name=budget_requested_0]", "12000000")
    officer.fill("#record-form input[name=planned_start]", "2024-03-01")
    officer.fill("#record-form input[name=planned_end]", "2025-08-31")
    officer.fill("#record-form input[name=expected_beneficiaries]", "2400")
    officer.check("#record-form input[name=is_livelihood]")
    officer.locator("#record-form button[type=submit]").click()
    # Refused on the location, with everything typed still there.
    expect(officer.locator("#id_location_errors")).to_be_visible()
    expect(officer.locator("#record-form input[name=title]")).to_have_value("疏附县第二中学教学楼")
    expect(officer.locator("#record-form input[name=budget_requested_0]")).to_have_value("12000000")
    expect(officer.locator("#record-form input[name=is_livelihood]")).to_be_checked()
    shot(officer, "project-01-form-error.zh-hans")
    assert not Project.objects.exists()
    officer.fill("#record-form input[name=location]", world.shufu.code)
    officer.locator("#record-form button[type=submit]").click()
    expect_step(officer, "draft", "created", total=1)
    project = Project.objects.get()
    assert officer.url.endswith(f"/projects/{project.pk}/")
    expect(officer.locator("#project-actions a[data-action=approve]")).to_have_count(0)

    officer.locator("#project-actions a[data-action=submit]").click()
    shot(officer, "project-02-submit-confirm.zh-hans")
    officer.locator("#confirm-action").click()
    expect_step(officer, "proposed", "submit", total=2)
    # The proposer is not offered the approval.
    expect(officer.locator("#project-actions a[data-action=approve]")).to_have_count(0)
    shot(officer, "project-02-proposed.zh-hans")

    # 2. The approver, in English, finds it among their tasks and approves it.
    boss = open_as(approver, "en")
    boss.goto(boss.base_url + "/projects/tasks/")
    shot(boss, "project-03-tasks.en")
    boss.locator(f"#task-list li[data-kind=proposals] a.dk-task-link[href='/projects/{project.pk}/']").click()
    expect_step(boss, "proposed", "submit", total=2)
    boss.locator("#project-actions a[data-action=approve]").click()
    expect(boss.locator("#act-form input[name=approved_budget_0]")).to_be_visible()
    shot(boss, "project-04-approve-confirm.en")
    boss.locator("#confirm-action").click()
    expect_step(boss, "approved", "approve", total=3)
    shot(boss, "project-05-approved.en")

    # 3. The officer starts it, reports 100 % with a photo, and completes it.
    officer.reload()
    expect_step(officer, "approved", "approve", total=3)
    officer.locator("#project-actions a[data-action=start]").click()
    expect(officer.locator("#act-form input[name=actual_start]")).to_have_value(today)
    officer.locator("#confirm-action").click()
    expect_step(officer, "in_construction", "start", total=4)

    officer.locator("#report-progress").click()
    officer.fill("#record-form input[name=period_end]", today)
    officer.fill("#record-form input[name=physical_progress]", "100")
    officer.fill("#record-form input[name=spend_to_date_0]", "11800000")
    officer.fill("#record-form textarea[name=narrative]", "主体及装修全部完工")
    officer.set_input_files("#record-form input[name=photo]", str(photo))
    shot(officer, "project-06-progress-form.zh-hans")
    officer.locator("#record-form button[type=submit]").click()
    expect_step(officer, "in_construction", "document_added", "progress_reported", total=6)
    expect(officer.locator("#progress-value")).to_have_text("100 %")

    act(officer, "complete")
    expect_step(officer, "completed", "complete", total=7)
    shot(officer, "project-07-completed.zh-hans")

    # 4. The supervisor, in Chinese: a failed acceptance inspection with a rectification.
    inspector = open_as(supervisor, "zh-hans")
    inspector.goto(inspector.base_url + f"/projects/{project.pk}/")
    expect_step(inspector, "completed", "complete", total=7)
    inspector.locator("#record-inspection").click()
    expect(inspector.locator("#record-form input[name=date]")).to_have_value(today)
    inspector.select_option("#record-form select[name=kind]", "acceptance")
    inspector.select_option("#record-form select[name=result]", "failed")
    inspector.fill("#record-form textarea[name=findings]", "三楼卫生间地面渗水")
    inspector.fill("#record-form textarea[name=rectifications-0-finding]", "重做三楼卫生间防水层")
    inspector.fill("#record-form input[name=rectifications-0-deadline]", today)
    inspector.locator("#record-form button[type=submit]").click()
    expect_step(inspector, "completed", "inspected", total=8)
    expect(inspector.locator("#rectifications-table")).to_contain_text("重做三楼卫生间防水层")
    # Not acceptable while the latest acceptance inspection failed: reopening is offered too.
    expect(inspector.locator("#project-actions a[data-action=reopen]")).to_have_count(1)
    shot(inspector, "project-08-failed-inspection.zh-hans")

    # The rectification is closed with a photo as evidence.
    inspector.locator("#rectifications-table a[href$='/close/']").click()
    inspector.fill("#record-form textarea[name=note]", "防水层已重做，闭水试验 48 小时无渗漏")
    inspector.set_input_files("#record-form input[name=evidence]", str(photo))
    shot(inspector, "project-09-close-rectification.zh-hans")
    inspector.locator("#record-form button[type=submit]").click()
    expect_step(inspector, "completed", "rectification_closed", "document_added", total=10)
    evidence_link = inspector.locator("#rectifications-table a[href*='/documents/']")
    expect(evidence_link).to_have_count(1)

    # A passed acceptance inspection, then acceptance.
    inspector.locator("#record-inspection").click()
    inspector.select_option("#record-form select[name=kind]", "acceptance")
    inspector.select_option("#record-form select[name=result]", "passed")
    inspector.fill("#record-form textarea[name=findings]", "复验合格")
    inspector.locator("#record-form button[type=submit]").click()
    expect_step(inspector, "completed", "inspected", total=11)
    act(inspector, "accept")
    expect_step(inspector, "accepted", "accept", total=12)
    expect(inspector.locator("#project-actions a[data-action]")).to_have_count(0)
    shot(inspector, "project-10-accepted.zh-hans")

    # The approver, in English, sees the same story.
    boss.reload()
    expect_step(boss, "accepted", "accept", "inspected", "rectification_closed", total=12)
    shot(boss, "project-11-accepted.en")
    officer.goto(officer.base_url + "/projects/?sort=-budget")
    expect(officer.locator(f"#projects-table a[href='/projects/{project.pk}/']")).to_have_text(project.code)
    shot(officer, "project-12-list.zh-hans")

    # What the pages did is what the database holds.
    project.refresh_from_db()
    assert project.state == State.ACCEPTED
    assert (project.proposed_by, project.approved_budget) == (world.assisting, Decimal("12000000.00"))
    assert project.location == world.shufu
    assert project.is_livelihood
    history = HistoryEvent.objects.for_object(project).order_by("at", "id")
    assert [e.action for e in history] == WALK
    actors = {e.action: e.actor for e in history}
    assert (actors["submit"], actors["approve"], actors["complete"], actors["accept"]) == (
        world.assisting,
        approver,
        world.assisting,
        supervisor,
    )
    rect = Rectification.objects.get(project=project)
    assert rect.closed_on is not None
    assert rect.evidence.kind == "evidence"
    assert sorted(Document.objects.filter(project=project).values_list("kind", flat=True)) == ["evidence", "photo"]
    # The evidence is served to the approver (in scope) as the file that was uploaded.
    response = boss.request.get(live_server.url + evidence_link.get_attribute("href"))
    assert response.status == 200
    assert response.body() == png_bytes(16)
    for page in (officer, boss, inspector):
        assert page.console_errors == []
