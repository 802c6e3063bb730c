"""What a locked-out account sees: a page in the browser, the API's error format for systems."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    hours = settings.AXES_COOLOFF_TIME
    message = _(
        "This account is locked after too many failed sign-in attempts. Try again in %(hours)s hour(s) "
        "or ask a national coordinator to unlock it."
    ) % {"hours": f"{hours:g}"}
    if request.path.startswith("/api/"):
        return JsonResponse({"errors": [{"code": "account_locked", "message": message, "field": None}]}, status=403)
    return render(request, "accounts/locked.html", {"message": message}, status=403)
