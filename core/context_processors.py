from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import SimpleLazyObject

from .navigation import nav_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The menu's entries, made when a template first reads them: a fragment (an htmx swap, a form's options) that
    never shows the menu does not count the waiting work for it."""
    return {
        "nav_items": SimpleLazyObject(lambda: nav_items(request)),
        "demo_enabled": getattr(settings, "DUIKOU_DEMO_ENABLED", False),
    }


def nav_items(request: HttpRequest) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    path = request.path
    for item in nav_for(getattr(request, "user", None)):
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        badge = item.badge(request.user) if item.badge else item.request_badge(request) if item.request_badge else None
        items.append({"key": item.key, "label": item.label, "url": url, "active": False, "badge": badge})
    # The item whose URL is the longest prefix of the path is the current one (/projects/tasks/ is
    # "My tasks", not "Projects").
    matches = [i for i in items if (path == i["url"] if i["url"] == "/" else path.startswith(str(i["url"])))]
    if matches:
        max(matches, key=lambda i: len(str(i["url"])))["active"] = True
    return items
