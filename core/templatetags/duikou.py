from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django import template
from django.utils.translation import get_language

from core.money import Amount, Unit, format_cny, unit_for

register = template.Library()


@register.filter
def cny(amount: Amount, unit: Unit | None = None) -> str:
    """An amount in yuan for the active language: `{{ x|cny }}` in the unit its size calls for, `{{ x|cny:unit }}`
    in the unit chosen once for its column or card by `money_unit`."""
    return format_cny(amount, unit=unit if isinstance(unit, Unit) else None)


def _attr(item: Any, path: str) -> Any:
    for name in path.split("."):
        item = item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)
    return item


@register.simple_tag
def money_unit(*values: Any, attr: str = "") -> Unit:
    """The one unit for amounts shown together: `{% money_unit a b c as unit %}` for a card, `{% money_unit rows
    attr="money.required" as unit %}` for a column, `attr="required,received"` for several columns sharing one.
    A value that is a list stands for its items' ATTR (dotted paths through attributes or keys; the items
    themselves without one); any other value is an amount."""
    paths = [a.strip() for a in attr.split(",") if a.strip()]
    amounts: list[Any] = []
    for value in values:
        if isinstance(value, Iterable) and not isinstance(value, str | Mapping):
            for item in value:
                amounts.extend([_attr(item, path) for path in paths] if paths else [item])
        else:
            amounts.append(value)
    return unit_for(amounts)


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


@register.filter
def kept_upload(field: Any) -> dict[str, Any] | None:
    """The file a refused form kept for FIELD (a bound field), as core.uploads.keep gave it: its token and name."""
    return (getattr(field.form, "kept_uploads", None) or {}).get(field.name)


@register.filter
def in_language(text: str | None) -> str:
    """A text the demo or the synthetic data wrote, in the page's language (core/demo_texts.py); any other text
    as stored."""
    from core.demo_texts import in_language as shown

    return shown(text or "")
