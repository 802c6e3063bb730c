from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from pairings.charts import bar

register = template.Library()


@register.filter
def fulfilment_bar(fraction: Decimal | None) -> SafeString:
    return bar(fraction)


@register.simple_tag
def pairing_list_rows(rows: Iterable[dict[str, Any]]) -> str:
    """The pairing list's rows (the dicts pairings.views.pairing_list reads), written in Python: 50 rows through the
    template language cost more than the rest of the page. The cells are those the template wrote, element for
    element (tests/pairings/test_list_rows.py renders them both ways). The caller writes the row for an empty list."""
    breakdown = format_html(' <span class="badge text-bg-light border">{}</span>', gettext("breakdown"))
    written = []
    for r in rows:
        written.append(
            format_html(
                "\n    <tr>\n"
                '      <td><a href="{}">{}</a>{}</td>\n'
                '      <td>{} <span class="small text-body-secondary">{}</span></td>\n'
                '      <td class="small">{}<div class="text-body-secondary">{}</div></td>\n'
                '      <td class="small text-nowrap">{}</td>\n'
                '      <td><span class="badge {}">{}</span></td>\n'
                '      <td class="num" data-figure="required" data-amount="{}">{}</td>\n'
                '      <td class="num" data-figure="received" data-amount="{}">{}</td>\n'
                '      <td class="text-nowrap">{}</td>\n'
                "    </tr>\n  ",
                r["url"],
                r["assisting_organization"],
                breakdown if r["is_breakdown"] else "",
                r["recipient_region"],
                r["region_code"],
                r["program"],
                r["mode"],
                r["term"],
                "text-bg-success" if r["status"] == "active" else "text-bg-secondary",
                r["status_label"],
                localize(r["money"].required),
                r["required"],
                localize(r["money"].received),
                r["received"],
                r["bar"],
            )
        )
    return mark_safe("".join(written))  # noqa: S308 — every part above went through format_html
