"""The duplicate warning on a project's pages: `{% similar_panel project %}` (projects/duplicates.py)."""

from typing import Any

from django import template

from projects import duplicates, policy

register = template.Library()


@register.inclusion_tag("projects/similar_panel.html", takes_context=True)
def similar_panel(context: dict[str, Any], project: Any, back: str = "") -> dict[str, Any]:
    """The projects that may be PROJECT's undertaking, as the user may see them, with each one's score, reasons
    and the recorded "not a duplicate"; the form to record one where the user may. BACK: the page the form
    returns to (the project's page when empty)."""
    request = context["request"]
    if project.state not in duplicates.WARN_STATES:
        return {"found": None}
    found = duplicates.similar_for(request.user, duplicates.subject_of(project))
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "project": project,
        "found": found,
        "hidden_message": duplicates.hidden_message(found.hidden),
        "can_dismiss": bool(policy.may_dismiss_duplicate(request.user, project)),
        "back": back,
    }
