"""The navigation: apps register entries; each shows only to the roles it names."""

from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str | Promise
    url_name: str
    order: int = 100
    roles: frozenset[str] = field(default_factory=frozenset)  # empty: everyone signed in

    def visible_to(self, user: Any) -> bool:
        return not self.roles or user.is_superuser or bool(self.roles & set(user.roles))


_items: dict[str, NavItem] = {}


def register_nav(item: NavItem) -> None:
    _items[item.key] = item


def nav_for(user: Any) -> list[NavItem]:
    if not getattr(user, "is_authenticated", False):
        return []
    return [i for i in sorted(_items.values(), key=lambda i: (i.order, i.key)) if i.visible_to(user)]
