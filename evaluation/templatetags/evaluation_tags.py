"""How evaluation figures read on a page: scores with one decimal, measured values by their unit (a ratio as
a percentage, a rating out of 5, a count, a score), curves and reasons in words, trend arrows and grade
badges that say what they mean to a screen reader too."""

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django import template
from django.template.defaultfilters import floatformat
from django.utils.formats import localize
from django.utils.functional import Promise
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from evaluation.measures import MEASURES
from evaluation.models import Indicator, RunStatus

register = template.Library()

#: Bootstrap badge classes of the grades of the default bands (A best); other grades read neutral.
GRADE_CLASSES = {
    "A": "text-bg-success",
    "B": "text-bg-primary",
    "C": "text-bg-warning",
    "D": "text-bg-danger",
}

STATUS_CLASSES = {
    RunStatus.QUEUED: "text-bg-secondary",
    RunStatus.RUNNING: "text-bg-info",
    RunStatus.SUCCEEDED: "text-bg-success",
    RunStatus.FAILED: "text-bg-danger",
}

#: The measures each compliance flag is about (their unit is a ratio).
FLAG_MEASURES = {
    "county_share_below_minimum": "county_share",
    "livelihood_share_below_minimum": "livelihood_share",
    "mandate_shortfall": "mandate_fulfilment",
}


def _number(value: float, places: int) -> str:
    text = f"{value:,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_measure(value: Any, unit: str) -> str:
    """VALUE as people read a measure of UNIT: 0.874 ratio → '87 %', 4.5 rating → '4.5 / 5'."""
    if value is None or value == "":
        return "—"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if unit == "ratio":
        pct = 100 * x
        # Whole percentages, except where rounding would hide a shortfall (99.6 % is not 100 %) or a trace.
        if (pct < 100 <= round(pct)) or (0 < pct < 9.5):
            return f"{_number(math.floor(pct * 10) / 10 if pct < 100 else pct, 1)} %"
        return f"{_number(pct, 0)} %"
    if unit == "rating":
        return f"{_number(x, 1)} / 5"
    if unit == "count":
        return _number(x, 0)
    return _number(x, 1)


def unit_of(formula: str) -> str:
    measure = MEASURES.get(formula)
    return measure.unit if measure else "score"


@register.filter
def score(value: Any) -> str:
    """A 0–100 score with one decimal ('—' when there is none)."""
    if value is None or value == "":
        return "—"
    try:
        return f"{float(value):.1f}"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def signed(value: Any) -> str:
    """A difference with its sign: '+3.2', '−1.0', '0.0'."""
    if value is None:
        return "—"
    x = float(value)
    if round(x, 1) == 0:
        return "0.0"
    return f"+{x:.1f}" if x > 0 else f"−{abs(x):.1f}"


@register.filter
def measure_value(value: Any, unit_or_indicator: Any) -> str:
    """`{{ value|measure_value:"ratio" }}` or `{{ value|measure_value:indicator }}`."""
    unit = unit_of(unit_or_indicator.formula) if isinstance(unit_or_indicator, Indicator) else str(unit_or_indicator)
    return format_measure(value, unit)


@register.filter
def curve_words(indicator: Indicator) -> str:
    """The indicator's curve in words: '0 at 60 %, 100 at 100 %' or its threshold bands."""
    unit = unit_of(indicator.formula)
    if indicator.curve == "threshold":
        bands = "; ".join(
            _("%(score)s from %(value)s") % {"score": _number(float(s), 0), "value": format_measure(v, unit)}
            for v, s in indicator.thresholds or []
        )
        return _("%(bands)s; 0 below") % {"bands": bands} if bands else "—"
    if indicator.floor is None or indicator.target is None:
        return "—"
    return _("0 at %(floor)s, 100 at %(target)s") % {
        "floor": format_measure(indicator.floor, unit),
        "target": format_measure(indicator.target, unit),
    }


@register.filter
def optional_measure(indicator: Indicator) -> bool:
    """The indicator's measure applies to some projects only: without a value it is not applicable, not missing
    (evaluation.coverage)."""
    measure = MEASURES.get(indicator.formula)
    return bool(measure and measure.optional)


