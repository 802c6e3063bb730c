from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from .selectors import is_national_coordinator


class NationalCoordinatorWrites(BasePermission):
    """Anyone signed in may read; only a national coordinator may write. Checked before the body is
    validated, so a caller without the right learns that first (the service checks again)."""

    message = _("Only a national coordinator may manage organizations and users.")
    code = "forbidden"

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return bool(request.user and request.user.is_authenticated)
        return is_national_coordinator(request.user)  # type: ignore[arg-type]
