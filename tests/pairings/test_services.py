"""Every service of pairings/services.py: what it writes (the row re-read, the history event) and, for each guard,
which problems it names and that it wrote nothing.

Actors (tests/conftest.py): `coordinator` (national office), `assisting` (alice, Guangdong), `recipient` (bob, Shufu
county), `outsider` (charlie, Jiangsu). Revenue figures are synthetic round numbers."""

import datetime as dt
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.db import models

from accounts.models import OrganizationKind, Role
from core.errors import DomainError, NotFound, PermissionDenied
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
from pairings.selectors import mandates_for
from tests.factories import OrganizationFactory, RegionFactory, UserFactory

pytestmark = pytest.mark.django_db

GD_REVENUE_2010 = Decimal("451570000000.00")  # synthetic
D = dt.date


@contextmanager
def nothing_written(*model_classes: type[models.Model]):
    """Counts of the given models and of HistoryEvent are the same after the block as before it."""
    counted = (*model_classes, HistoryEvent)
    before = {m.__name__: m.objects.count() for m in counted}
    yield
    assert {m.__name__: m.objects.count() for m in counted} == before


def problems(exc_info) -> list[tuple[str, str | None]]:
    return [(p.code, p.field) for p in exc_info.value.problems]


def history(obj) -> list[HistoryEvent]:
    return list(HistoryEvent.objects.for_object(obj).order_by("id"))


def township(parent, code: str, name: str = "测试乡（合成）"):
    return RegionFactory(
        code=code, name=name, name_en=f"Test township {code}", level=RegionLevel.TOWNSHIP, parent=parent
    )


def county(parent, code: str, name: str = "测试县（合成）"):
    return RegionFactory(code=code, name=name, name_en=f"Test county {code}", level=RegionLevel.COUNTY, parent=parent)


def city_under_guangdong(world, name: str):
    return OrganizationFactory(
        name=name, name_en=name, kind=OrganizationKind.MUNICIPAL_GOVERNMENT, parent=world.guangdong_gov
    )


def user(username: str, organization, *roles: str):
    return UserFactory(username=username, organization=organization, roles=list(roles))


def break_down(world, pw, *, code: str = "653121900", assisting=None, by=None) -> Pairing:
    """A child of Guangdong → Shufu: Shenzhen (or ASSISTING) → a township of Shufu."""
    return services.pairing_create(
        by=by,
        program=pw.program,
        assisting_organization=assisting or world.shenzhen_gov,
        recipient_region=township(world.shufu, code),
        start_date=D(2010, 7, 1),
        parent=pw.shufu,
    )


def gd_revenue(world, amount=GD_REVENUE_2010, year: int = 2010) -> FiscalRevenue:
    return services.fiscal_revenue_record(by=None, organization=world.guangdong_gov, year=year, amount=amount)


# --- programmes ------------------------------------------------------------------------------------------


def test_coordinator_creates_a_programme_and_its_creation_is_recorded(world):
    program = services.program_create(
        by=world.coordinator,
        code="wenchuan-2008",
        name="汶川地震灾后恢复重建对口支援",
        name_en="Wenchuan reconstruction",
        model="disaster_response",
        start_year=2008,
        end_year=2010,
    )

    stored = Program.objects.get(pk=program.pk)
    assert (stored.model, stored.start_year, stored.end_year) == ("disaster_response", 2008, 2010)
    [event] = history(stored)
    assert (event.action, event.actor) == ("created", world.coordinator)
    assert event.changes == {"code": {"old": None, "new": "wenchuan-2008"}}


def test_a_programme_code_cannot_be_used_twice(world, pw):
    with nothing_written(Program), pytest.raises(DomainError) as exc:
        services.program_create(
            by=world.coordinator, code="xinjiang-2010", name="重复", model="development", start_year=2011
        )

    assert problems(exc) == [("duplicate", "code")]


def test_a_programme_cannot_end_before_it_starts(world):
    with nothing_written(Program), pytest.raises(DomainError) as exc:
        services.program_create(
            by=world.coordinator, code="p", name="p", model="development", start_year=2011, end_year=2010
        )

    assert problems(exc) == [("dates_out_of_order", "end_year")]


def test_every_problem_of_a_new_programme_is_reported_at_once(world):
    with nothing_written(Program), pytest.raises(DomainError) as exc:
        services.program_create(by=world.coordinator, code=" ", name="", model="x", start_year=2011, end_year=2000)

    assert problems(exc) == [
        ("required", "code"),
        ("required", "name"),
        ("invalid_choice", "model"),
        ("dates_out_of_order", "end_year"),
    ]


def test_only_a_national_coordinator_creates_programmes(world):
    coordinator_in_a_province = user("gd-coord", world.guangdong_gov, Role.NATIONAL_COORDINATOR)
    for actor in (world.assisting, world.recipient, coordinator_in_a_province):
        with nothing_written(Program), pytest.raises(PermissionDenied) as exc:
            services.program_create(by=actor, code="p", name="p", model="development", start_year=2011)
        assert problems(exc) == [("forbidden", None)]


def test_coordinator_updates_a_programme_and_the_change_is_recorded(world, pw):
    services.program_update(by=world.coordinator, program=pw.program, end_year=2030, policy_reference="新疆工作座谈会")

    stored = Program.objects.get(pk=pw.program.pk)
    assert (stored.end_year, stored.policy_reference) == (2030, "新疆工作座谈会")
    event = history(stored)[-1]
    assert (event.action, event.actor) == ("updated", world.coordinator)
    assert event.changes == {
        "end_year": {"old": 2020, "new": 2030},
        "policy_reference": {"old": "", "new": "新疆工作座谈会"},
    }


def test_a_programme_update_cannot_put_the_end_before_the_start(world, pw):
    with nothing_written(Program), pytest.raises(DomainError) as exc:
        services.program_update(by=world.coordinator, program=pw.program, end_year=2005)

    assert problems(exc) == [("dates_out_of_order", "end_year")]
    assert Program.objects.get(pk=pw.program.pk).end_year == 2020


def test_a_programme_code_cannot_be_changed_by_an_update(world, pw):
    with nothing_written(Program), pytest.raises(DomainError) as exc:
        services.program_update(by=world.coordinator, program=pw.program, code="other")

    assert problems(exc) == [("unknown_field", None)]
    assert Program.objects.get(pk=pw.program.pk).code == "xinjiang-2010"


def test_only_a_national_coordinator_updates_programmes(world, pw):
    with nothing_written(Program), pytest.raises(PermissionDenied):
        services.program_update(by=world.assisting, program=pw.program, end_year=2030)

    assert Program.objects.get(pk=pw.program.pk).end_year == 2020


# --- funding rules ---------------------------------------------------------------------------------------


def test_funding_rules_are_numbered_one_version_after_another(world, pw):
    second = services.funding_rule_set(
        by=world.coordinator, program=pw.program, basis="fiscal_revenue", rate="0.006", reason="第二次会议"
    )
    third = services.funding_rule_set(by=world.coordinator, program=pw.program, basis="fixed", fixed_amount="1000")

    assert list(
        FundingRule.objects.filter(program=pw.program).order_by("version").values_list("version", flat=True)
    ) == [
        1,
        2,
        3,
    ]
    assert (pw.rule.version, second.version, third.version) == (1, 2, 3)
    stored = FundingRule.objects.get(pk=third.pk)
    assert (stored.basis, stored.rate, stored.fixed_amount) == ("fixed", None, Decimal("1000.00"))
    event = history(pw.program)[-2]
    assert (event.action, event.actor, event.comment) == ("rule_changed", world.coordinator, "第二次会议")
    assert event.changes["rule_version"] == {"old": 1, "new": 2}
    assert Decimal(event.changes["rate"]["old"]) == Decimal("0.005")
    assert Decimal(event.changes["rate"]["new"]) == Decimal("0.006")


