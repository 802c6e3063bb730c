"""Dashboard panels. Core cannot import the apps above it, so each app registers its own panels
(in its AppConfig.ready) and the dashboard shows, in order, those its app's policy lets the user see."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from .worklist import count_with_waiting


@dataclass(frozen=True)
class Panel:
    key: str
    template: str
    context: Callable[..., dict[str, Any]]  # (request), or (request, counts) for a panel with `counts`
    order: int = 100
    allowed: Callable[[Any], Any] | None = None  # the registering app's policy function; None: everyone signed in
    # The counts the panel shows, as the querysets whose rows they count, by name: every panel's are counted in one
    # statement with the user's waiting work (core.worklist.count_with_waiting), then given to `context` as its
    # second argument (the names with their numbers).
    counts: Callable[[HttpRequest], dict[str, QuerySet[Any]]] | None = None

    def visible_to(self, user: Any) -> bool:
        return self.allowed is None or bool(self.allowed(user))


_panels: dict[str, Panel] = {}


def register_panel(panel: Panel) -> None:
    _panels[panel.key] = panel


def panels_for(request: HttpRequest) -> list[dict[str, Any]]:
    """The user's panels in order, each with its context; their counts asked first, in one statement."""
    panels = [p for p in sorted(_panels.values(), key=lambda p: (p.order, p.key)) if p.visible_to(request.user)]
    asked = [(p.key, name, qs) for p in panels if p.counts for name, qs in p.counts(request).items()]
    counted: dict[str, dict[str, int]] = {p.key: {} for p in panels}
    for (key, name, _qs), n in zip(asked, count_with_waiting(request, [qs for _, _, qs in asked]), strict=True):
        counted[key][name] = n
    out = []
    for panel in panels:
        context = panel.context(request, counted[panel.key]) if panel.counts else panel.context(request)
        out.append({"key": panel.key, "template": panel.template, **context})
    return out
