"""The navigation bar's entries written in Python (every signed-in page writes them): what base.html's loops over
`nav_items` (core.context_processors.navigation) wrote, element for element (tests/core/test_nav_tags.py renders
both ways)."""

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

#: The "My tasks" icon beside the bell.
TASKS_ICON = mark_safe(
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" fill="currentColor" viewBox="0 0 16 16" aria-hidden="true"><path d="M2 2.5a.5.5 0 0 1 .5-.5h11a.5.5 0 0 1 0 1h-11a.5.5 0 0 1-.5-.5m0 5a.5.5 0 0 1 .5-.5h6a.5.5 0 0 1 0 1h-6a.5.5 0 0 1-.5-.5m0 5a.5.5 0 0 1 .5-.5h6a.5.5 0 0 1 0 1h-6a.5.5 0 0 1-.5-.5m13.35-5.85-3 3a.5.5 0 0 1-.7 0l-1.5-1.5a.5.5 0 0 1 .7-.7L12 8.79l2.65-2.64a.5.5 0 0 1 .7.7"/></svg>'
)


@register.simple_tag
def nav_quick_tasks(items: Iterable[dict[str, Any]]) -> SafeString:
    """The task count kept beside the bell below 1200 px: a link to "My tasks" when work waits."""
    return mark_safe(  # noqa: S308 — every part went through format_html
        "".join(
            format_html(
                '\n      <a class="btn btn-sm btn-outline-light d-xl-none d-flex align-items-center gap-1" id="tasks-quick"'
                ' href="{}"\n         title="{}" aria-label="{} {}">\n        {}\n'
                '        <span class="badge rounded-pill text-bg-warning" id="tasks-quick-count">{}</span>\n      </a>\n      ',
                item["url"],
                item["label"],
                item["label"],
                localize(item["badge"]),
                TASKS_ICON,
                localize(item["badge"]),
            )
            for item in items
            if item["key"] == "tasks" and item["badge"]
        )
    )


@register.simple_tag
def nav_menu(items: Iterable[dict[str, Any]]) -> SafeString:
    """The menu's entries, the current one marked, each with its count when it has one."""
    current = mark_safe('aria-current="page"')
    return mark_safe(  # noqa: S308 — every part went through format_html
        "".join(
            format_html(
                '\n        <li class="nav-item"><a class="nav-link{}" {} href="{}">{}{}</a></li>\n        ',
                " active" if item["active"] else "",
                current if item["active"] else "",
                item["url"],
                item["label"],
                format_html(
                    ' <span class="badge rounded-pill text-bg-warning" id="nav-{}-count">{}</span>',
                    item["key"],
                    localize(item["badge"]),
                )
                if item["badge"]
                else "",
            )
            for item in items
        )
    )
