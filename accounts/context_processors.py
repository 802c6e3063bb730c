"""The bell in the navigation bar: the caller's unread count, one count query on a page that shows it."""

from typing import Any

from django.http import HttpRequest
from django.utils.functional import cached_property

from .selectors import unread_count


class Bell:
    """Counted when the template first asks (a page without the bar, or an anonymous one, costs nothing)."""

    def __init__(self, user: Any) -> None:
        self.user = user

    @cached_property
    def unread(self) -> int:
        if not getattr(self.user, "is_authenticated", False):
            return 0
        return unread_count(self.user)


def notifications(request: HttpRequest) -> dict[str, Any]:
    return {"bell": Bell(getattr(request, "user", None))}
