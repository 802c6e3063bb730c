"""The navigation: apps register entries; an entry for one action shows only to those its app's policy allows."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str | Promise
    url_name: str
    order: int = 100
    allowed: Callable[[Any], Any] | None = None  # the app's policy function; None: everyone signed in
    badge: Callable[[Any], int] | None = None  # a count shown beside the entry (cheap: it runs on every page)
    # The same, given the request instead of the user: for a count the page itself may read too, kept on the request.
    request_badge: Callable[[Any], int] | None = None

    def visible_to(self, user: Any) -> bool:
        return self.allowed is None or bool(self.allowed(user))


_items: dict[str, NavItem] = {}


def register_nav(item: NavItem) -> None:
    _items[item.key] = item


def nav_for(user: Any) -> list[NavItem]:
    if not getattr(user, "is_authenticated", False):
        return []
    return [i for i in sorted(_items.values(), key=lambda i: (i.order, i.key)) if i.visible_to(user)]