@register.filter
def definition(indicator: Indicator) -> str:
    measure = MEASURES.get(indicator.formula)
    return str(measure.definition) if measure else indicator.formula


@register.filter
def grade_badge(grade: str) -> SafeString:
    css = GRADE_CLASSES.get(grade, "text-bg-secondary")
    return format_html(
        '<span class="badge {} dk-grade" title="{}">{}</span>', css, _("Grade %(g)s") % {"g": grade}, grade
    )


@register.filter
def status_badge(run: Any) -> SafeString:
    return format_html(
        '<span class="badge {} dk-run-status" data-status="{}">{}</span>',
        STATUS_CLASSES.get(run.status, "text-bg-secondary"),
        run.status,
        capfirst(run.get_status_display()),
    )


@register.filter
def trend_arrow(ranking: Any) -> SafeString:
    """▲ up / ▼ down / ＝ same / new, with the previous rank in the tooltip and for screen readers."""
    trend, prev = ranking.trend, ranking.previous_rank
    if trend == "new":
        return format_html(
            '<span class="badge text-bg-light border dk-trend" data-trend="new" title="{}">{}</span>',
            _("Not ranked in the run compared with"),
            _("new"),
        )
    symbol, css, said = {
        "up": ("▲", "text-success", _("up from rank %(prev)s")),
        "down": ("▼", "text-danger", _("down from rank %(prev)s")),
        "same": ("＝", "text-body-secondary", _("unchanged from rank %(prev)s")),
    }[trend]
    return format_html(
        '<span class="{} dk-trend" data-trend="{}" title="{}"><span aria-hidden="true">{}</span>'
        '<span class="visually-hidden">{}</span></span>',
        css,
        trend,
        _("Previous rank: %(prev)s") % {"prev": prev},
        symbol,
        said % {"prev": prev},
    )


def _label(code: str, indicators: Mapping[str, Indicator]) -> tuple[str, str]:
    """The name (in the reader's language) and unit of the framework's indicator CODE."""
    found = indicators.get(code)
    if found is not None:
        return found.label, unit_of(found.formula)
    measure = MEASURES.get(code)
    return (str(measure.label), measure.unit) if measure else (code, "score")


def _measure_label(formula: str, indicators: Mapping[str, Indicator]) -> tuple[str, str]:
    """The name of the framework's indicator that measures FORMULA (else the measure's own), and its unit."""
    for indicator in indicators.values():
        if indicator.formula == formula:
            return indicator.label, unit_of(formula)
    return _label(formula, {})


def reason_text(reason: Mapping[str, Any], indicators: Mapping[str, Indicator]) -> str:
    """One reason of a ranking in plain words: 'Mandate fulfilment 87 %'."""
    kind = reason.get("kind")
    if kind == "flag":
        code = str(reason.get("code") or "")
        label, unit = _measure_label(FLAG_MEASURES.get(code, code), indicators)
        value, minimum = format_measure(reason.get("value"), unit), format_measure(reason.get("minimum"), unit)
        if code == "mandate_shortfall":
            return _("Mandate short: %(value)s of the funds required received") % {"value": value}
        return _("%(label)s %(value)s, below the minimum of %(minimum)s") % {
            "label": label,
            "value": value,
            "minimum": minimum,
        }
    label, unit = _label(str(reason.get("indicator") or ""), indicators)
    if reason.get("value") is None:
        return label
    return f"{label} {format_measure(reason.get('value'), unit)}"


