"""The project page's handover panel: the handover, its answer, the yearly operation reports and the years
missing, with the steps the policy lets the reader take (one inclusion tag, so the page's view need not know)."""

from collections.abc import Iterable
from typing import Any

from django import template
from django.db.models import Exists, OuterRef, prefetch_related_objects
from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from core.money import Unit, format_cny
from core.templatetags.duikou import in_language, money_unit
from projects import handover_selectors, policy
from projects.models import Handover, HandoverStatus, OperationReport, OperationStatus, Project

register = template.Library()

#: Whether a report has photos, built once (annotating a query resolves a copy).
_HAS_PHOTOS = Exists(OperationReport.photos.through.objects.filter(operationreport=OuterRef("pk")))

#: The handover's related rows the panel names, and of them the columns it reads (a name, a title).
_SHOWN_WITH = ("receiving_organization", "asset_register", "recorded_by", "confirmed_by", "refused_by")
_HANDOVER_COLUMNS = (
    *(f.name for f in Handover._meta.concrete_fields),
    "receiving_organization__name",
    "receiving_organization__name_en",
    "asset_register__title",
    *(
        f"{who}__{c}"
        for who in ("recorded_by", "confirmed_by", "refused_by")
        for c in ("first_name", "last_name", "username")
    ),
)

#: The handovers with what the panel shows of them, the query built once.
_HANDOVERS = Handover.objects.select_related(*_SHOWN_WITH).only(*_HANDOVER_COLUMNS)


@register.inclusion_tag("projects/handover_panel.html", takes_context=True)
def handover_panel(context: Any, project: Project) -> dict[str, Any]:
    """Nothing (and no query) for a project not accepted yet: a handover comes after acceptance."""
    if project.state not in policy.HANDOVER_STATES:
        return {"show": False}
    user = context["request"].user
    # The joined rows' columns the panel shows, no more: whole user and document rows cost more to read than the
    # handover itself. One handover a project at most (a one-to-one): read without `first()`'s order and limit,
    # which cost more to build and plan than the row costs to read.
    handover = next(iter(_HANDOVERS.filter(project_id=project.pk)), None)
    # The reports are shown, and years can be missing, only once the handover is confirmed: before, nothing to read.
    # The panel does not show who filed a report (not joined); the photos are read only when a report has some.
    reports = []
    if handover is not None and handover.status == HandoverStatus.CONFIRMED:
        reports = list(
            OperationReport.objects.filter(project_id=project.pk).annotate(has_photos=_HAS_PHOTOS).order_by("-year")
        )
        if any(r.has_photos for r in reports):
            prefetch_related_objects(reports, "photos")
    # The reports just read are all of the project's: the years missing follow from them, no query again.
    filed = {r.year for r in reports}
    missing = handover_selectors.years_without_report(handover, filed) if handover is not None else []
    return {
        "show": True,
        "project": project,
        "handover": handover,
        "reports": reports,
        "missing": missing,
        "steps": policy.handover_actions(user, project, handover),
        "can_file_now": bool(handover_selectors.reportable_years(handover, filed)),
        # The reports' rows are written in Python (`operation_report_rows`): a report a year, each a dozen cells.
        "report_rows": operation_report_rows(project.pk, reports, money_unit(reports, attr="running_cost,revenue")),
    }


#: A report's status badge's Bootstrap class; any other status is red.
_STATUS_BADGE: dict[str, str] = {
    OperationStatus.IN_USE: "text-bg-success",
    OperationStatus.UNDER_USED: "text-bg-warning",
}


def _or_dash(value: Any) -> Any:
    """A number as the template wrote `{{ value|default_if_none:"—" }}`."""
    return "—" if value is None else localize(value)


def operation_report_rows(project_pk: int, reports: Iterable[OperationReport], unit: Unit | None) -> SafeString:
    """The panel's table rows, one per report in REPORTS (each with `has_photos`), written in Python with the
    cells the template wrote, character for character (tests/projects/test_handover_rows.py renders them both
    ways): the year, the status's badge with the photos' links and the notes, the utilisation, the running costs
    and the revenue in UNIT, who pays, the jobs and the people served. The template writes the row for none."""
    written = []
    for r in reports:
        photos: Any = ""
        if r.has_photos:  # type: ignore[attr-defined]
            photos = _photo_links(project_pk, r.photos.all())
        written.append(
            format_html(
                '<tr data-year="{}">\n'
                "              <td>{}</td>\n"
                '              <td><span class="badge {}">{}</span>{}{}</td>\n'
                '              <td class="num">{}</td>\n'
                '              <td class="num text-nowrap">{}</td>\n'
                '              <td class="small">{}</td>\n'
                '              <td class="num text-nowrap">{}</td>\n'
                '              <td class="num">{}</td>\n'
                '              <td class="num">{}</td></tr>\n'
                "            ",
                localize(r.year),
                localize(r.year),
                _STATUS_BADGE.get(r.status, "text-bg-danger"),
                r.get_status_display(),  # type: ignore[attr-defined]
                photos,
                format_html('<div class="small text-body-secondary">{}</div>', in_language(r.notes)) if r.notes else "",
                "—" if r.utilisation is None else format_html("{} %", localize(r.utilisation)),
                "—"
                if r.operating_cost is None and r.maintenance_cost is None
                else format_cny(r.running_cost, unit=unit),
                r.get_cost_payer_display() or "—",  # type: ignore[attr-defined]
                "—" if r.revenue is None else format_cny(r.revenue, unit=unit),
                _or_dash(r.jobs),
                _or_dash(r.people_served),
            )
        )
    return mark_safe("".join(written))  # noqa: S308 — every part above went through format_html


def _photo_links(project_pk: int, photos: Any) -> SafeString:
    """A report's photos as the links the template wrote: " Photo 1", " Photo 2"… to each document."""
    return mark_safe(  # noqa: S308 — each part went through format_html
        "".join(
            format_html(
                ' <a class="small" href="{}">{}</a>',
                reverse("projects:document_download", args=[project_pk, d.pk]),
                gettext("Photo %(n)s") % {"n": n},
            )
            for n, d in enumerate(photos, start=1)
        )
    )
