"""A project's state as a coloured badge, the project list's rows (the list shows 50) and a project page's progress
reports and inspections, written in Python."""

from collections.abc import Container, Iterable
from typing import Any

from django.template import Library
from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from core.money import Unit, format_cny
from core.templatetags.dates import date as date_filter
from core.templatetags.duikou import in_language

from ..models import State

register = Library()

#: The badge's Bootstrap classes by state; a state not named here is grey.
STATE_BADGE: dict[str, str] = {
    State.DRAFT: "text-bg-light border",
    State.PROPOSED: "text-bg-info",
    State.APPROVED: "text-bg-primary",
    State.IN_CONSTRUCTION: "text-bg-warning",
    State.COMPLETED: "text-bg-success",
    State.ACCEPTED: "text-bg-success",
    State.EVALUATED: "text-bg-success",
}


@register.simple_tag
def state_badge(state: str, label: Any) -> str:
    """STATE's badge showing LABEL (escaped)."""
    return format_html('<span class="badge {}">{}</span>', STATE_BADGE.get(state, "text-bg-secondary"), label)


@register.simple_tag
def project_list_rows(rows: Iterable[Any], unit: Unit | None) -> str:
    """The project list's rows (`projects.selectors.ListRow`s), written in Python: the list's 50 rows through the
    template language cost more than the rest of the page. The cells are those the template wrote, character for
    character (tests/projects/test_list_rows.py renders them both ways): the code linked to the project, the title
    (and the synthetic badge), the pairing, the sector, the state's badge, the budget in the column's unit and the
    planned start. The caller writes the row for an empty list."""
    # One reverse for the page: the project's id goes where the placeholder id stands.
    placeholder = 2_147_483_647
    head, _, tail = reverse("projects:project_detail", args=[placeholder]).partition(str(placeholder))
    synthetic = format_html(' <span class="badge text-bg-warning dk-synthetic">{}</span>', gettext("synthetic"))
    written = []
    for p in rows:
        start = p.planned_start
        written.append(
            format_html(
                "\n    <tr>\n"
                '      <td class="text-nowrap"><a href="{}{}{}">{}</a></td>\n'
                "      <td>{}{}</td>\n"
                '      <td class="small">{} → {}</td>\n'
                '      <td class="small">{}</td>\n'
                "      <td>{}</td>\n"
                '      <td class="num" data-figure="budget" data-amount="{}">{}</td>\n'
                '      <td class="small text-nowrap">{}</td>\n'
                "    </tr>\n  ",
                head,
                p.pk,
                tail,
                p.code,
                p.title,
                synthetic if p.is_synthetic else "",
                p.assisting_name,
                p.recipient_name,
                p.get_sector_display() or "—",
                state_badge(p.state, p.get_state_display()),
                "" if p.budget is None else localize(p.budget),
                format_cny(p.budget, unit=unit if isinstance(unit, Unit) else None),
                "—" if start is None else start.isoformat(),
            )
        )
    return mark_safe("".join(written))  # noqa: S308 — every part above went through format_html


@register.simple_tag
def progress_report_rows(project_pk: int, reports: Iterable[Any], reviewable: Container[int], unit: Unit | None) -> str:
    """A project page's progress reports, a row each, written in Python: the cells the template wrote, character
    for character (tests/projects/test_detail_rows.py renders them both ways) — the period's end, the progress,
    the spend to date in UNIT, the review's status with the link to review it (the reports in REVIEWABLE) and the
    reviewer's comment. The caller writes the row for none."""
    review = gettext("Review")
    # One reverse for the page: the report's id goes where the placeholder id stands.
    placeholder = 2_147_483_647
    head, _, tail = reverse("projects:report_review", args=[project_pk, placeholder]).partition(str(placeholder))
    unit = unit if isinstance(unit, Unit) else None
    return mark_safe(  # noqa: S308 — every part went through format_html
        "".join(
            format_html(
                '<tr><td>{}</td><td class="num">{}</td><td class="num pe-3 text-nowrap">{}</td>\n'
                '          <td class="small">{}{}{}</td></tr>\n        ',
                date_filter(r.period_end, "Y-m-d"),
                localize(r.physical_progress),
                format_cny(r.spend_to_date, unit=unit),
                r.get_review_status_display(),
                format_html(' · <a href="{}{}{}">{}</a>', head, r.pk, tail, review) if r.pk in reviewable else "",
                format_html('<div class="text-body-secondary">{}</div>', r.review_comment) if r.review_comment else "",
            )
            for r in reports
        )
    )


@register.simple_tag
def inspection_rows(inspections: Iterable[Any]) -> str:
    """A project page's inspections, a row each, written in Python: the cells the template wrote, character for
    character (tests/projects/test_detail_rows.py) — the date, the kind, the result's badge (green when passed) and
    the findings. The caller writes the row for none."""
    return mark_safe(  # noqa: S308 — every part went through format_html
        "".join(
            format_html(
                '<tr><td>{}</td><td>{}</td><td><span class="badge {}">{}</span></td><td class="small">{}</td></tr>\n'
                "        ",
                date_filter(i.date, "Y-m-d"),
                i.get_kind_display(),
                "text-bg-success" if i.result == "passed" else "text-bg-danger",
                i.get_result_display(),
                in_language(i.findings),
            )
            for i in inspections
        )
    )