def test_a_mandate_computed_under_one_rule_version_keeps_it_when_a_new_version_is_set(world, pw):
    gd_revenue(world)
    mandate = services.mandate_compute(by=world.coordinator, pairing=pw.shufu, year=2011)

    v2 = services.funding_rule_set(by=world.coordinator, program=pw.program, basis="fiscal_revenue", rate="0.006")

    stored = AnnualMandate.objects.get(pk=mandate.pk)
    assert stored.rule_id == pw.rule.pk
    assert stored.funds_required == Decimal("2257850000.00")
    # computing again applies the new version: 451,570,000,000.00 × 0.006 = 2,709,420,000.00
    services.mandate_compute(by=world.coordinator, pairing=pw.shufu, year=2011)
    stored.refresh_from_db()
    assert (stored.rule_id, stored.funds_required) == (v2.pk, Decimal("2709420000.00"))


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"basis": "fiscal_revenue", "rate": "1.5"}, [("max_value", "rate")]),
        ({"basis": "fiscal_revenue", "rate": "-0.01"}, [("min_value", "rate")]),
        ({"basis": "fiscal_revenue", "rate": "one percent"}, [("invalid", "rate")]),
        ({"basis": "fiscal_revenue", "rate": "NaN"}, [("invalid", "rate")]),
        ({"basis": "fiscal_revenue"}, [("required", "rate")]),
        ({"basis": "fixed"}, [("required", "fixed_amount")]),
        ({"basis": "fixed", "fixed_amount": "-1"}, [("min_value", "fixed_amount")]),
        ({"basis": "fixed", "fixed_amount": "lots"}, [("invalid", "fixed_amount")]),
        ({"basis": "fiscal_revenue", "rate": "0.005", "escalation": "1.08"}, [("max_value", "escalation")]),
        ({"basis": "fiscal_revenue", "rate": "0.005", "min_county_share": "-0.8"}, [("min_value", "min_county_share")]),
        (
            {"basis": "fiscal_revenue", "rate": "0.005", "min_livelihood_share": "80"},
            [("max_value", "min_livelihood_share")],
        ),
        ({"basis": "fiscal_revenue", "rate": "0.005", "escalation_years": -1}, [("min_value", "escalation_years")]),
        ({"basis": "per_capita", "rate": "0.005"}, [("invalid_choice", "basis")]),
    ],
)
def test_a_funding_rule_with_a_bad_value_is_refused_on_that_field(world, pw, values, expected):
    with nothing_written(FundingRule), pytest.raises(DomainError) as exc:
        services.funding_rule_set(by=world.coordinator, program=pw.program, **values)

    assert problems(exc) == expected


def test_only_a_national_coordinator_sets_a_funding_rule(world, pw):
    with nothing_written(FundingRule), pytest.raises(PermissionDenied):
        services.funding_rule_set(by=world.assisting, program=pw.program, basis="fiscal_revenue", rate="0.01")


# --- pairings: creation ----------------------------------------------------------------------------------


def test_coordinator_pairs_a_province_with_a_county_diagonally(world, pw):
    kashgar_city = county(world.kashgar, "653101", "喀什市")

    pairing = services.pairing_create(
        by=world.coordinator,
        program=pw.program,
        assisting_organization=world.guangdong_gov,
        recipient_region=kashgar_city,
        start_date=D(2010, 6, 1),
    )

    stored = Pairing.objects.get(pk=pairing.pk)
    assert (stored.contracting_mode, stored.mode_overridden, stored.status) == ("diagonal", False, "active")
    [event] = history(stored)
    assert (event.action, event.actor, event.to_state) == ("created", world.coordinator, "active")
    assert event.changes["contracting_mode"] == {"old": None, "new": "diagonal"}
    assert event.changes["recipient_region"]["new"]["id"] == kashgar_city.pk


def test_a_county_helping_a_county_is_a_direct_pairing(world, pw):
    gd_county = county(world.guangdong, "440999", "广东测试县（合成）")
    county_gov = OrganizationFactory(
        kind=OrganizationKind.COUNTY_GOVERNMENT, region=gd_county, parent=world.guangdong_gov
    )

    pairing = services.pairing_create(
        by=world.coordinator,
        program=pw.program,
        assisting_organization=county_gov,
        recipient_region=county(world.kashgar, "653101"),
        start_date=D(2010, 6, 1),
    )

    assert Pairing.objects.get(pk=pairing.pk).contracting_mode == "direct"


def test_a_province_helping_a_province_is_a_direct_pairing(world, pw):
    pairing = services.pairing_create(
        by=world.coordinator,
        program=pw.program,
        assisting_organization=world.guangdong_gov,
        recipient_region=world.jiangsu,  # a province, and no pairing of the programme lies within it
        start_date=D(2010, 6, 1),
    )

    assert Pairing.objects.get(pk=pairing.pk).contracting_mode == "direct"


def test_an_organization_without_a_region_counts_as_provincial(world, pw):
    enterprise = OrganizationFactory(kind=OrganizationKind.CENTRAL_ENTERPRISE, region=None)

    pairing = services.pairing_create(
        by=world.coordinator,
        program=pw.program,
        assisting_organization=enterprise,
        recipient_region=world.jiangsu,
        start_date=D(2010, 6, 1),
    )

    assert Pairing.objects.get(pk=pairing.pk).contracting_mode == "direct"


def test_the_fixture_pairings_were_derived_diagonal(pw):
    assert Pairing.objects.get(pk=pw.shufu.pk).contracting_mode == "diagonal"


def test_overriding_the_derived_mode_needs_a_reason(world, pw):
    region = county(world.kashgar, "653101")
    with nothing_written(Pairing), pytest.raises(DomainError) as exc:
        services.pairing_create(
            by=world.coordinator,
            program=pw.program,
            assisting_organization=world.guangdong_gov,
            recipient_region=region,
            start_date=D(2010, 6, 1),
            contracting_mode="direct",
            mode_reason="  ",
        )

    assert problems(exc) == [("reason_required", "mode_reason")]


def test_an_overridden_mode_is_kept_with_its_reason(world, pw):
    pairing = services.pairing_create(
        by=world.coordinator,
        program=pw.program,
        assisting_organization=world.guangdong_gov,
        recipient_region=county(world.kashgar, "653101"),
        start_date=D(2010, 6, 1),
        contracting_mode="direct",
        mode_reason="协议直接签订",
    )

    stored = Pairing.objects.get(pk=pairing.pk)
    assert (stored.contracting_mode, stored.mode_overridden, stored.mode_reason) == ("direct", True, "协议直接签订")


