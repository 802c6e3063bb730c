"""The bell in the navigation bar: the caller's unread count, counted in the statement that counts their work for
the navigation (core.worklist.page_count: one round trip for both on every page)."""

from typing import Any

from django.http import HttpRequest
from django.utils.functional import cached_property

from core.worklist import page_count


class Bell:
    """Read when the template first asks (an anonymous page costs nothing)."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request

    @cached_property
    def unread(self) -> int:
        if not getattr(getattr(self.request, "user", None), "is_authenticated", False):
            return 0
        return page_count(self.request, "unread")


def notifications(request: HttpRequest) -> dict[str, Any]:
    return {"bell": Bell(request)}
