"""The readiness check a draft passes before it may be submitted (DESIGN.md: every blocker reported at once, each
with its code and the field to fix). readiness_problems reads the project as given, so drafts that the services
would refuse to store (dates out of order) are checked as unsaved changes to a stored draft."""

import datetime as dt
from decimal import Decimal

import pytest

from core.errors import DomainError
from core.models import RegionLevel
from projects import services
from projects.models import Project
from tests.factories import RegionFactory

pytestmark = pytest.mark.django_db

D = dt.date


def blockers(project: Project) -> list[tuple[str, str | None]]:
    return [(p.code, p.field) for p in services.readiness_problems(project)]


def test_a_complete_draft_has_no_blockers(draft):
    assert blockers(draft) == []


def test_an_empty_draft_lists_every_blocker_at_once(world, pw):
    bare = services.project_create(by=world.assisting, pairing=pw.shufu, title="牧民定居点")

    assert blockers(bare) == [
        ("category_missing", "category"),
        ("sector_missing", "sector"),
        ("budget_missing", "budget_requested"),
        ("planned_start_missing", "planned_start"),
        ("planned_end_missing", "planned_end"),
        ("location_missing", "location"),
    ]


def test_a_draft_with_nothing_at_all_also_names_its_missing_title(pw):
    nothing = Project(pairing=pw.shufu, title="   ")

    assert blockers(nothing) == [
        ("title_missing", "title"),
        ("category_missing", "category"),
        ("sector_missing", "sector"),
        ("budget_missing", "budget_requested"),
        ("planned_start_missing", "planned_start"),
        ("planned_end_missing", "planned_end"),
        ("location_missing", "location"),
    ]


def test_every_blocker_of_a_wrong_draft_is_named_together(world, draft):
    draft.sector = ""
    draft.budget_requested = Decimal("0")
    draft.planned_end = D(2024, 2, 1)
    draft.location = world.jiashi

    assert blockers(draft) == [
        ("sector_missing", "sector"),
        ("budget_missing", "budget_requested"),
        ("planned_dates_out_of_order", "planned_end"),
        ("location_outside", "location"),
    ]


def test_planned_dates_out_of_order_are_a_blocker_on_the_planned_end(draft):
    draft.planned_start, draft.planned_end = D(2025, 8, 31), D(2024, 3, 1)

    assert blockers(draft) == [("planned_dates_out_of_order", "planned_end")]


def test_a_project_may_start_and_end_on_the_same_day(draft):
    draft.planned_start = draft.planned_end = D(2024, 9, 1)

    assert blockers(draft) == []


@pytest.mark.parametrize("amount", [None, Decimal("0"), Decimal("-1")])
def test_a_budget_must_be_requested_and_above_zero(draft, amount):
    draft.budget_requested = amount

    assert blockers(draft) == [("budget_missing", "budget_requested")]


@pytest.mark.parametrize("where", ["jiashi", "kashgar", "xinjiang", "guangdong"])
def test_a_location_outside_the_recipient_region_is_a_blocker(world, draft, where):
    # Kashgar and Xinjiang contain Shufu, but a project there is not within it.
    draft.location = getattr(world, where)

    assert blockers(draft) == [("location_outside", "location")]


def test_a_location_anywhere_within_the_recipient_region_is_fine(world, draft):
    town = RegionFactory(code="653121100", name="托克扎克镇", level=RegionLevel.TOWNSHIP, parent=world.shufu)

    for place in (world.shufu, town):
        draft.location = place
        assert blockers(draft) == []


def test_a_reimbursable_project_needs_its_repayment_terms(draft):
    draft.category = "reimbursable"

    for blank in ("", "  \n"):
        draft.repayment_terms = blank
        assert blockers(draft) == [("repayment_terms_missing", "repayment_terms")]

    draft.repayment_terms = "十年期，年息 1%，第三年起分期偿还"
    assert blockers(draft) == []


@pytest.mark.parametrize("category", ["non_reimbursable", "infrastructure", "collaborative"])
def test_other_categories_need_no_repayment_terms(draft, category):
    draft.category = category

    assert blockers(draft) == []


def test_the_blockers_of_a_stored_draft_are_what_submit_refuses_with(world, pw):
    bare = services.project_create(by=world.assisting, pairing=pw.shufu, title="牧民定居点", category="reimbursable")

    with pytest.raises(DomainError) as exc:
        services.project_submit(project=bare, by=world.assisting)

    assert [(p.code, p.field) for p in exc.value.problems] == blockers(bare)
    assert ("repayment_terms_missing", "repayment_terms") in blockers(bare)
