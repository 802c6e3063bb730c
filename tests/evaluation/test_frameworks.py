"""Indicator frameworks: validation (every problem at once, each naming its field), revision into a new version,
who may revise, and the default framework a programme starts with."""

import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from core.errors import DomainError, PermissionDenied
from core.models import HistoryEvent
from evaluation import services
from evaluation.curves import validate
from evaluation.defaults import default_indicators
from evaluation.models import Indicator, IndicatorFramework
from pairings import services as pairing_services
from tests.evaluation import conftest_engine
from tests.evaluation.conftest_engine import Engine

pytestmark = pytest.mark.django_db
eng = conftest_engine.eng

Rows = list[dict[str, Any]]
#: In the default rows: 0–7 are project indicators (6 is satisfaction, a threshold curve), 8–14 pairing ones.
SATISFACTION, QUALITY, MANDATE = 6, 7, 9


def rows() -> Rows:
    return copy.deepcopy(default_indicators())


def problems_of(indicators: Rows, grade_bands: Any = None) -> list[tuple[str, str | None]]:
    _specs, problems = validate(indicators, grade_bands)
    return [(p.code, p.field) for p in problems]


def test_the_default_rows_are_valid():
    assert problems_of(rows(), [[90, "A"], [0, "B"]]) == []


def _set(i: int, **values: Any) -> Callable[[Rows], None]:
    def change(r: Rows) -> None:
        r[i].update(values)

    return change


def _weights_off(r: Rows) -> None:
    r[0]["weight"] = 25  # project level now adds up to 105


def _duplicate(r: Rows) -> None:
    r[3]["code"] = r[1]["code"]


def _second_satisfaction(r: Rows) -> None:
    r[SATISFACTION]["thresholds"] = [[1, 0], [3, 60], [2, 40]]


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        (_weights_off, "weights_not_100", "indicators"),
        (_set(MANDATE, weight=15), "weights_not_100", "indicators"),
        (_set(2, formula="popularity"), "unknown_formula", "indicators[2].formula"),
        (_set(2, formula=""), "unknown_formula", "indicators[2].formula"),
        (_set(1, level="pairing"), "wrong_level", "indicators[1].level"),
        (_set(MANDATE, formula="on_time_completion"), "wrong_level", "indicators[9].level"),
        (_set(0, floor=1.0, target=0.5), "target_below_floor", "indicators[0].target"),
        (_set(0, floor=1.0, target=1.0), "target_below_floor", "indicators[0].target"),
        (_set(0, floor=None), "required", "indicators[0].floor"),
        (_set(0, floor=""), "required", "indicators[0].floor"),
        (_set(0, target=None), "required", "indicators[0].target"),
        (_set(0, floor="half"), "invalid", "indicators[0].floor"),
        (_set(0, target="all"), "invalid", "indicators[0].target"),
        (_set(0, target=float("inf")), "invalid", "indicators[0].target"),
        (_second_satisfaction, "thresholds_not_ascending", "indicators[6].thresholds"),
        (_set(SATISFACTION, thresholds=[[1, 0], [1, 50]]), "thresholds_not_ascending", "indicators[6].thresholds"),
        (_set(SATISFACTION, thresholds=[[1, 0], [4, 120]]), "score_out_of_range", "indicators[6].thresholds"),
        (_set(SATISFACTION, thresholds=[[1, -5]]), "score_out_of_range", "indicators[6].thresholds"),
        (_set(SATISFACTION, thresholds=[]), "required", "indicators[6].thresholds"),
        (_set(SATISFACTION, thresholds=[[1]]), "invalid_thresholds", "indicators[6].thresholds"),
        (_set(SATISFACTION, thresholds=[["a", 1]]), "invalid_thresholds", "indicators[6].thresholds"),
        (_set(3, curve="s-shaped"), "unknown_curve", "indicators[3].curve"),
        (_duplicate, "duplicate_code", "indicators[3].code"),
        (_set(4, code=" "), "required", "indicators[4].code"),
        (_set(4, code="it's"), "invalid_code", "indicators[4].code"),  # codes end up in the scoring SQL
        (_set(4, code="Beneficiaries"), "invalid_code", "indicators[4].code"),
        (_set(4, code="x" * 41), "invalid_code", "indicators[4].code"),
        (_set(4, name="名" * 121), "too_long", "indicators[4].name"),
        (_set(4, name_en="n" * 121), "too_long", "indicators[4].name_en"),
        (_set(4, name=""), "required", "indicators[4].name"),
        (_set(4, weight=0), "invalid_weight", "indicators[4].weight"),
        (_set(4, weight=-10), "invalid_weight", "indicators[4].weight"),
        (_set(4, weight="ten"), "invalid_weight", "indicators[4].weight"),
        (_set(4, weight=True), "invalid_weight", "indicators[4].weight"),
        (_set(4, weight=float("nan")), "invalid_weight", "indicators[4].weight"),
    ],
)
def test_each_problem_of_a_framework_names_its_field(change, code, field):
    r = rows()
    change(r)
    assert (code, field) in problems_of(r)


