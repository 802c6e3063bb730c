"""Dashboard panels. Core cannot import the apps above it, so each app registers its own panels
(in its AppConfig.ready) and the dashboard shows, in order, those its app's policy lets the user see."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class Panel:
    key: str
    template: str
    context: Callable[[HttpRequest], dict[str, Any]]
    order: int = 100
    allowed: Callable[[Any], Any] | None = None  # the registering app's policy function; None: everyone signed in

    def visible_to(self, user: Any) -> bool:
        return self.allowed is None or bool(self.allowed(user))


_panels: dict[str, Panel] = {}


def register_panel(panel: Panel) -> None:
    _panels[panel.key] = panel


def panels_for(request: HttpRequest) -> list[dict[str, Any]]:
    out = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key)):
        if panel.visible_to(request.user):
            out.append({"key": panel.key, "template": panel.template, **panel.context(request)})
    return out
