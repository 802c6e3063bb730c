"""Money without traps, in the browser: the approve form of an 8 160 000-yuan request shows the request; 816 typed
without choosing the unit is asked about before anything is saved; in 万元 it approves 8 160 000 yuan."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from projects.models import Project, State
from tests.browser.conftest import shot
from tests.browser.test_project_walk import open_as  # noqa: F401 — fixture
from tests.evaluation.conftest import make_project
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_816_typed_in_yuan_for_an_816_wan_request_is_asked_about(world, pw, open_as, language):  # noqa: F811
    project = make_project(pw.shufu, "proposed", title="疏附县第二幼儿园", budget_requested=Decimal("8160000.00"))
    approver = UserFactory(username=f"approver-{language}", organization=world.guangdong_gov, roles=[Role.APPROVER])

    page = open_as(approver, language)
    page.goto(page.base_url + f"/projects/{project.pk}/act/approve/")
    form = page.locator("#act-form")
    expect(form).to_contain_text("8,160,000.00")  # the request, in yuan
    expect(form).to_contain_text("816.00")  # and in 万元
    page.fill("#act-form input[name=approved_budget_0]", "816")
    page.locator("#confirm-action").click()

    expect(page.locator("#id_approved_budget_0_errors, #act-form .errorlist").first).to_contain_text("10,000")
    expect(page.locator("#act-form input[name=confirm_amount]")).to_be_visible()
    expect(page.locator("#act-form input[name=approved_budget_0]")).to_have_value("816")
    shot(page, f"money-01-asked.{language}")
    assert Project.objects.get(pk=project.pk).state == State.PROPOSED

    page.select_option("#act-form select[name=approved_budget_1]", "wan")
    page.locator("#confirm-action").click()
    expect(page.locator("#project-state")).to_be_visible()
    project.refresh_from_db()
    assert (project.state, project.approved_budget) == (State.APPROVED, Decimal("8160000.00"))
    assert page.console_errors == []
