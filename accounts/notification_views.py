"""Pages: the notification centre (the caller's inbox), opening a notification, marking all read."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import services
from .selectors import notifications_of

PER_PAGE = 30


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(notifications_of(request.user), PER_PAGE).get_page(request.GET.get("page"))  # type: ignore[arg-type]
    return render(request, "accounts/notifications.html", {"page": page})


@login_required
@require_POST
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the notification read and go where it points (its own page when the link is not a local path)."""
    notification = get_object_or_404(notifications_of(request.user), pk=pk)  # type: ignore[arg-type]
    services.notification_read(notification=notification)
    link = notification.link
    if link.startswith("/") and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}):
        return redirect(link)
    return redirect("accounts:notifications")


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    n = services.notifications_read_all(user=request.user)  # type: ignore[arg-type]
    if n:
        messages.success(request, _("Notifications marked read: %(n)s.") % {"n": n})
    else:
        messages.info(request, _("Nothing was unread."))
    return redirect("accounts:notifications")
