"""Amounts in CNY, formatted the way officials read them: 元 for small sums, 万元 / 亿元 for large ones in
Chinese; CNY with thousands, millions and billions in English."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import get_language

WAN = Decimal(10_000)
YI = Decimal(100_000_000)


def _group(value: Decimal, places: int) -> str:
    quant = Decimal(1).scaleb(-places) if places else Decimal(1)
    return f"{value.quantize(quant, rounding=ROUND_HALF_UP):,.{places}f}"


def format_cny(amount: Decimal | int | float | str | None, language: str | None = None) -> str:
    """'1,234 元', '12.35 万元', '3.20 亿元' (zh) or 'CNY 1,234', 'CNY 123.5 thousand'… (en)."""
    if amount is None or amount == "":
        return "—"
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    lang = (language or get_language() or "zh-hans").lower()
    sign = "-" if value < 0 else ""
    value = abs(value)
    if lang.startswith("zh"):
        if value >= YI:
            return f"{sign}{_group(value / YI, 2)} 亿元"
        if value >= 100 * WAN:
            return f"{sign}{_group(value / WAN, 2)} 万元"
        return f"{sign}{_group(value, 2 if value % 1 else 0)} 元"
    if value >= Decimal(1_000_000_000):
        return f"{sign}CNY {_group(value / Decimal(1_000_000_000), 2)} billion"
    if value >= Decimal(1_000_000):
        return f"{sign}CNY {_group(value / Decimal(1_000_000), 2)} million"
    return f"{sign}CNY {_group(value, 2 if value % 1 else 0)}"
