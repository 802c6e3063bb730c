import html
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from core.money import data_amount
from pairings.charts import bar

register = template.Library()


@register.filter
def fulfilment_bar(fraction: Decimal | None) -> SafeString:
    return bar(fraction)


@register.simple_tag
def pairing_list_rows(rows: Iterable[dict[str, Any]]) -> str:
    """The pairing list's rows (the dicts pairings.views.pairing_list reads), written in Python: 50 rows through the
    template language cost more than the rest of the page. The cells are those the template wrote, element for
    element (tests/pairings/test_list_rows.py renders them both ways), each value escaped as the template language
    escapes a variable (`html.escape`: Django's `escape` without its wrapper for lazy strings, which hundreds of
    calls paid for). The caller writes the row for an empty list."""
    esc = html.escape
    breakdown = f' <span class="badge text-bg-light border">{esc(gettext("breakdown"))}</span>'
    written = []
    for r in rows:
        money = r["money"]
        written.append(
            "\n    <tr>\n"
            f'      <td><a href="{esc(r["url"])}">{esc(r["assisting_organization"])}</a>'
            f"{breakdown if r['is_breakdown'] else ''}</td>\n"
            f'      <td>{esc(r["recipient_region"])} <span class="small text-body-secondary">{esc(r["region_code"])}</span>'
            "</td>\n"
            f'      <td class="small">{esc(r["program"])}<div class="text-body-secondary">{esc(r["mode"])}</div></td>\n'
            f'      <td class="small text-nowrap">{esc(r["term"])}</td>\n'
            f'      <td><span class="badge {"text-bg-success" if r["status"] == "active" else "text-bg-secondary"}">'
            f"{esc(r['status_label'])}</span></td>\n"
            f'      <td class="num" data-figure="required" data-amount="{data_amount(money.required)}">'
            f"{esc(r['required'])}</td>\n"
            f'      <td class="num" data-figure="received" data-amount="{data_amount(money.received)}">'
            f"{esc(r['received'])}</td>\n"
            f'      <td class="text-nowrap">{r["bar"]}</td>\n'
            "    </tr>\n  "
        )
    return mark_safe("".join(written))  # noqa: S308 — every value above is escaped; the bar is the charts' own markup