@register.filter
def reasons(items: Iterable[Mapping[str, Any]] | None, indicators: Mapping[str, Indicator]) -> list[dict[str, Any]]:
    """A ranking's reasons as {kind, text, points} in the order strengths, weaknesses, flags. An indicator that
    is both among the largest gains and the largest losses (half its points won, half lost) is told once, on
    the side where its points weigh more."""
    order = {"strength": 0, "weakness": 1, "flag": 2}
    items = [r for r in items or [] if r.get("kind") in order]
    weight: dict[tuple[str, str], float] = {
        (str(r["kind"]), str(r.get("indicator"))): float(r.get("points") or 0) for r in items if r["kind"] != "flag"
    }

    def shown(r: Mapping[str, Any]) -> bool:
        if r["kind"] == "flag":
            return True
        other = "weakness" if r["kind"] == "strength" else "strength"
        mine, theirs = weight[(str(r["kind"]), str(r.get("indicator")))], weight.get((other, str(r.get("indicator"))))
        return theirs is None or mine > theirs or (mine == theirs and r["kind"] == "weakness")

    out = [
        {"kind": r["kind"], "text": reason_text(r, indicators), "points": r.get("points")} for r in items if shown(r)
    ]
    return sorted(out, key=lambda r: order[str(r["kind"])])


def _esc(value: Any) -> str:
    """`conditional_escape` without its lazy-string wrapper around every call: the same text, for the cells of the
    rows written in Python below (a ranking's hundreds of them)."""
    if isinstance(value, Promise):
        value = str(value)
    as_html = getattr(value, "__html__", None)
    return as_html() if as_html is not None else html.escape(str(value))


def _reason_marks() -> tuple[dict[str, str], str]:
    """The marks before a reason's words: strength and weakness (said to a screen reader), and a flag's badge."""
    marks = {
        "strength": '<span class="text-success" aria-hidden="true">＋</span> <span class="visually-hidden">'
        f"{_esc(_('Strength:'))}</span>",
        "weakness": '<span class="text-danger" aria-hidden="true">－</span> <span class="visually-hidden">'
        f"{_esc(_('Weakness:'))}</span>",
    }
    return marks, f'<span class="badge text-bg-warning">{_esc(_("below the rule"))}</span> '


@register.filter
def reason_lines(
    items: Iterable[Mapping[str, Any]] | None,
    indicators: Mapping[str, Indicator],
    marks: tuple[dict[str, str], str] | None = None,
) -> SafeString:
    """A ranking's reasons (`reasons`) as the lines of its "Why" cell, each marked strength, weakness or flag, a
    weakness with the points it cost. Built here, not by a template loop: a ranking shows some twenty parties
    with three or four reasons each, and a loop's tags per reason were a third of the page's rendering. (MARKS:
    `_reason_marks()`, when the caller writes many cells.)"""
    shown = reasons(items, indicators)
    if not shown:
        return SafeString('<span class="text-body-secondary">—</span>\n        ')
    by_kind, flag = marks or _reason_marks()
    lines = []
    for reason in shown:
        kind, cost = reason["kind"], ""
        if kind == "weakness" and reason["points"]:
            cost = f' <span class="text-body-secondary">{_esc(_("(−%(p)s points)") % {"p": score(reason["points"])})}</span>'
        lines.append(
            f'\n          <div class="dk-reason dk-reason-{_esc(kind)}">{by_kind.get(kind, flag)}{_esc(reason["text"])}'
            f"{cost}</div>\n        "
        )
    return SafeString("".join(lines))


@register.filter
def flag_text(flag: Mapping[str, Any], indicators: Mapping[str, Indicator] | None = None) -> str:
    return reason_text({"kind": "flag", **flag}, indicators or {})


@register.inclusion_tag("evaluation/includes/progress.html")
def run_progress(run: Any, compact: bool = False) -> dict[str, Any]:
    """The run's progress bar; COMPACT: a bar of fixed width for a table row."""
    return {"run": run, "percent": run.percent, "compact": compact}


