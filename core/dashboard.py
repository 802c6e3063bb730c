"""Dashboard panels. Core cannot import the apps above it, so each app registers its own panels
(in its AppConfig.ready) and the dashboard shows those the user's roles allow, in order."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class Panel:
    key: str
    template: str
    context: Callable[[HttpRequest], dict[str, Any]]
    order: int = 100
    roles: frozenset[str] = field(default_factory=frozenset)  # empty: everyone signed in

    def visible_to(self, user: Any) -> bool:
        return not self.roles or user.is_superuser or bool(self.roles & set(user.roles))


_panels: dict[str, Panel] = {}


def register_panel(panel: Panel) -> None:
    _panels[panel.key] = panel


def panels_for(request: HttpRequest) -> list[dict[str, Any]]:
    out = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key)):
        if panel.visible_to(request.user):
            out.append({"key": panel.key, "template": panel.template, **panel.context(request)})
    return out
