"""The arithmetic of pairings/rules.py against examples computed by hand.

The revenue figures are synthetic (round numbers chosen so the arithmetic can be followed on paper); the rates are
the three real programmes' rules from shared/domain/facts.md.
"""

from decimal import Decimal

import pytest

from pairings.rules import Rule, basis_year, escalation_steps, required_funds

WENCHUAN = Rule(basis="fiscal_revenue", rate=Decimal("0.01"))
XIZANG = Rule(basis="fiscal_revenue", rate=Decimal("0.001"))
XINJIANG = Rule(basis="fiscal_revenue", rate=Decimal("0.005"), escalation=Decimal("0.08"), escalation_years=4)


# --- Wenchuan: at least 1 % of the previous year's revenue -------------------------------------------------


def test_wenchuan_mandate_is_one_percent_of_the_previous_years_revenue():
    # 93,000,000,000.00 × 0.01 = 930,000,000.00
    amount = required_funds(WENCHUAN, year=2008, start_year=2008, revenue=Decimal("93000000000.00"))

    assert amount == Decimal("930000000.00")


def test_wenchuan_mandate_is_based_on_the_year_before_the_mandate_year():
    assert basis_year(WENCHUAN, 2008, 2008) == 2007
    assert basis_year(WENCHUAN, 2010, 2008) == 2009


def test_wenchuan_mandate_does_not_rise_from_year_to_year_without_an_escalation():
    # the third year of the programme, same revenue: still 1 %
    amount = required_funds(WENCHUAN, year=2010, start_year=2008, revenue=Decimal("93000000000.00"))

    assert amount == Decimal("930000000.00")
    assert escalation_steps(WENCHUAN, 2010, 2008) == 0


# --- Xizang: 0.1 % ---------------------------------------------------------------------------------------


def test_xizang_mandate_is_a_tenth_of_a_percent_of_revenue():
    # 408,000,000,000.00 × 0.001 = 408,000,000.00
    amount = required_funds(XIZANG, year=2011, start_year=1994, revenue=Decimal("408000000000.00"))

    assert amount == Decimal("408000000.00")


def test_xizang_mandate_is_rounded_to_the_fen():
    # 123,456,789.45 × 0.001 = 123,456.78945 → 123,456.79
    amount = required_funds(XIZANG, year=2011, start_year=1994, revenue=Decimal("123456789.45"))

    assert amount == Decimal("123456.79")


def test_xizang_mandate_is_based_on_the_year_before_however_old_the_programme():
    assert basis_year(XIZANG, 2011, 1994) == 2010


# --- Xinjiang: 0.5 % of the year before the start, rising 8 % a year for 4 steps, then holding -------------


def test_xinjiang_mandate_is_based_on_the_revenue_of_the_year_before_the_programme_started():
    for year in range(2011, 2021):
        assert basis_year(XINJIANG, year, 2011) == 2010


@pytest.mark.parametrize(
    ("year", "steps", "expected"),
    [
        # 451,570,000,000.00 × 0.005 = 2,257,850,000.00
        (2011, 0, Decimal("2257850000.00")),
        # 2,257,850,000.00 × 1.08 = 2,438,478,000.00
        (2012, 1, Decimal("2438478000.00")),
        # 2,438,478,000.00 × 1.08 = 2,633,556,240.00
        (2013, 2, Decimal("2633556240.00")),
        # 2,633,556,240.00 × 1.08 = 2,844,240,739.20
        (2014, 3, Decimal("2844240739.20")),
        # 2,844,240,739.20 × 1.08 = 3,071,779,998.336 → 3,071,779,998.34
        (2015, 4, Decimal("3071779998.34")),
        # after four steps the amount holds
        (2016, 4, Decimal("3071779998.34")),
        (2017, 4, Decimal("3071779998.34")),
    ],
)
def test_xinjiang_mandate_rises_eight_percent_a_year_for_four_years_then_holds(year, steps, expected):
    assert escalation_steps(XINJIANG, year, 2011) == steps

    amount = required_funds(XINJIANG, year=year, start_year=2011, revenue=Decimal("451570000000.00"))

    assert amount == expected


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        # 1,001.00 × 0.005 = 5.005 → 5.01 (half up; half-even would give 5.00)
        (2011, Decimal("5.01")),
        # 5.005 × 1.08 = 5.4054 → 5.41
        (2012, Decimal("5.41")),
        # 5.4054 × 1.08 = 5.837832 → 5.84
        (2013, Decimal("5.84")),
        # 5.837832 × 1.08 = 6.30485856 → 6.30 (rounding each year first would give 5.84 × 1.08 = 6.3072 → 6.31)
        (2014, Decimal("6.30")),
        # 6.30485856 × 1.08 = 6.8092472448 → 6.81
        (2015, Decimal("6.81")),
    ],
)
def test_xinjiang_mandate_rounds_half_up_once_at_the_end_not_year_by_year(year, expected):
    amount = required_funds(XINJIANG, year=year, start_year=2011, revenue=Decimal("1001.00"))

    assert amount == expected


