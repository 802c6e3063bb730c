"""/api/v1/ for programmes, pairings, mandates, fiscal revenues, fund flows, deployments and trainings.

Three actors throughout (tests/conftest.py): `world.assisting` (Guangdong) and `world.recipient` (Shufu county)
both see the Guangdong → Shufu pairing `pw.shufu`; `world.outsider` (Jiangsu) sees only Jiangsu → Jiashi and gets
404 on everything of `pw.shufu`. Refused writes are checked to leave every table and the history as they were.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import HistoryEvent, RegionLevel
from pairings import services
from pairings.models import (
    AnnualMandate,
    Deployment,
    FiscalRevenue,
    FundFlow,
    FundingRule,
    Pairing,
    PairingStatus,
    Program,
    Training,
)
from tests.conftest import api_as
from tests.factories import RegionFactory

pytestmark = pytest.mark.django_db

# 0.005 × Guangdong's 2010 revenue, raised 8 % once for 2012 (the programme starts in 2011):
# 0.005 × 123 456 789 012.34 = 617 283 945.0617; × 1.08 = 666 666 660.666636 → 666 666 660.67.
REVENUE_2010 = Decimal("123456789012.34")
MANDATE_2012 = "666666660.67"


def errors(response) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in response.json()["errors"]]


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def snapshot() -> dict[str, int]:
    """Row counts of every table these endpoints write, history included."""
    models = [Program, FundingRule, Pairing, FiscalRevenue, AnnualMandate, FundFlow, Deployment, Training, HistoryEvent]
    return {m.__name__: m.objects.count() for m in models}


@pytest.fixture
def revenue(world, pw) -> FiscalRevenue:
    return services.fiscal_revenue_record(by=None, organization=world.guangdong_gov, year=2010, amount=REVENUE_2010)


@pytest.fixture
def township(world):
    return RegionFactory(
        code="653121100", name="托克扎克镇", name_en="Tokzak", level=RegionLevel.TOWNSHIP, parent=world.shufu
    )


@pytest.fixture
def child(world, pw, township) -> Pairing:
    """Shenzhen → a township of Shufu, broken down from Guangdong → Shufu."""
    return services.pairing_create(
        by=None,
        program=pw.program,
        assisting_organization=world.shenzhen_gov,
        recipient_region=township,
        parent=pw.shufu,
        start_date=dt.date(2011, 1, 1),
    )


def flow(pairing, kind="disbursement", amount="1000.00", date=dt.date(2012, 3, 1), **kwargs) -> FundFlow:
    return services.fund_flow_record(
        by=None, pairing=pairing, kind=kind, amount=Decimal(amount), date=date, source="assisting_fiscal", **kwargs
    )


# --- programmes ---------------------------------------------------------------------------------------------


PROGRAMS = "/api/v1/programs/"


@pytest.mark.parametrize("actor", ["assisting", "recipient", "outsider"])
def test_everyone_signed_in_lists_programmes_with_their_current_funding_rule(world, pw, actor):
    response = api_as(getattr(world, actor)).get(PROGRAMS)

    assert response.status_code == 200
    assert response.json()["count"] == 1
    [row] = response.json()["results"]
    assert row == {
        "id": pw.program.pk,
        "code": "xinjiang-2010",
        "name": "对口援疆",
        "name_en": "Xinjiang paired assistance",
        "model": "development",
        "start_year": 2011,
        "end_year": 2020,
        "policy_reference": "",
        "principles": "",
        "principles_en": "",
        "lead_agency": None,
        "source": "",
        "sources": [],
        "funding_rule": {
            "version": 1,
            "basis": "fiscal_revenue",
            "rate": "0.005000",
            "fixed_amount": None,
            "escalation": "0.080000",
            "escalation_years": 4,
            "min_county_share": "0.800000",
            "min_livelihood_share": "0.700000",
            "effective_from_year": None,
            "effective_to_year": None,
            "organization": None,
            "is_unverified": False,
            "reason": "",
            "source": "",
            "sources": [],
            "created_at": row["funding_rule"]["created_at"],
        },
    }


def test_a_programme_is_found_by_its_code_or_its_id(world, pw):
    client = api_as(world.outsider)

    by_code = client.get(f"{PROGRAMS}xinjiang-2010/")
    by_id = client.get(f"{PROGRAMS}{pw.program.pk}/")
    unknown = client.get(f"{PROGRAMS}tibet-1994/")

    assert by_code.status_code == by_id.status_code == 200
    assert by_code.json() == by_id.json()
    assert unknown.status_code == 404
    assert errors(unknown) == [("not_found", None)]


def test_a_programme_named_by_a_digit_that_is_not_a_number_is_not_found(world, pw):
    # `¹` is a digit to str.isdigit but not to int(): the fuzzer of tests/api/ found it answering 500.
    response = api_as(world.coordinator).get(f"{PROGRAMS}¹/")

    assert response.status_code == 404
    assert errors(response) == [("not_found", None)]


def test_programmes_filter_by_model_and_by_the_years_they_run(world, pw):
    wenchuan = services.program_create(
        by=None,
        code="wenchuan",
        name="汶川地震灾后恢复重建对口支援",
        model="disaster_response",
        start_year=2008,
        end_year=2010,
    )
    client = api_as(world.assisting)

    assert ids(client.get(PROGRAMS, {"model": "disaster_response"})) == [wenchuan.pk]
    assert ids(client.get(PROGRAMS, {"year": 2009})) == [wenchuan.pk]
    assert ids(client.get(PROGRAMS, {"year": 2015})) == [pw.program.pk]
    assert ids(client.get(PROGRAMS, {"year": 2030})) == []
    assert ids(client.get(PROGRAMS)) == [wenchuan.pk, pw.program.pk]
    bad = client.get(PROGRAMS, {"model": "charity"})
    assert bad.status_code == 400
    assert errors(bad) == [("invalid_choice", "model")]


def test_a_programme_without_a_rule_shows_funding_rule_null(world):
    services.program_create(by=None, code="tibet-1994", name="对口援藏", model="border_governance", start_year=1994)

    [row] = api_as(world.assisting).get(PROGRAMS).json()["results"]

    assert row["code"] == "tibet-1994"
    assert row["funding_rule"] is None


def test_the_national_coordinator_creates_a_programme(world):
    response = api_as(world.coordinator).post(
        PROGRAMS,
        {
            "code": "tibet-1994",
            "name": "对口援藏",
            "name_en": "Xizang paired assistance",
            "model": "border_governance",
            "start_year": 1994,
            "lead_agency": world.national_office.pk,
        },
        format="json",
    )

    assert response.status_code == 201
    program = Program.objects.get(code="tibet-1994")
    assert response.json()["id"] == program.pk
    assert response.json()["funding_rule"] is None
    assert (program.name, program.model, program.start_year, program.end_year) == (
        "对口援藏",
        "border_governance",
        1994,
        None,
    )
    assert program.lead_agency == world.national_office
    event = HistoryEvent.objects.for_object(program).get()
    assert (event.action, event.actor) == ("created", world.coordinator)


def test_an_assisting_officer_cannot_create_a_programme(world):
    before = snapshot()

    response = api_as(world.assisting).post(
        PROGRAMS, {"code": "x", "name": "x", "model": "development", "start_year": 2020}, format="json"
    )

    assert response.status_code == 403
    assert errors(response) == [("forbidden", None)]
    assert snapshot() == before


def test_a_duplicate_code_and_years_out_of_order_are_both_reported(world, pw):
    before = snapshot()

    response = api_as(world.coordinator).post(
        PROGRAMS,
        {"code": "xinjiang-2010", "name": "重复", "model": "development", "start_year": 2020, "end_year": 2019},
        format="json",
    )

    assert response.status_code == 400
    assert sorted(errors(response)) == [("dates_out_of_order", "end_year"), ("duplicate", "code")]
    assert snapshot() == before


def test_the_coordinator_changes_a_programme_by_code_and_the_change_is_in_its_history(world, pw):
    response = api_as(world.coordinator).patch(
        f"{PROGRAMS}xinjiang-2010/", {"end_year": 2030, "principles": "统筹兼顾"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["end_year"] == 2030
    assert response.json()["funding_rule"]["version"] == 1
    pw.program.refresh_from_db()
    assert (pw.program.end_year, pw.program.principles) == (2030, "统筹兼顾")
    event = HistoryEvent.objects.for_object(pw.program).filter(action="updated").get()
    assert event.actor == world.coordinator
    assert event.changes["end_year"] == {"old": 2020, "new": 2030}


def test_a_programmes_code_and_id_cannot_be_patched(world, pw):
    before = snapshot()

    response = api_as(world.coordinator).patch(
        f"{PROGRAMS}{pw.program.pk}/", {"code": "renamed", "id": 7, "colour": "red"}, format="json"
    )

    assert response.status_code == 400
    assert errors(response) == [("read_only", "code"), ("unknown_field", "colour"), ("read_only", "id")]
    pw.program.refresh_from_db()
    assert pw.program.code == "xinjiang-2010"
    assert snapshot() == before


def test_the_coordinator_records_a_new_rule_version_which_the_programme_then_shows(world, pw):
    client = api_as(world.coordinator)

    response = client.post(
        f"{PROGRAMS}xinjiang-2010/rules/",
        {
            "basis": "fiscal_revenue",
            "rate": "0.006",
            "escalation": "0.08",
            "escalation_years": 4,
            "reason": "2014 年调整",
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["version"], body["basis"], body["rate"], body["escalation"]) == (
        2,
        "fiscal_revenue",
        "0.006000",
        "0.080000",
    )
    assert FundingRule.objects.filter(program=pw.program).count() == 2
    assert services.current_rule(pw.program).rate == Decimal("0.006")
    assert client.get(f"{PROGRAMS}xinjiang-2010/").json()["funding_rule"]["version"] == 2
    event = HistoryEvent.objects.for_object(pw.program).filter(action="rule_changed").order_by("pk").last()
    assert (event.actor, event.comment) == (world.coordinator, "2014 年调整")
    assert event.changes["rule_version"] == {"old": 1, "new": 2}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"basis": "fiscal_revenue", "rate": "1.5"}, [("max_value", "rate")]),
        ({"basis": "fiscal_revenue", "rate": "-0.01"}, [("min_value", "rate")]),
        ({"basis": "fiscal_revenue", "rate": "one percent"}, [("invalid", "rate")]),
        ({"basis": "fiscal_revenue"}, [("required", "rate")]),
        ({"basis": "fixed", "fixed_amount": "-5"}, [("min_value", "fixed_amount")]),
        ({"basis": "fiscal_revenue", "rate": "0.01", "min_county_share": "1.2"}, [("max_value", "min_county_share")]),
        ({"basis": "lottery", "rate": "0.01"}, [("invalid_choice", "basis")]),
        ({"basis": "fiscal_revenue", "rate": "0.01", "version": 9}, [("read_only", "version")]),
        (
            {"basis": "fiscal_revenue", "rate": "0.01", "effective_from_year": 2005},
            [("before_programme", "effective_from_year")],
        ),
    ],
    ids=[
        "rate-above-1",
        "rate-negative",
        "rate-not-a-number",
        "rate-missing",
        "negative-fixed",
        "share-above-1",
        "unknown-basis",
        "version-given",
        "in-force-before-the-programme",
    ],
)
def test_a_bad_rule_is_400_naming_the_field_and_records_no_version(world, pw, body, expected):
    before = snapshot()

    response = api_as(world.coordinator).post(f"{PROGRAMS}xinjiang-2010/rules/", body, format="json")

    assert response.status_code == 400
    assert errors(response) == expected
    assert snapshot() == before


def test_only_the_national_coordinator_records_rules(world, pw):
    before = snapshot()

    response = api_as(world.assisting).post(
        f"{PROGRAMS}xinjiang-2010/rules/", {"basis": "fiscal_revenue", "rate": "0.01"}, format="json"
    )

    assert response.status_code == 403
    assert snapshot() == before


# --- pairings -----------------------------------------------------------------------------------------------


PAIRINGS = "/api/v1/pairings/"


def pairing_url(pairing: Pairing, suffix: str = "") -> str:
    return f"{PAIRINGS}{pairing.pk}/{suffix}"


@pytest.mark.parametrize(("actor", "visible"), [("assisting", "shufu"), ("recipient", "shufu"), ("outsider", "jiashi")])
def test_each_official_lists_only_the_pairings_in_scope(world, pw, actor, visible):
    response = api_as(getattr(world, actor)).get(PAIRINGS)

    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert ids(response) == [getattr(pw, visible).pk]


def test_the_coordinator_lists_every_pairing(world, pw):
    response = api_as(world.coordinator).get(PAIRINGS)

    assert sorted(ids(response)) == sorted([pw.shufu.pk, pw.jiashi.pk])


@pytest.mark.parametrize("actor", ["assisting", "recipient"])
def test_a_pairing_shows_the_contract_fields_and_names_for_display(world, pw, child, actor):
    response = api_as(getattr(world, actor)).get(pairing_url(pw.shufu))

    assert response.status_code == 200
    assert response.json() == {
        "id": pw.shufu.pk,
        "program": pw.program.pk,
        "program_name": "对口援疆",
        "assisting_organization": world.guangdong_gov.pk,
        "assisting_organization_name": "广东省人民政府",
        "recipient_region": "653121",
        "recipient_region_name": "疏附县",
        "contracting_mode": "diagonal",
        "mode_overridden": False,
        "mode_reason": "",
        "parent": None,
        "children": [child.pk],
        "start_date": "2010-06-01",
        "start_precision": "day",
        "end_date": None,
        "status": "active",
        "evidence": "sourced",
        "covers_unsourced": False,
        "mandate_from_rule": True,
        "is_unverified": False,
        "source": "",
        "sources": [],
        "note": "",
    }


def test_names_follow_the_language_of_the_request(world, pw):
    response = api_as(world.assisting).get(pairing_url(pw.shufu), HTTP_ACCEPT_LANGUAGE="en")

    body = response.json()
    assert (body["program_name"], body["assisting_organization_name"], body["recipient_region_name"]) == (
        "Xinjiang paired assistance",
        "Guangdong",
        "Shufu County",
    )


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("patch", "", {"note": "x"}),
        ("post", "end/", {"end_date": "2020-12-31", "comment": "x"}),
        ("get", "mandates/", None),
        ("post", "mandates/", {"year": 2012}),
        ("get", "mandates/2012/", None),
        ("get", "mandates/2012/breakdown/", None),
    ],
)
def test_the_outsider_gets_404_on_everything_of_the_shufu_pairing(world, pw, revenue, method, suffix, body):
    services.mandate_compute(by=None, pairing=pw.shufu, year=2012)
    before = snapshot()

    response = getattr(api_as(world.outsider), method)(pairing_url(pw.shufu, suffix), body, format="json")

    assert response.status_code == 404
    assert errors(response) == [("not_found", None)]
    assert snapshot() == before


def test_an_unknown_pairing_is_404(world, pw):
    assert api_as(world.coordinator).get(f"{PAIRINGS}999999/").status_code == 404
    assert api_as(world.coordinator).get(f"{PAIRINGS}999999/mandates/").status_code == 404


def test_pairings_filter_by_each_explicit_field(world, pw, child):
    client = api_as(world.coordinator)
    ended = services.pairing_create(
        by=None,
        program=pw.program,
        assisting_organization=world.jiangsu_gov,
        recipient_region=RegionFactory(code="653122", name="疏勒县", level=RegionLevel.COUNTY, parent=world.kashgar),
        start_date=dt.date(2010, 6, 1),
        contracting_mode="direct",
        mode_reason="试点",
    )
    services.pairing_end(by=None, pairing=ended, end_date=dt.date(2015, 1, 1), comment="调整")

    def found(**params) -> set[int]:
        response = client.get(PAIRINGS, params)
        assert response.status_code == 200, response.json()
        return set(ids(response))

    everything = {pw.shufu.pk, pw.jiashi.pk, child.pk, ended.pk}
    assert found(program=pw.program.pk) == everything
    assert found(program="xinjiang-2010") == everything
    assert found(program="tibet-1994") == set()
    assert found(assisting_organization=world.jiangsu_gov.pk) == {pw.jiashi.pk, ended.pk}
    assert found(recipient_region="653121") == {pw.shufu.pk, child.pk}
    assert found(recipient_region="653100") == everything
    assert found(recipient_region="653121100") == {child.pk}
    assert found(status="ended") == {ended.pk}
    assert found(contracting_mode="direct") == {ended.pk}
    assert found(parent=pw.shufu.pk) == {child.pk}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"recipient_region": "999999"}, [("unknown_region", "recipient_region")]),
        ({"status": "paused"}, [("invalid_choice", "status")]),
        ({"contracting_mode": "sideways"}, [("invalid_choice", "contracting_mode")]),
        ({"parent": "first"}, [("invalid", "parent")]),
    ],
)
def test_a_bad_pairing_filter_is_400_naming_it(world, pw, params, expected):
    response = api_as(world.assisting).get(PAIRINGS, params)

    assert response.status_code == 400
    assert errors(response) == expected


def test_the_coordinator_creates_a_pairing_and_its_history(world, pw):
    shule = RegionFactory(code="653122", name="疏勒县", level=RegionLevel.COUNTY, parent=world.kashgar)

    response = api_as(world.coordinator).post(
        PAIRINGS,
        {
            "program": pw.program.pk,
            "assisting_organization": world.jiangsu_gov.pk,
            "recipient_region": "653122",
            "start_date": "2010-06-01",
            "note": "第一批",
        },
        format="json",
    )

    assert response.status_code == 201
    pairing = Pairing.objects.get(recipient_region=shule)
    body = response.json()
    assert body["id"] == pairing.pk
    assert (body["contracting_mode"], body["mode_overridden"], body["status"], body["children"]) == (
        "diagonal",
        False,
        "active",
        [],
    )
    assert (pairing.assisting_organization, pairing.note, pairing.status) == (world.jiangsu_gov, "第一批", "active")
    event = HistoryEvent.objects.for_object(pairing).get()
    assert (event.action, event.actor, event.to_state) == ("created", world.coordinator, "active")


def test_the_assisting_officer_breaks_down_their_own_pairing(world, pw, township):
    response = api_as(world.assisting).post(
        PAIRINGS,
        {
            "program": pw.program.pk,
            "assisting_organization": world.shenzhen_gov.pk,
            "recipient_region": township.code,
            "parent": pw.shufu.pk,
            "start_date": "2011-01-01",
        },
        format="json",
    )

    assert response.status_code == 201
    child = Pairing.objects.get(recipient_region=township)
    assert (child.parent, child.assisting_organization) == (pw.shufu, world.shenzhen_gov)
    assert api_as(world.recipient).get(pairing_url(pw.shufu)).json()["children"] == [child.pk]
    assert HistoryEvent.objects.for_object(child).get().actor == world.assisting


def test_an_assisting_officer_cannot_create_a_top_level_pairing(world, pw):
    shule = RegionFactory(code="653122", name="疏勒县", level=RegionLevel.COUNTY, parent=world.kashgar)
    before = snapshot()

    response = api_as(world.assisting).post(
        PAIRINGS,
        {
            "program": pw.program.pk,
            "assisting_organization": world.guangdong_gov.pk,
            "recipient_region": shule.code,
            "start_date": "2011-01-01",
        },
        format="json",
    )

    assert response.status_code == 403
    assert snapshot() == before


def pairing_body(pw, **overrides) -> dict:
    return {
        "program": pw.program.pk,
        "assisting_organization": overrides.pop("assisting_organization"),
        "recipient_region": overrides.pop("recipient_region"),
        "start_date": "2011-01-01",
        **overrides,
    }


def test_dates_out_of_order_on_a_new_pairing_are_400_on_end_date(world, pw):
    RegionFactory(code="653122", name="疏勒县", level=RegionLevel.COUNTY, parent=world.kashgar)
    before = snapshot()

    response = api_as(world.coordinator).post(
        PAIRINGS,
        pairing_body(pw, assisting_organization=world.jiangsu_gov.pk, recipient_region="653122", end_date="2010-12-31"),
        format="json",
    )

    assert response.status_code == 400
    assert errors(response) == [("dates_out_of_order", "end_date")]
    assert snapshot() == before


def test_a_child_whose_recipient_lies_outside_its_parents_is_400_on_recipient_region(world, pw):
    jiashi_town = RegionFactory(code="653129100", name="巴仁镇", level=RegionLevel.TOWNSHIP, parent=world.jiashi)
    before = snapshot()

    response = api_as(world.assisting).post(
        PAIRINGS,
        pairing_body(
            pw, assisting_organization=world.shenzhen_gov.pk, recipient_region=jiashi_town.code, parent=pw.shufu.pk
        ),
        format="json",
    )

    assert response.status_code == 400
    assert errors(response) == [("outside_parent", "recipient_region")]
    assert snapshot() == before


def test_a_second_active_pairing_for_the_same_recipient_is_400_on_recipient_region(world, pw):
    before = snapshot()

    response = api_as(world.coordinator).post(
        PAIRINGS,
        pairing_body(pw, assisting_organization=world.jiangsu_gov.pk, recipient_region="653121"),
        format="json",
    )

    assert response.status_code == 400
    assert errors(response) == [("recipient_taken", "recipient_region")]
    assert snapshot() == before


def test_a_parent_outside_the_callers_scope_is_400_does_not_exist_like_an_unknown_one(world, pw, township):
    before = snapshot()
    client = api_as(world.outsider)

    hidden = client.post(
        PAIRINGS,
        pairing_body(
            pw, assisting_organization=world.jiangsu_gov.pk, recipient_region=township.code, parent=pw.shufu.pk
        ),
        format="json",
    )
    unknown = client.post(
        PAIRINGS,
        pairing_body(pw, assisting_organization=world.jiangsu_gov.pk, recipient_region=township.code, parent=999999),
        format="json",
    )

    assert hidden.status_code == unknown.status_code == 400
    assert errors(hidden) == errors(unknown) == [("does_not_exist", "parent")]
    assert hidden.json()["errors"][0]["message"] == unknown.json()["errors"][0]["message"].replace(
        "999999", str(pw.shufu.pk)
    )
    assert snapshot() == before


def test_unknown_and_read_only_fields_on_a_new_pairing_are_refused(world, pw):
    before = snapshot()

    response = api_as(world.coordinator).post(
        PAIRINGS,
        pairing_body(
            pw, assisting_organization=world.jiangsu_gov.pk, recipient_region="653129", status="ended", colour="red"
        ),
        format="json",
    )

    assert response.status_code == 400
    assert errors(response) == [("unknown_field", "colour"), ("read_only", "status")]
    assert snapshot() == before


def test_the_coordinator_patches_a_pairings_term_mode_and_note(world, pw):
    response = api_as(world.coordinator).patch(
        pairing_url(pw.shufu),
        {"end_date": "2020-12-31", "note": "延续", "contracting_mode": "direct", "mode_reason": "省直管"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["end_date"], body["note"], body["contracting_mode"], body["mode_overridden"]) == (
        "2020-12-31",
        "延续",
        "direct",
        True,
    )
    pw.shufu.refresh_from_db()
    assert (pw.shufu.end_date, pw.shufu.note, pw.shufu.mode_reason) == (dt.date(2020, 12, 31), "延续", "省直管")
    event = HistoryEvent.objects.for_object(pw.shufu).filter(action="updated").get()
    assert event.actor == world.coordinator
    assert event.changes["end_date"] == {"old": None, "new": "2020-12-31"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"program": 1}, [("read_only", "program")]),
        (
            {"assisting_organization": 1, "recipient_region": "653129"},
            [
                ("read_only", "assisting_organization"),
                ("read_only", "recipient_region"),
            ],
        ),
        ({"status": "ended"}, [("read_only", "status")]),
        ({"parent": None}, [("read_only", "parent")]),
        ({"children": []}, [("read_only", "children")]),
        ({"colour": "red"}, [("unknown_field", "colour")]),
        ({"end_date": "2009-01-01"}, [("dates_out_of_order", "end_date")]),
        ({"end_date": None}, [("null", "end_date")]),
        ({"contracting_mode": "direct"}, [("reason_required", "mode_reason")]),
        ({"contracting_mode": "sideways"}, [("invalid_choice", "contracting_mode")]),
        ({"start_date": "1st of June"}, [("invalid", "start_date")]),
    ],
)
def test_a_bad_patch_is_400_naming_the_field_and_changes_nothing(world, pw, body, expected):
    before = snapshot()

    response = api_as(world.coordinator).patch(pairing_url(pw.shufu), body, format="json")

    assert response.status_code == 400
    assert errors(response) == expected
    pw.shufu.refresh_from_db()
    assert (pw.shufu.end_date, pw.shufu.status, pw.shufu.contracting_mode) == (None, "active", "diagonal")
    assert snapshot() == before


def test_the_recipient_officer_sees_the_pairing_but_may_not_patch_or_end_it(world, pw):
    before = snapshot()
    client = api_as(world.recipient)

    patched = client.patch(pairing_url(pw.shufu), {"note": "x"}, format="json")
    ended = client.post(pairing_url(pw.shufu, "end/"), {"end_date": "2020-12-31", "comment": "x"}, format="json")

    assert patched.status_code == ended.status_code == 403
    assert snapshot() == before


def test_pairings_cannot_be_put_or_deleted(world, pw):
    client = api_as(world.coordinator)

    put = client.put(pairing_url(pw.shufu), {}, format="json")
    deleted = client.delete(pairing_url(pw.shufu))

    assert put.status_code == deleted.status_code == 405
    assert errors(deleted) == [("method_not_allowed", None)]
    assert Pairing.objects.filter(pk=pw.shufu.pk).exists()


def test_the_coordinator_ends_a_pairing_with_a_comment(world, pw):
    response = api_as(world.coordinator).post(
        pairing_url(pw.jiashi, "end/"), {"end_date": "2020-12-31", "comment": "规划期结束"}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["end_date"]) == ("ended", "2020-12-31")
    pw.jiashi.refresh_from_db()
    assert pw.jiashi.status == PairingStatus.ENDED
    event = HistoryEvent.objects.for_object(pw.jiashi).filter(action="ended").get()
    assert (event.actor, event.from_state, event.to_state, event.comment) == (
        world.coordinator,
        "active",
        "ended",
        "规划期结束",
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"end_date": "2020-12-31"}, [("comment_required", "comment")]),
        ({"end_date": "2009-12-31", "comment": "x"}, [("dates_out_of_order", "end_date")]),
        ({"comment": "x"}, [("required", "end_date")]),
        ({"end_date": "2020-12-31", "comment": "x", "status": "ended"}, [("unknown_field", "status")]),
    ],
)
def test_ending_a_pairing_badly_is_400_and_it_stays_active(world, pw, body, expected):
    before = snapshot()

    response = api_as(world.coordinator).post(pairing_url(pw.jiashi, "end/"), body, format="json")

    assert response.status_code == 400
    assert errors(response) == expected
    pw.jiashi.refresh_from_db()
    assert pw.jiashi.status == "active"
    assert snapshot() == before


def test_a_pairing_with_active_children_cannot_end(world, pw, child):
    response = api_as(world.coordinator).post(
        pairing_url(pw.shufu, "end/"), {"end_date": "2020-12-31", "comment": "x"}, format="json"
    )

    assert response.status_code == 400
    assert errors(response) == [("active_children", "status")]


# --- mandates -----------------------------------------------------------------------------------------------


def test_the_mandate_flow_end_to_end_through_the_api(world, pw):
    alice, bob, charlie = api_as(world.assisting), api_as(world.recipient), api_as(world.outsider)
    mandates = pairing_url(pw.shufu, "mandates/")

    # 1. Guangdong's 2010 revenue, the basis of the Xinjiang mandates.
    recorded = alice.post(
        "/api/v1/fiscal-revenues/",
        {"organization": world.guangdong_gov.pk, "year": 2010, "amount": str(REVENUE_2010), "source": "统计年鉴"},
        format="json",
    )
    assert recorded.status_code == 201, recorded.json()

    # 2. The 2012 mandate, computed from the rule: 0.005 × revenue × 1.08.
    computed = alice.post(mandates, {"year": 2012}, format="json")
    assert computed.status_code == 201, computed.json()
    mandate = AnnualMandate.objects.get(pairing=pw.shufu, year=2012)
    assert computed.json() == {
        "id": mandate.pk,
        "pairing": pw.shufu.pk,
        "year": 2012,
        "funds_required": MANDATE_2012,
        "personnel_quota": None,
        "pledged": "0.00",
        "committed": "0.00",
        "received": "0.00",
        "spent": "0.00",
        "fulfilment": "0.0000",
        "is_manual": False,
        "is_unverified": False,
        "reason": "",
        "rule_version": 1,
        "basis_amount": "123456789012.34",
        "shared_by": 1,
    }
    assert mandate.funds_required == Decimal(MANDATE_2012)
    assert mandate.basis_revenue == FiscalRevenue.objects.get(organization=world.guangdong_gov, year=2010)
    event = HistoryEvent.objects.for_object(mandate).get()
    assert (event.action, event.actor) == ("mandate_computed", world.assisting)

    # 3. A pledge, then a commitment that fulfils it, then a disbursement the recipient receives.
    def record(client, **body):
        response = client.post(
            "/api/v1/fund-flows/", {"pairing": pw.shufu.pk, "source": "assisting_fiscal", **body}, format="json"
        )
        assert response.status_code == 201, response.json()
        return response.json()

    pledge = record(alice, kind="pledge", amount="400000000.00", date="2012-02-01")
    assert bob.get(mandates).json()["results"][0]["pledged"] == "400000000.00"

    record(alice, kind="commitment", amount="300000000.00", date="2012-03-01", pledge=pledge["id"])
    after_commitment = bob.get(f"{mandates}2012/").json()
    assert (after_commitment["pledged"], after_commitment["committed"], after_commitment["received"]) == (
        "0.00",
        "300000000.00",
        "0.00",
    )

    record(bob, kind="disbursement", amount="200000000.00", date="2012-05-01")
    record(bob, kind="expenditure", amount="50000000.00", date="2012-06-01")
    figures = bob.get(mandates).json()["results"][0]
    assert (figures["committed"], figures["received"], figures["spent"], figures["fulfilment"]) == (
        "300000000.00",
        "200000000.00",
        "50000000.00",
        "0.3000",  # 200 000 000 ÷ 666 666 660.67
    )
    assert FundFlow.objects.filter(pairing=pw.shufu).count() == 4
    assert FundFlow.objects.get(pk=pledge["id"]).commitment.amount == Decimal("300000000.00")

    # 4. The outsider sees none of it.
    assert charlie.get(mandates).status_code == 404
    assert charlie.get("/api/v1/fund-flows/").json()["count"] == 0
    assert charlie.get("/api/v1/fiscal-revenues/", {"organization": world.guangdong_gov.pk}).json()["count"] == 0


def test_a_mandate_is_set_by_hand_with_a_reason(world, pw):
    response = api_as(world.coordinator).post(
        pairing_url(pw.shufu, "mandates/"),
        {"year": 2011, "funds_required": "500000000.00", "reason": "协商确定", "personnel_quota": 120},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["funds_required"], body["is_manual"], body["reason"], body["rule_version"], body["basis_amount"]) == (
        "500000000.00",
        True,
        "协商确定",
        None,
        None,
    )
    mandate = AnnualMandate.objects.get(pairing=pw.shufu, year=2011)
    assert (mandate.is_manual, mandate.personnel_quota, mandate.rule) == (True, 120, None)
    event = HistoryEvent.objects.for_object(mandate).get()
    assert (event.action, event.actor, event.comment) == ("mandate_set", world.coordinator, "协商确定")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"year": 2012, "funds_required": "-1.00", "reason": "x"}, [("min_value", "funds_required")]),
        ({"year": 2012, "funds_required": "a lot", "reason": "x"}, [("invalid", "funds_required")]),
        ({"year": 2012, "funds_required": "1.005", "reason": "x"}, [("max_decimal_places", "funds_required")]),
        ({"year": 2012, "funds_required": "100.00"}, [("reason_required", "reason")]),
        ({"year": 2012, "reason": "x"}, [("required", "funds_required")]),
        ({"funds_required": "100.00", "reason": "x"}, [("required", "year")]),
        ({"year": 99999}, [("max_value", "year")]),
        ({"year": 2012, "pledged": "1.00"}, [("unknown_field", "pledged")]),
    ],
)
def test_a_bad_mandate_is_400_naming_the_field_and_writes_nothing(world, pw, body, expected):
    before = snapshot()

    response = api_as(world.coordinator).post(pairing_url(pw.shufu, "mandates/"), body, format="json")

    assert response.status_code == 400
    assert errors(response) == expected
    assert snapshot() == before


def test_computing_a_mandate_without_the_basis_revenue_is_400_on_year(world, pw):
    before = snapshot()

    response = api_as(world.assisting).post(pairing_url(pw.shufu, "mandates/"), {"year": 2012}, format="json")

    assert response.status_code == 400
    assert errors(response) == [("revenue_missing", "year")]
    assert snapshot() == before


def test_computing_a_mandate_outside_the_programme_years_is_400_on_year(world, pw, revenue):
    response = api_as(world.assisting).post(pairing_url(pw.shufu, "mandates/"), {"year": 2025}, format="json")

    assert response.status_code == 400
    assert ("outside_programme", "year") in errors(response)
    assert not AnnualMandate.objects.exists()


def test_the_recipient_officer_sees_mandates_but_may_not_compute_them(world, pw, revenue):
    services.mandate_compute(by=None, pairing=pw.shufu, year=2012)
    client = api_as(world.recipient)
    before = snapshot()

    listed = client.get(pairing_url(pw.shufu, "mandates/"))
    computed = client.post(pairing_url(pw.shufu, "mandates/"), {"year": 2013}, format="json")

    assert listed.status_code == 200
    assert [m["year"] for m in listed.json()["results"]] == [2012]
    assert computed.status_code == 403
    assert snapshot() == before


def test_the_breakdown_shows_the_parents_mandate_against_its_childrens(world, pw, revenue, child):
    services.mandate_compute(by=None, pairing=pw.shufu, year=2012)
    allocated = api_as(world.assisting).post(
        pairing_url(child, "mandates/"),
        {"year": 2012, "funds_required": "100000000.00", "reason": "深圳分担"},
        format="json",
    )
    assert allocated.status_code == 201, allocated.json()

    response = api_as(world.recipient).get(pairing_url(pw.shufu, "mandates/2012/breakdown/"))

    assert response.status_code == 200
    body = response.json()
    assert body["mandate"]["funds_required"] == MANDATE_2012
    assert body["allocated"] == "100000000.00"
    assert body["unallocated"] == "566666660.67"
    [row] = body["children"]
    assert (
        row["pairing"],
        row["funds_required"],
        row["is_manual"],
        row["assisting_organization"],
        row["recipient_region"],
        row["received"],
        row["fulfilment"],
    ) == (child.pk, "100000000.00", True, world.shenzhen_gov.pk, "653121100", "0.00", "0.0000")
    assert HistoryEvent.objects.for_object(AnnualMandate.objects.get(pairing=child)).get().actor == world.assisting


def test_a_childs_mandate_above_what_the_parent_has_left_is_400(world, pw, revenue, child):
    services.mandate_compute(by=None, pairing=pw.shufu, year=2012)
    before = snapshot()

    response = api_as(world.assisting).post(
        pairing_url(child, "mandates/"),
        {"year": 2012, "funds_required": "700000000.00", "reason": "x"},
        format="json",
    )

    assert response.status_code == 400
    assert errors(response) == [("above_parent", "funds_required")]
    assert snapshot() == before


def test_a_year_without_a_mandate_is_404_for_detail_and_breakdown(world, pw):
    client = api_as(world.assisting)

    assert client.get(pairing_url(pw.shufu, "mandates/2012/")).status_code == 404
    assert client.get(pairing_url(pw.shufu, "mandates/2012/breakdown/")).status_code == 404


# --- fiscal revenue -----------------------------------------------------------------------------------------


REVENUES = "/api/v1/fiscal-revenues/"


@pytest.mark.parametrize(
    ("actor", "organizations"),
    [
        ("assisting", {"guangdong_gov", "shenzhen_gov"}),
        ("recipient", {"guangdong_gov"}),  # the assisting party of Shufu's pairing
        ("outsider", {"jiangsu_gov"}),
    ],
)
def test_each_official_lists_the_revenues_in_scope(world, pw, actor, organizations):
    for org in ("guangdong_gov", "shenzhen_gov", "jiangsu_gov"):
        services.fiscal_revenue_record(by=None, organization=getattr(world, org), year=2010, amount=Decimal("1.00"))

    response = api_as(getattr(world, actor)).get(REVENUES)

    assert response.status_code == 200
    assert {r["organization"] for r in response.json()["results"]} == {getattr(world, o).pk for o in organizations}


def test_a_listed_revenue_has_the_contract_fields(world, revenue):
    response = api_as(world.recipient).get(REVENUES)

    assert response.json()["results"] == [
        {
            "id": revenue.pk,
            "organization": world.guangdong_gov.pk,
            "organization_name": "广东省人民政府",
            "year": 2010,
            "amount": "123456789012.34",
            "source": "",
            "is_synthetic": False,
        }
    ]


def test_revenues_filter_by_organization_and_year(world, pw, revenue):
    services.fiscal_revenue_record(by=None, organization=world.guangdong_gov, year=2011, amount=Decimal("2.00"))
    services.fiscal_revenue_record(by=None, organization=world.shenzhen_gov, year=2010, amount=Decimal("3.00"))
    client = api_as(world.assisting)

    assert [r["year"] for r in client.get(REVENUES, {"organization": world.guangdong_gov.pk}).json()["results"]] == [
        2011,
        2010,
    ]
    assert {r["organization"] for r in client.get(REVENUES, {"year": 2010}).json()["results"]} == {
        world.guangdong_gov.pk,
        world.shenzhen_gov.pk,
    }


def test_the_assisting_officer_records_a_revenue(world):
    response = api_as(world.assisting).post(
        REVENUES,
        {"organization": world.shenzhen_gov.pk, "year": 2010, "amount": "112345678.90", "source": "深圳统计年鉴"},
        format="json",
    )

    assert response.status_code == 201
    revenue = FiscalRevenue.objects.get(organization=world.shenzhen_gov, year=2010)
    assert response.json()["id"] == revenue.pk
    assert response.json()["amount"] == "112345678.90"
    assert (revenue.amount, revenue.source, revenue.recorded_by) == (
        Decimal("112345678.90"),
        "深圳统计年鉴",
        world.assisting,
    )
    event = HistoryEvent.objects.for_object(revenue).get()
    assert (event.action, event.actor) == ("created", world.assisting)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"amount": "-1.00"}, [("min_value", "amount")]),
        ({"amount": "lots"}, [("invalid", "amount")]),
        ({"amount": "1.001"}, [("max_decimal_places", "amount")]),
        ({"year": 1900}, [("invalid_year", "year")]),
        ({"year": "twenty ten"}, [("invalid", "year")]),
        ({"organization": 999999}, [("does_not_exist", "organization")]),
        ({"is_synthetic": True}, [("read_only", "is_synthetic")]),
    ],
)
def test_a_bad_revenue_is_400_naming_the_field_and_writes_nothing(world, body, expected):
    before = snapshot()

    response = api_as(world.assisting).post(
        REVENUES, {"organization": world.guangdong_gov.pk, "year": 2010, "amount": "1.00", **body}, format="json"
    )

    assert response.status_code == 400
    assert errors(response) == expected
    assert snapshot() == before


def test_a_revenue_for_the_same_year_twice_is_400_on_year(world, revenue):
    before = snapshot()

    response = api_as(world.assisting).post(
        REVENUES, {"organization": world.guangdong_gov.pk, "year": 2010, "amount": "1.00"}, format="json"
    )

    assert response.status_code == 400
    assert errors(response) == [("duplicate", "year")]
    assert FiscalRevenue.objects.get(organization=world.guangdong_gov, year=2010).amount == REVENUE_2010
    assert snapshot() == before


def test_a_revenue_of_an_organization_out_of_the_callers_scope_is_400_on_organization(world):
    before = snapshot()

    response = api_as(world.assisting).post(
        REVENUES, {"organization": world.jiangsu_gov.pk, "year": 2010, "amount": "1.00"}, format="json"
    )

    assert response.status_code == 400
    assert errors(response) == [("out_of_scope", "organization")]
    assert snapshot() == before


def test_a_revenue_is_corrected_with_a_reason(world, revenue):
    response = api_as(world.assisting).patch(
        f"{REVENUES}{revenue.pk}/", {"amount": "123456789000.00", "reason": "决算数"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["amount"] == "123456789000.00"
    revenue.refresh_from_db()
    assert revenue.amount == Decimal("123456789000.00")
    event = HistoryEvent.objects.for_object(revenue).filter(action="corrected").get()
    assert (event.actor, event.comment) == (world.assisting, "决算数")
    assert event.changes["amount"] == {"old": "123456789012.34", "new": "123456789000.00"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"amount": "1.00"}, [("reason_required", "reason")]),
        ({"amount": "-1.00", "reason": "x"}, [("min_value", "amount")]),
        ({"reason": "x"}, [("required", "amount")]),
        ({"amount": "1.00", "reason": "x", "year": 2011}, [("read_only", "year")]),
        ({"amount": "1.00", "reason": "x", "organization": 1}, [("read_only", "organization")]),
    ],
)
def test_a_bad_correction_is_400_and_the_revenue_is_unchanged(world, revenue, body, expected):
    before = snapshot()

    response = api_as(world.assisting).patch(f"{REVENUES}{revenue.pk}/", body, format="json")

    assert response.status_code == 400
    assert errors(response) == expected
    revenue.refresh_from_db()
    assert (revenue.amount, revenue.year) == (REVENUE_2010, 2010)
    assert snapshot() == before


def test_the_outsider_gets_404_on_guangdongs_revenue_and_the_recipient_403_on_correcting_it(world, revenue):
    before = snapshot()
    body = {"amount": "1.00", "reason": "x"}

    assert api_as(world.outsider).get(f"{REVENUES}{revenue.pk}/").status_code == 404
    assert api_as(world.outsider).patch(f"{REVENUES}{revenue.pk}/", body, format="json").status_code == 404
    assert api_as(world.recipient).get(f"{REVENUES}{revenue.pk}/").status_code == 200
    assert api_as(world.recipient).patch(f"{REVENUES}{revenue.pk}/", body, format="json").status_code == 403
    assert snapshot() == before


# --- fund flows ---------------------------------------------------------------------------------------------


FLOWS = "/api/v1/fund-flows/"


@pytest.mark.parametrize(("actor", "visible"), [("assisting", "shufu"), ("recipient", "shufu"), ("outsider", "jiashi")])
def test_each_official_lists_only_the_flows_of_pairings_in_scope(world, pw, actor, visible):
    flows = {"shufu": flow(pw.shufu), "jiashi": flow(pw.jiashi)}

    response = api_as(getattr(world, actor)).get(FLOWS)

    assert response.status_code == 200
    assert ids(response) == [flows[visible].pk]
    assert (
        api_as(getattr(world, actor))
        .get(f"{FLOWS}{flows['jiashi' if visible == 'shufu' else 'shufu'].pk}/")
        .status_code
        == 404
    )


def approved_project(world, pw) -> int:
    """An approved project of Guangdong → Shufu: the only kind a fund flow may name."""
    from projects import services as project_services

    draft = project_services.project_create(
        by=None,
        pairing=pw.shufu,
        title="疏附县人民医院",
        category="infrastructure",
        sector="health",
        location=world.shufu,
        budget_requested=Decimal("3000000"),
        planned_start=dt.date(2012, 3, 1),
        planned_end=dt.date(2013, 3, 1),
    )
    project_services.project_submit(project=draft, by=None)
    return project_services.project_approve(project=draft, by=None).pk


def test_a_flow_naming_a_project_that_is_not_an_approved_one_of_its_pairing_is_refused(world, pw):
    response = api_as(world.assisting).post(
        FLOWS,
        {
            "pairing": pw.shufu.pk,
            "kind": "commitment",
            "amount": "1.00",
            "date": "2012-04-01",
            "source": "assisting_fiscal",
            "project": 424242,
        },
        format="json",
    )
    assert response.status_code == 400
    assert errors(response) == [("invalid_project", "project")]
    assert not FundFlow.objects.exists()


def test_the_assisting_officer_records_a_flow_for_a_project(world, pw):
    project_id = approved_project(world, pw)
    response = api_as(world.assisting).post(
        FLOWS,
        {
            "pairing": pw.shufu.pk,
            "kind": "commitment",
            "amount": "2500000.00",
            "date": "2012-04-01",
            "source": "assisting_fiscal",
            "project": project_id,
            "reference": "粤援疆〔2012〕3号",
            "note": "疏附县人民医院",
        },
        format="json",
    )

    assert response.status_code == 201
    created = FundFlow.objects.get()
    assert response.json() == {
        "id": created.pk,
        "pairing": pw.shufu.pk,
        "project": project_id,
        "kind": "commitment",
        "amount": "2500000.00",
        "date": "2012-04-01",
        "source": "assisting_fiscal",
        "pledge": None,
        "reference": "粤援疆〔2012〕3号",
        "note": "疏附县人民医院",
        "is_synthetic": False,
        "created_at": response.json()["created_at"],
    }
    assert (created.project_id, created.amount, created.recorded_by) == (
        project_id,
        Decimal("2500000.00"),
        world.assisting,
    )
    assert HistoryEvent.objects.for_object(created).get().action == "created"
    on_pairing = HistoryEvent.objects.for_object(pw.shufu).filter(action="flow_recorded").get()
    assert on_pairing.actor == world.assisting
    assert on_pairing.changes["amount"] == {"old": None, "new": "2500000.00"}


def test_flows_filter_by_each_explicit_field(world, pw):
    a = flow(pw.shufu, kind="pledge", amount="10.00", date=dt.date(2011, 5, 1))
    project_id = approved_project(world, pw)
    b = flow(pw.shufu, kind="disbursement", amount="20.00", date=dt.date(2012, 5, 1), project_id=project_id)
    c = services.fund_flow_record(
        by=None, pairing=pw.shufu, kind="expenditure", amount="30.00", date=dt.date(2013, 5, 1), source="loan"
    )
    d = flow(pw.jiashi, date=dt.date(2012, 1, 1))
    client = api_as(world.coordinator)

    def found(**params) -> list[int]:
        response = client.get(FLOWS, params)
        assert response.status_code == 200, response.json()
        return ids(response)

    assert found() == [c.pk, b.pk, d.pk, a.pk]
    assert found(pairing=pw.shufu.pk) == [c.pk, b.pk, a.pk]
    assert found(kind="pledge") == [a.pk]
    assert found(source="loan") == [c.pk]
    assert found(project=project_id) == [b.pk]
    assert found(date_after="2012-01-01", date_before="2012-12-31") == [b.pk, d.pk]
    assert found(date_after="2012-05-01") == [c.pk, b.pk]
    assert found(year=2011) == [a.pk]
    assert client.get(FLOWS, {"kind": "gift"}).status_code == 400
    assert errors(client.get(FLOWS, {"date_after": "soon"})) == [("invalid", "date_after")]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"amount": "-100.00"}, [("min_value", "amount")]),
        ({"amount": "0"}, [("min_value", "amount")]),
        ({"amount": "a hundred"}, [("invalid", "amount")]),
        ({"kind": "gift"}, [("invalid_choice", "kind")]),
        ({"source": "lottery"}, [("invalid_choice", "source")]),
        ({"date": "2009-01-01"}, [("before_pairing", "date")]),
        ({"date": "yesterday"}, [("invalid", "date")]),
        ({"project": 0}, [("min_value", "project")]),
        ({"pairing": 999999}, [("does_not_exist", "pairing")]),
        ({"is_synthetic": True, "recorded_by": 1}, [("read_only", "is_synthetic"), ("unknown_field", "recorded_by")]),
    ],
)
def test_a_bad_flow_is_400_naming_the_field_and_writes_nothing(world, pw, body, expected):
    before = snapshot()

    response = api_as(world.assisting).post(
        FLOWS,
        {
            "pairing": pw.shufu.pk,
            "kind": "disbursement",
            "amount": "1.00",
            "date": "2012-01-01",
            "source": "assisting_fiscal",
            **body,
        },
        format="json",
    )

    assert response.status_code == 400
    assert errors(response) == expected
    assert snapshot() == before


def test_a_flow_on_a_pairing_out_of_the_callers_scope_is_400_like_an_unknown_pairing(world, pw):
    before = snapshot()

    response = api_as(world.outsider).post(
        FLOWS,
        {
            "pairing": pw.shufu.pk,
            "kind": "pledge",
            "amount": "1.00",
            "date": "2012-01-01",
            "source": "assisting_fiscal",
        },
        format="json",
    )

    assert response.status_code == 400
    assert errors(response) == [("does_not_exist", "pairing")]
    assert snapshot() == before


def test_a_flow_on_an_ended_pairing_is_400_on_pairing(world, pw):
    services.pairing_end(by=None, pairing=pw.shufu, end_date=dt.date(2020, 12, 31), comment="结束")
    before = snapshot()

    response = api_as(world.assisting).post(
        FLOWS,
        {
            "pairing": pw.shufu.pk,
            "kind": "disbursement",
            "amount": "1.00",
            "date": "2012-01-01",
            "source": "assisting_fiscal",
        },
        format="json",
    )

    assert response.status_code == 400
    assert errors(response) == [("pairing_ended", "pairing")]
    assert snapshot() == before


def test_a_pledge_is_committed_once_only(world, pw):
    pledge = flow(pw.shufu, kind="pledge", amount="10.00")
    flow(pw.shufu, kind="commitment", amount="10.00", pledge=pledge)
    before = snapshot()

    response = api_as(world.assisting).post(
        FLOWS,
        {
            "pairing": pw.shufu.pk,
            "kind": "commitment",
            "amount": "10.00",
            "date": "2012-04-01",
            "source": "assisting_fiscal",
            "pledge": pledge.pk,
        },
        format="json",
    )

    assert response.status_code == 400
    assert errors(response) == [("pledge_committed", "pledge")]
    assert snapshot() == before


def test_the_recipient_officer_may_not_pledge(world, pw):
    before = snapshot()

    response = api_as(world.recipient).post(
        FLOWS,
        {
            "pairing": pw.shufu.pk,
            "kind": "pledge",
            "amount": "1.00",
            "date": "2012-01-01",
            "source": "assisting_fiscal",
        },
        format="json",
    )

    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_flows_are_append_only(world, pw, method):
    recorded = flow(pw.shufu)

    response = getattr(api_as(world.coordinator), method)(f"{FLOWS}{recorded.pk}/", {"amount": "1.00"}, format="json")

    assert response.status_code == 405
    assert errors(response) == [("method_not_allowed", None)]
    recorded.refresh_from_db()
    assert recorded.amount == Decimal("1000.00")


# --- deployments and trainings ------------------------------------------------------------------------------


DEPLOYMENTS = "/api/v1/deployments/"
TRAININGS = "/api/v1/trainings/"


def deployment(pairing, **kwargs) -> Deployment:
    values = {"kind": "teacher", "headcount": 30, "start_date": dt.date(2012, 9, 1), **kwargs}
    return services.deployment_record(by=None, pairing=pairing, **values)


def training(pairing, **kwargs) -> Training:
    values = {
        "topic": "双语教学",
        "people_trained": 50,
        "days": Decimal("5"),
        "start_date": dt.date(2012, 7, 1),
        **kwargs,
    }
    return services.training_record(by=None, pairing=pairing, **values)


@pytest.mark.parametrize(
    ("url", "make"), [(DEPLOYMENTS, deployment), (TRAININGS, training)], ids=["deployments", "trainings"]
)
@pytest.mark.parametrize(("actor", "visible"), [("assisting", "shufu"), ("recipient", "shufu"), ("outsider", "jiashi")])
def test_each_official_lists_only_the_people_records_in_scope(world, pw, url, make, actor, visible):
    rows = {"shufu": make(pw.shufu), "jiashi": make(pw.jiashi)}
    hidden = rows["jiashi" if visible == "shufu" else "shufu"]
    client = api_as(getattr(world, actor))

    response = client.get(url)

    assert response.status_code == 200
    assert ids(response) == [rows[visible].pk]
    assert client.get(f"{url}{hidden.pk}/").status_code == 404


def test_the_recipient_officer_records_a_deployment(world, pw):
    response = api_as(world.recipient).post(
        DEPLOYMENTS,
        {
            "pairing": pw.shufu.pk,
            "kind": "doctor",
            "headcount": 12,
            "batch": "第三批",
            "start_date": "2012-03-01",
            "end_date": "2013-03-01",
            "group_style": True,
        },
        format="json",
    )

    assert response.status_code == 201
    created = Deployment.objects.get()
    assert response.json() == {
        "id": created.pk,
        "pairing": pw.shufu.pk,
        "kind": "doctor",
        "batch": "第三批",
        "headcount": 12,
        "start_date": "2012-03-01",
        "end_date": "2013-03-01",
        "group_style": True,
        "note": "",
        "is_synthetic": False,
        "created_at": response.json()["created_at"],
    }
    assert (created.headcount, created.group_style, created.recorded_by) == (12, True, world.recipient)
    event = HistoryEvent.objects.for_object(pw.shufu).filter(action="people_deployed").get()
    assert event.actor == world.recipient
    assert event.changes["headcount"] == {"old": None, "new": 12}


def test_the_assisting_officer_records_a_training(world, pw):
    response = api_as(world.assisting).post(
        TRAININGS,
        {"pairing": pw.shufu.pk, "topic": "农业技术", "people_trained": 80, "days": "3.5", "start_date": "2012-07-01"},
        format="json",
    )

    assert response.status_code == 201
    created = Training.objects.get()
    assert response.json()["days"] == "3.5"
    assert (created.topic, created.people_trained, created.days) == ("农业技术", 80, Decimal("3.5"))
    event = HistoryEvent.objects.for_object(pw.shufu).filter(action="training_recorded").get()
    assert (event.actor, event.changes["people_trained"]) == (world.assisting, {"old": None, "new": 80})


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"headcount": 0}, [("min_value", "headcount")]),
        ({"headcount": "many"}, [("invalid", "headcount")]),
        ({"headcount": 10**12}, [("max_value", "headcount")]),
        ({"kind": "poet"}, [("invalid_choice", "kind")]),
        ({"end_date": "2012-01-01"}, [("dates_out_of_order", "end_date")]),
        ({"pairing": "shufu"}, [("incorrect_type", "pairing")]),
    ],
)
def test_a_bad_deployment_is_400_naming_the_field_and_writes_nothing(world, pw, body, expected):
    before = snapshot()

    response = api_as(world.assisting).post(
        DEPLOYMENTS,
        {"pairing": pw.shufu.pk, "kind": "teacher", "headcount": 5, "start_date": "2012-09-01", **body},
        format="json",
    )

    assert response.status_code == 400
    assert errors(response) == expected
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"days": "0"}, [("min_value", "days")]),
        ({"days": "-2"}, [("min_value", "days")]),
        ({"days": "a week"}, [("invalid", "days")]),
        ({"people_trained": 0}, [("min_value", "people_trained")]),
        ({"start_date": "2009-01-01"}, [("before_pairing", "start_date")]),
    ],
)
def test_a_bad_training_is_400_naming_the_field_and_writes_nothing(world, pw, body, expected):
    before = snapshot()

    response = api_as(world.assisting).post(
        TRAININGS,
        {
            "pairing": pw.shufu.pk,
            "topic": "农业技术",
            "people_trained": 5,
            "days": "1",
            "start_date": "2012-07-01",
            **body,
        },
        format="json",
    )

    assert response.status_code == 400
    assert errors(response) == expected
    assert snapshot() == before


@pytest.mark.parametrize("url", [DEPLOYMENTS, TRAININGS])
def test_people_on_a_pairing_out_of_scope_are_400_on_pairing(world, pw, url):
    before = snapshot()
    body = (
        {"kind": "teacher", "headcount": 5, "start_date": "2012-09-01"}
        if url == DEPLOYMENTS
        else {"topic": "x", "people_trained": 5, "days": "1", "start_date": "2012-07-01"}
    )

    response = api_as(world.outsider).post(url, {"pairing": pw.shufu.pk, **body}, format="json")

    assert response.status_code == 400
    assert errors(response) == [("does_not_exist", "pairing")]
    assert snapshot() == before


def test_deployments_filter_by_pairing_kind_and_year_in_post(world, pw):
    cadres = deployment(pw.shufu, kind="cadre", start_date=dt.date(2011, 1, 1), end_date=dt.date(2013, 12, 31))
    teachers = deployment(pw.shufu, kind="teacher", start_date=dt.date(2014, 9, 1))
    elsewhere = deployment(pw.jiashi, kind="doctor", start_date=dt.date(2012, 1, 1), end_date=dt.date(2012, 6, 30))
    client = api_as(world.coordinator)

    assert ids(client.get(DEPLOYMENTS, {"pairing": pw.shufu.pk})) == [teachers.pk, cadres.pk]
    assert ids(client.get(DEPLOYMENTS, {"kind": "cadre"})) == [cadres.pk]
    assert ids(client.get(DEPLOYMENTS, {"year": 2012})) == [elsewhere.pk, cadres.pk]
    assert ids(client.get(DEPLOYMENTS, {"year": 2015})) == [teachers.pk]
    assert ids(client.get(DEPLOYMENTS, {"year": 2010})) == []


def test_trainings_filter_by_pairing_and_year(world, pw):
    early = training(pw.shufu, start_date=dt.date(2011, 7, 1))
    late = training(pw.shufu, start_date=dt.date(2013, 7, 1))
    elsewhere = training(pw.jiashi, start_date=dt.date(2013, 1, 1))
    client = api_as(world.coordinator)

    assert ids(client.get(TRAININGS, {"pairing": pw.shufu.pk})) == [late.pk, early.pk]
    assert ids(client.get(TRAININGS, {"year": 2013})) == [late.pk, elsewhere.pk]


@pytest.mark.parametrize("url", [DEPLOYMENTS, TRAININGS])
def test_people_records_cannot_be_changed_or_deleted(world, pw, url):
    row = deployment(pw.shufu) if url == DEPLOYMENTS else training(pw.shufu)
    client = api_as(world.coordinator)

    assert client.patch(f"{url}{row.pk}/", {"note": "x"}, format="json").status_code == 405
    assert client.delete(f"{url}{row.pk}/").status_code == 405


# --- filters on years ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [PROGRAMS, REVENUES, FLOWS, DEPLOYMENTS, TRAININGS])
@pytest.mark.parametrize(
    ("year", "code"), [("99999", "max_value"), ("0", "min_value"), ("2012.5", "max_decimal_places")]
)
def test_a_year_filter_no_date_can_hold_is_400_on_year_not_a_server_error(world, pw, url, year, code):
    response = api_as(world.coordinator).get(url, {"year": year})

    assert response.status_code == 400
    assert errors(response) == [(code, "year")]


# --- query counts -------------------------------------------------------------------------------------------


def add_programs(world, pw, n):
    start = Program.objects.count()
    for i in range(start, start + n):
        program = services.program_create(
            by=None, code=f"p{i}", name=f"项目{i}", model="development", start_year=2000 + i
        )
        services.funding_rule_set(by=None, program=program, basis="fixed", fixed_amount=Decimal("1000"))


def add_pairings(world, pw, n):
    start = Pairing.objects.filter(parent=None).count()
    for i in range(start, start + n):
        county = RegionFactory(code=f"6531{60 + i:02d}", level=RegionLevel.COUNTY, parent=world.kashgar)
        top = services.pairing_create(
            by=None,
            program=pw.program,
            assisting_organization=world.guangdong_gov,
            recipient_region=county,
            start_date=dt.date(2011, 1, 1),
        )
        town = RegionFactory(code=f"{county.code}{i:03d}", level=RegionLevel.TOWNSHIP, parent=county)
        services.pairing_create(
            by=None,
            program=pw.program,
            assisting_organization=world.shenzhen_gov,
            recipient_region=town,
            parent=top,
            start_date=dt.date(2011, 1, 1),
        )


def add_mandates(world, pw, n):
    start = 2011 + AnnualMandate.objects.filter(pairing=pw.shufu).count()
    for year in range(start, start + n):
        services.mandate_set(by=None, pairing=pw.shufu, year=year, funds_required=Decimal("1000"), reason="x")
        flow(pw.shufu, date=dt.date(year, 6, 1))


def add_revenues(world, pw, n):
    start = 1990 + FiscalRevenue.objects.count()
    for year in range(start, start + n):
        services.fiscal_revenue_record(by=None, organization=world.guangdong_gov, year=year, amount=Decimal("1"))


def add_flows(world, pw, n):
    from projects.models import Project

    project = Project.objects.filter(pairing=pw.shufu, state="approved").first()
    project_id = project.pk if project else approved_project(world, pw)
    for _ in range(n):
        pledge = flow(pw.shufu, kind="pledge")
        flow(pw.shufu, kind="commitment", pledge=pledge, project_id=project_id)


def add_deployments(world, pw, n):
    for _ in range(n):
        deployment(pw.shufu)


def add_trainings(world, pw, n):
    for _ in range(n):
        training(pw.shufu)


LISTS = [
    pytest.param(PROGRAMS, add_programs, 5, id="programs"),  # count, page, rules, their sources, the sources
    pytest.param(PAIRINGS, add_pairings, 4, id="pairings"),  # count, page (parties joined), children, sources
    pytest.param("mandates", add_mandates, 3, id="mandates"),  # the pairing, count, page with figures
    pytest.param(REVENUES, add_revenues, 2, id="fiscal-revenues"),
    pytest.param(FLOWS, add_flows, 2, id="fund-flows"),
    pytest.param(DEPLOYMENTS, add_deployments, 2, id="deployments"),
    pytest.param(TRAININGS, add_trainings, 2, id="trainings"),
]


@pytest.mark.parametrize(("url", "add", "queries"), LISTS)
@pytest.mark.parametrize("actor", ["coordinator", "assisting"])
def test_list_query_count_does_not_grow_with_rows(world, pw, django_assert_max_num_queries, url, add, queries, actor):
    if url == "mandates":
        url = pairing_url(pw.shufu, "mandates/")
    client = api_as(getattr(world, actor))
    add(world, pw, 2)
    client.get(url)  # warm the per-user caches (organization, region) that any request pays once

    with CaptureQueriesContext(connection) as few:
        few_rows = client.get(url, {"page_size": 200})
    add(world, pw, 8)
    with django_assert_max_num_queries(queries), CaptureQueriesContext(connection) as many:
        many_rows = client.get(url, {"page_size": 200})

    assert few_rows.status_code == many_rows.status_code == 200
    assert many_rows.json()["count"] > few_rows.json()["count"]
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.parametrize("children", [1, 6])
def test_breakdown_query_count_does_not_grow_with_children(world, pw, revenue, django_assert_max_num_queries, children):
    services.mandate_compute(by=None, pairing=pw.shufu, year=2012)
    for i in range(children):
        town = RegionFactory(code=f"653121{200 + i}", level=RegionLevel.TOWNSHIP, parent=world.shufu)
        child = services.pairing_create(
            by=None,
            program=pw.program,
            assisting_organization=world.shenzhen_gov,
            recipient_region=town,
            parent=pw.shufu,
            start_date=dt.date(2011, 1, 1),
        )
        services.mandate_set(by=None, pairing=child, year=2012, funds_required=Decimal("5400"), reason="分配")
        flow(child)
    client = api_as(world.assisting)
    client.get(pairing_url(pw.shufu, "mandates/"))

    # The pairing, the parent's mandate with its figures, the children's mandates with theirs.
    with django_assert_max_num_queries(3):
        response = client.get(pairing_url(pw.shufu, "mandates/2012/breakdown/"))

    assert response.status_code == 200
    assert len(response.json()["children"]) == children
    assert response.json()["allocated"] == f"{5400 * children}.00"
    assert {row["received"] for row in response.json()["children"]} == {"1000.00"}
