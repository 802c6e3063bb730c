from decimal import Decimal

from django import template

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
