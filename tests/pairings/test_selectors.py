"""What each user may see of pairings, and the figures derived from fund flows (pledged, committed, received,
spent; fulfilment; the breakdown of a mandate), with the number of queries they cost."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role, User
from core.models import RegionLevel
from pairings import services
from pairings.figures import fulfilment
from pairings.models import FundFlow, Pairing, Program
from pairings.selectors import (
    breakdown,
    fund_flows_visible_to,
    mandates_for,
    mandates_visible_to,
    pairings_visible_to,
)
from tests.factories import RegionFactory, UserFactory

pytestmark = pytest.mark.django_db

D = dt.date


@dataclass
class Scene:
    kashgar_city: Pairing  # Shenzhen → Kashgar city (Xinjiang)
    lhasa: Pairing  # Jiangsu → Lhasa (Xizang)
    township: Pairing  # Shenzhen → a township of Shufu, broken down from Guangdong → Shufu
    xizang: Program


@pytest.fixture
def scene(world, pw) -> Scene:
    kashgar_city = RegionFactory(code="653101", name="喀什市", level=RegionLevel.COUNTY, parent=world.kashgar)
    xizang_region = RegionFactory(code="540000", name="西藏自治区", level=RegionLevel.PROVINCE)
    lhasa = RegionFactory(code="540100", name="拉萨市", level=RegionLevel.PREFECTURE, parent=xizang_region)
    township = RegionFactory(code="653121900", name="测试乡（合成）", level=RegionLevel.TOWNSHIP, parent=world.shufu)
    xizang = services.program_create(
        by=None, code="xizang", name="对口援藏", model="border_governance", start_year=1994
    )
    return Scene(
        kashgar_city=services.pairing_create(
            by=None,
            program=pw.program,
            assisting_organization=world.shenzhen_gov,
            recipient_region=kashgar_city,
            start_date=D(2010, 6, 1),
        ),
        lhasa=services.pairing_create(
            by=None,
            program=xizang,
            assisting_organization=world.jiangsu_gov,
            recipient_region=lhasa,
            start_date=D(1994, 7, 1),
        ),
        township=services.pairing_create(
            by=None,
            program=pw.program,
            assisting_organization=world.shenzhen_gov,
            recipient_region=township,
            start_date=D(2010, 7, 1),
            parent=pw.shufu,
        ),
        xizang=xizang,
    )


def visible(user) -> set[int]:
    return set(pairings_visible_to(user).values_list("pk", flat=True))


# --- who sees which pairings -----------------------------------------------------------------------------


def test_the_national_coordinator_sees_every_pairing(world, pw, scene):
    assert visible(world.coordinator) == set(Pairing.objects.values_list("pk", flat=True))
    assert len(visible(world.coordinator)) == 5


def test_an_assisting_province_sees_its_own_pairings_and_those_of_its_cities(world, pw, scene):
    assert visible(world.assisting) == {pw.shufu.pk, scene.kashgar_city.pk, scene.township.pk}


def test_a_city_does_not_see_its_provinces_pairings(world, pw, scene):
    shenzhen_officer = UserFactory(username="sz", organization=world.shenzhen_gov, roles=[Role.ASSISTING_OFFICER])

    assert visible(shenzhen_officer) == {scene.kashgar_city.pk, scene.township.pk}


def test_a_prefecture_government_sees_the_pairings_of_every_county_within_it(world, pw, scene):
    kashgar_officer = UserFactory(username="kg", organization=world.kashgar_gov, roles=[Role.RECIPIENT_OFFICER])

    assert visible(kashgar_officer) == {pw.shufu.pk, pw.jiashi.pk, scene.kashgar_city.pk, scene.township.pk}


def test_a_county_government_sees_its_own_pairing_and_those_of_its_townships(world, pw, scene):
    assert visible(world.recipient) == {pw.shufu.pk, scene.township.pk}


def test_an_outsider_sees_only_jiangsus_pairings(world, pw, scene):
    assert visible(world.outsider) == {pw.jiashi.pk, scene.lhasa.pk}


def test_a_user_without_an_organization_sees_no_pairing(world, pw):
    loner = UserFactory(username="loner", organization=None, roles=[Role.OBSERVER])

    assert visible(loner) == set()


def test_fund_flows_and_mandates_follow_the_pairings_a_user_sees(world, pw):
    for pairing in (pw.shufu, pw.jiashi):
        services.mandate_set(by=None, pairing=pairing, year=2011, funds_required="100", reason="测试")
        services.fund_flow_record(
            by=None, pairing=pairing, kind="pledge", amount="1", date=D(2011, 1, 1), source="enterprise"
        )

    assert {f.pairing_id for f in fund_flows_visible_to(world.assisting)} == {pw.shufu.pk}
    assert {m.pairing_id for m in mandates_visible_to(world.assisting)} == {pw.shufu.pk}
    assert {m.pairing_id for m in mandates_visible_to(world.outsider)} == {pw.jiashi.pk}


# --- figures ---------------------------------------------------------------------------------------------


def flow(pairing, kind: str, amount: str, date: dt.date, pledge: FundFlow | None = None) -> FundFlow:
    return services.fund_flow_record(
        by=None, pairing=pairing, kind=kind, amount=amount, date=date, source="assisting_fiscal", pledge=pledge
    )


@pytest.fixture
def figures(pw):
    """Shufu owes 1,000.00 in 2011 and 2,000.00 in 2012; flows in both years, and noise on Jiashi."""
    for year, amount in ((2011, "1000"), (2012, "2000")):
        services.mandate_set(by=None, pairing=pw.shufu, year=year, funds_required=amount, reason="测试")
    committed_in_2011 = flow(pw.shufu, "pledge", "100", D(2011, 2, 1))
    flow(pw.shufu, "commitment", "80", D(2011, 3, 1), pledge=committed_in_2011)
    flow(pw.shufu, "pledge", "50", D(2011, 4, 1))  # never committed
    committed_in_2012 = flow(pw.shufu, "pledge", "40", D(2011, 5, 1))
    flow(pw.shufu, "commitment", "40", D(2012, 1, 10), pledge=committed_in_2012)
    flow(pw.shufu, "commitment", "200", D(2011, 6, 1))
    flow(pw.shufu, "disbursement", "150", D(2011, 7, 1))
    flow(pw.shufu, "disbursement", "70.55", D(2011, 12, 31))
    flow(pw.shufu, "expenditure", "60", D(2011, 8, 1))
    flow(pw.shufu, "pledge", "30", D(2012, 2, 1))
    flow(pw.shufu, "disbursement", "1000", D(2012, 1, 1))
    flow(pw.shufu, "expenditure", "5", D(2012, 3, 1))
    services.mandate_set(by=None, pairing=pw.jiashi, year=2011, funds_required="999", reason="测试")
    for kind in ("pledge", "commitment", "disbursement", "expenditure"):
        flow(pw.jiashi, kind, "999", D(2011, 6, 1))


def test_each_mandate_adds_up_its_own_years_flows(pw, figures):
    rows = {m.year: (m.pledged, m.committed, m.received, m.spent) for m in mandates_for(pw.shufu)}

    assert rows == {
        # pledged: only the 50.00 never committed (the 100.00 and the 40.00 were committed);
        # committed: 80.00 + 200.00; received: 150.00 + 70.55; spent: 60.00
        2011: (Decimal("50.00"), Decimal("280.00"), Decimal("220.55"), Decimal("60.00")),
        # the 40.00 committed in 2012 counts in 2012, though it was pledged in 2011
        2012: (Decimal("30.00"), Decimal("40.00"), Decimal("1000.00"), Decimal("5.00")),
    }


def test_a_mandates_flows_are_read_from_the_rollup_not_the_flows(pw, figures):
    """Each mandate's year is one row per kind of the flows' rollup (pairings.rollups), not a sum over the flows:
    at 100 000 projects a sum over EXTRACT(YEAR …) took 953 ms for 505 mandates, a date range 62 ms."""
    from pairings.figures import with_figures
    from pairings.models import AnnualMandate

    sql = str(with_figures(AnnualMandate.objects.all()).query).upper()
    assert "PAIRINGS_FLOWYEARTOTAL" in sql
    assert "PAIRINGS_FUNDFLOW" not in sql
    assert "EXTRACT" not in sql


def test_a_mandate_without_flows_has_zero_figures_not_none(pw):
    services.mandate_set(by=None, pairing=pw.shufu, year=2013, funds_required="10", reason="测试")

    [mandate] = mandates_for(pw.shufu)

    assert (mandate.pledged, mandate.committed, mandate.received, mandate.spent) == (Decimal("0.00"),) * 4


def test_fulfilment_is_received_over_required_for_each_mandate(pw, figures):
    rows = {m.year: fulfilment(m.received, m.funds_required) for m in mandates_for(pw.shufu)}

    # 220.55 / 1,000.00 = 0.22055 → 0.2206 (4 places); 1,000.00 / 2,000.00 = 0.5
    assert rows == {2011: Decimal("0.2206"), 2012: Decimal("0.5000")}


@pytest.mark.parametrize(
    ("received", "required", "expected"),
    [
        (Decimal("220"), Decimal("1000"), Decimal("0.2200")),
        (Decimal("1"), Decimal("3"), Decimal("0.3333")),
        (Decimal("2"), Decimal("3"), Decimal("0.6667")),
        (Decimal("1500"), Decimal("1000"), Decimal("1.5000")),
        (Decimal("0"), Decimal("1000"), Decimal("0.0000")),
        (None, Decimal("1000"), Decimal("0.0000")),
        (Decimal("100"), Decimal("0"), None),
        (Decimal("100"), Decimal("0.00"), None),
        (Decimal("100"), None, None),
    ],
)
def test_fulfilment_arithmetic(received, required, expected):
    assert fulfilment(received, required) == expected


def test_a_breakdown_shows_what_is_allocated_to_the_children_and_what_is_left(world, pw, scene):
    parent = services.mandate_set(by=None, pairing=pw.shufu, year=2011, funds_required="1000000", reason="分配")
    second_township = RegionFactory(
        code="653121901", name="测试镇（合成）", level=RegionLevel.TOWNSHIP, parent=world.shufu
    )
    second = services.pairing_create(
        by=None,
        program=pw.program,
        assisting_organization=world.shenzhen_gov,
        recipient_region=second_township,
        start_date=D(2010, 7, 1),
        parent=pw.shufu,
    )
    services.mandate_set(by=None, pairing=scene.township, year=2011, funds_required="400000", reason="分配")
    services.mandate_set(by=None, pairing=second, year=2011, funds_required="500000", reason="分配")
    services.mandate_set(by=None, pairing=pw.shufu, year=2012, funds_required="5", reason="另一年")
    flow(scene.township, "disbursement", "1234.5", D(2011, 5, 1))

    result = breakdown(parent)

    assert result["mandate"] == parent
    assert [c.pairing_id for c in result["children"]] == [scene.township.pk, second.pk]  # by region code
    assert (result["allocated"], result["unallocated"]) == (Decimal("900000.00"), Decimal("100000.00"))
    assert result["children"][0].received == Decimal("1234.50")


def test_a_mandate_not_broken_down_is_wholly_unallocated(pw):
    mandate = services.mandate_set(by=None, pairing=pw.jiashi, year=2011, funds_required="750", reason="测试")

    result = breakdown(mandate)

    assert (result["children"], result["allocated"], result["unallocated"]) == ([], Decimal(0), Decimal("750"))


# --- what the reads cost ---------------------------------------------------------------------------------


def test_mandates_for_a_pairing_are_one_query_however_many_years(pw, django_assert_num_queries):
    services.fiscal_revenue_record(by=None, organization=pw.shufu.assisting_organization, year=2010, amount="1000000")
    for year in range(2011, 2021):
        services.mandate_compute(by=None, pairing=pw.shufu, year=year)
        flow(pw.shufu, "disbursement", "10", D(year, 6, 1))

    with django_assert_num_queries(1):
        rows = list(mandates_for(pw.shufu))
        labels = [(m.rule.version, m.basis_revenue.year, m.received, m.committed) for m in rows]

    assert len(labels) == 10
    assert {received for _, _, received, _ in labels} == {Decimal("10.00")}


def queries_to_list(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_listing_pairings_costs_the_same_queries_with_more_rows(world, pw, django_assert_max_num_queries):
    def list_pairings() -> None:
        # a fresh user, as a request would load it
        user = User.objects.get(pk=world.coordinator.pk)
        for p in pairings_visible_to(user):
            _ = (p.program.name, p.assisting_organization.name, p.recipient_region.name, p.parent_id and p.parent.pk)

    few = queries_to_list(list_pairings)
    for i in range(12):
        region = RegionFactory(code=f"6531{i + 30:02d}", level=RegionLevel.COUNTY, parent=world.kashgar)
        services.pairing_create(
            by=None,
            program=pw.program,
            assisting_organization=world.guangdong_gov,
            recipient_region=region,
            start_date=D(2010, 6, 1),
            parent=None,
        )
    assert Pairing.objects.count() == 14

    with django_assert_max_num_queries(few):
        list_pairings()


@pytest.mark.parametrize("actor", ["coordinator", "assisting", "recipient"])
def test_listing_mandates_and_flows_costs_the_same_queries_with_more_rows(world, pw, actor):
    def list_all() -> None:
        user = User.objects.get(pk=getattr(world, actor).pk)
        for m in mandates_visible_to(user):
            _ = (m.pairing.assisting_organization.name, m.pairing.recipient_region.name, m.received, m.rule)
        for f in fund_flows_visible_to(user):
            _ = (f.pairing.program.name, f.pairing.recipient_region.name, f.recorded_by)

    services.mandate_set(by=None, pairing=pw.shufu, year=2011, funds_required="1000", reason="测试")
    flow(pw.shufu, "disbursement", "1", D(2011, 6, 1))
    few = queries_to_list(list_all)
    for year in range(2012, 2021):
        services.mandate_set(by=None, pairing=pw.shufu, year=year, funds_required="1000", reason="测试")
        flow(pw.shufu, "disbursement", "1", D(year, 6, 1))
        services.fund_flow_record(
            by=world.assisting, pairing=pw.shufu, kind="pledge", amount="1", date=D(year, 6, 1), source="enterprise"
        )

    assert queries_to_list(list_all) == few