def test_a_pairing_cannot_end_before_it_starts(world, pw):
    with nothing_written(Pairing), pytest.raises(DomainError) as exc:
        services.pairing_create(
            by=world.coordinator,
            program=pw.program,
            assisting_organization=world.guangdong_gov,
            recipient_region=county(world.kashgar, "653101"),
            start_date=D(2010, 6, 1),
            end_date=D(2010, 5, 31),
        )

    assert problems(exc) == [("dates_out_of_order", "end_date")]


def test_a_childs_recipient_must_lie_within_the_parents(world, pw):
    with nothing_written(Pairing), pytest.raises(DomainError) as exc:
        services.pairing_create(
            by=world.coordinator,
            program=pw.program,
            assisting_organization=world.shenzhen_gov,
            recipient_region=township(world.jiashi, "653129900"),
            start_date=D(2010, 7, 1),
            parent=pw.shufu,
        )

    assert problems(exc) == [("outside_parent", "recipient_region")]


def test_a_child_cannot_take_the_parents_own_recipient_region(world, pw):
    with nothing_written(Pairing), pytest.raises(DomainError) as exc:
        services.pairing_create(
            by=world.coordinator,
            program=pw.program,
            assisting_organization=world.shenzhen_gov,
            recipient_region=world.shufu,
            start_date=D(2010, 7, 1),
            parent=pw.shufu,
        )

    assert problems(exc) == [("outside_parent", "recipient_region"), ("recipient_taken", "recipient_region")]


def test_a_childs_assisting_organization_must_sit_under_the_parents(world, pw):
    with nothing_written(Pairing), pytest.raises(DomainError) as exc:
        services.pairing_create(
            by=world.coordinator,
            program=pw.program,
            assisting_organization=world.jiangsu_gov,
            recipient_region=township(world.shufu, "653121900"),
            start_date=D(2010, 7, 1),
            parent=pw.shufu,
        )

    assert problems(exc) == [("not_under_parent", "assisting_organization")]


def test_a_child_must_belong_to_its_parents_programme(world, pw):
    other = services.program_create(by=None, code="other", name="其他", model="development", start_year=2011)

    with nothing_written(Pairing), pytest.raises(DomainError) as exc:
        services.pairing_create(
            by=world.coordinator,
            program=other,
            assisting_organization=world.shenzhen_gov,
            recipient_region=township(world.shufu, "653121900"),
            start_date=D(2010, 7, 1),
            parent=pw.shufu,
        )

    assert problems(exc) == [("parent_other_program", "parent")]


def test_every_problem_of_a_child_pairing_is_reported_at_once(world, pw):
    with nothing_written(Pairing), pytest.raises(DomainError) as exc:
        services.pairing_create(
            by=world.coordinator,
            program=pw.program,
            assisting_organization=world.jiangsu_gov,
            recipient_region=township(world.jiashi, "653129900"),
            start_date=D(2010, 7, 1),
            end_date=D(2010, 1, 1),
            parent=pw.shufu,
        )

    assert problems(exc) == [
        ("dates_out_of_order", "end_date"),
        ("outside_parent", "recipient_region"),
        ("not_under_parent", "assisting_organization"),
    ]


def test_a_region_cannot_have_two_active_pairings_in_a_programme(world, pw):
    with nothing_written(Pairing), pytest.raises(DomainError) as exc:
        services.pairing_create(
            by=world.coordinator,
            program=pw.program,
            assisting_organization=world.jiangsu_gov,
            recipient_region=world.shufu,
            start_date=D(2012, 1, 1),
        )

    assert problems(exc) == [("recipient_taken", "recipient_region")]


def test_after_the_first_pairing_ends_a_new_one_may_take_the_region(world, pw):
    services.pairing_end(by=world.coordinator, pairing=pw.shufu, end_date=D(2011, 12, 31), comment="轮换")

    successor = services.pairing_create(
        by=world.coordinator,
        program=pw.program,
        assisting_organization=world.jiangsu_gov,
        recipient_region=world.shufu,
        start_date=D(2012, 1, 1),
    )

    assert set(
        Pairing.objects.filter(program=pw.program, recipient_region=world.shufu).values_list("pk", "status")
    ) == {
        (pw.shufu.pk, "ended"),
        (successor.pk, "active"),
    }


def test_the_same_region_may_be_paired_in_another_programme(world, pw):
    other = services.program_create(by=None, code="covid", name="其他", model="disaster_response", start_year=2020)

    pairing = services.pairing_create(
        by=world.coordinator,
        program=other,
        assisting_organization=world.jiangsu_gov,
        recipient_region=world.shufu,
        start_date=D(2020, 2, 1),
    )

    assert Pairing.objects.get(pk=pairing.pk).status == "active"


def test_an_assisting_officer_breaks_down_their_own_pairing(world, pw):
    child = break_down(world, pw, by=world.assisting)

    stored = Pairing.objects.get(pk=child.pk)
    assert (stored.parent_id, stored.assisting_organization_id) == (pw.shufu.pk, world.shenzhen_gov.pk)
    assert stored.contracting_mode == "diagonal"  # a prefecture-level city helping a township
    [event] = history(stored)
    assert (event.action, event.actor) == ("created", world.assisting)
    assert event.changes["parent"]["new"]["id"] == pw.shufu.pk


def test_an_assisting_officer_cannot_create_a_top_level_pairing(world, pw):
    with nothing_written(Pairing), pytest.raises(PermissionDenied):
        services.pairing_create(
            by=world.assisting,
            program=pw.program,
            assisting_organization=world.guangdong_gov,
            recipient_region=county(world.kashgar, "653101"),
            start_date=D(2010, 6, 1),
        )


def test_an_assisting_officer_cannot_break_down_a_pairing_that_is_not_theirs(world, pw):
    # Kashgar sees Guangdong → Shufu as its recipient side, and assists nobody: seeing is not owning.
    kashgar_officer = user("kashgar-ao", world.kashgar_gov, Role.ASSISTING_OFFICER)
    with nothing_written(Pairing), pytest.raises(PermissionDenied):
        break_down(world, pw, assisting=world.kashgar_gov, by=kashgar_officer)


def test_a_recipient_officer_cannot_break_down_the_pairing_they_receive(world, pw):
    with nothing_written(Pairing), pytest.raises(PermissionDenied):
        break_down(world, pw, by=world.recipient)


def test_an_outsider_is_told_the_parent_pairing_does_not_exist(world, pw):
    with nothing_written(Pairing), pytest.raises(NotFound) as exc:
        break_down(world, pw, assisting=world.jiangsu_gov, by=world.outsider)

    assert problems(exc) == [("not_found", "pairing")]


def test_an_ended_pairing_cannot_be_broken_down(world, pw):
    services.pairing_end(by=world.coordinator, pairing=pw.shufu, end_date=D(2012, 1, 1), comment="结束")

    with nothing_written(Pairing), pytest.raises(DomainError) as exc:
        break_down(world, pw, by=world.coordinator)

    assert problems(exc) == [("parent_ended", "parent")]


# --- pairings: update and end ----------------------------------------------------------------------------


def test_coordinator_changes_a_pairings_term_and_the_change_is_recorded(world, pw):
    services.pairing_update(by=world.coordinator, pairing=pw.shufu, end_date=D(2020, 12, 31), note="第一期")

    stored = Pairing.objects.get(pk=pw.shufu.pk)
    assert (stored.end_date, stored.note, stored.status) == (D(2020, 12, 31), "第一期", "active")
    event = history(stored)[-1]
    assert (event.action, event.actor) == ("updated", world.coordinator)
    assert event.changes == {"end_date": {"old": None, "new": "2020-12-31"}, "note": {"old": "", "new": "第一期"}}