@pytest.mark.parametrize(
    "bands",
    [
        [],
        [[90, "A"], [60, "B"]],  # nothing from 0
        [[120, "A"], [0, "B"]],
        [[90, "A"], [-1, "B"]],
        [[90, ""], [0, "B"]],
        [["high", "A"], [0, "B"]],
        [[90]],
        [[90, "EXCELLENT"], [0, "D"]],  # a grade is at most 8 characters
        "A,B",
    ],
)
def test_invalid_grade_bands_are_named(bands):
    assert ("invalid_grade_bands", "grade_bands") in problems_of(rows(), bands)


def test_every_problem_is_reported_at_once():
    r = rows()
    r[0].update(floor=1, target=0.5)
    r[2]["formula"] = "nonsense"
    r[SATISFACTION]["thresholds"] = [[3, 0], [1, 50]]
    found = problems_of(r, [[50, "A"]])
    assert {f for _c, f in found} >= {
        "indicators[0].target",
        "indicators[2].formula",
        "indicators[6].thresholds",
        "grade_bands",
    }


def test_a_framework_needs_indicators_and_a_pairing_level():
    assert problems_of([]) == [("no_indicators", "indicators")]
    assert ("no_pairing_indicators", "indicators") in problems_of(rows()[:8])


def test_revising_makes_the_next_version_and_leaves_the_last_one_as_it_was(eng: Engine):
    v1 = services.framework_current(eng.program)
    before = list(v1.indicators.values_list("code", "weight", "floor", "target").order_by("position"))
    new = rows()
    new[0]["weight"], new[1]["weight"] = 30, 5
    new[MANDATE]["target"] = 0.9

    v2 = services.framework_revise(
        program=eng.program, by=eng.coordinator, indicators=new, reason="  Schedule weighs more  ", grade_bands=None
    )

    assert v2.version == v1.version + 1
    assert services.framework_current(eng.program) == v2
    assert v2.reason == "Schedule weighs more"
    assert v2.created_by == eng.coordinator
    assert list(v1.indicators.values_list("code", "weight", "floor", "target").order_by("position")) == before
    got = {i.code: i for i in v2.indicators.all()}
    assert got["on_time"].weight == Decimal("30.00")
    assert got["budget"].weight == Decimal("5.00")
    assert got["mandate"].target == 0.9
    assert [i.code for i in v2.indicators.order_by("position")] == [r["code"] for r in new]
    event = HistoryEvent.objects.for_object(v2).get()
    assert event.action == "framework_revised"
    assert event.actor == eng.coordinator
    assert event.changes == {"version": {"old": v1.version, "new": v2.version}}
    assert event.comment == "Schedule weighs more"


def test_a_revision_keeps_threshold_bands_and_own_grade_bands(eng: Engine):
    new = rows()
    new[0].update(curve="threshold", thresholds=[["0.5", "50"], [0.9, 100]], floor=0.5, target=1)
    v2 = services.framework_revise(
        program=eng.program, by=eng.coordinator, indicators=new, reason="Bands", grade_bands=[[80, " 优 "], [0, "良"]]
    )
    on_time = v2.indicators.get(code="on_time")
    assert (on_time.curve, on_time.thresholds, on_time.floor, on_time.target) == (
        "threshold",
        [[0.5, 50.0], [0.9, 100.0]],
        None,
        None,
    )
    assert v2.grade_bands == [[80.0, "优"], [0.0, "良"]]


def test_a_revision_with_problems_writes_nothing_and_names_the_reason(eng: Engine):
    services.framework_current(eng.program)
    frameworks, indicators = IndicatorFramework.objects.count(), Indicator.objects.count()
    bad = rows()
    bad[0]["target"] = 0.1

    with pytest.raises(DomainError) as caught:
        services.framework_revise(program=eng.program, by=eng.coordinator, indicators=bad, reason=" ")

    assert {(p.code, p.field) for p in caught.value.problems} == {
        ("target_below_floor", "indicators[0].target"),
        ("reason_required", "reason"),
    }
    assert (IndicatorFramework.objects.count(), Indicator.objects.count()) == (frameworks, indicators)


