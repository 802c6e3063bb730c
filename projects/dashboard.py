"""The dashboard's projects panel: the user's projects by stage (the counts are `figures`'s)."""

from collections.abc import Iterable
from typing import Any, cast

from django.http import HttpRequest
from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.selectors import scope_for
from pairings.selectors import pairings_visible_to

from . import figures
from .models import State

#: The stages' words as the panel shows them (any other stage reads "Cancelled", as the template had it).
STAGE_WORDS = {
    "selection": _("Selection"),
    "approval": _("Approval"),
    "construction": _("Construction"),
    "supervision": _("Accepted"),
    "evaluation": _("Evaluated"),
}


def stage_stats(stages: Iterable[tuple[str, int]]) -> SafeString:
    """The panel's count per stage written in Python (cancelled only when there are some): what
    projects/panels/projects.html wrote per stage (tests/projects/test_dashboard_panel.py renders both)."""
    cancelled = _("Cancelled")
    return mark_safe(  # noqa: S308 — every part went through format_html
        "".join(
            format_html(
                '\n        <div class="col-6 col-md dk-stat" data-stage="{}"><div class="dk-stat-value">{}</div>'
                '<div class="dk-stat-label">{}</div></div>\n        ',
                name,
                localize(n),
                STAGE_WORDS.get(name, cancelled),
            )
            for name, n in stages
            if name != "cancelled" or n
        )
    )


def state_links(states: Iterable[tuple[Any, int, str]]) -> SafeString:
    """A link to the project list per state that has projects: what the panel's template wrote per state."""
    url = reverse("projects:project_list")
    return format_html_join(
        "",
        '<a class="badge text-bg-light border text-decoration-none" href="{}?state={}">{} · {}</a>',
        ((url, state, label, localize(n)) for label, n, state in states if n),
    )


def waiting_cells(waiting: Iterable[Any]) -> SafeString:
    """The "Waiting for you" panel's count per kind of work (core.worklist.WorkCount) written in Python, each count
    linking to its list in "My tasks": what projects/panels/waiting.html wrote per kind (tests/projects/
    test_dashboard_panel.py renders both)."""
    url = reverse("projects:my_tasks")
    cells = []
    for w in waiting:
        if w.count:
            urgent = " text-danger" if w.kind.urgent else ""
            inside = format_html(
                '\n          <a class="text-decoration-none dk-waiting-link" href="{}?kind={}">\n'
                '            <div class="dk-stat-value{}">{}</div>\n            <div class="dk-stat-label">{}</div>\n'
                "          </a>\n          ",
                url,
                w.key,
                urgent,
                localize(w.count),
                w.label,
            )
        else:
            inside = format_html(
                '\n          <div class="dk-stat-value text-body-secondary">0</div>\n'
                '          <div class="dk-stat-label">{}</div>\n          ',
                w.label,
            )
        cells.append(
            format_html(
                '\n        <div class="col-6 col-md-4 col-xl dk-stat" data-kind="{}" data-count="{}">{}</div>\n        ',
                w.key,
                localize(w.count),
                inside,
            )
        )
    return mark_safe("".join(cells))  # noqa: S308 — every part went through format_html


def projects_panel(request: HttpRequest) -> dict[str, Any]:
    user = cast(User, request.user)
    counts = figures.scope_stage_counts(pairings_visible_to(user), key=scope_for(user).key)
    states = [(State(s).label, counts.states.get(s, 0), s) for s in State.values]
    stages = list(counts.stages.items())
    return {
        "counts": counts,
        "states": states,
        "stages": stages,
        "total": counts.total,
        "stage_stats": stage_stats(stages),
        "state_links": state_links(states),
    }


def waiting_panel(request: HttpRequest) -> dict[str, Any]:
    """The home's first panel: what waits for the user, kind by kind, each count linking to its list in "My
    tasks" (the counts are core.worklist's, the same the inbox and the navigation show)."""
    from core.worklist import waiting_for_request

    waiting = waiting_for_request(request)  # the navigation's count reads the same, counted once
    return {"waiting": waiting, "total": sum(w.count for w in waiting), "cells": waiting_cells(waiting)}
