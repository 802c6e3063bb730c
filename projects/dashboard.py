"""The dashboard's projects panel: the user's projects by stage and what waits for them."""

from typing import Any, cast

from django.db.models import Count
from django.http import HttpRequest

from accounts.models import User

from . import selectors
from .models import State

# The five stages of the seed article, as the lifecycle's states map onto them (DESIGN.md).
STAGES = [
    ("selection", [State.DRAFT, State.PROPOSED]),
    ("approval", [State.APPROVED, State.REJECTED]),
    ("construction", [State.IN_CONSTRUCTION, State.SUSPENDED, State.COMPLETED]),
    ("supervision", [State.ACCEPTED]),
    ("evaluation", [State.EVALUATED]),
]


def projects_panel(request: HttpRequest) -> dict[str, Any]:
    user = cast(User, request.user)
    counts = dict(selectors.projects_visible_to(user).order_by().values_list("state").annotate(n=Count("id")))
    return {
        "states": [(State(s).label, counts.get(s, 0), s) for s in State.values],
        "stages": [(name, sum(counts.get(s, 0) for s in states)) for name, states in STAGES],
        "total": sum(counts.values()),
    }