@pytest.mark.parametrize("who", ["provincial_coordinator", "evaluator", "assisting", "recipient"])
def test_only_a_national_coordinator_revises_a_framework(eng: Engine, who):
    services.framework_current(eng.program)
    count = IndicatorFramework.objects.count()
    with pytest.raises(PermissionDenied) as caught:
        services.framework_revise(program=eng.program, by=getattr(eng, who), indicators=rows(), reason="Mine")
    assert caught.value.status_code == 403
    assert IndicatorFramework.objects.count() == count


def test_the_default_framework_is_valid_and_its_share_targets_are_the_rules_minimums(eng: Engine):
    framework = services.framework_current(eng.program)  # pw's rule: 80 % to county level, 70 % to livelihood

    assert framework.version == 1
    assert framework.created_by is None
    assert problems_of(services.framework_rows(framework), framework.grade_bands) == []
    for level in ("project", "pairing"):
        assert sum(i.weight for i in framework.indicators.filter(level=level)) == Decimal(100)
    shares = {i.formula: (i.floor, i.target) for i in framework.indicators.filter(level="pairing")}
    assert shares["county_share"] == (0.5, 0.8)
    assert shares["livelihood_share"] == (0.5, 0.7)
    assert services.framework_default(eng.program) == framework  # made once


def test_a_programme_without_a_rule_aims_at_80_percent_and_a_low_minimum_lowers_the_floor(world):
    bare = pairing_services.program_create(by=None, code="bare", name="无规则", model="development", start_year=2020)
    shares = {i.formula: i.target for i in services.framework_current(bare).indicators.filter(level="pairing")}
    assert shares["county_share"] == shares["livelihood_share"] == 0.8

    low = pairing_services.program_create(by=None, code="low", name="低比例", model="development", start_year=2020)
    pairing_services.funding_rule_set(
        by=None, program=low, basis="fixed", fixed_amount=Decimal(10**8), min_county_share=Decimal("0.4")
    )
    framework = services.framework_current(low)
    county = framework.indicators.get(formula="county_share")
    assert (county.floor, county.target) == (0.2, 0.4)
    assert problems_of(services.framework_rows(framework)) == []


def test_a_new_programme_gets_its_default_framework_from_the_programme_service(world):
    program = pairing_services.program_create(
        by=None, code="fresh", name="新方案", model="development", start_year=2021
    )
    assert IndicatorFramework.objects.filter(program=program).count() == 1


def test_the_untouched_default_follows_the_rule_set_after_the_programme(world):
    program = pairing_services.program_create(
        by=None, code="fresh", name="新方案", model="development", start_year=2021
    )
    pairing_services.funding_rule_set(
        by=None,
        program=program,
        basis="fiscal_revenue",
        rate="0.001",
        min_county_share="0.8",
        min_livelihood_share="0.7",
    )
    shares = {i.code: i.target for i in services.framework_current(program).indicators.filter(level="pairing")}
    assert (shares["county_share"], shares["livelihood_share"]) == (0.8, 0.7)
    assert IndicatorFramework.objects.filter(program=program).count() == 1


def test_a_revised_framework_does_not_follow_the_rule(world):
    program = pairing_services.program_create(
        by=None, code="fresh", name="新方案", model="development", start_year=2021
    )
    v1 = services.framework_current(program)
    rows = services.framework_rows(v1)
    services.framework_revise(program=program, by=None, indicators=rows, reason="ours")
    revised = services.framework_current(program)
    before = {i.code: i.target for i in revised.indicators.all()}
    pairing_services.funding_rule_set(
        by=None, program=program, basis="fiscal_revenue", rate="0.001", min_county_share="0.9"
    )
    after = {i.code: i.target for i in services.framework_current(program).indicators.all()}
    assert after == before
    assert services.framework_current(program) == revised


def test_a_programme_without_a_framework_is_said_to_be_broken(world):
    program = pairing_services.program_create(
        by=None, code="fresh", name="新方案", model="development", start_year=2021
    )
    IndicatorFramework.objects.filter(program=program).delete()
    with pytest.raises(DomainError) as caught:
        services.framework_current(program)
    assert caught.value.code == "no_framework"
