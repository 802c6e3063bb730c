"""The dashboard's pairings panel: the user's pairings and their money, all years (the figures are `figures`'s)."""

from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest

from . import figures, selectors
from .models import PairingStatus


def pairings_panel(request: HttpRequest) -> dict[str, Any]:
    pairings = selectors.pairings_visible_to(request.user)  # type: ignore[arg-type]
    counts = pairings.aggregate(total=Count("id"), active=Count("id", filter=Q(status=PairingStatus.ACTIVE)))
    money = figures.money(pairings)
    return {
        "pairing_count": counts["total"],
        "active_count": counts["active"],
        "money": money,
        **money.as_dict(),
    }
