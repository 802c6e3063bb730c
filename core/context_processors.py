from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from .navigation import nav_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    items = []
    path = request.path
    for item in nav_for(getattr(request, "user", None)):
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        active = path == url if url == "/" else path.startswith(url)
        items.append({"key": item.key, "label": item.label, "url": url, "active": active})
    return {"nav_items": items, "demo_enabled": getattr(settings, "DUIKOU_DEMO_ENABLED", False)}
