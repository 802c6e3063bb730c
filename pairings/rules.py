"""The arithmetic of funding rules, kept pure so that it can be checked against hand-computed examples.

- Share of fiscal revenue, no escalation (Wenchuan: ≥ 1 %; Xizang: 0.1 %):
      required(y) = rate × revenue(y − 1)
- Share of fiscal revenue with a yearly escalation (Xinjiang: 0.3–0.6 %, rising about 8 % a year over the
  first five years): the first year's amount is the share of the revenue of the year before the rule's first
  year, and it rises by the escalation each year, for `escalation_years` years (then holds):
      required(y) = rate × revenue(start − 1) × (1 + escalation) ^ min(y − start, escalation_years)
  where `start` is the first year the rule version applies to (its `effective_from_year`, else the programme's
  start year).
- Fixed amount: required(y) = fixed_amount (× the same escalation when one is set).

The rule gives what an assisting party owes in a year; a party paired with several regions in the same
programme splits it evenly among those pairings (`share`).

Amounts are rounded to the fen (0.01 yuan), half up.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Rule:
    basis: str  # "fiscal_revenue" or "fixed"
    rate: Decimal | None = None
    fixed_amount: Decimal | None = None
    escalation: Decimal | None = None
    escalation_years: int | None = None


def escalation_steps(rule: Rule, year: int, start_year: int) -> int:
    if not rule.escalation:
        return 0
    steps = max(0, year - start_year)
    if rule.escalation_years is not None:
        steps = min(steps, rule.escalation_years)
    return steps


def basis_year(rule: Rule, year: int, start_year: int) -> int:
    """The year whose revenue the mandate for YEAR is computed from."""
    if rule.basis == "fiscal_revenue" and rule.escalation:
        return start_year - 1
    return year - 1


def required_funds(rule: Rule, *, year: int, start_year: int, revenue: Decimal | None) -> Decimal:
    """What the rule asks for in YEAR, given the revenue of `basis_year(...)`."""
    factor = (Decimal(1) + (rule.escalation or Decimal(0))) ** escalation_steps(rule, year, start_year)
    if rule.basis == "fixed":
        if rule.fixed_amount is None:
            raise ValueError("a fixed rule needs its amount")
        amount = rule.fixed_amount * factor
    else:
        if rule.rate is None:
            raise ValueError("a share-of-revenue rule needs its rate")
        if revenue is None:
            raise ValueError("a share-of-revenue rule needs the revenue")
        amount = rule.rate * revenue * factor
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def share(amount: Decimal, pairings: int) -> Decimal:
    """One pairing's part of AMOUNT when the assisting party holds PAIRINGS pairings that year."""
    if pairings < 1:
        raise ValueError("at least one pairing shares the amount")
    return (amount / pairings).quantize(CENT, rounding=ROUND_HALF_UP)
