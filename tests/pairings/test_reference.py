"""load_programs on the real region file: the three programmes as published, every sourced pairing, the checks of
check_reference, and the invariant "one active pairing per programme per county-level unit"."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Organization, User
from core.errors import DomainError
from core.models import HistoryEvent, Region, RegionLevel
from pairings import services
from pairings.checks import run_checks
from pairings.models import Evidence, FundingRule, Pairing, PairingStatus, Program, Source
from pairings.reference import WENCHUAN, XINJIANG, XIZANG
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def regions(db):
    call_command("load_regions", verbosity=0)


@pytest.fixture
def loaded(regions):
    call_command("load_programs", verbosity=0)


def load(**kwargs) -> str:
    out = StringIO()
    call_command("load_programs", stdout=out, **kwargs)
    return out.getvalue()


def top(program: str):
    return Pairing.objects.filter(program__code=program, parent__isnull=True).select_related(
        "assisting_organization__region", "recipient_region"
    )


def snapshot() -> dict[str, int]:
    return {
        "programs": Program.objects.count(),
        "rules": FundingRule.objects.count(),
        "pairings": Pairing.objects.count(),
        "organizations": Organization.objects.count(),
        "regions": Region.objects.count(),
        "sources": Source.objects.count(),
        "history": HistoryEvent.objects.count(),
    }


def test_the_programmes_and_their_rules_as_published(loaded):
    programs = {p.code: p for p in Program.objects.all()}
    assert set(programs) == {XIZANG, WENCHUAN, XINJIANG}

    xizang = programs[XIZANG]
    assert (xizang.start_year, xizang.end_year) == (1994, None)
    v1, v2 = xizang.rules.order_by("version")
    assert (v1.rate, v1.effective_from_year, v1.effective_to_year) == (Decimal("0.001"), 2010, 2020)
    assert (v2.min_county_share, v2.min_livelihood_share, v2.effective_from_year) == (
        Decimal("0.8"),
        Decimal("0.8"),
        2014,
    )
    assert services.current_rule(xizang, 2009) is None  # the 0.1 % dates from the 2010 forum
    assert services.current_rule(xizang, 2012) == v1
    assert services.current_rule(xizang, 2016) == v2
    assert services.current_rule(xizang, 2021) is None

    (wenchuan_rule,) = programs[WENCHUAN].rules.all()
    assert (wenchuan_rule.rate, wenchuan_rule.effective_from_year, wenchuan_rule.effective_to_year) == (
        Decimal("0.01"),
        2008,
        2010,
    )
    assert "W1" in set(wenchuan_rule.sources.values_list("key", flat=True))

    xinjiang = programs[XINJIANG]
    assert xinjiang.start_year == 2010  # its pairings start in 2010
    (rule,) = xinjiang.rules.all()
    assert (rule.effective_from_year, rule.effective_to_year, rule.is_unverified) == (2011, 2020, True)
    for program in programs.values():
        assert program.sources.exists()
        assert program.source == ""  # working notes live in the code, not on the page
        assert program.principles
        assert program.principles_en


def test_wenchuan_twenty_pairings_from_nineteen_provinces_and_the_towns(loaded):
    pairings = list(top(WENCHUAN))
    assert len(pairings) == 20
    for p in Pairing.objects.filter(program__code=WENCHUAN):
        assert p.status == PairingStatus.ENDED
        assert (p.start_date, p.end_date) == (dt.date(2008, 6, 11), dt.date(2010, 12, 31))
    gansu = top(WENCHUAN).get(recipient_region__code="620000")
    assert gansu.assisting_organization.name == "深圳市人民政府"
    assert not gansu.mandate_from_rule
    guangdong = top(WENCHUAN).get(recipient_region__code="513221")
    towns = {c.recipient_region.code: c.assisting_organization.name for c in guangdong.children.all()}
    assert towns["513221109"] == "珠海市人民政府"  # Miansi
    assert towns["513221102"] == "东莞市人民政府"  # Yingxiu
    for child in guangdong.children.all():
        assert child.recipient_region.level == RegionLevel.TOWNSHIP
        assert child.assisting_organization.parent == guangdong.assisting_organization


def test_guangdongs_wenchuan_mandate_is_one_percent_of_its_revenue_and_gansu_takes_no_share(loaded):
    guangdong = top(WENCHUAN).get(recipient_region__code="513221")
    services.fiscal_revenue_record(
        by=None, organization=guangdong.assisting_organization, year=2008, amount=Decimal("331000000000")
    )
    mandate = services.mandate_compute(by=None, pairing=guangdong, year=2009)
    assert mandate.funds_required == Decimal("3310000000.00")
    assert mandate.shared_by == 1
    gansu = top(WENCHUAN).get(recipient_region__code="620000")
    with pytest.raises(DomainError) as refused:
        services.mandate_compute(by=None, pairing=gansu, year=2009)
    assert refused.value.problems[0].code == "not_under_rule"


def test_a_year_the_rule_does_not_cover_gives_no_mandate(loaded):
    shufu = top(XINJIANG).get(recipient_region__code="653121")
    with pytest.raises(DomainError) as refused:
        services.mandate_compute(by=None, pairing=shufu, year=2021)
    assert refused.value.problems[0].code == "no_rule_in_year"


def test_an_unverified_rule_flags_its_mandates(loaded):
    shufu = top(XINJIANG).get(recipient_region__code="653121")
    services.fiscal_revenue_record(
        by=None, organization=shufu.assisting_organization, year=2010, amount=Decimal("450000000000")
    )
    mandate = services.mandate_compute(by=None, pairing=shufu, year=2011)
    assert mandate.is_unverified
    # Guangdong holds Shufu, Jiashi and the 3rd division: 0.5 % of 2010's revenue split three ways.
    assert mandate.shared_by == 3
    assert mandate.funds_required == (Decimal("450000000000") * Decimal("0.005") / 3).quantize(Decimal("0.01"))


def test_xinjiang_nineteen_parties_units_and_divisions(loaded):
    pairings = list(top(XINJIANG))
    assert len({p.assisting_organization_id for p in pairings}) == 19
    divisions = {p.recipient_region.division_number for p in pairings if p.recipient_region.level == "xpcc_division"}
    assert divisions == {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14}
    division = Region.objects.get(code="XPCC-14")
    assert (division.city.code, division.parent.code, division.is_xpcc) == ("659009", "650000", True)
    assert division.counts_as_county_level
    assert Region.objects.get(code="659001").level == RegionLevel.COUNTY  # a division's city is a county-level city


def test_xizang_parties_counties_and_moves(loaded):
    pairings = list(top(XIZANG))
    provinces = {p.assisting_organization.region.code for p in pairings if p.assisting_organization.region}
    assert len(provinces) == 17
    enterprises = [p for p in pairings if p.assisting_organization.kind == "central_enterprise"]
    assert {p.recipient_region.code for p in enterprises} == {"540200"}
    assert all(p.covers_unsourced and p.is_unverified for p in enterprises)
    fujian_nyingchi = top(XIZANG).get(assisting_organization__name="福建省人民政府", recipient_region__code="540400")
    assert (fujian_nyingchi.status, fujian_nyingchi.end_date) == (PairingStatus.ENDED, dt.date(2016, 6, 30))
    chamdo = top(XIZANG).filter(
        assisting_organization__name="福建省人民政府", recipient_region__code__startswith="5403"
    )
    assert chamdo.count() == 4
    assert {p.start_date for p in chamdo} == {dt.date(2016, 7, 1)}
    assert top(XIZANG).filter(evidence=Evidence.SECONDARY).exists()


def test_regions_refreshed_with_retired_codes_kept(regions):
    nagqu = Region.objects.get(code="540600")
    old = Region.objects.get(code="542400")
    assert (nagqu.name, old.superseded_by) == ("那曲市", nagqu)
    assert nagqu.longitude is not None  # taken from the retired code when the new list has none
    old_county = Region.objects.get(code="542422")  # 嘉黎县 before 2018
    assert old_county.superseded_by.code == "540621"
    assert nagqu.contains(old_county)
    assert not Region.objects.current().filter(code="542400").exists()
    assert not Region.objects.filter(code="990000").exists()


def test_check_reference_passes_and_says_what_it_checked(loaded):
    out = StringIO()
    call_command("check_reference", stdout=out)
    text = out.getvalue()
    assert "All 15 reference checks passed." in text
    assert "82 of the 82 listed" in text
    assert "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 14" in text
    assert "[info] published total, wenchuan-2008" in text


def test_check_reference_fails_when_the_data_is_wrong(loaded):
    shufu = top(XINJIANG).get(recipient_region__code="653121")
    services.pairing_end(by=None, pairing=shufu, end_date=dt.date(2010, 6, 1), comment="test")
    Pairing.objects.filter(pk=shufu.pk).update(start_date=dt.date(2010, 5, 1))
    failed = [c for c in run_checks() if not c.passed]
    assert [c.name for c in failed] == ["Xinjiang county-level units of 2010"]
    assert "653121" in failed[0].found
    with pytest.raises(CommandError, match="1 of 15 reference checks failed"):
        call_command("check_reference", stdout=StringIO())


def test_every_programme_rule_and_pairing_cites_a_source_and_shows_no_working_note(loaded):
    for model in (Program, FundingRule, Pairing):
        for row in model.objects.all():
            assert row.sources.exists(), row
    assert not Pairing.objects.exclude(note="").exists()
    assert not Pairing.objects.exclude(source="").exists()


def test_running_twice_changes_nothing_and_is_quiet_at_verbosity_0(regions):
    assert load(verbosity=0) == ""
    before = snapshot()
    assert load(verbosity=0) == ""
    assert snapshot() == before


def test_seed_demo_reuses_the_governments_it_shares_with_the_reference_data(loaded):
    guangdong = Organization.objects.get(name="广东省人民政府")
    call_command("seed_demo", verbosity=0)
    assert Organization.objects.get(name="广东省人民政府").pk == guangdong.pk
    assert User.objects.get(username="assisting_officer").organization == guangdong
    for name in ["深圳市人民政府", "珠海市人民政府"]:
        assert Organization.objects.get(name=name).parent == guangdong
    before = snapshot()
    load(verbosity=0)
    assert snapshot() == before


def test_needs_the_regions(db):
    with pytest.raises(CommandError, match="load_regions"):
        load(verbosity=0)
    assert not Program.objects.exists()


# --- the invariant -----------------------------------------------------------------------------------------


@pytest.fixture
def programme(regions):
    return services.program_create(by=None, code="test-prog", name="测试", model="development", start_year=2010)


def pair(program, org, code, **kwargs):
    return services.pairing_create(
        by=None,
        program=program,
        assisting_organization=org,
        recipient_region=Region.objects.get(code=code),
        start_date=dt.date(2010, 1, 1),
        **kwargs,
    )


def test_a_county_inside_a_whole_prefecture_pairing_is_refused_and_the_other_way_round(programme):
    a, b = OrganizationFactory(), OrganizationFactory()
    pair(programme, a, "652900")  # Aksu prefecture, whole
    with pytest.raises(DomainError) as inside:
        pair(programme, b, "652901")  # Aksu city, inside it
    assert inside.value.problems[0].code == "recipient_taken"
    assert inside.value.problems[0].field == "recipient_region"
    pair(programme, b, "653121")  # Shufu, elsewhere
    with pytest.raises(DomainError) as around:
        pair(programme, a, "653100")  # Kashgar prefecture, around Shufu
    assert around.value.problems[0].code == "recipient_taken"


def test_several_parties_may_each_hold_counties_of_one_prefecture(programme):
    a, b = OrganizationFactory(), OrganizationFactory()
    pair(programme, a, "653121")
    pair(programme, b, "653129")
    assert Pairing.objects.filter(program=programme, status="active").count() == 2


def test_a_prefecture_whose_counties_are_not_sourced_claims_none_of_them(programme):
    a, b, c = OrganizationFactory(), OrganizationFactory(), OrganizationFactory()
    pair(programme, a, "540200", covers_unsourced=True, evidence="unverified")
    pair(programme, b, "540200", covers_unsourced=True, evidence="unverified")  # side by side
    pair(programme, c, "540222")  # a county of Shigatse, sourced
    with pytest.raises(DomainError):
        pair(programme, c, "540200")  # but a claiming whole-prefecture pairing would cover it
    with pytest.raises(DomainError) as refused:
        pair(programme, a, "540233", covers_unsourced=True, parent=None, evidence="x")
    assert refused.value.problems[0].field == "evidence"


def test_an_ended_pairing_frees_its_units_for_its_successor(programme):
    a, b = OrganizationFactory(), OrganizationFactory()
    first = pair(programme, a, "540400")
    services.pairing_end(by=None, pairing=first, end_date=dt.date(2016, 6, 30), comment="moved")
    successor = pair(programme, b, "540402")
    assert successor.status == PairingStatus.ACTIVE


def test_the_api_shows_sources_evidence_and_the_unverified_mandate(loaded):
    from rest_framework.test import APIClient

    call_command("seed_demo", verbosity=0)
    client = APIClient()
    client.force_authenticate(User.objects.get(username="national_coordinator"))
    shufu = top(XINJIANG).get(recipient_region__code="653121")
    services.fiscal_revenue_record(
        by=None, organization=shufu.assisting_organization, year=2010, amount=Decimal("450000000000")
    )
    services.mandate_compute(by=None, pairing=shufu, year=2012)
    body = client.get(f"/api/v1/pairings/{shufu.pk}/").json()
    assert (body["evidence"], body["is_unverified"], body["start_precision"]) == ("sourced", False, "day")
    assert {s["key"] for s in body["sources"]} >= {"X3"}
    (mandate,) = client.get(f"/api/v1/pairings/{shufu.pk}/mandates/").json()["results"]
    assert (mandate["year"], mandate["is_unverified"]) == (2012, True)
    gansu = client.get(f"/api/v1/pairings/{top(WENCHUAN).get(recipient_region__code='620000').pk}/").json()
    assert gansu["mandate_from_rule"] is False
    division = client.get("/api/v1/regions/XPCC-14/").json()
    assert (division["level"], division["division_number"], division["city"]) == ("xpcc_division", 14, "659009")
    assert client.get("/api/v1/regions/542400/").json()["superseded_by"] == "540600"


def test_a_partys_own_rate_overrides_the_programmes_rule_for_that_party_alone(loaded):
    shufu = top(XINJIANG).get(recipient_region__code="653121")
    kashgar = top(XINJIANG).get(recipient_region__code="653101")  # Shenzhen's
    program = shufu.program
    own = services.funding_rule_set(
        by=None,
        program=program,
        organization=shufu.assisting_organization,
        basis="fiscal_revenue",
        rate="0.006",
        effective_from_year=2011,
        effective_to_year=2020,
    )
    assert services.current_rule(program, 2012, shufu.assisting_organization) == own
    assert services.current_rule(program, 2012, kashgar.assisting_organization).organization is None
    assert services.current_rule(program, 2012).organization is None
    for org in (shufu.assisting_organization, kashgar.assisting_organization):
        services.fiscal_revenue_record(by=None, organization=org, year=2010, amount=Decimal("300000000000"))
    guangdong = services.mandate_compute(by=None, pairing=shufu, year=2011)
    shenzhen = services.mandate_compute(by=None, pairing=kashgar, year=2011)
    assert (guangdong.rule, guangdong.is_unverified) == (own, False)
    assert guangdong.funds_required == (Decimal("300000000000") * Decimal("0.006") / 3).quantize(Decimal("0.01"))
    assert shenzhen.is_unverified
    assert shenzhen.rule.organization is None
