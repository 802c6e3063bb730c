"""Amounts in CNY, formatted the way officials read them, by one rule everywhere.

The unit follows the largest amount shown together: in Chinese 元 below a million yuan, 万元 from a million,
亿元 from a hundred million; in English yuan with thousands separators below a million, then millions, then
billions. Figures that are read side by side — a column of a table, the amounts of one card — share one unit,
chosen once for all of them (`unit_for`), so that 8.20 亿元 never stands above 340.00 万元 in the same column.
A single amount on its own takes the unit its size calls for.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import get_language

WAN = Decimal(10_000)
YI = Decimal(100_000_000)
MILLION = Decimal(1_000_000)
BILLION = Decimal(1_000_000_000)

Amount = Decimal | int | float | str | None


@dataclass(frozen=True)
class Unit:
    """How a group of amounts is shown: divided by DIVISOR, with PLACES decimals, in LANGUAGE ("zh" or "en")."""

    language: str
    divisor: Decimal
    places: int
    #: Chinese: the word after the number (元, 万元, 亿元); English: the word after it (million, billion) or "".
    word: str

    def format(self, amount: Amount) -> str:
        value = _decimal(amount)
        if value is None:
            return "—" if amount is None or amount == "" else str(amount)
        sign = "-" if value < 0 else ""
        number = _group(abs(value) / self.divisor, self.places)
        if self.language == "zh":
            return f"{sign}{number} {self.word}"
        return f"{sign}CNY {number}{' ' + self.word if self.word else ''}"


def data_amount(amount: Decimal) -> str:
    """AMOUNT as a page's `data-amount` attribute carries it for a reader that is not a person (a test, a script):
    the exact decimal, no grouping. It is what a template's `{{ amount }}` writes in both languages (a point, and
    no thousands separator: USE_THOUSAND_SEPARATOR is off; tests/core/test_money.py holds the two equal), without
    `localize`'s lookups of the active language's formats on every call: a table of pairings writes two a row."""
    return format(amount, "f")


def _decimal(amount: Amount) -> Decimal | None:
    if amount is None or amount == "":
        return None
    try:
        return Decimal(str(amount))
    except InvalidOperation:
        return None


def _group(value: Decimal, places: int) -> str:
    quant = Decimal(1).scaleb(-places) if places else Decimal(1)
    return f"{value.quantize(quant, rounding=ROUND_HALF_UP):,.{places}f}"


def _language(language: str | None) -> str:
    return "zh" if (language or get_language() or "zh-hans").lower().startswith("zh") else "en"


def unit_for(amounts: Iterable[Amount], language: str | None = None) -> Unit:
    """The one unit for AMOUNTS shown together (a column, a card), from the largest of them. In yuan, cents are
    shown for all when any amount has them."""
    lang = _language(language)
    values = [abs(v) for v in (_decimal(a) for a in amounts) if v is not None]
    largest = max(values, default=Decimal(0))
    if lang == "zh":
        if largest >= YI:
            return Unit(lang, YI, 2, "亿元")
        if largest >= 100 * WAN:
            return Unit(lang, WAN, 2, "万元")
        return Unit(lang, Decimal(1), 2 if any(v % 1 for v in values) else 0, "元")
    if largest >= BILLION:
        return Unit(lang, BILLION, 2, "billion")
    if largest >= MILLION:
        return Unit(lang, MILLION, 2, "million")
    return Unit(lang, Decimal(1), 2 if any(v % 1 for v in values) else 0, "")


def format_cny(amount: Amount, language: str | None = None, unit: Unit | None = None) -> str:
    """AMOUNT in UNIT (chosen for a group of amounts by `unit_for`), or in the unit its own size calls for:
    '1,234 元', '340.00 万元', '3.20 亿元' (zh); 'CNY 1,234', 'CNY 3.40 million', 'CNY 76.20 billion' (en).
    An empty amount is '—'; something that is not a number is shown as it is."""
    if _decimal(amount) is None:
        return "—" if amount is None or amount == "" else str(amount)
    return (unit or unit_for([amount], language)).format(amount)