def test_a_year_before_the_programme_began_gets_no_negative_escalation():
    assert escalation_steps(XINJIANG, 2009, 2011) == 0
    assert required_funds(XINJIANG, year=2009, start_year=2011, revenue=Decimal("1000.00")) == Decimal("5.00")


def test_an_escalation_without_a_limit_applies_every_year():
    rule = Rule(basis="fiscal_revenue", rate=Decimal("0.005"), escalation=Decimal("0.08"))

    assert escalation_steps(rule, 2020, 2011) == 9


# --- fixed amounts ---------------------------------------------------------------------------------------


def test_a_fixed_rule_asks_for_its_amount_every_year_whatever_the_revenue():
    rule = Rule(basis="fixed", fixed_amount=Decimal("20000000.00"))

    assert required_funds(rule, year=2010, start_year=2010, revenue=None) == Decimal("20000000.00")
    assert required_funds(rule, year=2012, start_year=2010, revenue=Decimal("999.00")) == Decimal("20000000.00")


def test_a_fixed_rule_with_an_escalation_rises_for_its_escalation_years():
    # 20,000,000.00 × 1.1 = 22,000,000.00; × 1.1 = 24,200,000.00; then holds
    rule = Rule(basis="fixed", fixed_amount=Decimal("20000000.00"), escalation=Decimal("0.1"), escalation_years=2)

    assert required_funds(rule, year=2010, start_year=2010, revenue=None) == Decimal("20000000.00")
    assert required_funds(rule, year=2011, start_year=2010, revenue=None) == Decimal("22000000.00")
    assert required_funds(rule, year=2012, start_year=2010, revenue=None) == Decimal("24200000.00")
    assert required_funds(rule, year=2013, start_year=2010, revenue=None) == Decimal("24200000.00")


def test_a_fixed_rule_with_an_unlimited_escalation_compounds_every_year():
    # 20,000,000.00 × 1.1³ = 20,000,000.00 × 1.331 = 26,620,000.00
    rule = Rule(basis="fixed", fixed_amount=Decimal("20000000.00"), escalation=Decimal("0.1"))

    assert required_funds(rule, year=2013, start_year=2010, revenue=None) == Decimal("26620000.00")


def test_a_fixed_rule_counts_from_the_year_before_even_with_an_escalation():
    rule = Rule(basis="fixed", fixed_amount=Decimal("1.00"), escalation=Decimal("0.1"))

    assert basis_year(rule, 2013, 2010) == 2012


# --- what the arithmetic refuses -------------------------------------------------------------------------


def test_a_share_of_revenue_without_its_rate_is_refused():
    with pytest.raises(ValueError, match="rate"):
        required_funds(Rule(basis="fiscal_revenue"), year=2011, start_year=2011, revenue=Decimal("1000.00"))


def test_a_share_of_revenue_without_the_revenue_is_refused():
    with pytest.raises(ValueError, match="revenue"):
        required_funds(WENCHUAN, year=2008, start_year=2008, revenue=None)


def test_a_fixed_rule_without_its_amount_is_refused():
    with pytest.raises(ValueError, match="amount"):
        required_funds(Rule(basis="fixed"), year=2011, start_year=2011, revenue=None)
