"""Shared reads: the region table and the dashboard's figures."""

from django.db.models import Count, Q, QuerySet

from .models import HistoryEvent, Region, RegionLevel


def region_search(queryset: QuerySet[Region], text: str) -> QuerySet[Region]:
    """Regions whose code starts with TEXT or whose name (Chinese or English) contains it."""
    text = text.strip()
    if not text:
        return queryset
    return queryset.filter(Q(code__startswith=text) | Q(name__icontains=text) | Q(name_en__icontains=text))


def region_counts() -> dict[str, int]:
    rows = Region.objects.values("level").annotate(n=Count("id"))
    counts = dict.fromkeys(RegionLevel.values, 0)
    counts.update({r["level"]: r["n"] for r in rows})
    return counts


def recent_history(limit: int = 10) -> QuerySet[HistoryEvent]:
    return HistoryEvent.objects.select_related("actor", "content_type")[:limit]