def test_a_pairing_update_cannot_put_the_end_before_the_start(world, pw):
    with nothing_written(Pairing), pytest.raises(DomainError) as exc:
        services.pairing_update(by=world.coordinator, pairing=pw.shufu, end_date=D(2009, 1, 1))

    assert problems(exc) == [("dates_out_of_order", "end_date")]
    assert Pairing.objects.get(pk=pw.shufu.pk).end_date is None


def test_a_pairing_update_that_overrides_the_mode_needs_a_reason(world, pw):
    with nothing_written(Pairing), pytest.raises(DomainError) as exc:
        services.pairing_update(by=world.coordinator, pairing=pw.shufu, contracting_mode="direct")

    assert problems(exc) == [("reason_required", "mode_reason")]

    services.pairing_update(by=world.coordinator, pairing=pw.shufu, contracting_mode="direct", mode_reason="特例")
    stored = Pairing.objects.get(pk=pw.shufu.pk)
    assert (stored.contracting_mode, stored.mode_overridden, stored.mode_reason) == ("direct", True, "特例")
    assert history(stored)[-1].changes["contracting_mode"] == {"old": "diagonal", "new": "direct"}


def test_an_assisting_officer_updates_the_pairings_broken_down_from_theirs_but_not_their_own(world, pw):
    child = break_down(world, pw, by=world.assisting)

    services.pairing_update(by=world.assisting, pairing=child, note="珠海援建")
    assert Pairing.objects.get(pk=child.pk).note == "珠海援建"

    with nothing_written(Pairing), pytest.raises(PermissionDenied):
        services.pairing_update(by=world.assisting, pairing=pw.shufu, note="x")


def test_an_outsider_cannot_find_a_pairing_to_update(world, pw):
    with nothing_written(Pairing), pytest.raises(NotFound):
        services.pairing_update(by=world.outsider, pairing=pw.shufu, note="x")


def test_coordinator_ends_a_pairing_and_the_end_is_recorded(world, pw):
    services.pairing_end(by=world.coordinator, pairing=pw.shufu, end_date=D(2020, 12, 31), comment="第一期结束")

    stored = Pairing.objects.get(pk=pw.shufu.pk)
    assert (stored.status, stored.end_date) == ("ended", D(2020, 12, 31))
    event = history(stored)[-1]
    assert (event.action, event.actor, event.from_state, event.to_state, event.comment) == (
        "ended",
        world.coordinator,
        "active",
        "ended",
        "第一期结束",
    )
    assert event.changes == {"end_date": {"old": None, "new": "2020-12-31"}}


def test_ending_a_pairing_keeps_its_mandates_flows_and_history(world, pw):
    gd_revenue(world)
    mandate = services.mandate_compute(by=None, pairing=pw.shufu, year=2011)
    flow = services.fund_flow_record(
        by=None, pairing=pw.shufu, kind="disbursement", amount="1000", date=D(2011, 3, 1), source="assisting_fiscal"
    )
    events_before = [e.pk for e in history(pw.shufu)]

    services.pairing_end(by=world.coordinator, pairing=pw.shufu, end_date=D(2020, 12, 31), comment="结束")

    assert AnnualMandate.objects.get(pk=mandate.pk).funds_required == Decimal("2257850000.00")
    assert FundFlow.objects.get(pk=flow.pk).pairing_id == pw.shufu.pk
    assert [e.pk for e in history(pw.shufu)][: len(events_before)] == events_before
    assert history(mandate)
    assert history(flow)


def test_ending_a_pairing_needs_a_comment(world, pw):
    with nothing_written(Pairing), pytest.raises(DomainError) as exc:
        services.pairing_end(by=world.coordinator, pairing=pw.shufu, end_date=D(2020, 12, 31), comment=" ")

    assert problems(exc) == [("comment_required", "comment")]
    assert Pairing.objects.get(pk=pw.shufu.pk).status == "active"


def test_a_pairing_cannot_end_before_it_began(world, pw):
    with nothing_written(Pairing), pytest.raises(DomainError) as exc:
        services.pairing_end(by=world.coordinator, pairing=pw.shufu, end_date=D(2010, 1, 1), comment="x")

    assert problems(exc) == [("dates_out_of_order", "end_date")]


def test_a_pairing_ends_only_after_the_pairings_broken_down_from_it(world, pw):
    child = break_down(world, pw, by=world.assisting)

    with nothing_written(Pairing), pytest.raises(DomainError) as exc:
        services.pairing_end(by=world.coordinator, pairing=pw.shufu, end_date=D(2020, 12, 31), comment="结束")
    assert problems(exc) == [("active_children", "status")]
    assert Pairing.objects.get(pk=pw.shufu.pk).status == "active"

    services.pairing_end(by=world.assisting, pairing=child, end_date=D(2020, 12, 31), comment="分解结束")
    services.pairing_end(by=world.coordinator, pairing=pw.shufu, end_date=D(2020, 12, 31), comment="结束")
    assert set(Pairing.objects.filter(pk__in=[child.pk, pw.shufu.pk]).values_list("status", flat=True)) == {"ended"}


def test_an_ended_pairing_cannot_end_again(world, pw):
    services.pairing_end(by=world.coordinator, pairing=pw.shufu, end_date=D(2020, 12, 31), comment="结束")

    with nothing_written(Pairing), pytest.raises(DomainError) as exc:
        services.pairing_end(by=world.coordinator, pairing=pw.shufu, end_date=D(2021, 1, 1), comment="再次")

    assert problems(exc) == [("already_ended", "status")]
    assert Pairing.objects.get(pk=pw.shufu.pk).end_date == D(2020, 12, 31)


def test_only_a_coordinator_ends_a_top_level_pairing_and_an_outsider_cannot_find_it(world, pw):
    with nothing_written(Pairing), pytest.raises(PermissionDenied):
        services.pairing_end(by=world.assisting, pairing=pw.shufu, end_date=D(2020, 12, 31), comment="x")
    with nothing_written(Pairing), pytest.raises(NotFound):
        services.pairing_end(by=world.outsider, pairing=pw.shufu, end_date=D(2020, 12, 31), comment="x")

    assert Pairing.objects.get(pk=pw.shufu.pk).status == PairingStatus.ACTIVE


# --- fiscal revenue --------------------------------------------------------------------------------------


def test_an_assisting_officer_records_their_provinces_revenue(world):
    revenue = services.fiscal_revenue_record(
        by=world.assisting, organization=world.guangdong_gov, year=2010, amount="451570000000.00", source="统计年鉴"
    )

    stored = FiscalRevenue.objects.get(pk=revenue.pk)
    assert (stored.organization, stored.year, stored.amount, stored.recorded_by) == (
        world.guangdong_gov,
        2010,
        GD_REVENUE_2010,
        world.assisting,
    )
    [event] = history(stored)
    assert (event.action, event.actor) == ("created", world.assisting)
    assert event.changes == {"amount": {"old": None, "new": "451570000000.00"}, "year": {"old": None, "new": 2010}}


