from decimal import Decimal

from django import template
from django.utils.translation import get_language

from core.money import format_cny

register = template.Library()


@register.filter
def cny(amount: Decimal | int | float | str | None) -> str:
    """Format an amount in yuan for the active language."""
    return format_cny(amount)


@register.filter
def percent(ratio: Decimal | float | None, places: int = 0) -> str:
    if ratio is None:
        return "—"
    return f"{Decimal(str(ratio)) * 100:.{places}f} %"


MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@register.filter
def published_date(value: str | None) -> str:
    """An ISO date as precise as it is known ("2008-06-18", "2010-11", "2010") in the active language."""
    parts = (value or "").split("-")
    if not parts[0].isdigit():
        return value or ""
    zh = (get_language() or "").startswith("zh")
    try:
        year = int(parts[0])
        month = int(parts[1]) if len(parts) > 1 else None
        day = int(parts[2]) if len(parts) > 2 else None
    except ValueError:
        return value or ""
    if month is None or not 1 <= month <= 12:
        return f"{year}年" if zh else str(year)
    if day is None:
        return f"{year}年{month}月" if zh else f"{MONTHS_EN[month - 1]} {year}"
    return f"{year}年{month}月{day}日" if zh else f"{day} {MONTHS_EN[month - 1]} {year}"