@register.simple_tag
def score_chart(points: Sequence[tuple[str, float | None]], width: int = 360, height: int = 120) -> SafeString:
    """A small inline SVG line of scores (0–100) across runs: no script, nothing fetched."""
    shown = [(label, float(v)) for label, v in points if v is not None]
    if not shown:
        return format_html("{}", "")
    left, right, top, bottom = 30, 30, 10, 22
    w, h = width - left - right, height - top - bottom
    step = w / max(len(shown) - 1, 1)

    def f(x: float) -> str:
        return f"{x:.1f}"

    def y_of(v: float) -> float:
        return top + h * (1 - v / 100)

    xs = [left + (i * step if len(shown) > 1 else w / 2) for i in range(len(shown))]
    grid = format_html_join(
        "",
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="currentColor" stroke-opacity=".15"/>'
        '<text x="{}" y="{}" font-size="9" text-anchor="end" fill="currentColor" fill-opacity=".6">{}</text>',
        ((left, f(y_of(g)), left + w, f(y_of(g)), left - 4, f(y_of(g) + 3), g) for g in (0, 50, 100)),
    )
    line = " ".join(f"{f(x)},{f(y_of(v))}" for x, (_label, v) in zip(xs, shown, strict=True))
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="3" fill="currentColor"><title>{}: {}</title></circle>'
        '<text x="{}" y="{}" font-size="9" text-anchor="middle" fill="currentColor" fill-opacity=".7">{}</text>',
        ((f(x), f(y_of(v)), label, f(v), f(x), height - 6, label) for x, (label, v) in zip(xs, shown, strict=True)),
    )
    return format_html(
        '<svg class="dk-score-chart text-danger" viewBox="0 0 {} {}" width="{}" height="{}" role="img" '
        'aria-label="{}">{}<polyline points="{}" fill="none" stroke="currentColor" stroke-width="2"/>{}</svg>',
        width,
        height,
        width,
        height,
        _("Score across runs"),
        grid,
        line,
        dots,
    )


# --- the coverage rule (evaluation.coverage): what a page says of a project left out for too little data --------


@register.filter
def coverage_pct(value: Any) -> str:
    """A coverage (per cent of the weight) as '35 %', '33.3 %' ('—' when the run did not keep it)."""
    if value is None or value == "":
        return "—"
    return f"{_number(float(value), 1)} %"


@register.filter
def coverage_detail(project_score: Any) -> str:
    """'Indicators with data carry 35 % of the weight; 50 % is needed for a score.' for a project score (the
    required share is its run's framework's)."""
    required = coverage_pct(project_score.run.framework.min_coverage)
    if project_score.coverage is None:
        return _("%(required)s of the weight must have data for a score.") % {"required": required}
    return _("Indicators with data carry %(coverage)s of the weight; %(required)s is needed for a score.") % {
        "coverage": coverage_pct(project_score.coverage),
        "required": required,
    }


@register.filter
def not_enough_data_badge(project_score: Any) -> SafeString:
    """The badge a project left out for too little data shows where its score would be, its reason as a title."""
    return format_html(
        '<span class="badge text-bg-light border dk-not-enough-data" title="{}">{}</span>',
        coverage_detail(project_score),
        _("Not enough data yet"),
    )


# --- rows written in Python: the same HTML the templates' loops wrote (tests/evaluation/test_rows.py) ----------


@register.filter
def ranking_rows(rows: Iterable[tuple[Any, Sequence[tuple[str, str]]]], indicators: Mapping[str, Indicator]) -> str:
    """The ranking table's rows, each a `Ranking` and its scorecards' links (url, label): its rank and trend, the
    party and its scorecards, its score (and the one it had), its grade, its pairings and its reasons. Written
    here, not by the template: some twenty rows of eight cells each cost a ranking page more than the rest of
    it. Each grade's badge and each trend's arrow is written once. The caller writes the row for an empty
    ranking."""
    marks = _reason_marks()
    grades: dict[str, str] = {}
    trends: dict[tuple[str, Any], str] = {}
    numbers: dict[Any, str] = {}

    def number(value: Any) -> str:
        if value not in numbers:
            numbers[value] = _esc(localize(value))
        return numbers[value]

    written = []
    for r, cards in rows:
        links = ""
        if cards:
            links = "".join(
                f'<a href="{_esc(url)}" class="text-nowrap me-2">{_esc(label)}</a> ' for url, label in cards
            )
            links = f'<div class="small">{links}</div>'
        was = ""
        if r.previous_score is not None:
            # As `blocktranslate` wrote it: the figure escaped, the translated words as they are.
            was = (
                f'<div class="small text-body-secondary">{_("was %(s)s") % {"s": _esc(score(r.previous_score))}}</div>'
            )
        if r.grade not in grades:
            grades[r.grade] = grade_badge(r.grade)
        trend = (r.trend, r.previous_rank)
        if trend not in trends:
            trends[trend] = trend_arrow(r)
        written.append(
            f'\n    <tr data-organization="{number(r.organization_id)}">\n'
            f'      <td class="num fw-semibold">{number(r.rank)}</td>\n'
            f'      <td class="text-center">{trends[trend]}</td>\n'
            "      <td>\n"
            f'        <div class="fw-semibold">{_esc(r.organization)}</div>\n'
            f"        {links}\n"
            "      </td>\n"
            f'      <td class="num fs-6">{_esc(score(r.score))}{was}</td>\n'
            f"      <td>{grades[r.grade]}</td>\n"
            f'      <td class="num">{number(r.pairing_count)}</td>\n'
            '      <td class="small dk-reasons">\n'
            f"        {reason_lines(r.reasons, indicators, marks)}\n"
            "      </td>\n"
            "    </tr>\n  "
        )
    return mark_safe("".join(written))  # noqa: S308 — every part above is escaped (`_esc`) or written escaped