def test_an_assisting_officer_records_revenue_of_a_city_under_their_province(world):
    services.fiscal_revenue_record(by=world.assisting, organization=world.shenzhen_gov, year=2010, amount="1000")

    assert FiscalRevenue.objects.get(organization=world.shenzhen_gov, year=2010).amount == Decimal("1000.00")


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("-1", [("min_value", "amount")]), ("a lot", [("invalid", "amount")]), ("", [("required", "amount")])],
)
def test_a_revenue_with_a_bad_amount_is_refused(world, amount, expected):
    with nothing_written(FiscalRevenue), pytest.raises(DomainError) as exc:
        services.fiscal_revenue_record(by=world.assisting, organization=world.guangdong_gov, year=2010, amount=amount)

    assert problems(exc) == expected


def test_a_revenue_cannot_be_recorded_twice_for_a_year(world):
    gd_revenue(world)

    with nothing_written(FiscalRevenue), pytest.raises(DomainError) as exc:
        services.fiscal_revenue_record(by=world.assisting, organization=world.guangdong_gov, year=2010, amount="1")

    assert problems(exc) == [("duplicate", "year")]


@pytest.mark.parametrize("year", [1948, dt.date.today().year + 1])
def test_a_revenue_for_a_year_that_cannot_have_closed_is_refused(world, year):
    with nothing_written(FiscalRevenue), pytest.raises(DomainError) as exc:
        services.fiscal_revenue_record(by=world.assisting, organization=world.guangdong_gov, year=year, amount="1")

    assert problems(exc) == [("invalid_year", "year")]


def test_an_assisting_officer_cannot_record_another_provinces_revenue(world):
    with nothing_written(FiscalRevenue), pytest.raises(DomainError) as exc:
        services.fiscal_revenue_record(by=world.assisting, organization=world.jiangsu_gov, year=2010, amount="1")

    assert problems(exc) == [("out_of_scope", "organization")]


def test_a_recipient_officer_cannot_record_revenue(world):
    with nothing_written(FiscalRevenue), pytest.raises(PermissionDenied):
        services.fiscal_revenue_record(by=world.recipient, organization=world.shufu_gov, year=2010, amount="1")


def test_a_revenue_correction_is_recorded_with_old_and_new_amounts(world):
    revenue = gd_revenue(world)

    services.fiscal_revenue_correct(by=world.assisting, revenue=revenue, amount="451600000000.00", reason="决算数")

    stored = FiscalRevenue.objects.get(pk=revenue.pk)
    assert stored.amount == Decimal("451600000000.00")
    event = history(stored)[-1]
    assert (event.action, event.actor, event.comment) == ("corrected", world.assisting, "决算数")
    assert event.changes == {"amount": {"old": "451570000000.00", "new": "451600000000.00"}}


@pytest.mark.parametrize(
    ("amount", "reason", "expected"),
    [
        ("1", " ", [("reason_required", "reason")]),
        ("-1", "决算数", [("min_value", "amount")]),
        ("abc", "决算数", [("invalid", "amount")]),
        ("", "决算数", [("required", "amount")]),
        (None, "", [("required", "amount"), ("reason_required", "reason")]),
    ],
)
def test_a_revenue_correction_with_a_bad_amount_or_no_reason_is_refused(world, amount, reason, expected):
    revenue = gd_revenue(world)

    with nothing_written(FiscalRevenue), pytest.raises(DomainError) as exc:
        services.fiscal_revenue_correct(by=world.assisting, revenue=revenue, amount=amount, reason=reason)

    assert problems(exc) == expected
    assert FiscalRevenue.objects.get(pk=revenue.pk).amount == GD_REVENUE_2010


def test_an_outsider_cannot_correct_another_provinces_revenue(world):
    revenue = gd_revenue(world)

    with nothing_written(FiscalRevenue), pytest.raises(DomainError) as exc:
        services.fiscal_revenue_correct(by=world.outsider, revenue=revenue, amount="1", reason="x")

    assert problems(exc) == [("out_of_scope", "organization")]


# --- mandates: computed ----------------------------------------------------------------------------------


def test_a_mandate_is_computed_from_the_rule_and_the_revenue_before_the_programme(world, pw):
    revenue = gd_revenue(world)

    mandate = services.mandate_compute(by=world.assisting, pairing=pw.shufu, year=2013, personnel_quota=40)

    stored = AnnualMandate.objects.get(pk=mandate.pk)
    # 451,570,000,000.00 × 0.005 × 1.08² = 2,633,556,240.00
    assert stored.funds_required == Decimal("2633556240.00")
    assert (stored.rule_id, stored.basis_revenue_id, stored.basis_amount) == (pw.rule.pk, revenue.pk, GD_REVENUE_2010)
    assert (stored.is_manual, stored.personnel_quota, stored.reason) == (False, 40, "")
    [event] = history(stored)
    assert (event.action, event.actor) == ("mandate_computed", world.assisting)
    assert event.changes == {"funds_required": {"old": None, "new": "2633556240.00"}}


def test_a_mandate_without_the_revenue_it_needs_names_the_year_to_record(world, pw):
    gd_revenue(world, year=2012)  # the wrong year: Xinjiang counts from 2010

    with nothing_written(AnnualMandate), pytest.raises(DomainError) as exc:
        services.mandate_compute(by=world.assisting, pairing=pw.shufu, year=2013)

    assert problems(exc) == [("revenue_missing", "year")]
    assert "2010" in exc.value.message


@pytest.mark.parametrize("year", [2010, 2021])
def test_a_mandate_outside_the_programmes_years_is_refused(world, pw, year):
    gd_revenue(world)

    with nothing_written(AnnualMandate), pytest.raises(DomainError) as exc:
        services.mandate_compute(by=world.assisting, pairing=pw.shufu, year=year)

    assert problems(exc) == [("outside_programme", "year")]


def test_a_mandate_cannot_be_computed_before_the_programme_has_a_rule(world):
    program = services.program_create(by=None, code="wenchuan", name="汶川", model="disaster_response", start_year=2008)
    pairing = services.pairing_create(
        by=None,
        program=program,
        assisting_organization=world.guangdong_gov,
        recipient_region=world.shufu,
        start_date=D(2008, 6, 1),
    )

    with nothing_written(AnnualMandate), pytest.raises(DomainError) as exc:
        services.mandate_compute(by=world.coordinator, pairing=pairing, year=2008)

    assert problems(exc) == [("no_rule", "program")]


def test_a_mandate_set_by_hand_is_not_overwritten_by_a_computation(world, pw):
    gd_revenue(world)
    services.mandate_set(by=world.coordinator, pairing=pw.shufu, year=2011, funds_required="1000000", reason="协商")

    with nothing_written(AnnualMandate), pytest.raises(DomainError) as exc:
        services.mandate_compute(by=world.coordinator, pairing=pw.shufu, year=2011)

    assert problems(exc) == [("manual_mandate", "year")]
    stored = AnnualMandate.objects.get(pairing=pw.shufu, year=2011)
    assert (stored.funds_required, stored.is_manual) == (Decimal("1000000.00"), True)


