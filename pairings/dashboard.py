"""The dashboard's pairings panel: the user's pairings and their money, all years (the figures are `figures`'s)."""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.selectors import scope_for
from core.selectors import count_each

from . import figures, selectors
from .models import PairingStatus


def pairings_counts(request: HttpRequest) -> dict[str, QuerySet[Any]]:
    """What the panel counts: the user's pairings, and those active."""
    pairings = selectors.pairings_visible_to(request.user)  # type: ignore[arg-type]
    return {"pairing_count": pairings, "active_count": pairings.filter(status=PairingStatus.ACTIVE)}


def pairings_panel(request: HttpRequest, counts: dict[str, int] | None = None) -> dict[str, Any]:
    """The user's pairings and their money. The COUNTS (`pairings_counts`) come from the home's statement that
    counts every panel's; counted here in one query when not given."""
    if counts is None:
        asked = pairings_counts(request)
        counts = dict(zip(asked, count_each(list(asked.values()), label="pairings"), strict=True))
    user = request.user
    money = figures.money(selectors.pairings_visible_to(user), key=scope_for(user).key)  # type: ignore[arg-type]
    return {
        "pairing_count": counts["pairing_count"],
        "active_count": counts["active_count"],
        "money": money,
        **money.as_dict(),
    }
