"""The dashboard's pairings panel: the user's pairings, this year's mandates and what arrived."""

from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.http import HttpRequest

from . import selectors
from .models import AnnualMandate, FlowKind, FundFlow, PairingStatus


def pairings_panel(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    pairings = selectors.pairings_visible_to(user)  # type: ignore[arg-type]
    counts = pairings.aggregate(total=Count("id"), active=Count("id", filter=Q(status=PairingStatus.ACTIVE)))
    # A broken-down pairing's mandate is allocated out of its parent's: counted once, with the parent, when the
    # user sees the parent too.
    required = AnnualMandate.objects.filter(pairing__in=pairings).exclude(pairing__parent__in=pairings).aggregate(
        t=Sum("funds_required")
    )["t"] or Decimal(0)
    sums = dict(FundFlow.objects.filter(pairing__in=pairings).order_by().values_list("kind").annotate(t=Sum("amount")))
    received = sums.get(FlowKind.DISBURSEMENT, Decimal(0))
    committed = sums.get(FlowKind.COMMITMENT, Decimal(0))
    return {
        "pairing_count": counts["total"],
        "active_count": counts["active"],
        "required": required,
        "committed": committed,
        "received": received,
        "fulfilment": selectors.fulfilment(received, required),
        "delivery": selectors.fulfilment(received, committed),
    }
