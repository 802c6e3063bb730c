"""The Export button every list page carries, and the PDF button of a report's page."""

from typing import Any

from django import template
from django.http import QueryDict

from exchange import exports, services

register = template.Library()


@register.inclusion_tag("exchange/includes/export_button.html", takes_context=True)
def export_button(context: dict[str, Any], kind: str, **fixed: Any) -> dict[str, Any]:
    """A form posting KIND with the page's filters in force (its query string, less paging and sorting) and any
    FIXED filters of the page itself (a pairing's flows: `pairing=…`). Lists offer XLSX and CSV."""
    request = context["request"]
    query = QueryDict(mutable=True)
    for name, values in request.GET.lists():
        if name not in exports.PAGING and name not in fixed:
            query.setlist(name, [v for v in values if v != ""])
    for name, value in fixed.items():
        query[name] = str(value)
    return {
        "kind": kind,
        "query": query.urlencode(),
        "formats": [f for f in services.export_formats(kind) if f != "pdf"],
        "next": request.get_full_path(),
        "id_suffix": kind + "".join(f"-{v}" for v in fixed.values()),
    }


@register.inclusion_tag("exchange/includes/pdf_button.html", takes_context=True)
def pdf_button(context: dict[str, Any], kind: str, object_id: Any = None, **filters: Any) -> dict[str, Any]:
    """A button making the PDF of a report: KIND with its OBJECT_ID (a scorecard, a project) or its FILTERS (a
    ranking's programme and year)."""
    query = QueryDict(mutable=True)
    for name, value in filters.items():
        if value not in (None, ""):
            query[name] = str(value)
    return {
        "kind": kind,
        "object_id": object_id or "",
        "query": query.urlencode(),
        "next": context["request"].get_full_path(),
    }


@register.inclusion_tag("exchange/includes/subnav.html", takes_context=True)
def exchange_subnav(context: dict[str, Any], current: str) -> dict[str, Any]:
    """The tabs of data exchange (the one navigation entry leads here): the overview, exports, and imports and
    webhooks for those their policies allow."""
    from exchange.import_policy import may_import_something
    from exchange.policy import may_manage_webhooks

    user = context["request"].user
    return {
        "current": current,
        "may_import": bool(may_import_something(user)),
        "may_hook": bool(may_manage_webhooks(user)),
    }
