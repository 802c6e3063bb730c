"""The project page's handover panel: the handover, its answer, the yearly operation reports and the years
missing, with the steps the policy lets the reader take (one inclusion tag, so the page's view need not know)."""

from typing import Any

from django import template
from django.db.models import Exists, OuterRef, prefetch_related_objects

from projects import handover_selectors, policy
from projects.models import Handover, HandoverStatus, OperationReport, Project

register = template.Library()

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


@register.inclusion_tag("projects/handover_panel.html", takes_context=True)
def handover_panel(context: Any, project: Project) -> dict[str, Any]:
    """Nothing (and no query) for a project not accepted yet: a handover comes after acceptance."""
    if project.state not in policy.HANDOVER_STATES:
        return {"show": False}
    user = context["request"].user
    # The joined rows' columns the panel shows, no more: whole user and document rows cost more to read than the
    # handover itself.
    handover = Handover.objects.select_related(*_SHOWN_WITH).only(*_HANDOVER_COLUMNS).filter(project=project).first()
    # The reports are shown, and years can be missing, only once the handover is confirmed: before, nothing to read.
    # The panel does not show who filed a report (not joined); the photos are read only when a report has some.
    reports = []
    if handover is not None and handover.status == HandoverStatus.CONFIRMED:
        photos = OperationReport.photos.through.objects.filter(operationreport=OuterRef("pk"))
        reports = list(project.operation_reports.annotate(has_photos=Exists(photos)).order_by("-year"))
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
    }