def test_recomputing_after_a_revenue_correction_records_old_and_new_amounts(world, pw):
    revenue = gd_revenue(world)
    mandate = services.mandate_compute(by=world.assisting, pairing=pw.shufu, year=2011)
    services.fiscal_revenue_correct(by=world.assisting, revenue=revenue, amount="460000000000.00", reason="决算数")
    # a correction does not move a computed mandate by itself
    assert AnnualMandate.objects.get(pk=mandate.pk).funds_required == Decimal("2257850000.00")

    services.mandate_compute(by=world.assisting, pairing=pw.shufu, year=2011)

    stored = AnnualMandate.objects.get(pk=mandate.pk)
    # 460,000,000,000.00 × 0.005 = 2,300,000,000.00
    assert (stored.funds_required, stored.basis_amount) == (Decimal("2300000000.00"), Decimal("460000000000.00"))
    events = history(stored)
    assert [e.action for e in events] == ["mandate_computed", "mandate_computed"]
    assert events[-1].changes == {
        "funds_required": {"old": "2257850000.00", "new": "2300000000.00"},
        "basis_amount": {"old": "451570000000.00", "new": "460000000000.00"},
    }


def test_recomputing_with_nothing_changed_writes_no_history(world, pw):
    gd_revenue(world)
    mandate = services.mandate_compute(by=world.assisting, pairing=pw.shufu, year=2011)

    with nothing_written(AnnualMandate):
        services.mandate_compute(by=world.assisting, pairing=pw.shufu, year=2011)

    assert len(history(mandate)) == 1


def test_a_recipient_officer_cannot_compute_a_mandate_and_an_outsider_cannot_find_the_pairing(world, pw):
    gd_revenue(world)
    with nothing_written(AnnualMandate), pytest.raises(PermissionDenied):
        services.mandate_compute(by=world.recipient, pairing=pw.shufu, year=2011)
    with nothing_written(AnnualMandate), pytest.raises(NotFound):
        services.mandate_compute(by=world.outsider, pairing=pw.shufu, year=2011)


# --- mandates: set by hand, and the breakdown --------------------------------------------------------------


def test_a_coordinator_sets_a_mandate_by_hand_with_a_reason(world, pw):
    mandate = services.mandate_set(
        by=world.coordinator,
        pairing=pw.shufu,
        year=2011,
        funds_required="300000000",
        reason="会议纪要",
        personnel_quota=12,
    )

    stored = AnnualMandate.objects.get(pk=mandate.pk)
    assert (stored.funds_required, stored.is_manual, stored.reason, stored.rule_id, stored.personnel_quota) == (
        Decimal("300000000.00"),
        True,
        "会议纪要",
        None,
        12,
    )
    [event] = history(stored)
    assert (event.action, event.actor, event.comment) == ("mandate_set", world.coordinator, "会议纪要")


def test_setting_a_mandate_by_hand_replaces_a_computed_one_and_records_the_change(world, pw):
    gd_revenue(world)
    mandate = services.mandate_compute(by=world.coordinator, pairing=pw.shufu, year=2011)

    services.mandate_set(by=world.coordinator, pairing=pw.shufu, year=2011, funds_required="2000000000", reason="协商")

    stored = AnnualMandate.objects.get(pk=mandate.pk)
    assert (stored.funds_required, stored.is_manual, stored.rule_id, stored.basis_revenue_id) == (
        Decimal("2000000000.00"),
        True,
        None,
        None,
    )
    assert history(stored)[-1].changes["funds_required"] == {"old": "2257850000.00", "new": "2000000000"}


@pytest.mark.parametrize(
    ("amount", "reason", "expected"),
    [
        ("1000", " ", [("reason_required", "reason")]),
        ("-1", "协商", [("min_value", "funds_required")]),
        ("abc", "协商", [("invalid", "funds_required")]),
        ("", "协商", [("required", "funds_required")]),
    ],
)
def test_a_mandate_set_by_hand_with_a_bad_amount_or_no_reason_is_refused(world, pw, amount, reason, expected):
    with nothing_written(AnnualMandate), pytest.raises(DomainError) as exc:
        services.mandate_set(by=world.coordinator, pairing=pw.shufu, year=2011, funds_required=amount, reason=reason)

    assert problems(exc) == expected


def test_only_a_coordinator_sets_a_top_level_mandate_by_hand(world, pw):
    with nothing_written(AnnualMandate), pytest.raises(PermissionDenied):
        services.mandate_set(by=world.assisting, pairing=pw.shufu, year=2011, funds_required="1", reason="x")


@pytest.fixture
def breakdown_2011(world, pw):
    """Guangdong → Shufu owes 1,000,000.00 in 2011; three Guangdong cities each take a township of Shufu."""
    services.mandate_set(by=world.coordinator, pairing=pw.shufu, year=2011, funds_required="1000000", reason="分配")
    zhuhai = city_under_guangdong(world, "珠海市人民政府")
    foshan = city_under_guangdong(world, "佛山市人民政府")
    return [
        break_down(world, pw, code="653121901", assisting=world.shenzhen_gov, by=world.assisting),
        break_down(world, pw, code="653121902", assisting=zhuhai, by=world.assisting),
        break_down(world, pw, code="653121903", assisting=foshan, by=world.assisting),
    ]


def test_the_parents_officer_allocates_mandates_to_the_children_within_the_parents(world, breakdown_2011):
    first, second, third = breakdown_2011
    services.mandate_set(by=world.assisting, pairing=first, year=2011, funds_required="400000", reason="分配")
    services.mandate_set(by=world.assisting, pairing=second, year=2011, funds_required="500000", reason="分配")

    with nothing_written(AnnualMandate), pytest.raises(DomainError) as exc:
        services.mandate_set(by=world.assisting, pairing=third, year=2011, funds_required="100000.01", reason="分配")
    assert problems(exc) == [("above_parent", "funds_required")]

    # exactly what is left fits
    services.mandate_set(by=world.assisting, pairing=third, year=2011, funds_required="100000", reason="分配")
    assert sorted(
        AnnualMandate.objects.filter(pairing__parent__isnull=False).values_list("funds_required", flat=True)
    ) == [
        Decimal("100000.00"),
        Decimal("400000.00"),
        Decimal("500000.00"),
    ]


def test_a_childs_own_allocation_is_not_counted_twice_when_it_is_changed(world, breakdown_2011):
    first, second, _ = breakdown_2011
    services.mandate_set(by=world.assisting, pairing=first, year=2011, funds_required="400000", reason="分配")
    services.mandate_set(by=world.assisting, pairing=second, year=2011, funds_required="500000", reason="分配")

    services.mandate_set(by=world.assisting, pairing=first, year=2011, funds_required="500000", reason="调整")

    assert AnnualMandate.objects.get(pairing=first, year=2011).funds_required == Decimal("500000.00")


def test_the_parents_mandate_cannot_be_lowered_below_its_childrens_total(world, pw, breakdown_2011):
    first, second, _ = breakdown_2011
    services.mandate_set(by=world.assisting, pairing=first, year=2011, funds_required="400000", reason="分配")
    services.mandate_set(by=world.assisting, pairing=second, year=2011, funds_required="500000", reason="分配")

    with nothing_written(AnnualMandate), pytest.raises(DomainError) as exc:
        services.mandate_set(by=world.coordinator, pairing=pw.shufu, year=2011, funds_required="899999.99", reason="x")

    assert problems(exc) == [("below_children", "funds_required")]
    assert AnnualMandate.objects.get(pairing=pw.shufu, year=2011).funds_required == Decimal("1000000.00")