@register.filter
def scorecard_project_rows(rows: Iterable[Any]) -> str:
    """A scorecard's page of projects (views._ScoredProject), each its code linked to its score, its title, its
    state's badge, its score (marked final when the project was accepted; the badge of too little data instead
    when it has no score) and its data coverage. Written here, not by the template: fifty rows of five cells.
    The caller writes the row for an empty page."""
    final = (
        f' <span class="badge text-bg-light border" title="{_esc(_("Final: the project was accepted"))}">'
        f"{_esc(_('final'))}</span>"
    )
    written = []
    for ps in rows:
        if ps.has_enough_data:
            figure = f"{_esc(score(ps.score))}{final if ps.is_final else ''}"
        else:
            figure = not_enough_data_badge(ps)
        written.append(
            "<tr>\n"
            f'          <td class="text-nowrap"><a href="{_esc(ps.url)}">{_esc(ps.code)}</a></td>\n'
            f'          <td class="small">{_esc(ps.title)}</td>\n'
            f"          <td>{_esc(ps.state_badge)}</td>\n"
            f'          <td class="num">{figure}</td>\n'
            f'          <td class="num">{_esc(coverage_pct(ps.coverage))}</td>\n'
            "        </tr>"
        )
    return mark_safe("".join(written))  # noqa: S308 — every part above is escaped (`_esc`) or written escaped


@register.filter
def explain_rows(lines: Iterable[Any]) -> str:
    """The lines of "why this score" (`selectors.ExplainedLine`), each its indicator, how it is measured, its
    measured value, its curve, its weight as configured and as counted, its score and its contribution (a line
    without a value is left out: greyed, its counted weight and contribution a dash). Written here, not by the
    template: a framework's eight cells per indicator."""
    left_out = f'<span title="{_esc(_("No value: left out"))}">—</span>'
    written = []
    for line in lines:
        indicator, missing = line.indicator, line.score is None
        grey = ' class="text-body-secondary"' if missing else ""
        counted = left_out if missing else f"{_esc(floatformat(line.weight_share, 1))} %"
        written.append(
            f'\n    <tr data-indicator="{_esc(indicator.code)}"{grey}>\n'
            f'      <td class="fw-semibold">{_esc(indicator.label)}</td>\n'
            f'      <td class="small">{_esc(definition(indicator))}</td>\n'
            f'      <td class="num">{_esc(measure_value(line.value, indicator))}</td>\n'
            f'      <td class="small">{_esc(curve_words(indicator))}</td>\n'
            f'      <td class="num">{_esc(floatformat(line.weight, "0"))} %</td>\n'
            f'      <td class="num">{counted}</td>\n'
            f'      <td class="num">{_esc(score(line.score))}</td>\n'
            f'      <td class="num">{"—" if missing else _esc(score(line.contribution))}</td>\n'
            "    </tr>\n  "
        )
    return mark_safe("".join(written))  # noqa: S308 — every part above is escaped (`_esc`) or written escaped
