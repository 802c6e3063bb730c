"""The dashboard's projects panel: the user's projects by stage (the counts are `figures`'s)."""

from typing import Any, cast

from django.http import HttpRequest

from accounts.models import User
from pairings.selectors import pairings_visible_to

from . import figures
from .models import State


def projects_panel(request: HttpRequest) -> dict[str, Any]:
    counts = figures.scope_stage_counts(pairings_visible_to(cast(User, request.user)))
    return {
        "counts": counts,
        "states": [(State(s).label, counts.states.get(s, 0), s) for s in State.values],
        "stages": list(counts.stages.items()),
        "total": counts.total,
    }


def waiting_panel(request: HttpRequest) -> dict[str, Any]:
    """The home's first panel: what waits for the user, kind by kind, each count linking to its list in "My
    tasks" (the counts are core.worklist's, the same the inbox and the navigation show)."""
    from core.worklist import waiting_for_request

    waiting = waiting_for_request(request)  # the navigation's count reads the same, counted once
    return {"waiting": waiting, "total": sum(w.count for w in waiting)}