def test_a_child_is_allocated_a_mandate_only_after_the_parent_has_one(world, breakdown_2011):
    first = breakdown_2011[0]

    with nothing_written(AnnualMandate), pytest.raises(DomainError) as exc:
        services.mandate_set(by=world.assisting, pairing=first, year=2012, funds_required="1", reason="分配")

    assert problems(exc) == [("parent_mandate_missing", "year")]


def test_a_child_pairings_own_officer_cannot_allocate_its_mandate(world, breakdown_2011):
    shenzhen_officer = user("sz-ao", world.shenzhen_gov, Role.ASSISTING_OFFICER)

    with nothing_written(AnnualMandate), pytest.raises(PermissionDenied):
        services.mandate_set(by=shenzhen_officer, pairing=breakdown_2011[0], year=2011, funds_required="1", reason="x")


# --- fund flows ------------------------------------------------------------------------------------------

FLOW_MATRIX = [
    ("pledge", "coordinator", True),
    ("pledge", "assisting", True),
    ("pledge", "recipient", False),
    ("commitment", "assisting", True),
    ("commitment", "recipient", False),
    ("disbursement", "assisting", True),
    ("disbursement", "recipient", True),
    ("expenditure", "recipient", True),
    ("expenditure", "observer", False),
    ("disbursement", "observer", False),
]


@pytest.mark.parametrize(("kind", "role", "allowed"), FLOW_MATRIX, ids=[f"{k}-{r}" for k, r, _ in FLOW_MATRIX])
def test_who_records_which_kind_of_flow(world, pw, kind, role, allowed):
    actor = user("observer", world.national_office, Role.OBSERVER) if role == "observer" else getattr(world, role)

    def record():
        return services.fund_flow_record(
            by=actor, pairing=pw.shufu, kind=kind, amount="1000.50", date=D(2011, 5, 1), source="assisting_fiscal"
        )

    if not allowed:
        with nothing_written(FundFlow), pytest.raises(PermissionDenied):
            record()
        return
    flow = record()
    stored = FundFlow.objects.get(pk=flow.pk)
    assert (stored.kind, stored.amount, stored.date, stored.recorded_by) == (
        kind,
        Decimal("1000.50"),
        D(2011, 5, 1),
        actor,
    )
    pairing_event = history(pw.shufu)[-1]
    assert (pairing_event.action, pairing_event.actor) == ("flow_recorded", actor)
    assert pairing_event.changes["kind"] == {"old": None, "new": kind}
    assert pairing_event.changes["amount"] == {"old": None, "new": "1000.50"}
    [flow_event] = history(stored)
    assert flow_event.action == "created"


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0", [("min_value", "amount")]),
        ("-100", [("min_value", "amount")]),
        ("一百", [("invalid", "amount")]),
        ("Infinity", [("invalid", "amount")]),
        (None, [("required", "amount")]),
    ],
)
def test_a_flow_amount_must_be_a_number_above_zero(world, pw, amount, expected):
    with nothing_written(FundFlow), pytest.raises(DomainError) as exc:
        services.fund_flow_record(
            by=world.assisting, pairing=pw.shufu, kind="pledge", amount=amount, date=D(2011, 5, 1), source="enterprise"
        )

    assert problems(exc) == expected


def test_nothing_is_recorded_on_an_ended_pairing(world, pw):
    services.pairing_end(by=world.coordinator, pairing=pw.shufu, end_date=D(2015, 12, 31), comment="结束")

    with nothing_written(FundFlow), pytest.raises(DomainError) as exc:
        services.fund_flow_record(
            by=world.assisting, pairing=pw.shufu, kind="disbursement", amount="1", date=D(2015, 6, 1), source="loan"
        )

    assert problems(exc) == [("pairing_ended", "pairing")]


def test_a_flow_cannot_be_dated_before_the_pairing_began(world, pw):
    with nothing_written(FundFlow), pytest.raises(DomainError) as exc:
        services.fund_flow_record(
            by=world.assisting, pairing=pw.shufu, kind="pledge", amount="1", date=D(2010, 5, 31), source="enterprise"
        )

    assert problems(exc) == [("before_pairing", "date")]


def test_a_flow_with_an_unknown_kind_or_source_is_refused(world, pw):
    with nothing_written(FundFlow), pytest.raises(DomainError) as exc:
        services.fund_flow_record(
            by=world.assisting, pairing=pw.shufu, kind="gift", amount="1", date=D(2011, 1, 1), source="lottery"
        )

    assert problems(exc) == [("invalid_choice", "kind"), ("invalid_choice", "source")]


def test_an_outsider_cannot_find_the_pairing_to_record_a_flow_on(world, pw):
    with nothing_written(FundFlow), pytest.raises(NotFound):
        services.fund_flow_record(
            by=world.outsider, pairing=pw.shufu, kind="pledge", amount="1", date=D(2011, 1, 1), source="enterprise"
        )


def pledge(pairing, amount="500000", by=None) -> FundFlow:
    return services.fund_flow_record(
        by=by, pairing=pairing, kind="pledge", amount=amount, date=D(2011, 3, 1), source="enterprise"
    )


def commit(pairing, pledged: FundFlow | None, amount="500000", by=None, kind="commitment") -> FundFlow:
    return services.fund_flow_record(
        by=by, pairing=pairing, kind=kind, amount=amount, date=D(2011, 4, 1), source="enterprise", pledge=pledged
    )


def test_a_commitment_fulfils_a_pledge(world, pw):
    pledged = pledge(pw.shufu, by=world.assisting)

    commitment = commit(pw.shufu, pledged, by=world.assisting)

    stored = FundFlow.objects.get(pk=commitment.pk)
    assert (stored.kind, stored.pledge_id) == ("commitment", pledged.pk)
    assert FundFlow.objects.get(pk=pledged.pk).commitment == stored


def test_a_pledge_is_committed_only_once(world, pw):
    pledged = pledge(pw.shufu, by=world.assisting)
    commit(pw.shufu, pledged, by=world.assisting)

    with nothing_written(FundFlow), pytest.raises(DomainError) as exc:
        commit(pw.shufu, pledged, by=world.assisting)

    assert problems(exc) == [("pledge_committed", "pledge")]


def test_a_commitment_cannot_fulfil_another_pairings_pledge(world, pw):
    jiangsu_pledge = pledge(pw.jiashi, by=world.outsider)

    with nothing_written(FundFlow), pytest.raises(DomainError) as exc:
        commit(pw.shufu, jiangsu_pledge, by=world.coordinator)

    assert problems(exc) == [("invalid_pledge", "pledge")]
    assert not FundFlow.objects.filter(pledge=jiangsu_pledge).exists()


def test_only_a_commitment_fulfils_a_pledge(world, pw):
    pledged = pledge(pw.shufu, by=world.assisting)

    with nothing_written(FundFlow), pytest.raises(DomainError) as exc:
        commit(pw.shufu, pledged, by=world.assisting, kind="disbursement")

    assert problems(exc) == [("pledge_for_commitment", "pledge")]


def test_a_commitment_cannot_fulfil_a_flow_that_is_not_a_pledge(world, pw):
    disbursement = commit(pw.shufu, None, by=world.assisting, kind="disbursement")

    with nothing_written(FundFlow), pytest.raises(DomainError) as exc:
        commit(pw.shufu, disbursement, by=world.assisting)

    assert problems(exc) == [("invalid_pledge", "pledge")]


