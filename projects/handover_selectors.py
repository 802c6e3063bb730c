"""Reads of the handovers and their yearly operation reports: the missing reports (for "My tasks" and the daily
reminder) and what a project page's handover panel shows."""

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, ExtractYear
from django.utils import timezone

from accounts.policy import acts_nationally
from pairings.selectors import pairing_scope_q

from .models import Handover, HandoverStatus, OperationReport


def last_reportable_year(today: dt.date | None = None) -> int:
    """The last year whose report is due: a year's report is due once the year has ended."""
    return (today or timezone.localdate()).year - 1


def missing_reports(qs: QuerySet[Handover] | None = None, today: dt.date | None = None) -> QuerySet[Handover]:
    """The confirmed handovers of QS with at least one year without its operation report, from the handover's
    year to last year; each carries `missing` (how many years lack a report) and `first_year`."""
    last = last_reportable_year(today)
    qs = Handover.objects.all() if qs is None else qs
    filed = (
        OperationReport.objects.filter(
            project_id=OuterRef("project_id"), year__gte=ExtractYear(OuterRef("date")), year__lte=last
        )
        .order_by()
        .values("project_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        qs.filter(status=HandoverStatus.CONFIRMED, date__year__lte=last)
        .annotate(
            first_year=ExtractYear("date"),
            filed=Coalesce(Subquery(filed, output_field=IntegerField()), Value(0)),
        )
        .annotate(missing=Value(last + 1, output_field=IntegerField()) - F("first_year") - F("filed"))
        .filter(missing__gt=0)
    )


def recipient_side_q(user: Any, prefix: str = "project__pairing__") -> Q:
    """The pairings whose recipient region USER acts for (policy.acts_for_recipient_side, as a filter)."""
    if acts_nationally(user):
        return Q()
    org = getattr(user, "organization", None)
    region = org.region if org is not None else None
    if region is None or not region.path:
        return Q(pk__in=[])
    return Q(**{f"{prefix}recipient_region__path__startswith": region.path})


def missing_reports_for(user: Any, today: dt.date | None = None) -> QuerySet[Handover]:
    """The handovers in USER's scope, on the recipient side they act for, with reports missing: their work."""
    qs = Handover.objects.filter(pairing_scope_q(user, "project__pairing__")).filter(recipient_side_q(user))
    return missing_reports(qs, today).select_related(
        "project__pairing__assisting_organization", "project__pairing__recipient_region"
    )


def missing_years(handovers: list[Handover], today: dt.date | None = None) -> dict[int, list[int]]:
    """Handover id → the years from its handover year to last year without a report (one query for all)."""
    last = last_reportable_year(today)
    confirmed = [h for h in handovers if h.status == HandoverStatus.CONFIRMED and h.date.year <= last]
    filed: dict[int, set[int]] = defaultdict(set)
    rows = OperationReport.objects.filter(project_id__in=[h.project_id for h in confirmed]).values_list(
        "project_id", "year"
    )
    for project_id, year in rows:
        filed[project_id].add(year)
    return {h.pk: years_without_report(h, filed[h.project_id], today) for h in confirmed}


def years_without_report(handover: Handover, filed: set[int], today: dt.date | None = None) -> list[int]:
    """The years from HANDOVER's year to last year whose report is not among FILED (the years of the project's
    reports), for a page that has read them already; none unless the handover is confirmed (`missing_years`)."""
    last = last_reportable_year(today)
    if handover.status != HandoverStatus.CONFIRMED or handover.date.year > last:
        return []
    return [y for y in range(handover.date.year, last + 1) if y not in filed]


def reportable_years(handover: Handover | None, filed: set[int], today: dt.date | None = None) -> list[int]:
    """The years a report may be filed for now: from the handover's year to this one, not yet filed, newest
    first (the form's choices)."""
    if handover is None or handover.status != HandoverStatus.CONFIRMED:
        return []
    this_year = (today or timezone.localdate()).year
    return [y for y in range(this_year, handover.date.year - 1, -1) if y not in filed]
