"""In the browser, rectifications both ways: the supervisor (Chinese) records one inspection that orders two
rectifications (adding a row for the second); the assisting officer (English) reports the first done with a
photo; the supervisor sends it back with the reason; the officer reports it again; the supervisor verifies it.
Each sees the buttons the policy's table gives them and nothing else, and the timeline tells every step.

Elements are found by id, name and data attributes, never by visible text."""

import datetime as dt

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from accounts.models import Notification
from core.models import HistoryEvent
from projects.models import Rectification, RectificationStatus
from tests.browser.conftest import shot
from tests.browser.test_project_walk import open_as  # noqa: F401 — the fixture
from tests.projects.test_supervision import advance
from tests.projects.test_views import png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def status_of(page, rect: Rectification):  # type: ignore[no-untyped-def]
    return page.locator(f"#rectification-{rect.pk}")


def test_two_rectifications_one_reported_sent_back_reported_again_and_verified(
    world,
    draft,
    approver,
    supervisor,
    open_as,  # noqa: F811
    tmp_path,
):
    project = advance(
        draft, "in_construction", by={"assisting": world.assisting, "approver": approver, "supervisor": supervisor}
    )
    photo = tmp_path / "net.png"
    photo.write_bytes(png_bytes(16))
    today = timezone.localdate()

    # 1. The supervisor, in Chinese, records a failed inspection with two rectifications.
    inspector = open_as(supervisor, "zh-hans")
    inspector.goto(inspector.base_url + f"/projects/{project.pk}/")
    inspector.locator("#record-inspection").click()
    inspector.select_option("#record-form select[name=kind]", "routine")
    inspector.select_option("#record-form select[name=result]", "failed")
    inspector.fill("#record-form textarea[name=findings]", "脚手架未设防护网；三层楼板裂缝")
    inspector.fill("#record-form textarea[name=rectifications-0-finding]", "加设防护网")
    inspector.fill("#record-form input[name=rectifications-0-deadline]", f"{today + dt.timedelta(days=10):%Y-%m-%d}")
    inspector.locator("#add-rectification").click()
    # The row typed is kept, and a second row is there.
    expect(inspector.locator("#record-form textarea[name=rectifications-0-finding]")).to_have_value("加设防护网")
    expect(inspector.locator("#record-form textarea[name=findings]")).to_have_value("脚手架未设防护网；三层楼板裂缝")
    inspector.fill("#record-form textarea[name=rectifications-1-finding]", "修补三层楼板裂缝")
    inspector.fill("#record-form input[name=rectifications-1-deadline]", f"{today + dt.timedelta(days=20):%Y-%m-%d}")
    shot(inspector, "rectification-01-inspection-form.zh-hans")
    inspector.locator("#record-form button[type=submit]").click()
    expect(inspector.locator("#rectifications-table tbody tr")).to_have_count(2)
    first, second = Rectification.objects.filter(project=project).order_by("deadline")
    assert (first.finding, second.finding) == ("加设防护网", "修补三层楼板裂缝")
    # The supervisor may close one on re-inspection, but not report it.
    expect(status_of(inspector, first).locator("a[data-step=report]")).to_have_count(0)
    expect(status_of(inspector, first).locator("a[data-step=close]")).to_have_count(1)

    # 2. The assisting officer, in English, reports the first done with a photo.
    officer = open_as(world.assisting, "en")
    officer.goto(officer.base_url + f"/projects/{project.pk}/")
    expect(status_of(officer, second).locator("a[data-step=report]")).to_have_count(1)
    status_of(officer, first).locator("a[data-step=report]").click()
    officer.fill("#record-form textarea[name=text]", "Safety nets fitted on all four sides")
    officer.set_input_files("#record-form input[name=photo_1]", str(photo))
    shot(officer, "rectification-02-report-form.en")
    officer.locator("#record-form button[type=submit]").click()
    with translation.override("en"):
        expect(status_of(officer, first)).to_contain_text(str(RectificationStatus.REPORTED.label))
    expect(status_of(officer, first).locator("a[data-step]")).to_have_count(0)
    expect(status_of(officer, first).locator("a[href*='/documents/']")).to_have_count(1)
    assert Notification.objects.filter(recipient=supervisor, kind="rectification_reported").count() == 1

    # 3. The supervisor sends it back with the reason.
    inspector.goto(inspector.base_url + f"/projects/{project.pk}/")
    expect(status_of(inspector, first).locator("a[data-step=verify]")).to_have_count(1)
    status_of(inspector, first).locator("a[data-step=send_back]").click()
    expect(inspector.locator("#rectification-summary")).to_contain_text("Safety nets fitted on all four sides")
    inspector.locator("#record-form button[type=submit]").click()  # no reason: refused, named
    expect(inspector.locator("#id_reason_errors")).to_be_visible()
    inspector.fill("#record-form textarea[name=reason]", "北侧防护网未到顶")
    shot(inspector, "rectification-03-send-back.zh-hans")
    inspector.locator("#record-form button[type=submit]").click()
    with translation.override("zh-hans"):
        expect(status_of(inspector, first)).to_contain_text(str(RectificationStatus.SENT_BACK.label))
    expect(status_of(inspector, first)).to_contain_text("北侧防护网未到顶")
    assert Notification.objects.filter(recipient=world.assisting, kind="rectification_sent_back").count() == 1

    # 4. The officer reports it again; 5. the supervisor verifies it.
    officer.goto(officer.base_url + "/projects/tasks/?kind=rectifications_sent_back")
    officer.locator(f"a[href='/projects/{project.pk}/#rectifications-table']").first.click()
    status_of(officer, first).locator("a[data-step=report]").click()
    expect(officer.locator("#rectification-summary")).to_contain_text("北侧防护网未到顶")
    officer.fill("#record-form textarea[name=text]", "North side net raised to the top")
    officer.locator("#record-form button[type=submit]").click()
    inspector.goto(inspector.base_url + f"/projects/{project.pk}/")
    status_of(inspector, first).locator("a[data-step=verify]").click()
    inspector.fill("#record-form textarea[name=note]", "复查合格")
    inspector.locator("#record-form button[type=submit]").click()
    with translation.override("zh-hans"):
        expect(status_of(inspector, first)).to_contain_text(str(RectificationStatus.VERIFIED.label))
    expect(status_of(inspector, first).locator("a[data-step]")).to_have_count(0)
    shot(inspector, "rectification-04-verified.zh-hans")
    officer.goto(officer.base_url + f"/projects/{project.pk}/")
    shot(officer, "rectification-05-project.en")

    first.refresh_from_db()
    assert (first.status, first.closed_on, first.closed_by) == ("verified", today, supervisor)
    assert Rectification.objects.get(pk=second.pk).status == "open"
    steps = [
        (e.action, e.actor)
        for e in HistoryEvent.objects.for_object(project).order_by("at", "id")
        if e.action.startswith("rectification_")
    ]
    assert steps == [
        ("rectification_reported", world.assisting),
        ("rectification_sent_back", supervisor),
        ("rectification_reported", world.assisting),
        ("rectification_verified", supervisor),
    ]
    for page in (officer, inspector):
        assert page.console_errors == []
