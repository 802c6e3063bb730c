"""The project page's handover panel: the handover, its answer, the yearly operation reports and the years
missing, with the steps the policy lets the reader take (one inclusion tag, so the page's view need not know)."""

from typing import Any

from django import template

from projects import handover_selectors, policy
from projects.models import Handover, Project

register = template.Library()


@register.inclusion_tag("projects/handover_panel.html", takes_context=True)
def handover_panel(context: Any, project: Project) -> dict[str, Any]:
    """Nothing (and no query) for a project not accepted yet: a handover comes after acceptance."""
    if project.state not in policy.HANDOVER_STATES:
        return {"show": False}
    user = context["request"].user
    handover = (
        Handover.objects.select_related(
            "receiving_organization", "asset_register", "recorded_by", "confirmed_by", "refused_by"
        )
        .filter(project=project)
        .first()
    )
    reports = list(project.operation_reports.select_related("filed_by").prefetch_related("photos").order_by("-year"))
    missing = handover_selectors.missing_years([handover]).get(handover.pk, []) if handover is not None else []
    filed = {r.year for r in reports}
    return {
        "show": True,
        "project": project,
        "handover": handover,
        "reports": reports,
        "missing": missing,
        "steps": policy.handover_actions(user, project, handover),
        "can_file_now": bool(handover_selectors.reportable_years(handover, filed)),
    }
