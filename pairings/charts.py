"""Charts as server-rendered SVG: no script, no external asset, readable with the page's CSP and on
closed networks. Each function returns markup for `|safe`-free inclusion (built with format_html)."""

from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from core.money import format_cny

RED = "#9f1d17"
GOLD = "#e0a526"
GREY = "#adb5bd"


def _scale(values: Sequence[Decimal]) -> Decimal:
    top = max((v for v in values if v is not None), default=Decimal(0))
    return top if top > 0 else Decimal(1)


def mandate_vs_received(rows: Sequence[dict]) -> SafeString:
    """Grouped bars per year: funds required, committed, received. ROWS: year, required, committed, received."""
    if not rows:
        return SafeString("")
    width, height, left, bottom, top = 720, 260, 70, 28, 16
    plot_h = height - bottom - top
    group_w = (width - left - 10) / len(rows)
    bar_w = max(4.0, min(28.0, group_w / 4))
    top_value = _scale([v for r in rows for v in (r["required"], r["committed"], r["received"])])
    bars = []
    for i, r in enumerate(rows):
        x0 = left + i * group_w + (group_w - 3 * bar_w) / 2
        for j, (key, color) in enumerate((("required", GREY), ("committed", GOLD), ("received", RED))):
            value = r[key] or Decimal(0)
            h = float(value / top_value) * plot_h
            bars.append(
                (
                    f"{x0 + j * bar_w:.1f}",
                    f"{top + plot_h - h:.1f}",
                    f"{bar_w - 2:.1f}",
                    f"{h:.1f}",
                    color,
                    f"{r['year']} · {format_cny(value)}",
                )
            )
    rects = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>',
        bars,
    )
    labels = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="middle" font-size="12">{}</text>',
        ((f"{left + i * group_w + group_w / 2:.1f}", height - 8, r["year"]) for i, r in enumerate(rows)),
    )
    axis = format_html(
        '<text x="{}" y="{}" text-anchor="end" font-size="11">{}</text>'
        '<text x="{}" y="{}" text-anchor="end" font-size="11">0</text>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ced4da"/>',
        left - 6,
        top + 10,
        format_cny(top_value),
        left - 6,
        top + plot_h,
        left,
        top + plot_h,
        width,
        top + plot_h,
    )
    legend = format_html(
        '<g font-size="12"><rect x="{}" y="2" width="10" height="10" fill="{}"/><text x="{}" y="11">{}</text>'
        '<rect x="{}" y="2" width="10" height="10" fill="{}"/><text x="{}" y="11">{}</text>'
        '<rect x="{}" y="2" width="10" height="10" fill="{}"/><text x="{}" y="11">{}</text></g>',
        left,
        GREY,
        left + 14,
        _("Required"),
        left + 120,
        GOLD,
        left + 134,
        _("Committed"),
        left + 240,
        RED,
        left + 254,
        _("Received"),
    )
    return format_html(
        '<svg class="dk-chart" viewBox="0 0 {} {}" role="img" aria-label="{}">{}{}{}{}</svg>',
        width,
        height,
        _("Funds required, committed and received by year"),
        legend,
        axis,
        rects,
        labels,
    )


def fulfilment_bars(rows: Sequence[dict]) -> SafeString:
    """Horizontal bars of fulfilment (received ÷ required) per pairing. ROWS: label, fulfilment (or None)."""
    if not rows:
        return SafeString("")
    row_h, left, width = 24, 260, 720
    height = row_h * len(rows) + 24
    cap = Decimal("1.5")
    plot_w = width - left - 70
    # A string per row, its label escaped (the rest are our numbers): a programme draws dozens of rows.
    items = []
    for i, r in enumerate(rows):
        y = 8 + i * row_h
        f = r["fulfilment"]
        shown = min(f, cap) if f is not None else Decimal(0)
        w = float(shown / cap) * plot_w
        text = f"{f * 100:.0f} %" if f is not None else "—"
        items.append(
            f'<text x="0" y="{y + 14}" font-size="12">{escape(r["label"])}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="14" fill="{RED if (f or 0) >= 1 else GOLD}"/>'
            f'<text x="{left + w + 6}" y="{y + 15}" font-size="11">{text}</text>'
        )
    body = SafeString("".join(items))
    full = left + float(Decimal(1) / cap) * plot_w
    target = format_html(
        '<line x1="{}" y1="0" x2="{}" y2="{}" stroke="#495057" stroke-dasharray="4 3"/>'
        '<text x="{}" y="{}" font-size="10" text-anchor="middle">100 %</text>',
        f"{full:.1f}",
        f"{full:.1f}",
        height - 12,
        f"{full:.1f}",
        height - 2,
    )
    return format_html(
        '<svg class="dk-chart dk-chart-rows" viewBox="0 0 {} {}" role="img" aria-label="{}">{}{}</svg>',
        width,
        height,
        _("Fulfilment by pairing"),
        body,
        target,
    )


def bar(fraction: Decimal | None) -> SafeString:
    """A small fulfilment bar for a table cell."""
    if fraction is None:
        return SafeString('<span class="text-body-secondary">—</span>')
    shown = min(max(float(fraction), 0.0), 1.0)
    # Numbers and our colours only, nothing to escape: a list draws one bar per row.
    return SafeString(
        '<svg class="dk-mini" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true">'
        f'<rect width="100" height="8" fill="#e9ecef"/><rect width="{shown * 100:.1f}" height="8" '
        f'fill="{RED if float(fraction) >= 1 else GOLD}"/></svg>'
        f'<span class="small ms-1">{float(fraction) * 100:.0f} %</span>'
    )
