"""Pages of data exchange. Exports: the user's exports (with progress while they are made), the Export button's
target on every list page, and the download."""

from typing import Any, cast
from urllib.parse import parse_qsl

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from core.errors import DomainError

from . import services
from .api.exports import CONTENT_TYPES
from .models import Export, ExportStatus


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _filters(query: str) -> dict[str, Any]:
    """The list page's query string as export filters (a name given twice becomes a list, as the API reads it)."""
    filters: dict[str, Any] = {}
    for name, value in parse_qsl(query, keep_blank_values=False):
        if name in filters:
            previous = filters[name]
            filters[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            filters[name] = value
    return filters


@login_required
@require_GET
def exchange_home(request: HttpRequest) -> HttpResponse:
    """Data exchange at a glance: exports, imports and webhooks (for those allowed), and what other systems read."""
    from .import_policy import may_import_something
    from .policy import may_manage_webhooks

    user = _user(request)
    context = {
        "export_count": Export.objects.filter(created_by=user).count(),
        "may_import": bool(may_import_something(user)),
        "may_hook": bool(may_manage_webhooks(user)),
    }
    return render(request, "exchange/home.html", context)


@login_required
@require_GET
def export_list(request: HttpRequest) -> HttpResponse:
    """The user's exports, newest first: those being made show their progress and refresh themselves."""
    exports = Export.objects.filter(created_by=_user(request))[:100]
    return render(request, "exchange/export_list.html", {"exports": exports})


@login_required
@require_GET
def export_row(request: HttpRequest, pk: int) -> HttpResponse:
    """One export's row, polled by htmx while it is made (the trigger goes once it has finished)."""
    export = get_object_or_404(Export, pk=pk, created_by=_user(request))
    return render(request, "exchange/includes/export_row.html", {"export": export})


@login_required
@require_POST
def export_create(request: HttpRequest) -> HttpResponseBase:
    """The Export button of a list page (or a report's PDF button): make the file from the page's filters. A short
    list downloads at once; a long one (or a PDF) is made in the background and the exports page shows it."""
    back = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=False):
        back = ""
    raw_object = (request.POST.get("object") or "").strip()
    object_id: Any = int(raw_object) if raw_object.isascii() and raw_object.isdigit() else (raw_object or None)
    try:
        export = services.export_create(
            by=_user(request),
            kind=request.POST.get("kind"),
            format=request.POST.get("format"),
            filters=_filters(request.POST.get("query", "")),
            object_id=object_id,
        )
    except DomainError as error:
        for problem in error.problems:
            messages.error(request, str(problem.message))
        return HttpResponseRedirect(back or reverse("exchange:export_list"))
    if export.status == ExportStatus.DONE:
        return _file(export)
    messages.info(
        request,
        _(
            "The file %(name)s is being made; it appears here when it is ready (and you get an e-mail if your profile has an address)."
        )
        % {"name": export.filename},
    )
    return HttpResponseRedirect(reverse("exchange:export_list"))


def _file(export: Export) -> FileResponse:
    return FileResponse(
        export.file.open("rb"), as_attachment=True, filename=export.filename, content_type=CONTENT_TYPES[export.format]
    )


@login_required
@require_GET
def export_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    export = get_object_or_404(Export, pk=pk, created_by=_user(request))
    if export.status != ExportStatus.DONE or not export.file:
        messages.error(
            request,
            _("This file has expired; export the list again.")
            if export.status == ExportStatus.EXPIRED
            else _("This export is not ready: it is %(status)s.") % {"status": ExportStatus(export.status).label},
        )
        return HttpResponseRedirect(reverse("exchange:export_list"))
    return _file(export)
