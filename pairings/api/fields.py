"""Ids in a body looked up among the rows the caller may see, so that neither door confirms a hidden one exists."""

from typing import Any

from core.api.fields import VisibleRelatedField
from pairings import selectors
from pairings.models import FundFlow, Pairing


class VisiblePairingField(VisibleRelatedField):
    """A pairing id in a body. One outside the caller's scope is as unknown as a missing one."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(Pairing, selectors.pairings_visible_to, **kwargs)


class VisiblePledgeField(VisibleRelatedField):
    """A fund flow id in a body, looked up among the flows the caller may see (the service checks it is a
    pledge of the same pairing, not yet committed)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(FundFlow, selectors.fund_flows_visible_to, **kwargs)
