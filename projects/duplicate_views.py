"""Pages of the duplicate check (projects/duplicates.py): the national list of suspected pairs, the "not a
duplicate" form, and the warning the create and edit forms show before they save."""

import hashlib
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from core.list_filters import ListFilters

from . import duplicates, policy, selectors, services
from .api.duplicates import ScanNotQueued, SuspectedDuplicateFilter, dismissals_of, pairs_with_review, queue_scan

PAIRS_PER_PAGE = 50


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def warning_before_saving(request: HttpRequest, subject: duplicates.Subject) -> dict[str, Any] | None:
    """What a create or edit form shows before it saves SUBJECT: its matches as the user may see them, once. The
    form sends back `similar_seen`, a digest of what it showed; the same matches again then save (a warning, not
    a block), new ones are shown first."""
    found = duplicates.similar_for(_user(request), subject)
    if not found.unconfirmed:
        return None
    shown = ",".join(str(c.project.pk) for c in found.candidates) + f"+{found.hidden}"
    digest = hashlib.sha256(shown.encode()).hexdigest()[:16]
    if request.POST.get("similar_seen") == digest:
        return None
    return {"found": found, "digest": digest, "hidden_message": duplicates.hidden_message(found.hidden)}


@login_required
@require_POST
def similar_dismiss(request: HttpRequest, pk: int, candidate_pk: int) -> HttpResponse:
    """Confirm "not a duplicate" with a reason (the service records it and its history event); back to the page
    the form was on."""
    project = get_object_or_404(selectors.project_list_rows(_user(request)), pk=pk)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = ""
    back = back or reverse("projects:project_detail", args=[pk])
    try:
        services.duplicate_dismiss(
            by=_user(request), project=project, candidate_id=candidate_pk, reason=request.POST.get("reason", "")
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from exc
    except (Conflict, DomainError) as exc:
        for problem in exc.problems:
            messages.error(request, str(problem.message))
        return redirect(back + "#similar-projects")
    messages.success(request, _("Recorded: not a duplicate. The approver sees your reason."))
    return redirect(back + "#similar-projects")


@login_required
def duplicates_page(request: HttpRequest) -> HttpResponse:
    """The suspected pairs of the whole portfolio, best first, filtered as the API filters them; a national
    coordinator starts the scan from here (it also runs every night)."""
    user = _user(request)
    decision = policy.may_see_duplicates(user)
    if not decision:
        raise DjangoPermissionDenied(decision.message)
    if request.method == "POST":
        scan = policy.may_scan_duplicates(user)
        if not scan:
            raise DjangoPermissionDenied(scan.message)
        try:
            queue_scan()
        except ScanNotQueued as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The scan has started; the list shows its pairs when it is done."))
        return redirect("projects:duplicates")
    from .views import programme_choices

    filters = ListFilters(
        request,
        SuspectedDuplicateFilter,
        pairs_with_review().order_by("-score", "project_a_id", "project_b_id"),
        shown={
            "program": _("Programme"),
            "min_score": _("Lowest similarity"),
            "reason": _("Reason"),
            "reviewed": _("Review"),
        },
        choices={
            "program": programme_choices(_("All programmes")),
            "reason": [("", _("Any reason")), *((code, str(label)) for code, label in duplicates.REASONS.items())],
            "reviewed": [("", _("Reviewed or not")), ("true", _("Confirmed different")), ("false", _("Not reviewed"))],
        },
    )
    page = Paginator(filters.qs, PAIRS_PER_PAGE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    found = dismissals_of(rows)
    for pair in rows:
        pair.dismissals = found.get((pair.project_a_id, pair.project_b_id), [])  # type: ignore[attr-defined]
        pair.reason_labels = [(c, duplicates.reason_label(c)) for c in pair.reasons]  # type: ignore[attr-defined]
    return render(
        request,
        "projects/duplicates.html",
        {
            "filters": filters,
            "page": page,
            "rows": rows,
            "can_scan": bool(policy.may_scan_duplicates(user)),
        },
        status=filters.status,
    )