def test_a_pledge_counts_as_committed_only_once_it_is_committed(world, pw):
    services.mandate_set(by=world.coordinator, pairing=pw.shufu, year=2011, funds_required="1000000", reason="协商")
    pledged = pledge(pw.shufu, amount="300000", by=world.assisting)

    [mandate] = mandates_for(pw.shufu)
    assert (mandate.pledged, mandate.committed) == (Decimal("300000.00"), Decimal("0.00"))

    commit(pw.shufu, pledged, amount="250000", by=world.assisting)

    [mandate] = mandates_for(pw.shufu)
    assert (mandate.pledged, mandate.committed) == (Decimal("0.00"), Decimal("250000.00"))


# --- people ----------------------------------------------------------------------------------------------


def test_an_assisting_officer_records_a_deployment(world, pw):
    deployment = services.deployment_record(
        by=world.assisting,
        pairing=pw.shufu,
        kind="teacher",
        headcount=35,
        start_date=D(2016, 8, 20),
        end_date=D(2019, 8, 19),
        batch="第九批",
        group_style=True,
    )

    stored = Deployment.objects.get(pk=deployment.pk)
    assert (stored.kind, stored.headcount, stored.group_style, stored.batch, stored.recorded_by) == (
        "teacher",
        35,
        True,
        "第九批",
        world.assisting,
    )
    event = history(pw.shufu)[-1]
    assert (event.action, event.actor) == ("people_deployed", world.assisting)
    assert event.changes == {
        "kind": {"old": None, "new": "teacher"},
        "headcount": {"old": None, "new": 35},
        "start_date": {"old": None, "new": "2016-08-20"},
    }


def test_a_recipient_officer_records_a_deployment_but_an_observer_cannot(world, pw):
    services.deployment_record(
        by=world.recipient, pairing=pw.shufu, kind="doctor", headcount=3, start_date=D(2015, 3, 1)
    )
    assert Deployment.objects.filter(pairing=pw.shufu, kind="doctor", recorded_by=world.recipient).count() == 1

    observer = user("observer", world.national_office, Role.OBSERVER)
    with nothing_written(Deployment), pytest.raises(PermissionDenied):
        services.deployment_record(by=observer, pairing=pw.shufu, kind="doctor", headcount=3, start_date=D(2015, 3, 1))


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"headcount": 0}, [("min_value", "headcount")]),
        ({"headcount": -2}, [("min_value", "headcount")]),
        ({"end_date": D(2015, 2, 28)}, [("dates_out_of_order", "end_date")]),
        ({"start_date": D(2010, 1, 1), "end_date": None}, [("before_pairing", "start_date")]),
        ({"start_date": None, "end_date": None}, [("required", "start_date")]),
        ({"kind": "soldier"}, [("invalid_choice", "kind")]),
    ],
)
def test_a_deployment_with_bad_values_is_refused(world, pw, values, expected):
    arguments = {"kind": "cadre", "headcount": 10, "start_date": D(2015, 3, 1), "end_date": D(2018, 2, 28)} | values

    with nothing_written(Deployment), pytest.raises(DomainError) as exc:
        services.deployment_record(by=world.assisting, pairing=pw.shufu, **arguments)

    assert problems(exc) == expected


def test_no_deployment_or_training_is_recorded_on_an_ended_pairing(world, pw):
    services.pairing_end(by=world.coordinator, pairing=pw.shufu, end_date=D(2015, 12, 31), comment="结束")

    with nothing_written(Deployment), pytest.raises(DomainError) as exc:
        services.deployment_record(
            by=world.assisting, pairing=pw.shufu, kind="cadre", headcount=1, start_date=D(2015, 3, 1)
        )
    assert problems(exc) == [("pairing_ended", "pairing")]

    with nothing_written(Training), pytest.raises(DomainError) as exc:
        services.training_record(
            by=world.assisting, pairing=pw.shufu, topic="农业技术", people_trained=1, days=1, start_date=D(2015, 3, 1)
        )
    assert problems(exc) == [("pairing_ended", "pairing")]


def test_an_outsider_cannot_find_the_pairing_to_record_people_on(world, pw):
    with nothing_written(Deployment), pytest.raises(NotFound):
        services.deployment_record(
            by=world.outsider, pairing=pw.shufu, kind="cadre", headcount=1, start_date=D(2015, 3, 1)
        )
    with nothing_written(Training), pytest.raises(NotFound):
        services.training_record(
            by=world.outsider, pairing=pw.shufu, topic="x", people_trained=1, days=1, start_date=D(2015, 3, 1)
        )


def test_a_recipient_officer_records_a_training(world, pw):
    training = services.training_record(
        by=world.recipient,
        pairing=pw.shufu,
        topic="  双语教学  ",
        people_trained=120,
        days="2.5",
        start_date=D(2014, 7, 1),
    )

    stored = Training.objects.get(pk=training.pk)
    assert (stored.topic, stored.people_trained, stored.days, stored.recorded_by) == (
        "双语教学",
        120,
        Decimal("2.5"),
        world.recipient,
    )
    event = history(pw.shufu)[-1]
    assert (event.action, event.actor) == ("training_recorded", world.recipient)
    assert event.changes["people_trained"] == {"old": None, "new": 120}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"people_trained": 0}, [("min_value", "people_trained")]),
        ({"days": "0"}, [("min_value", "days")]),
        ({"days": "half a day"}, [("invalid", "days")]),
        ({"days": None}, [("required", "days")]),
        ({"topic": " "}, [("required", "topic")]),
        ({"start_date": D(2009, 12, 31)}, [("before_pairing", "start_date")]),
    ],
)
def test_a_training_with_bad_values_is_refused(world, pw, values, expected):
    arguments = {"topic": "农业技术", "people_trained": 30, "days": "3", "start_date": D(2014, 7, 1)} | values

    with nothing_written(Training), pytest.raises(DomainError) as exc:
        services.training_record(by=world.assisting, pairing=pw.shufu, **arguments)

    assert problems(exc) == expected


def test_an_observer_cannot_record_a_training(world, pw):
    observer = user("observer", world.national_office, Role.OBSERVER)

    with nothing_written(Training), pytest.raises(PermissionDenied):
        services.training_record(
            by=observer, pairing=pw.shufu, topic="x", people_trained=1, days=1, start_date=D(2014, 7, 1)
        )


def test_the_home_panel_counts_a_broken_down_mandate_once(world, pw, rf):
    """A child's mandate is allocated out of its parent's: the panel's "funds required" adds the parent's only,
    unless the user sees the child alone."""
    from pairings.dashboard import pairings_panel

    child = break_down(world, pw)
    services.mandate_set(by=None, pairing=pw.shufu, year=2011, funds_required="1000000", reason="协商")
    services.mandate_set(by=None, pairing=child, year=2011, funds_required="300000", reason="分解")

    request = rf.get("/")
    request.user = world.coordinator
    assert pairings_panel(request)["required"] == Decimal("1000000")

    shenzhen_officer = user("sz", world.shenzhen_gov, "assisting_officer")
    request.user = shenzhen_officer
    assert pairings_panel(request)["required"] == Decimal("300000")
