"""The shares to county level and below and to livelihood are shares of the year's disbursements, as the
programmes publish their "two 80 %s" (not of the portfolio's approved budgets): the disbursements of the run's
year linked to a qualifying project ÷ all of the pairing's disbursements of the year, linked or not.

On the `ev` world (tests/evaluation/conftest.py): Guangdong → Shufu holds a 10 M livelihood project and a 5 M
project, both at county level, and Jiangsu → Jiashi an 8 M one; the programme's rule asks for 80 % to county
level and below and 70 % to livelihood."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from core.models import Region, RegionLevel
from evaluation import reference, selectors, services
from evaluation.measures import SHARE_BASIS_NOTE
from evaluation.models import EvaluationRun, PairingScorecard
from pairings import services as pairing_services
from tests.conftest import api_as
from tests.evaluation.conftest import YEAR, disburse, make_project, run_eagerly
from tests.factories import RegionFactory

pytestmark = pytest.mark.django_db

D = dt.date


def card_of(run: EvaluationRun, pairing) -> PairingScorecard:
    return PairingScorecard.objects.get(run=run, pairing=pairing)


def flag_codes(card: PairingScorecard) -> set[str]:
    return {f["code"] for f in card.flags}


def assert_reference_agrees(run: EvaluationRun, card: PairingScorecard) -> None:
    specs = services.specs_of(run.framework, "pairing")
    want = reference.reference_pairing_scores(run.program, run.year, specs, {})
    for code in ("county_share", "livelihood_share"):
        assert card.measures[code] == pytest.approx(want[card.pairing_id][1][code])


def test_a_pairing_paying_mostly_for_a_prefecture_project_has_a_low_county_share_whatever_its_budgets(ev, world):
    # 15 M of approved budget at county level against 2 M at the prefecture: on budgets, 88 % to county level.
    prefecture = make_project(
        ev.shufu, "in_construction", title="喀什地区医院", location=world.kashgar, approved_budget=Decimal("2000000.00")
    )
    disburse(ev.shufu, "1000000", project=ev.shufu_accepted)  # county level, livelihood
    disburse(ev.shufu, "6000000", project=prefecture)  # above county level
    disburse(ev.shufu, "1000000")  # to no project: counts in the whole only
    disburse(ev.shufu, "20000000", project=ev.shufu_accepted, on=D(YEAR - 1, 12, 31))  # another year's
    disburse(ev.shufu, "20000000", project=ev.shufu_building, on=D(YEAR + 1, 1, 1))

    run = run_eagerly(ev.program, ev.year, ev.coordinator)

    card = card_of(run, ev.shufu)
    assert card.measures["county_share"] == pytest.approx(1 / 8)
    assert card.measures["livelihood_share"] == pytest.approx(1 / 8)
    assert {"county_share_below_minimum", "livelihood_share_below_minimum"} <= flag_codes(card)
    county_flag = next(f for f in card.flags if f["code"] == "county_share_below_minimum")
    assert (county_flag["value"], county_flag["minimum"]) == (pytest.approx(0.125), 0.8)
    # The scorecard still reports the portfolio's approved budget, and the self-sustaining share stays on it.
    assert card.budget == Decimal("17000000.00")
    assert_reference_agrees(run, card)


def test_a_livelihood_project_above_county_level_counts_for_livelihood_only(ev, world):
    prefecture = make_project(
        ev.shufu, "approved", location=world.kashgar, approved_budget=Decimal("1000000.00"), is_livelihood=True
    )
    disburse(ev.shufu, "3000000", project=prefecture)
    disburse(ev.shufu, "1000000", project=ev.shufu_building)  # county level, not livelihood

    card = card_of(run_eagerly(ev.program, ev.year, ev.coordinator), ev.shufu)

    assert card.measures["county_share"] == pytest.approx(0.25)
    assert card.measures["livelihood_share"] == pytest.approx(0.75)


def test_no_disbursement_in_the_year_leaves_both_shares_out(ev):
    disburse(ev.jiashi, "8000000", project=ev.jiashi_accepted, on=D(YEAR - 1, 12, 31))
    disburse(ev.jiashi, "8000000", project=ev.jiashi_accepted, on=D(YEAR + 1, 1, 1))
    pairing_services.fund_flow_record(
        by=None, pairing=ev.jiashi, kind="commitment", amount=Decimal("8000000"), date=D(YEAR, 3, 1),
        source="assisting_fiscal", project_id=ev.jiashi_accepted.pk,
    )  # fmt: skip

    run = run_eagerly(ev.program, ev.year, ev.coordinator)

    card = card_of(run, ev.jiashi)
    assert card.measures["county_share"] is None
    assert card.measures["livelihood_share"] is None
    assert not flag_codes(card) & {"county_share_below_minimum", "livelihood_share_below_minimum"}
    lines = {line.indicator.code: line for line in selectors.explain_score(run.framework, "pairing", card.measures)}
    assert lines["county_share"].score is None
    assert lines["county_share"].weight_share == 0
    # The self-sustaining share is of approved budgets: it has a value without any money moving.
    assert card.measures["self_sustaining"] == 0.0
    assert_reference_agrees(run, card)


def test_a_project_at_an_xpcc_division_counts_as_county_level(ev, world):
    division = Region.objects.create(code="XPCC-99", name="测试师", level="xpcc_division", parent=world.xinjiang)
    at_division = make_project(ev.jiashi, "in_construction", location=division, approved_budget=Decimal("1000000.00"))
    prefecture = make_project(ev.jiashi, "in_construction", location=world.kashgar)
    disburse(ev.jiashi, "3000000", project=at_division)
    disburse(ev.jiashi, "1000000", project=prefecture)

    run = run_eagerly(ev.program, ev.year, ev.coordinator)

    card = card_of(run, ev.jiashi)
    assert card.measures["county_share"] == pytest.approx(0.75)
    assert_reference_agrees(run, card)


def test_a_project_without_a_location_counts_at_its_recipient_regions_level(ev):
    unplaced = make_project(ev.jiashi, "in_construction", location=None)
    disburse(ev.jiashi, "2000000", project=unplaced)  # Jiashi is a county
    disburse(ev.jiashi, "2000000")

    card = card_of(run_eagerly(ev.program, ev.year, ev.coordinator), ev.jiashi)

    assert card.measures["county_share"] == pytest.approx(0.5)


def test_a_child_pairings_disbursements_count_for_the_child_not_its_parent(ev, world):
    wusha = RegionFactory(
        code="653121100", name="乌夏克巴什镇", name_en="Wusha", level=RegionLevel.TOWNSHIP, parent=world.shufu
    )
    child = pairing_services.pairing_create(
        by=None,
        program=ev.program,
        assisting_organization=world.shenzhen_gov,
        recipient_region=wusha,
        start_date=D(2011, 1, 1),
        parent=ev.shufu,
    )
    in_town = make_project(child, "in_construction", is_livelihood=True)
    disburse(child, "9000000", project=in_town)
    prefecture = make_project(ev.shufu, "in_construction", location=world.kashgar)
    disburse(ev.shufu, "1000000", project=prefecture)

    run = run_eagerly(ev.program, ev.year, ev.coordinator)

    assert card_of(run, ev.shufu).measures["county_share"] == 0.0
    assert card_of(run, ev.shufu).measures["livelihood_share"] == 0.0
    assert card_of(run, child).measures["county_share"] == 1.0
    assert card_of(run, child).measures["livelihood_share"] == 1.0


def test_the_scorecard_page_and_api_say_the_shares_are_of_the_years_disbursements(ev, client):
    disburse(ev.shufu, "1000000", project=ev.shufu_accepted)
    card = card_of(run_eagerly(ev.program, ev.year, ev.coordinator), ev.shufu)

    ev.assisting.preferred_language = "en"
    ev.assisting.save(update_fields=["preferred_language"])
    client.force_login(ev.assisting)
    html = client.get(f"/evaluation/scorecards/{card.pk}/").content.decode()
    assert (
        "Shares to county level and below and to livelihood: of the year&#x27;s disbursements, as the programmes "
        "publish them." in html
    )
    assert "Disbursements in the year to livelihood projects ÷ all disbursements in the year" in html
    with translation.override("zh-hans"):
        assert str(SHARE_BASIS_NOTE).startswith("县及县以下资金占比和民生资金占比：按当年拨付资金计算")

    for url in ("/api/v1/evaluation/scorecards/", f"/api/v1/evaluation/scorecards/{card.pk}/"):
        response = api_as(ev.assisting).get(url)
        assert response.status_code == 200
        body = response.json()
        for item in body.get("results", [body]):
            assert item["share_basis"] == "year_disbursements"
